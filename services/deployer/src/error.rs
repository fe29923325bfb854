//! Deployer failures, each mapped to one [`ServiceErrorCode`] so the gateway answers the
//! right HTTP status. Messages reach the operator verbatim: say what was wrong and what
//! to do.

use tars_proto::ServiceErrorCode;
use tars_store::StoreError;

/// What a deployer operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DeployerError {
    /// A parameter is missing or has an unusable value.
    #[error("{0}")]
    InvalidArgument(String),
    /// The caller lacks the role on the target.
    #[error(transparent)]
    Forbidden(#[from] tars_common::authz::Denied),
    /// The addressed entity does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what exists.
    #[error("{0}")]
    Conflict(String),
    /// The input is larger than the configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// The database (or a node) cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// A node answered with a failure.
    #[error("{0}")]
    BadGateway(String),
    /// A bug or schema mismatch; details are logged.
    #[error("{0}")]
    Internal(String),
}

/// Result of every deployer operation.
pub type DeployerResult<T> = Result<T, DeployerError>;

impl DeployerError {
    /// Shorthand for a bad parameter: `name` is the API parameter, `reason` what is wrong.
    pub fn bad_param(name: &str, reason: impl std::fmt::Display) -> DeployerError {
        DeployerError::InvalidArgument(format!("parameter `{name}` {reason}"))
    }

    /// The error-code class of this failure.
    pub fn code(&self) -> ServiceErrorCode {
        match self {
            DeployerError::InvalidArgument(_) => ServiceErrorCode::BadRequest,
            DeployerError::Forbidden(_) => ServiceErrorCode::Forbidden,
            DeployerError::NotFound(_) => ServiceErrorCode::NotFound,
            DeployerError::Conflict(_) => ServiceErrorCode::Conflict,
            DeployerError::TooLarge(_) => ServiceErrorCode::PayloadTooLarge,
            DeployerError::Unavailable(_) => ServiceErrorCode::Unavailable,
            DeployerError::BadGateway(_) => ServiceErrorCode::BadGateway,
            DeployerError::Internal(_) => ServiceErrorCode::Internal,
        }
    }
}

impl From<StoreError> for DeployerError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Contention(msg) => DeployerError::Unavailable(format!(
                "{msg}; it was retried several times, try again"
            )),
            StoreError::Unavailable(msg) => {
                DeployerError::Unavailable(format!("{msg}; check that the database is running"))
            }
            StoreError::AlreadyExists(msg) => DeployerError::Conflict(msg),
            // The operations validate against the column sizes first; this is the backstop
            // for a column that differs on an existing TARS database.
            StoreError::DataRejected(msg) => DeployerError::InvalidArgument(format!(
                "{msg}; a value does not fit its db_tars column, shorten or correct it and \
                 try again"
            )),
            StoreError::Db(msg) | StoreError::Migration(msg) => DeployerError::Internal(msg),
        }
    }
}

impl From<DeployerError> for tonic::Status {
    fn from(err: DeployerError) -> Self {
        if let DeployerError::Internal(detail) = &err {
            tracing::error!(error = %detail, "internal deployer error");
            return err
                .code()
                .status("internal error in the deployer; see its log");
        }
        err.code().status(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_the_database_refuses_are_bad_requests() {
        let err = DeployerError::from(StoreError::DataRejected(
            "Data too long for column 'base_path' at row 1".into(),
        ));
        assert_eq!(err.code(), ServiceErrorCode::BadRequest);
        assert!(err.to_string().contains("'base_path'"), "{err}");
    }
}
