//! One behaviour suite for the store, run on SQLite and on MariaDB (a throw-away database
//! per test; `TARS_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306`).

mod common;

use std::time::Duration;

use chrono::NaiveDateTime;
use common::Db;
use tars_store::adapter_conf::NewAdapter;
use tars_store::config_files::{
    ConfigDeletion, ConfigFileFilter, ConfigPlace, NewConfigFile, LEVEL_APP, LEVEL_NODE,
    LEVEL_SERVER,
};
use tars_store::config_refs::RefInsertion;
use tars_store::expansion::{Expansion, NodeConfigCopy, NodeHoldings};
use tars_store::server_conf::{NewServer, ServerFilter, ServerUpdate};
use tars_store::task_effects::Instance;
use tars_store::task_queue::ClaimOutcome;
use tars_store::tasks::{NewTask, NewTaskItem};
use tars_store::{Store, StoreError};

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn server(app: &str, name: &str, node: &str) -> NewServer {
    NewServer {
        application: app.into(),
        server_name: name.into(),
        node_name: node.into(),
        server_type: "tars_cpp".into(),
        template_name: "tars.default".into(),
        async_thread_num: 3,
        posttime: t("2024-01-02 03:04:05"),
        ..NewServer::default()
    }
}

fn adapter(app: &str, name: &str, node: &str, obj: &str) -> NewAdapter {
    NewAdapter {
        application: app.into(),
        server_name: name.into(),
        node_name: node.into(),
        adapter_name: format!("{app}.{name}.{obj}Adapter"),
        servant: format!("{app}.{name}.{obj}"),
        endpoint: format!("tcp -h {node} -p 10000"),
        thread_num: 1,
        max_connections: 10,
        queuecap: 10,
        queuetimeout: 10,
        protocol: "tars".into(),
        posttime: t("2024-01-02 03:04:05"),
        ..NewAdapter::default()
    }
}

async fn writes_are_visible_through_the_cache(mysql: bool) {
    let db = Db::new(mysql, Some(Duration::from_secs(60))).await;
    let store = db.open().await;
    let filter = ServerFilter {
        application: Some("App".into()),
        ..ServerFilter::default()
    };
    assert!(store.list_servers(&filter, None).await.unwrap().is_empty());
    let ids = store
        .insert_servers_with_adapters(
            &[server("App", "S", "10.0.0.1")],
            &[adapter("App", "S", "10.0.0.1", "Obj")],
        )
        .await
        .unwrap();
    let listed = store.list_servers(&filter, None).await.unwrap();
    assert_eq!(
        listed.len(),
        1,
        "an insert invalidates the cached empty list"
    );
    assert_eq!(listed[0].posttime, Some(t("2024-01-02 03:04:05")));
    let update = ServerUpdate {
        exe_path: Some("/bin/x".into()),
        ..ServerUpdate::default()
    };
    assert!(store
        .update_server(ids[0], &update, t("2024-02-02 00:00:00"))
        .await
        .unwrap());
    let listed = store.list_servers(&filter, None).await.unwrap();
    assert_eq!(
        listed[0].exe_path, "/bin/x",
        "an update invalidates the cached list"
    );
    assert!(!store
        .update_server(999_999, &update, t("2024-02-02 00:00:00"))
        .await
        .unwrap());
}

async fn duplicates_are_already_exists_and_roll_back(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    store
        .insert_servers_with_adapters(&[server("App", "S", "10.0.0.1")], &[])
        .await
        .unwrap();
    let err = store
        .insert_servers_with_adapters(
            &[
                server("App", "S", "10.0.0.2"),
                server("App", "S", "10.0.0.1"),
            ],
            &[adapter("App", "S", "10.0.0.2", "Obj")],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)), "{err:?}");
    let all = store
        .list_servers(&ServerFilter::default(), None)
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "the batch rolled back as a whole");
    assert!(store
        .adapters_of_instance("App", "S", "10.0.0.2")
        .await
        .unwrap()
        .is_empty());
}

async fn opening_an_existing_tars_database_keeps_its_rows(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    store
        .insert_servers_with_adapters(&[server("App", "Old", "10.0.0.9")], &[])
        .await
        .unwrap();
    store.close().await;
    // An operator's template of the same name as a shipped one must survive restarts.
    db.raw("UPDATE t_profile_template SET profile = 'mine' WHERE template_name = 'tars.default'")
        .await;
    let reopened = db.open().await;
    let all = reopened
        .list_servers(&ServerFilter::default(), None)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].server_name.as_deref(), Some("Old"));
    let tpl = reopened
        .template_by_name("tars.default")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tpl.profile, "mine");
}

