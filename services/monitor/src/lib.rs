//! The monitor: answers tarsstat and tarsproperty queries. This version serves its readiness probe; the monitoring queries arrive with their issue.

use tars_proto::common::{Empty, ReadyReply};
use tars_proto::monitor::monitor_server::Monitor;
use tars_proto::monitor::monitor_server::MonitorServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

/// Where the service listens: `TARS_MONITOR_GRPC_ADDR`, default `127.0.0.1:7003`.
pub fn grpc_addr_from_env() -> Result<std::net::SocketAddr, tars_common::env::EnvError> {
    tars_common::env::var_parsed(
        "TARS_MONITOR_GRPC_ADDR",
        "127.0.0.1:7003".parse().expect("valid"),
    )
}

/// The gRPC service.
#[derive(Debug, Default, Clone)]
pub struct Service;

#[tonic::async_trait]
impl Monitor for Service {
    async fn ready(&self, _request: Request<Empty>) -> Result<Response<ReadyReply>, Status> {
        Ok(Response::new(ReadyReply {
            ready: true,
            detail: String::new(),
        }))
    }
}

/// The gRPC service, to serve or to call in-process.
pub fn grpc_service() -> MonitorServer<Service> {
    MonitorServer::new(Service)
        .max_decoding_message_size(tars_proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(tars_proto::MAX_MESSAGE_BYTES)
}

/// Serves on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// When the gRPC server fails.
pub async fn run(
    listener: TcpListener,
    security: &tars_common::grpc_security::GrpcSecurity,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    tars_common::grpc_security::serve(listener, grpc_service(), security, shutdown).await?;
    Ok(())
}
