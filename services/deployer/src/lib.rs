//! The deployer: a gRPC service that owns server instances, adapters, profile templates,
//! configuration files, the business tree, the dictionaries and the API tokens, stored in TARS's `db_tars`
//! tables through [`tars_store`].
//!
//! It does not speak HTTP (the gateway does) and does not run tasks (the task-runner does).

pub mod audit;
pub mod config;
pub mod error;
pub mod grpc;
pub mod ops;

use std::sync::Arc;

use tars_common::grpc_security::GrpcSecurity;
use tars_proto::deployer::deployer_server::DeployerServer;
use tars_store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::{Config, Settings};
pub use grpc::DeployerService;
pub use tars_nodes::{NodeConfig, Nodes};

/// The deployer's gRPC service over `store`, to serve or to call in-process.
pub fn grpc_service(store: Store, settings: Settings) -> DeployerServer<DeployerService> {
    let nodes = Arc::new(Nodes::new(settings.nodes.clone()));
    DeployerServer::new(DeployerService::new(store, nodes, settings))
        .max_decoding_message_size(tars_proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(tars_proto::MAX_MESSAGE_BYTES)
}

/// Serves the deployer on `listener` until `shutdown` is cancelled, then drains
/// in-flight calls.
///
/// # Errors
/// When the gRPC server fails (the listener breaks).
pub async fn run(
    listener: TcpListener,
    store: Store,
    settings: Settings,
    security: &GrpcSecurity,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    tars_common::grpc_security::serve(listener, grpc_service(store, settings), security, shutdown)
        .await?;
    Ok(())
}