async fn tokens_expire_and_revoke(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    let now = t("2024-01-01 00:00:00");
    let (id, ticket) = store
        .create_token("alice", now, Some(t("2024-01-02 00:00:00")))
        .await
        .unwrap();
    let hash = tars_store::tokens::hash_ticket(&ticket);
    assert!(store
        .active_token_by_hash(&hash, now)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .active_token_by_hash(&hash, t("2024-01-03 00:00:00"))
        .await
        .unwrap()
        .is_none());
    assert!(store.revoke_token(id, now).await.unwrap());
    assert!(store
        .active_token_by_hash(&hash, now)
        .await
        .unwrap()
        .is_none());
    assert!(!store.revoke_token(id, now).await.unwrap());
}

fn config(place: ConfigPlace, text: &str) -> NewConfigFile {
    NewConfigFile {
        place,
        config: text.to_string(),
        posttime: t("2024-01-01 00:00:00"),
        lastuser: "alice".into(),
    }
}

fn place(server_name: &str, host: &str, level: i64, filename: &str) -> ConfigPlace {
    ConfigPlace {
        server_name: server_name.into(),
        host: host.into(),
        level,
        filename: filename.into(),
        ..ConfigPlace::default()
    }
}

async fn config_file_keys_agree_on_both_backends(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    let id = store
        .add_config_file(&config(place("Shop", "", LEVEL_APP, "App.conf"), "x"), &[])
        .await
        .unwrap();
    // MySQL's utf8 collation makes file names case-insensitive; SQLite must agree.
    let again = store
        .add_config_file(&config(place("Shop", "", LEVEL_APP, "app.conf"), "y"), &[])
        .await;
    assert!(
        matches!(again, Err(StoreError::AlreadyExists(_))),
        "{again:?}"
    );
    // Contents are kept byte for byte, 4-byte UTF-8 included.
    let text = "a\r\n\t 🚀 é\u{0}z ";
    assert!(store
        .update_config_file(id, text, "why", "bob", t("2024-01-02 00:00:00"))
        .await
        .unwrap());
    let row = store.config_file_by_id(id).await.unwrap().unwrap();
    assert_eq!(row.config.as_deref(), Some(text));
    assert_eq!(row.lastuser.as_deref(), Some("bob"));
    let (count, history) = store.config_history_page(id, None).await.unwrap();
    assert_eq!(count, 2);
    assert_eq!(history[0].reason.as_deref(), Some("why"));
    assert_eq!(history[0].content.as_deref(), Some(text));
    assert_eq!(history[1].reason.as_deref(), Some("add config"));

    // Creating missing node files is idempotent.
    let nodes = [
        config(place("Shop.Cart", "10.0.0.1", LEVEL_NODE, "Cart.conf"), ""),
        config(place("Shop.Cart", "10.0.0.2", LEVEL_NODE, "Cart.conf"), ""),
    ];
    assert_eq!(store.add_missing_config_files(&nodes).await.unwrap(), 2);
    assert_eq!(store.add_missing_config_files(&nodes).await.unwrap(), 0);
}

