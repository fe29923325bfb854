//! Throw-away MariaDB databases for the test suites (the store's and the end-to-end
//! tests'): one database per test, created empty and dropped when the test ends, even
//! when it panicked mid-transaction. Dev-only; never published.
//!
//! The server is `TARS_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`).

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, MySqlConnection};

/// Server URL (no database) of the MariaDB the tests use.
pub fn mysql_server_url() -> String {
    std::env::var("TARS_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_string())
}

/// A database created for one test, dropped with this value.
#[derive(Debug)]
pub struct TestDatabase {
    /// `<prefix>_<pid>_<n>`.
    pub name: String,
    /// Its URL: the server URL followed by `/<name>`.
    pub url: String,
}

impl TestDatabase {
    /// Creates an empty `<prefix>_<pid>_<n>` (`utf8mb4`). A database of that name left by
    /// an earlier run whose process had the same id is dropped first.
    pub async fn create(prefix: &str) -> TestDatabase {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{prefix}_{}_{}",
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
            .unwrap_or_else(|e| panic!("cannot drop the leftover database {name}: {e}"));
        sqlx::query(&format!(
            "CREATE DATABASE `{name}` DEFAULT CHARACTER SET utf8mb4"
        ))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
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
        // Drop may run inside a runtime that must not be blocked (or outside any): drop
        // the database from a private runtime on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            rt.block_on(drop_database(&server, &name));
        })
        .join();
    }
}

/// Drops database `name` on `server`, ending the connections still open on it first: a
/// test that panicked mid-transaction leaves its pool's connection holding metadata
/// locks (sqlx rolls back on the connection's next use, which never comes), and
/// `DROP DATABASE` would wait for them forever instead of letting the test fail.
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
    let _ = conn.close().await;
}
