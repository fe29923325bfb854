//! Values the `db_tars` columns cannot hold: MySQL refuses them and the store reports
//! `StoreError::DataRejected` (a client's mistake), not a database failure; SQLite keeps
//! them, which is why the deployer checks sizes before writing.
//! `TARS_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306`.

use std::time::Duration;

use sqlx::{Connection, MySqlConnection};
use tars_store::server_conf::{NewServer, ServerUpdate};
use tars_store::{Store, StoreConfig, StoreError};

fn mysql_server() -> String {
    std::env::var("TARS_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

/// A store on a fresh database, dropped with it.
struct Db {
    store: Store,
    mysql_name: Option<String>,
    _dir: tempfile::TempDir,
}

impl Db {
    async fn new(mysql: bool) -> Db {
        let dir = tempfile::tempdir().unwrap();
        let mysql_name = mysql.then(|| format!("tars_data_errors_{}", std::process::id()));
        if let Some(name) = &mysql_name {
            let mut conn = MySqlConnection::connect(&mysql_server())
                .await
                .expect("MariaDB for store tests");
            sqlx::query(&format!("CREATE DATABASE `{name}`"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        let config = StoreConfig {
            database_url: mysql_name
                .as_ref()
                .map(|name| format!("{}/{name}", mysql_server())),
            data_dir: dir.path().to_path_buf(),
            max_connections: Some(2),
            acquire_timeout: Duration::from_secs(5),
            server_cache_ttl: None,
        };
        Db {
            store: Store::open(&config).await.expect("open store"),
            mysql_name,
            _dir: dir,
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(name) = self.mysql_name.take() {
            let server = mysql_server();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) = MySqlConnection::connect(&server).await {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`"))
                            .execute(&mut conn)
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

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
    let db = Db::new(mysql).await;
    let store = &db.store;
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

mod sqlite {
    #[tokio::test]
    async fn misfits_are_refused_on_mysql_only() {
        super::misfits_are_refused_on_mysql_only(false).await
    }
}

mod mariadb {
    #[tokio::test]
    async fn misfits_are_refused_on_mysql_only() {
        super::misfits_are_refused_on_mysql_only(true).await
    }
}
