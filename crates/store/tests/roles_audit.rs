//! Grants (`t_platform_grant`) and the audit log (`t_platform_audit`), on SQLite and on
//! MariaDB (a throw-away database per test; `TARS_TEST_MYSQL_URL`, default
//! `mysql://root@127.0.0.1:3306`). Recording inside a write's transaction is tested in
//! the crate (`audit::tests`), where the macro is visible.

mod common;

use chrono::NaiveDateTime;
use common::Db;
use tars_store::audit::{AuditEntry, AuditFilter};
use tars_store::grants::GrantRow;

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

fn grant(user: &str, role: &str, flag: &str, created_at: &str) -> GrantRow {
    GrantRow {
        user_name: user.into(),
        role: role.into(),
        flag: flag.into(),
        created_at: created_at.into(),
    }
}

async fn grants_are_added_once_listed_and_revoked(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    let now = t("2024-01-02 03:04:05");
    assert!(store.grants(None).await.unwrap().is_empty());

    assert!(store
        .grant_role("bob", "operator", "Shop", now)
        .await
        .unwrap());
    assert!(store
        .grant_role("alice", "operator", "Shop", now)
        .await
        .unwrap());
    assert!(store
        .grant_role("alice", "developer", "*", now)
        .await
        .unwrap());
    assert!(store.grant_role("alice", "admin", "", now).await.unwrap());
    assert!(
        !store
            .grant_role("alice", "operator", "Shop", t("2024-02-02 00:00:00"))
            .await
            .unwrap(),
        "a duplicate is not new and not an error"
    );
    assert!(
        store
            .grant_role("alice", "operator", "Shop.Cart", now)
            .await
            .unwrap(),
        "another flag is another grant"
    );
    assert!(
        !store
            .grant_role("Alice", "operator", "shop", now)
            .await
            .unwrap(),
        "names compare case-insensitively on both backends, as MySQL's collation does"
    );

    let created = "2024-01-02 03:04:05";
    assert_eq!(
        store.grants(None).await.unwrap(),
        vec![
            grant("alice", "admin", "", created),
            grant("alice", "developer", "*", created),
            grant("alice", "operator", "Shop", created),
            grant("alice", "operator", "Shop.Cart", created),
            grant("bob", "operator", "Shop", created),
        ]
    );
    assert_eq!(
        store.grants(Some("bob")).await.unwrap(),
        vec![grant("bob", "operator", "Shop", created)]
    );
    assert_eq!(
        store.grants(Some("BOB")).await.unwrap(),
        vec![grant("bob", "operator", "Shop", created)]
    );
    assert!(store.grants(Some("carol")).await.unwrap().is_empty());

    assert!(store
        .revoke_role("alice", "operator", "Shop")
        .await
        .unwrap());
    assert!(!store
        .revoke_role("alice", "operator", "Shop")
        .await
        .unwrap());
    assert!(!store
        .revoke_role("alice", "developer", "Shop")
        .await
        .unwrap());
    assert!(store.revoke_role("alice", "admin", "").await.unwrap());
    let left: Vec<(String, String, String)> = store
        .grants(None)
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.user_name, g.role, g.flag))
        .collect();
    assert_eq!(
        left,
        vec![
            ("alice".into(), "developer".into(), "*".into()),
            ("alice".into(), "operator".into(), "Shop.Cart".into()),
            ("bob".into(), "operator".into(), "Shop".into()),
        ]
    );
    store.close().await;
}

fn entry(user: &str, endpoint: &str, app: &str, status: i32) -> AuditEntry {
    AuditEntry {
        user_name: user.into(),
        token_id: Some(7),
        endpoint: endpoint.into(),
        application: app.into(),
        server_name: "Cart".into(),
        target: "id=1".into(),
        status,
        message: "ok".into(),
        trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
    }
}

fn all(limit: i64) -> AuditFilter {
    AuditFilter {
        limit,
        ..AuditFilter::default()
    }
}

/// (at, user, endpoint, application) of each row of a page, to compare compactly.
fn summary(rows: &[tars_store::audit::AuditRow]) -> Vec<(String, String, String, String)> {
    rows.iter()
        .map(|r| {
            (
                r.at.clone(),
                r.entry.user_name.clone(),
                r.entry.endpoint.clone(),
                r.entry.application.clone(),
            )
        })
        .collect()
}

