//! A throw-away database per test, on SQLite or MariaDB (`TARS_TEST_MYSQL_URL`, default
//! `mysql://root@127.0.0.1:3306`, through `tars-test-db`), shared by the store's test
//! suites.

#![allow(dead_code)]

use std::time::Duration;

use sqlx::{Connection, MySqlConnection};
use tars_store::{Store, StoreConfig};
use tars_test_db::TestDatabase;

pub struct Db {
    config: StoreConfig,
    _dir: tempfile::TempDir,
    /// The MariaDB database, dropped with this value.
    mysql: Option<TestDatabase>,
}

impl Db {
    pub async fn new(mysql: bool, cache: Option<Duration>) -> Db {
        let dir = tempfile::tempdir().unwrap();
        let database = if mysql {
            Some(TestDatabase::create("tars_store").await)
        } else {
            None
        };
        let config = StoreConfig {
            database_url: database.as_ref().map(|d| d.url.clone()),
            data_dir: dir.path().to_path_buf(),
            max_connections: Some(2),
            acquire_timeout: Duration::from_secs(5),
            server_cache_ttl: cache,
        };
        Db {
            config,
            _dir: dir,
            mysql: database,
        }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.config).await.expect("open store")
    }

    pub async fn raw(&self, sql: &str) {
        match &self.mysql {
            Some(database) => {
                let mut conn = MySqlConnection::connect(&database.url).await.unwrap();
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

/// One `#[tokio::test]` per backend for each listed `async fn(mysql: bool)`.
#[macro_export]
macro_rules! store_test_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name(false).await } )* }
        mod mariadb { $( #[tokio::test] async fn $name() { super::$name(true).await } )* }
    };
}
