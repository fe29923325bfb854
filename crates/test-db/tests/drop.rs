//! The throw-away database goes away when its test ends, even when the test left a
//! connection in the middle of a transaction (as a panicking test does), which would
//! make a plain `DROP DATABASE` wait forever.

use std::time::Duration;

use sqlx::{Connection, MySqlConnection};
use tars_test_db::{mysql_server_url, TestDatabase};

async fn exists(name: &str) -> bool {
    let mut conn = MySqlConnection::connect(&mysql_server_url()).await.unwrap();
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    )
    .bind(name)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    found == 1
}

#[tokio::test]
async fn a_database_left_mid_transaction_is_still_dropped() {
    let db = TestDatabase::create("tars_test_db").await;
    let name = db.name.clone();
    assert!(exists(&name).await, "{name} was created");
    assert!(db.url.ends_with(&format!("/{name}")), "{}", db.url);

    let mut open = MySqlConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("CREATE TABLE t (id INT PRIMARY KEY); BEGIN; INSERT INTO t VALUES (1)")
        .execute(&mut open)
        .await
        .unwrap();
    // `open` stays as a dead test leaves it: mid-transaction, holding its locks.
    let dropped = tokio::task::spawn_blocking(move || drop(db));
    tokio::time::timeout(Duration::from_secs(60), dropped)
        .await
        .expect("dropping the database must not wait for the open transaction")
        .unwrap();
    assert!(!exists(&name).await, "{name} is gone");
    drop(open);
}
