//! The monitor: answers the API's monitoring queries (`tarsstat_monitor_data`,
//! `tarsproperty_monitor_data`) by asking TARS's query servers (tarsquerystat,
//! tarsqueryproperty) over their `MonitorQuery` interface and putting the shown day beside
//! the comparison day. It keeps no data of its own; the store only tells where a query
//! server registered by name listens.

pub mod error;
pub mod ops;

use std::sync::Arc;

use tars_proto::common::{Empty, ReadyReply};
use tars_proto::monitor as pb;
use tars_proto::monitor::monitor_server::{Monitor, MonitorServer};
use tars_store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

pub use ops::query_servers::QueryConfig;
use ops::query_servers::QueryServers;

/// Where the service listens: `TARS_MONITOR_GRPC_ADDR`, default `127.0.0.1:7003`.
pub fn grpc_addr_from_env() -> Result<std::net::SocketAddr, tars_common::env::EnvError> {
    tars_common::env::var_parsed(
        "TARS_MONITOR_GRPC_ADDR",
        "127.0.0.1:7003".parse().expect("valid"),
    )
}

/// The gRPC service.
#[derive(Clone)]
pub struct Service {
    servers: Arc<QueryServers>,
}

impl Service {
    /// A service asking the query servers `config` names; `store` finds a server given by
    /// name among the registered adapters. Nothing is connected until a request comes.
    pub fn new(store: Store, config: QueryConfig) -> Service {
        Service {
            servers: Arc::new(QueryServers::new(store, config)),
        }
    }
}

async fn traced<T, Req, F, Fut>(
    name: &'static str,
    request: Request<Req>,
    op: F,
) -> Result<Response<T>, Status>
where
    F: FnOnce(Req) -> Fut,
    Fut: std::future::Future<Output = Result<T, error::MonitorError>>,
{
    tars_common::propagation::traced_rpc("monitor", name, request, op).await
}

#[tonic::async_trait]
impl Monitor for Service {
    async fn ready(&self, _request: Request<Empty>) -> Result<Response<ReadyReply>, Status> {
        // Ready as soon as it serves: the query servers are asked per request, and their
        // absence is that request's 503, not the platform's.
        Ok(Response::new(ReadyReply {
            ready: true,
            detail: String::new(),
        }))
    }

    async fn tarsstat_monitor_data(
        &self,
        request: Request<pb::StatQuery>,
    ) -> Result<Response<pb::StatRows>, Status> {
        traced("TarsstatMonitorData", request, |q| async move {
            let rows = ops::tarsstat_monitor_data::tarsstat_monitor_data(&self.servers, q).await?;
            Ok(pb::StatRows { rows })
        })
        .await
    }

    async fn tarsproperty_monitor_data(
        &self,
        request: Request<pb::PropertyQuery>,
    ) -> Result<Response<pb::PropertyRows>, Status> {
        traced("TarspropertyMonitorData", request, |q| async move {
            let rows =
                ops::tarsproperty_monitor_data::tarsproperty_monitor_data(&self.servers, q).await?;
            Ok(pb::PropertyRows { rows })
        })
        .await
    }
}

/// The gRPC service, to serve or to call in-process.
pub fn grpc_service(store: Store, config: QueryConfig) -> MonitorServer<Service> {
    MonitorServer::new(Service::new(store, config))
        .max_decoding_message_size(tars_proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(tars_proto::MAX_MESSAGE_BYTES)
}

/// Serves on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// When the gRPC server fails.
pub async fn run(
    listener: TcpListener,
    store: Store,
    config: QueryConfig,
    security: &tars_common::grpc_security::GrpcSecurity,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    tars_common::grpc_security::serve(listener, grpc_service(store, config), security, shutdown)
        .await?;
    Ok(())
}
