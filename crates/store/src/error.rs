//! Store errors, classified so callers can answer 404, 409 or 503 without looking at SQL.

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database is unreachable, overloaded or the pool timed out.
    #[error("database unavailable: {0}")]
    Unavailable(String),
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
        sqlx::Error::Database(db_err) if is_connection_level(db_err.code().as_deref()) => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Db(err.to_string()),
    }
}

/// Server-side errors that mean "cannot serve now" rather than "bad query": SQLite busy
/// or locked (codes 5, 6), SQLSTATE class 08 (connection exceptions) and 40001
/// (deadlock / serialization failure), which a retry may get past.
fn is_connection_level(code: Option<&str>) -> bool {
    match code {
        Some(code) => code == "5" || code == "6" || code.starts_with("08") || code == "40001",
        None => false,
    }
}
