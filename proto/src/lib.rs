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

pub use error::{ErrorRow, ServiceErrorCode, ERROR_TABLE};

/// The largest gRPC message either side of every channel sends or accepts (tonic's own
/// default is 4 MiB to decode and unbounded to encode). It is set on every client and
/// server deliberately: an answer is bounded by the API's page limits (1,000 rows), a
/// task by its item limit (10,000) and a request by the gateway's body limit, so 64 MiB
/// is never reached by a valid call and bounds what a faulty one can cost.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

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
