//! Values the `db_tars` columns cannot hold: MySQL refuses them and the store reports
//! `StoreError::DataRejected` (a client's mistake), not a database failure; SQLite keeps
//! them, which is why the deployer checks sizes before writing.
//! `TARS_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306`.

mod common;

use common::Db;
use tars_store::server_conf::{NewServer, ServerUpdate};
use tars_store::StoreError;

fn server(node: &str) -> NewServer {
    NewServer {
        application: "Shop".into(),
        server_name: "Cart".into(),
        node_name: node.into(),
        server_type: "tars_cpp".into(),
        template_name: "tars.default".into(),
        async_thread_num: 3,
        posttime: chrono::NaiveDate::from_ymd_opt(2024, 1, 2)
            .unwrap()
            .and_hms_opt(3, 4, 5)
            .unwrap(),
        ..NewServer::default()
    }
}

/// Each write holds one value its column cannot: too long, out of `int` range, outside
/// an `enum`, and a 4-byte character in a 3-byte utf8 column.
async fn misfits_are_refused_on_mysql_only(mysql: bool) {
    let db = Db::new(mysql, None).await;
    let store = &db.open().await;
    let id = store
        .insert_servers_with_adapters(&[server("10.0.0.1")], &[])
        .await
        .unwrap()[0];
    let inserts = [
        NewServer {
            base_path: "p".repeat(129),
            ..server("10.0.0.2")
        },
        NewServer {
            async_thread_num: i64::from(i32::MAX) + 1,
            ..server("10.0.0.3")
        },
        NewServer {
            server_type: "tars_cobol".into(),
            ..server("10.0.0.4")
        },
    ];
    let updates = [ServerUpdate {
        set_name: Some("s😀".into()),
        ..ServerUpdate::default()
    }];
    let mut outcomes = Vec::new();
    for insert in inserts {
        let outcome = store.insert_servers_with_adapters(&[insert], &[]).await;
        outcomes.push(outcome.map(|_| ()));
    }
    for update in updates {
        let outcome = store.update_server(id, &update, server("x").posttime).await;
        outcomes.push(outcome.map(|_| ()));
    }
    for (i, outcome) in outcomes.into_iter().enumerate() {
        match (mysql, outcome) {
            (true, Err(StoreError::DataRejected(message))) => {
                assert!(!message.is_empty(), "write {i}")
            }
            (false, Ok(())) => {}
            (_, other) => panic!("write {i} on mysql={mysql}: {other:?}"),
        }
    }
}

store_test_suite!(misfits_are_refused_on_mysql_only);
