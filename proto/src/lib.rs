//! The gRPC contract between the gateway and the backends (deployer, task-runner,
//! monitor), generated from `protos/*.proto`, plus the one table that maps service
//! error codes to gRPC and HTTP statuses ([`error`]).
//!
//! This crate owns message shapes and error classification only; no behaviour.

pub mod error;

#[allow(clippy::all, missing_docs)]
pub mod common {
    tonic::include_proto!("tars.common");
}

#[allow(clippy::all, missing_docs)]
pub mod deployer {
    tonic::include_proto!("tars.deployer");
}

#[allow(clippy::all, missing_docs)]
pub mod task_runner {
    tonic::include_proto!("tars.task_runner");
}

#[allow(clippy::all, missing_docs)]
pub mod monitor {
    tonic::include_proto!("tars.monitor");
}

pub use error::ServiceErrorCode;

impl common::ReadyReply {
    /// The readiness answer for the outcome of a dependency check (e.g. a database ping).
    pub fn from_check<E: std::fmt::Display>(check: Result<(), E>) -> common::ReadyReply {
        match check {
            Ok(()) => common::ReadyReply {
                ready: true,
                detail: String::new(),
            },
            Err(err) => common::ReadyReply {
                ready: false,
                detail: err.to_string(),
            },
        }
    }
}
