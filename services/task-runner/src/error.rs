//! Task-runner failures, mapped to the shared error codes.

use tars_proto::ServiceErrorCode;
use tars_store::StoreError;

/// What a task-runner operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unavailable(String),
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
}

impl From<StoreError> for TaskError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Contention(msg) | StoreError::Unavailable(msg) => {
                TaskError::Unavailable(format!("{msg}; check that the database is running"))
            }
            StoreError::DataRejected(msg) => TaskError::InvalidArgument(msg),
            StoreError::AlreadyExists(msg) | StoreError::Db(msg) | StoreError::Migration(msg) => {
                TaskError::Internal(msg)
            }
        }
    }
}

impl From<TaskError> for tonic::Status {
    fn from(err: TaskError) -> Self {
        let code = match &err {
            TaskError::InvalidArgument(_) => ServiceErrorCode::BadRequest,
            TaskError::NotFound(_) => ServiceErrorCode::NotFound,
            TaskError::Unavailable(_) => ServiceErrorCode::Unavailable,
            TaskError::Internal(detail) => {
                tracing::error!(error = %detail, "internal task-runner error");
                return ServiceErrorCode::Internal
                    .status("internal error in the task-runner; see its log");
            }
        };
        code.status(err.to_string())
    }
}
