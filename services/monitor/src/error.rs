//! Monitor failures, mapped to the shared error codes.

use tars_proto::ServiceErrorCode;

/// What a monitoring query can fail with.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The request itself is wrong (400).
    #[error("{0}")]
    InvalidArgument(String),
    /// A query server (or the registry lookup) cannot answer now (503).
    #[error("{0}")]
    Unavailable(String),
}

/// Result of monitor operations.
pub type MonitorResult<T> = Result<T, MonitorError>;

impl MonitorError {
    /// A bad parameter.
    pub fn bad_param(name: &str, reason: impl std::fmt::Display) -> MonitorError {
        MonitorError::InvalidArgument(format!("parameter `{name}` {reason}"))
    }

    /// The shared code of this failure.
    pub fn code(&self) -> ServiceErrorCode {
        match self {
            MonitorError::InvalidArgument(_) => ServiceErrorCode::BadRequest,
            MonitorError::Unavailable(_) => ServiceErrorCode::Unavailable,
        }
    }
}

impl From<MonitorError> for tonic::Status {
    fn from(err: MonitorError) -> Self {
        err.code().status(err.to_string())
    }
}
