//! Throw-away MariaDB databases, and direct access to a platform's database for playing
//! other TARS components in tests.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::mysql::MySqlPoolOptions;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{Connection, MySqlConnection};

/// Server URL (no database) of the MariaDB the tests use.
pub fn mysql_server_url() -> String {
    std::env::var("TARS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_string())
}

/// A database created for one platform under test, dropped with it.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Creates `tars_e2e_<pid>_<n>`.
    pub async fn create() -> TestDatabase {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "tars_e2e_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let server = mysql_server_url();
        let mut conn = MySqlConnection::connect(&server).await.unwrap_or_else(|e| {
            panic!("MariaDB at {server} is needed by the tests (TARS_TEST_MYSQL_URL): {e}")
        });
        sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`"))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(&format!(
            "CREATE DATABASE `{name}` DEFAULT CHARACTER SET utf8mb4"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        let _ = conn.close().await;
        TestDatabase {
            url: format!("{server}/{name}"),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server = mysql_server_url();
        let name = self.name.clone();
        // Drop runs outside any runtime we may block; use a private one on a thread.
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

/// Drops a test database, ending the connections still open on it first: a connection
/// left mid-transaction by a panicking test would make DROP DATABASE wait forever.
async fn drop_database(server: &str, name: &str) {
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

/// A direct connection to a platform's database.
pub enum DirectDb {
    Sqlite(sqlx::SqlitePool),
    MySql(sqlx::MySqlPool),
}

/// What tarsnotify writes for one event.
pub struct Notify<'a> {
    pub application: &'a str,
    pub server_name: &'a str,
    pub node_name: &'a str,
    pub command: &'a str,
    pub result: &'a str,
    pub notifytime: &'a str,
}

impl DirectDb {
    pub async fn sqlite(path: &std::path::Path) -> DirectDb {
        let url = format!("sqlite://{}", path.display());
        DirectDb::Sqlite(
            SqlitePoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .expect("open sqlite"),
        )
    }

    pub async fn mysql(url: &str) -> DirectDb {
        DirectDb::MySql(
            MySqlPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .expect("open mysql"),
        )
    }

    /// Inserts a notification row as tarsnotify does (server_id `App.Server_node`).
    pub async fn insert_notify(&self, n: Notify<'_>) {
        let sql = "INSERT INTO t_server_notifys (application, server_name, node_name, server_id, thread_id, command, result, notifytime) \
                   VALUES (?, ?, ?, ?, '1234', ?, ?, ?)";
        let server_id = format!("{}.{}_{}", n.application, n.server_name, n.node_name);
        match self {
            DirectDb::Sqlite(pool) => {
                sqlx::query(sql)
                    .bind(n.application)
                    .bind(n.server_name)
                    .bind(n.node_name)
                    .bind(&server_id)
                    .bind(n.command)
                    .bind(n.result)
                    .bind(n.notifytime)
                    .execute(pool)
                    .await
                    .unwrap();
            }
            DirectDb::MySql(pool) => {
                sqlx::query(sql)
                    .bind(n.application)
                    .bind(n.server_name)
                    .bind(n.node_name)
                    .bind(&server_id)
                    .bind(n.command)
                    .bind(n.result)
                    .bind(n.notifytime)
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
    }

    /// Runs a statement without results.
    pub async fn execute(&self, sql: &str) {
        match self {
            DirectDb::Sqlite(pool) => {
                sqlx::query(sql).execute(pool).await.unwrap();
            }
            DirectDb::MySql(pool) => {
                sqlx::query(sql).execute(pool).await.unwrap();
            }
        }
    }

    /// Runs statements over the text protocol (DDL such as CREATE TRIGGER, which MySQL
    /// does not prepare).
    pub async fn execute_raw(&self, sql: &str) {
        match self {
            DirectDb::Sqlite(pool) => {
                sqlx::raw_sql(sql).execute(pool).await.unwrap();
            }
            DirectDb::MySql(pool) => {
                sqlx::raw_sql(sql).execute(pool).await.unwrap();
            }
        }
    }

    /// One integer column of the first row, if any.
    pub async fn fetch_i64(&self, sql: &str) -> Option<i64> {
        match self {
            DirectDb::Sqlite(pool) => sqlx::query_scalar::<_, i64>(sql)
                .fetch_optional(pool)
                .await
                .unwrap(),
            DirectDb::MySql(pool) => sqlx::query_scalar::<_, i64>(sql)
                .fetch_optional(pool)
                .await
                .unwrap(),
        }
    }

    /// Which backend this is.
    pub fn is_mysql(&self) -> bool {
        matches!(self, DirectDb::MySql(_))
    }

    /// One text column of the first row, if any.
    pub async fn fetch_text(&self, sql: &str) -> Option<String> {
        match self {
            DirectDb::Sqlite(pool) => sqlx::query_scalar::<_, String>(sql)
                .fetch_optional(pool)
                .await
                .unwrap(),
            DirectDb::MySql(pool) => sqlx::query_scalar::<_, String>(sql)
                .fetch_optional(pool)
                .await
                .unwrap(),
        }
    }
}
