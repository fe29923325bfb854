//! A throw-away database per test, on SQLite or MariaDB (`TARS_TEST_MYSQL_URL`, default
//! `mysql://root@127.0.0.1:3306`), shared by the store's test suites.

#![allow(dead_code)]

use std::time::Duration;

use sqlx::{Connection, MySqlConnection};
use tars_store::{Store, StoreConfig};

pub fn mysql_server() -> String {
    std::env::var("TARS_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

pub struct Db {
    config: StoreConfig,
    _dir: tempfile::TempDir,
    mysql_name: Option<String>,
}

impl Db {
    pub async fn new(mysql: bool, cache: Option<Duration>) -> Db {
        let dir = tempfile::tempdir().unwrap();
        let mut mysql_name = None;
        let database_url = if mysql {
            let name = format!("tars_store_{}_{}", std::process::id(), rand_suffix());
            let mut conn = MySqlConnection::connect(&mysql_server())
                .await
                .expect("MariaDB for store tests");
            sqlx::query(&format!("CREATE DATABASE `{name}`"))
                .execute(&mut conn)
                .await
                .unwrap();
            mysql_name = Some(name.clone());
            Some(format!("{}/{name}", mysql_server()))
        } else {
            None
        };
        let config = StoreConfig {
            database_url,
            data_dir: dir.path().to_path_buf(),
            max_connections: Some(2),
            acquire_timeout: Duration::from_secs(5),
            server_cache_ttl: cache,
        };
        Db {
            config,
            _dir: dir,
            mysql_name,
        }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.config).await.expect("open store")
    }

    pub async fn raw(&self, sql: &str) {
        match &self.mysql_name {
            Some(_) => {
                let mut conn =
                    MySqlConnection::connect(self.config.database_url.as_deref().unwrap())
                        .await
                        .unwrap();
                sqlx::query(sql).execute(&mut conn).await.unwrap();
            }
            None => {
                let path = self.config.data_dir.join("tars.db");
                let url = format!("sqlite://{}?mode=rwc", path.display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query(sql).execute(&mut conn).await.unwrap();
            }
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
                rt.block_on(drop_database(&server, &name));
            })
            .join();
        }
    }
}

/// Drops a test database. Connections still open on it go first: a test that panicked
/// mid-transaction leaves its pool's connection holding metadata locks (sqlx rolls back
/// on the connection's next use, which never comes), and DROP DATABASE would wait for
/// them forever instead of letting the test fail.
pub async fn drop_database(server: &str, name: &str) {
    let Ok(mut conn) = MySqlConnection::connect(server).await else {
        return;
    };
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
    )
    .bind(name)
    .fetch_all(&mut conn)
    .await
    .unwrap_or_default();
    for id in ids {
        let _ = sqlx::query(&format!("KILL {id}")).execute(&mut conn).await;
    }
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`"))
        .execute(&mut conn)
        .await;
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// One `#[tokio::test]` per backend for each listed `async fn(mysql: bool)`.
#[macro_export]
macro_rules! store_test_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name(false).await } )* }
        mod mariadb { $( #[tokio::test] async fn $name() { super::$name(true).await } )* }
    };
}