async fn deleting_config_files_keeps_references_whole(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    let app = store
        .add_config_file(
            &config(place("Shop", "", LEVEL_APP, "common.conf"), "c"),
            &[],
        )
        .await
        .unwrap();
    let nodes = [
        config(place("Shop.Cart", "10.0.0.1", LEVEL_NODE, "Cart.conf"), ""),
        config(place("Shop.Cart", "10.0.0.2", LEVEL_NODE, "Cart.conf"), ""),
    ];
    let server = store
        .add_config_file(
            &config(place("Shop.Cart", "", LEVEL_SERVER, "Cart.conf"), "s"),
            &nodes,
        )
        .await
        .unwrap();
    let node_ids: Vec<i64> = store
        .list_config_files(&ConfigFileFilter {
            level: LEVEL_NODE,
            server_name: "Shop.Cart".into(),
            ..ConfigFileFilter::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(node_ids.len(), 2);
    assert!(matches!(
        store.insert_config_ref(server, app).await.unwrap(),
        RefInsertion::Added(_)
    ));
    assert!(matches!(
        store.insert_config_ref(node_ids[0], server).await.unwrap(),
        RefInsertion::Added(_)
    ));
    assert_eq!(
        store.insert_config_ref(server, 999_999).await.unwrap(),
        RefInsertion::MissingFile(999_999)
    );
    assert!(matches!(
        store.insert_config_ref(server, app).await,
        Err(StoreError::AlreadyExists(_))
    ));

    // The application file is still referenced by the server file.
    match store.delete_config_file(app).await.unwrap() {
        ConfigDeletion::Referenced(files) => {
            assert_eq!(files.iter().map(|f| f.id).collect::<Vec<_>>(), vec![server])
        }
        other => panic!("expected Referenced, got {other:?}"),
    }
    // The server file goes with its node files; the node file's reference to it is no
    // obstacle since that node file goes too, and no reference is left dangling.
    match store.delete_config_file(server).await.unwrap() {
        ConfigDeletion::Deleted(mut ids) => {
            ids.sort();
            let mut expected = vec![server, node_ids[0], node_ids[1]];
            expected.sort();
            assert_eq!(ids, expected);
        }
        other => panic!("expected Deleted, got {other:?}"),
    }
    assert!(store.reference_ids(server).await.unwrap().is_empty());
    assert!(store.reference_ids(node_ids[0]).await.unwrap().is_empty());
    assert_eq!(
        store.delete_config_file(app).await.unwrap(),
        ConfigDeletion::Deleted(vec![app])
    );
    assert_eq!(
        store.delete_config_file(app).await.unwrap(),
        ConfigDeletion::NotFound
    );
    // History outlives the file.
    assert_eq!(store.config_history_page(server, None).await.unwrap().0, 1);
}

async fn undeploying_removes_the_instances_node_files(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    store
        .insert_servers_with_adapters(&[server("Shop", "Cart", "10.0.0.1")], &[])
        .await
        .unwrap();
    let nodes = [
        config(place("Shop.Cart", "10.0.0.1", LEVEL_NODE, "Cart.conf"), ""),
        config(place("Shop.Cart", "10.0.0.2", LEVEL_NODE, "Cart.conf"), ""),
    ];
    store
        .add_config_file(
            &config(place("Shop.Cart", "", LEVEL_SERVER, "Cart.conf"), "s"),
            &nodes,
        )
        .await
        .unwrap();
    let fence = claimed_task(&store, "undeploy").await;
    let at = Instance {
        application: "Shop",
        server_name: "Cart",
        node_name: "10.0.0.1",
    };
    assert!(store.delete_server_instance(&fence, at).await.unwrap());
    let left: Vec<(i64, String)> = store
        .list_config_files(&ConfigFileFilter {
            level: LEVEL_NODE,
            server_name: "Shop.Cart".into(),
            ..ConfigFileFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.level.unwrap(), f.host))
        .collect();
    assert_eq!(left, vec![(LEVEL_NODE, "10.0.0.2".to_string())]);
}

/// A task with one item, claimed by `runner-a`.
async fn claimed_task(store: &tars_store::Store, task_no: &str) -> tars_store::task_queue::Fence {
    let task = NewTask {
        task_no: task_no.into(),
        serial: true,
        user_name: "test".into(),
        items: vec![NewTaskItem {
            item_no: format!("{task_no}-0"),
            application: "Shop".into(),
            server_name: "Cart".into(),
            node_name: "10.0.0.1".into(),
            set_name: String::new(),
            command: "undeploy_tars".into(),
            parameters: "{}".into(),
        }],
        trace_parent: String::new(),
    };
    let now = t("2026-01-01 00:00:00");
    store.insert_task(&task, now, now).await.unwrap();
    match store
        .claim_task(task_no, "runner-a", now, t("2100-01-01 00:00:00"))
        .await
        .unwrap()
    {
        ClaimOutcome::Claimed(c) => c.fence,
        other => panic!("not claimed: {other:?}"),
    }
}

async fn expansions_check_then_write_everything_or_nothing(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = db.open().await;
    store
        .insert_servers_with_adapters(
            &[
                server("Shop", "Cart", "10.0.0.1"),
                server("Shop", "Bill", "10.0.0.2"),
            ],
            &[
                adapter("Shop", "Cart", "10.0.0.1", "Obj"),
                adapter("Shop", "Bill", "10.0.0.2", "Obj"),
            ],
        )
        .await
        .unwrap();
    let node_file =
        |host: &str, text: &str| config(place("Shop.Cart", host, LEVEL_NODE, "Cart.conf"), text);
    store
        .add_config_file(
            &config(place("Shop.Cart", "", LEVEL_SERVER, "Cart.conf"), "s"),
            // A stale file on 10.0.0.3 is replaced by the copy.
            &[
                node_file("10.0.0.1", "node one"),
                node_file("10.0.0.3", "stale"),
            ],
        )
        .await
        .unwrap();
    let expansion = Expansion {
        servers: vec![
            server("Shop", "Cart", "10.0.0.2"),
            server("Shop", "Cart", "10.0.0.3"),
        ],
        adapters: vec![
            adapter("Shop", "Cart", "10.0.0.2", "Obj"),
            adapter("Shop", "Cart", "10.0.0.3", "Obj"),
        ],
        copy_node_config: Some(NodeConfigCopy {
            server_name: "Shop.Cart".into(),
            from_host: "10.0.0.1".into(),
            reason: "copied".into(),
            posttime: t("2024-02-01 00:00:00"),
            lastuser: "carol".into(),
        }),
    };
    let cart_nodes = |store: Store| async move {
        let filter = ServerFilter {
            server_name: Some("Cart".into()),
            ..ServerFilter::default()
        };
        let rows = store.list_servers(&filter, None).await.unwrap();
        rows.into_iter().map(|r| r.node_name).collect::<Vec<_>>()
    };

    // The check sees each node's holdings in the transaction; a refusal writes nothing.
    let mut seen = Vec::new();
    let refused = store
        .expand_servers(&expansion, |h: &NodeHoldings| {
            seen.push(h.clone());
            if h.node_name == "10.0.0.3" {
                Err("no")
            } else {
                Ok(())
            }
        })
        .await
        .unwrap();
    assert_eq!(refused, Err("no"));
    assert_eq!(
        seen,
        [
            NodeHoldings {
                node_name: "10.0.0.2".into(),
                instance_exists: false,
                endpoints: vec!["tcp -h 10.0.0.2 -p 10000".into()],
            },
            NodeHoldings {
                node_name: "10.0.0.3".into(),
                instance_exists: false,
                endpoints: vec![],
            },
        ]
    );
    assert_eq!(cart_nodes(store.clone()).await, ["10.0.0.1"]);

    let expanded = store
        .expand_servers(&expansion, |_| Ok::<(), ()>(()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(expanded.server_ids.len(), 2);
    assert_eq!(expanded.config_file_ids.len(), 2);
    assert_eq!(
        cart_nodes(store.clone()).await,
        ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    );
    assert_eq!(
        store
            .adapters_of_instance("Shop", "Cart", "10.0.0.3")
            .await
            .unwrap()
            .len(),
        1
    );
    let files = store
        .config_files_by_ids(&expanded.config_file_ids)
        .await
        .unwrap();
    let copies: Vec<(&str, Option<&str>, Option<&str>)> = files
        .iter()
        .map(|f| (f.host.as_str(), f.config.as_deref(), f.lastuser.as_deref()))
        .collect();
    assert_eq!(
        copies,
        [
            ("10.0.0.3", Some("node one"), Some("carol")),
            ("10.0.0.2", Some("node one"), Some("carol")),
        ],
        "the stale file keeps its (lower) id and gets the content"
    );
    for id in &expanded.config_file_ids {
        let (_, history) = store.config_history_page(*id, None).await.unwrap();
        assert_eq!(history[0].reason.as_deref(), Some("copied"));
        assert_eq!(history[0].content.as_deref(), Some("node one"));
    }

    // Once there, the instances are reported; a duplicate that slips past the check
    // fails the unique key and rolls the whole expansion back.
    let again = Expansion {
        servers: vec![
            server("Shop", "Cart", "10.0.0.4"),
            server("Shop", "Cart", "10.0.0.2"),
        ],
        ..Expansion::default()
    };
    let mut existing = Vec::new();
    let err = store
        .expand_servers(&again, |h| {
            existing.push(h.instance_exists);
            Ok::<(), ()>(())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)), "{err:?}");
    assert_eq!(existing, [false, true]);
    assert_eq!(
        cart_nodes(store.clone()).await,
        ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    );
}

store_test_suite!(
    writes_are_visible_through_the_cache,
    duplicates_are_already_exists_and_roll_back,
    opening_an_existing_tars_database_keeps_its_rows,
    tokens_expire_and_revoke,
    config_file_keys_agree_on_both_backends,
    deleting_config_files_keeps_references_whole,
    undeploying_removes_the_instances_node_files,
    expansions_check_then_write_everything_or_nothing,
);
