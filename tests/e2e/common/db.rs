//! Throw-away MariaDB databases, and direct access to a platform's database for playing
//! other TARS components in tests.

use sqlx::mysql::MySqlPoolOptions;
use sqlx::sqlite::SqlitePoolOptions;

pub use tars_test_db::{mysql_server_url, TestDatabase};

/// Creates a throw-away MariaDB database for one platform under test (`tars_e2e_<pid>_<n>`),
/// dropped with the value returned.
pub async fn create_database() -> TestDatabase {
    TestDatabase::create("tars_e2e").await
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
