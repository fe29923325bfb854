//! Store errors, classified so callers can answer 404, 409 or 503 without looking at SQL.

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database is unreachable, overloaded or the pool timed out.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database refused a transaction that conflicted with a concurrent one
    /// (deadlock, serialization failure, SQLite busy); running it again may succeed.
    #[error("the database refused a change that conflicted with a concurrent one: {0}")]
    Contention(String),
    /// A unique key already holds that value.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// Any other database failure; a bug or a schema mismatch.
    #[error("database error: {0}")]
    Db(String),
    /// Schema migration failed at start-up.
    #[error("migration failed: {0}")]
    Migration(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        convert_sqlx_err(err)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migration(err.to_string())
    }
}

/// Classifies a sqlx error: unique violations, unreachable databases, the rest.
pub fn convert_sqlx_err(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db_err) if db_err.is_unique_violation() => {
            StoreError::AlreadyExists(db_err.message().to_string())
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(err.to_string()),
        sqlx::Error::Database(db_err) if is_contention(db_err.code().as_deref()) => {
            StoreError::Contention(err.to_string())
        }
        sqlx::Error::Database(db_err) if is_connection_level(db_err.code().as_deref()) => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Db(err.to_string()),
    }
}

/// Conflicts with a concurrent transaction: SQLite busy or locked (codes 5, 6) and
/// SQLSTATE 40001 (deadlock / serialization failure).
fn is_contention(code: Option<&str>) -> bool {
    matches!(code, Some("5" | "6" | "40001"))
}

/// Server-side errors that mean "cannot serve now" rather than "bad query": SQLSTATE
/// class 08 (connection exceptions).
fn is_connection_level(code: Option<&str>) -> bool {
    code.is_some_and(|code| code.starts_with("08"))
}

/// Runs `op` again (up to four more times, with a short growing pause) while it fails
/// with [`StoreError::Contention`]: InnoDB resolves a deadlock by aborting one of the
/// transactions, and the aborted one is meant to be retried.
pub(crate) async fn retry_contention<T, F, Fut>(mut op: F) -> crate::StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::StoreResult<T>>,
{
    let mut attempt: u64 = 0;
    loop {
        match op().await {
            Err(StoreError::Contention(msg)) if attempt < 4 => {
                attempt += 1;
                tracing::debug!(attempt, error = %msg, "retrying after a conflict");
                let jitter = u64::from(rand::random::<u8>() % 10);
                tokio::time::sleep(std::time::Duration::from_millis(attempt * 10 + jitter)).await;
            }
            other => return other,
        }
    }
}
