//! Task-runner failures, each mapped to one [`ServiceErrorCode`] (as the deployer's are) so
//! the gateway answers the right HTTP status. Messages reach the operator verbatim.

use tars_proto::ServiceErrorCode;
use tars_store::StoreError;

/// What a task-runner operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A parameter is missing or has an unusable value.
    #[error("{0}")]
    InvalidArgument(String),
    /// The caller lacks the role on a target.
    #[error(transparent)]
    Forbidden(#[from] tars_common::authz::Denied),
    /// The addressed task does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what exists.
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or schema mismatch; details are logged.
    #[error("{0}")]
    Internal(String),
}

/// Result of task-runner operations.
pub type TaskResult<T> = Result<T, TaskError>;

impl TaskError {
    /// A bad parameter.
    pub fn bad_param(name: &str, reason: impl std::fmt::Display) -> TaskError {
        TaskError::InvalidArgument(format!("parameter `{name}` {reason}"))
    }

    /// The error-code class of this failure.
    pub fn code(&self) -> ServiceErrorCode {
        match self {
            TaskError::InvalidArgument(_) => ServiceErrorCode::BadRequest,
            TaskError::Forbidden(_) => ServiceErrorCode::Forbidden,
            TaskError::NotFound(_) => ServiceErrorCode::NotFound,
            TaskError::Conflict(_) => ServiceErrorCode::Conflict,
            TaskError::Unavailable(_) => ServiceErrorCode::Unavailable,
            TaskError::Internal(_) => ServiceErrorCode::Internal,
        }
    }
}

impl From<StoreError> for TaskError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Contention(msg) | StoreError::Unavailable(msg) => {
                TaskError::Unavailable(format!("{msg}; check that the database is running"))
            }
            StoreError::DataRejected(msg) => TaskError::InvalidArgument(msg),
            StoreError::AlreadyExists(msg) => TaskError::Conflict(msg),
            StoreError::Db(msg) | StoreError::Migration(msg) => TaskError::Internal(msg),
        }
    }
}

impl From<TaskError> for tonic::Status {
    fn from(err: TaskError) -> Self {
        if let TaskError::Internal(detail) = &err {
            tracing::error!(error = %detail, "internal task-runner error");
            return err
                .code()
                .status("internal error in the task-runner; see its log");
        }
        err.code().status(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tars_proto::ServiceErrorCode as E;
    use tonic::Code;

    #[test]
    fn each_variant_has_its_code_and_status() {
        let cases = [
            (TaskError::bad_param("page", "x"), E::BadRequest, 400),
            (TaskError::NotFound("no task".into()), E::NotFound, 404),
            (TaskError::Conflict("taken".into()), E::Conflict, 409),
            (TaskError::Unavailable("down".into()), E::Unavailable, 503),
            (TaskError::Internal("bug".into()), E::Internal, 500),
        ];
        for (err, code, http) in cases {
            assert_eq!(err.code(), code, "{err:?}");
            assert_eq!(code.http_status(), http, "{code:?}");
            assert_eq!(tonic::Status::from(err).code(), code.status("").code());
        }
    }

    #[test]
    fn duplicates_in_the_store_are_conflicts() {
        let err = TaskError::from(StoreError::AlreadyExists("Duplicate entry 'x'".into()));
        assert_eq!(err.code(), E::Conflict);
        let status = tonic::Status::from(err);
        assert_eq!(status.code(), Code::AlreadyExists);
        assert_eq!(status.message(), "Duplicate entry 'x'");
    }

    #[test]
    fn other_store_failures_keep_their_classes() {
        let cases = [
            (StoreError::Contention("deadlock".into()), E::Unavailable),
            (StoreError::Unavailable("refused".into()), E::Unavailable),
            (StoreError::DataRejected("too long".into()), E::BadRequest),
            (StoreError::Db("syntax".into()), E::Internal),
            (StoreError::Migration("broken".into()), E::Internal),
        ];
        for (store_err, code) in cases {
            assert_eq!(TaskError::from(store_err).code(), code);
        }
    }

    #[test]
    fn internal_details_stay_in_the_log() {
        let status = tonic::Status::from(TaskError::Internal("secret detail".into()));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("secret detail"), "{status:?}");
    }
}