async fn audit_rows_are_filtered_and_paged_newest_first(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    assert_eq!(store.audit_log(&all(10)).await.unwrap(), (0, Vec::new()));

    let rows = [
        (
            "2024-01-01 10:00:00.000",
            entry("alice", "deploy", "Shop", 200),
        ),
        (
            "2024-01-01 10:00:00.500",
            entry("bob", "deploy", "Mall", 200),
        ),
        (
            "2024-01-01 11:00:00.250",
            entry("alice", "config_add", "Mall", 409),
        ),
        (
            "2024-01-02 09:00:00.000",
            entry("carol", "deploy", "Shop", 403),
        ),
        // Same time as the previous: the later id comes first.
        (
            "2024-01-02 09:00:00.000",
            entry("alice", "undeploy", "", 200),
        ),
    ];
    for (at, e) in &rows {
        store.insert_audit(e, t(at)).await.unwrap();
    }

    let (count, page) = store.audit_log(&all(10)).await.unwrap();
    assert_eq!(count, 5);
    assert_eq!(
        summary(&page),
        vec![
            (
                "2024-01-02 09:00:00.000".into(),
                "alice".into(),
                "undeploy".into(),
                "".into()
            ),
            (
                "2024-01-02 09:00:00.000".into(),
                "carol".into(),
                "deploy".into(),
                "Shop".into()
            ),
            (
                "2024-01-01 11:00:00.250".into(),
                "alice".into(),
                "config_add".into(),
                "Mall".into()
            ),
            (
                "2024-01-01 10:00:00.500".into(),
                "bob".into(),
                "deploy".into(),
                "Mall".into()
            ),
            (
                "2024-01-01 10:00:00.000".into(),
                "alice".into(),
                "deploy".into(),
                "Shop".into()
            ),
        ]
    );
    assert!(page[0].id > page[1].id);
    assert_eq!(page[4].entry, rows[0].1, "every column reads back");

    // Paging: total count with every page.
    let page2 = AuditFilter {
        offset: 2,
        limit: 2,
        ..AuditFilter::default()
    };
    let (count, page) = store.audit_log(&page2).await.unwrap();
    assert_eq!(count, 5);
    assert_eq!(
        page.iter()
            .map(|r| r.entry.user_name.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    let beyond = AuditFilter {
        offset: 10,
        limit: 2,
        ..AuditFilter::default()
    };
    assert_eq!(store.audit_log(&beyond).await.unwrap(), (5, Vec::new()));
    assert_eq!(store.audit_log(&all(0)).await.unwrap(), (5, Vec::new()));

    let users = |f: AuditFilter| {
        let store = store.clone();
        async move {
            let (count, page) = store.audit_log(&f).await.unwrap();
            assert_eq!(count as usize, page.len());
            page.into_iter()
                .map(|r| format!("{}@{}", r.entry.user_name, r.at))
                .collect::<Vec<_>>()
        }
    };

    let by_user = AuditFilter {
        user_name: Some("alice".into()),
        ..all(10)
    };
    assert_eq!(
        users(by_user).await,
        [
            "alice@2024-01-02 09:00:00.000",
            "alice@2024-01-01 11:00:00.250",
            "alice@2024-01-01 10:00:00.000"
        ]
    );
    let by_app = AuditFilter {
        application: Some("Mall".into()),
        ..all(10)
    };
    assert_eq!(
        users(by_app).await,
        [
            "alice@2024-01-01 11:00:00.250",
            "bob@2024-01-01 10:00:00.500"
        ]
    );
    let by_app_case = AuditFilter {
        application: Some("mall".into()),
        ..all(10)
    };
    assert_eq!(
        users(by_app_case).await,
        [
            "alice@2024-01-01 11:00:00.250",
            "bob@2024-01-01 10:00:00.500"
        ],
        "case-insensitive on both backends, as MySQL's collation is"
    );
    let by_endpoint = AuditFilter {
        endpoint: Some("deploy".into()),
        user_name: Some("alice".into()),
        ..all(10)
    };
    assert_eq!(users(by_endpoint).await, ["alice@2024-01-01 10:00:00.000"]);

    // Time range: both bounds inclusive, to the millisecond.
    let range = AuditFilter {
        from: Some(t("2024-01-01 10:00:00.500")),
        to: Some(t("2024-01-01 11:00:00.250")),
        ..all(10)
    };
    assert_eq!(
        users(range).await,
        [
            "alice@2024-01-01 11:00:00.250",
            "bob@2024-01-01 10:00:00.500"
        ]
    );
    let before_range = AuditFilter {
        from: Some(t("2024-01-01 10:00:00.501")),
        to: Some(t("2024-01-01 11:00:00.249")),
        ..all(10)
    };
    assert!(users(before_range).await.is_empty());
    let day = AuditFilter {
        from: Some(t("2024-01-01 00:00:00")),
        to: Some(t("2024-01-01 23:59:59.999")),
        ..all(10)
    };
    assert_eq!(users(day).await.len(), 3);
    let from_only = AuditFilter {
        from: Some(t("2024-01-02 00:00:00")),
        ..all(10)
    };
    assert_eq!(
        users(from_only).await,
        [
            "alice@2024-01-02 09:00:00.000",
            "carol@2024-01-02 09:00:00.000"
        ]
    );
    let to_only = AuditFilter {
        to: Some(t("2024-01-01 10:00:00")),
        ..all(10)
    };
    assert_eq!(users(to_only).await, ["alice@2024-01-01 10:00:00.000"]);

    // An operator's own applications.
    let own = AuditFilter {
        applications_in: Some(vec!["Shop".into(), "Other".into()]),
        ..all(10)
    };
    assert_eq!(
        users(own).await,
        [
            "carol@2024-01-02 09:00:00.000",
            "alice@2024-01-01 10:00:00.000"
        ]
    );
    let own_and_user = AuditFilter {
        applications_in: Some(vec!["Shop".into(), "Mall".into()]),
        user_name: Some("alice".into()),
        ..all(10)
    };
    assert_eq!(
        users(own_and_user).await,
        [
            "alice@2024-01-01 11:00:00.250",
            "alice@2024-01-01 10:00:00.000"
        ]
    );
    let none = AuditFilter {
        applications_in: Some(Vec::new()),
        ..all(10)
    };
    assert_eq!(store.audit_log(&none).await.unwrap(), (0, Vec::new()));
    store.close().await;
}

async fn audit_values_too_long_are_cut_not_refused(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    let long = AuditEntry {
        user_name: "é".repeat(100),
        token_id: None,
        endpoint: "e".repeat(100),
        application: "😀".repeat(200),
        server_name: "s".repeat(200),
        target: "t".repeat(5000),
        status: 500,
        message: "ü".repeat(2000),
        trace_id: "0".repeat(100),
    };
    store
        .insert_audit(&long, t("2024-01-01 00:00:00.123456"))
        .await
        .unwrap();
    let (count, rows) = store.audit_log(&all(10)).await.unwrap();
    assert_eq!(count, 1);
    let row = &rows[0];
    assert_eq!(row.at, "2024-01-01 00:00:00.123");
    assert_eq!(row.entry.user_name, "é".repeat(64));
    assert_eq!(row.entry.token_id, None);
    assert_eq!(row.entry.endpoint, "e".repeat(64));
    assert_eq!(row.entry.application, "😀".repeat(128));
    assert_eq!(row.entry.server_name, "s".repeat(128));
    assert_eq!(row.entry.target, "t".repeat(1024));
    assert_eq!(row.entry.status, 500);
    assert_eq!(row.entry.message, "ü".repeat(1024));
    assert_eq!(row.entry.trace_id, "0".repeat(64));
    store.close().await;
}

async fn purge_removes_only_older_rows_in_batches(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    for day in 1..=7 {
        for hour in [0, 12] {
            let at = t(&format!("2024-01-{day:02} {hour:02}:00:00.000"));
            store
                .insert_audit(&entry("alice", "deploy", "Shop", 200), at)
                .await
                .unwrap();
        }
    }
    assert_eq!(
        store
            .purge_audit(t("2023-12-31 00:00:00"), 3)
            .await
            .unwrap(),
        0
    );
    // 2024-01-01 .. 2024-01-04 12:00 inclusive are older; the row at exactly 05 00:00 stays.
    assert_eq!(
        store
            .purge_audit(t("2024-01-05 00:00:00"), 3)
            .await
            .unwrap(),
        8
    );
    let (count, rows) = store.audit_log(&all(100)).await.unwrap();
    assert_eq!(count, 6);
    assert_eq!(rows.last().unwrap().at, "2024-01-05 00:00:00.000");
    // A batch dividing the rows exactly still ends.
    assert_eq!(
        store
            .purge_audit(t("2024-01-06 00:00:00"), 1)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .purge_audit(t("2024-01-06 00:00:00"), 0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .purge_audit(t("2025-01-01 00:00:00"), 100)
            .await
            .unwrap(),
        4
    );
    assert_eq!(store.audit_log(&all(100)).await.unwrap(), (0, Vec::new()));
    store.close().await;
}

store_test_suite!(
    grants_are_added_once_listed_and_revoked,
    audit_rows_are_filtered_and_paged_newest_first,
    audit_values_too_long_are_cut_not_refused,
    purge_removes_only_older_rows_in_batches,
);
