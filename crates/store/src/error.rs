//! Store errors, classified so callers can answer 400, 409 or 503 without looking at SQL.

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
    /// The database refused a value its column cannot hold (too long, out of range, a
    /// character the column's charset lacks): the caller sent it, so it is a client error.
    #[error("the database cannot store a value: {0}")]
    DataRejected(String),
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
        sqlx::Error::Database(db_err) if is_data_exception(db_err.as_ref()) => {
            StoreError::DataRejected(db_err.message().to_string())
        }
        _ => StoreError::Db(err.to_string()),
    }
}

/// A value the column cannot hold. Only MySQL checks (SQLite stores any value in any
/// column), so the backstop for values the deployer's validation let through is MySQL's.
fn is_data_exception(db_err: &dyn sqlx::error::DatabaseError) -> bool {
    db_err
        .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .is_some_and(|mysql| is_mysql_data_exception(mysql.code(), mysql.number()))
}

/// SQLSTATE class 22 ("data exception": 22001 data too long, 22003 out of range, 22007
/// bad datetime or string value, …), and the errors strict mode raises under other
/// SQLSTATEs: MySQL reports an incorrect string value (1366) as HY000 where MariaDB says
/// 22007, and a value outside an `enum` (1265) as 01000, the SQLSTATE of the warning it
/// is without strict mode.
fn is_mysql_data_exception(sqlstate: Option<&str>, number: u16) -> bool {
    const STRICT_MODE_NUMBERS: [u16; 8] = [
        1264, // ER_WARN_DATA_OUT_OF_RANGE
        1265, // WARN_DATA_TRUNCATED
        1292, // ER_TRUNCATED_WRONG_VALUE
        1300, // ER_INVALID_CHARACTER_STRING
        1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
        1367, // ER_ILLEGAL_VALUE_FOR_TYPE
        1406, // ER_DATA_TOO_LONG
        1690, // ER_DATA_OUT_OF_RANGE
    ];
    sqlstate.is_some_and(|state| state.len() == 5 && state.starts_with("22"))
        || STRICT_MODE_NUMBERS.contains(&number)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_exceptions_are_class_22_and_strict_mode_numbers() {
        // What MariaDB 10.11 answers in strict mode (checked against the server).
        assert!(is_mysql_data_exception(Some("22001"), 1406)); // data too long
        assert!(is_mysql_data_exception(Some("22003"), 1264)); // int out of range
        assert!(is_mysql_data_exception(Some("22007"), 1366)); // emoji in a utf8 column
        assert!(is_mysql_data_exception(Some("01000"), 1265)); // value outside an enum
                                                               // MySQL 8 reports the incorrect string value as HY000.
        assert!(is_mysql_data_exception(Some("HY000"), 1366));
        assert!(is_mysql_data_exception(Some("22012"), 1365)); // division by zero
        assert!(is_mysql_data_exception(None, 1406));

        assert!(!is_mysql_data_exception(Some("23000"), 1062)); // duplicate key
        assert!(!is_mysql_data_exception(Some("40001"), 1213)); // deadlock
        assert!(!is_mysql_data_exception(Some("42S02"), 1146)); // missing table
        assert!(!is_mysql_data_exception(Some("08S01"), 1053)); // server shutdown
        assert!(!is_mysql_data_exception(Some("HY000"), 1205)); // lock wait timeout
        assert!(!is_mysql_data_exception(Some("22"), 1)); // not a SQLSTATE
    }

    #[test]
    fn other_backends_errors_are_not_data_rejections() {
        // A SQLite error whose code happens to start with 22 (SQLITE_NOLFS) stays a
        // database error: only MySQL's codes are SQLSTATEs.
        let err = sqlx::Error::Database(Box::new(FakeDbError("22")));
        assert!(matches!(convert_sqlx_err(err), StoreError::Db(_)));
    }

    #[derive(Debug)]
    struct FakeDbError(&'static str);

    impl std::fmt::Display for FakeDbError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "fake error {}", self.0)
        }
    }

    impl std::error::Error for FakeDbError {}

    impl sqlx::error::DatabaseError for FakeDbError {
        fn message(&self) -> &str {
            "fake"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }
}
