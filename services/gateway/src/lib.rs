//! The HTTP gateway: serves the API contract of `tars-api` (`/api/<name>` and
//! `/server/api/<name>` for every endpoint of its table, and the OpenAPI document),
//! authenticates tickets, reads each endpoint's declared input and forwards it to a gRPC
//! backend (deployer, task-runner, monitor); uploads are streamed to the package store
//! first. It holds no business logic and no database connection, so any number of
//! gateways can run behind a load balancer.

pub mod auth;
pub mod backends;
pub mod config;
pub mod envelope;
pub mod error;
pub mod handlers;
pub mod input;
pub mod metrics;
pub mod middleware;
pub mod router;
pub mod serve;
pub mod state;
pub mod throttle;
pub mod upload;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;

/// Serves HTTP on `listener` until `shutdown` is cancelled, then lets in-flight requests
/// finish. Connections are bounded and timed as `TARS_HTTP_*` say ([`serve`]).
///
/// # Errors
/// When a backend address is invalid or the package storage cannot be used.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with(listener, config, backends::InProcess::default(), shutdown).await
}

/// [`run`], with some backends called in-process instead of over the network.
///
/// # Errors
/// When a backend address is invalid or the package storage cannot be used.
pub async fn run_with(
    listener: TcpListener,
    config: Config,
    in_process: backends::InProcess,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // One recorder per process: standalone installed it already; `/metrics` serves it.
    tars_common::metrics::install();
    let backends = Arc::new(backends::Backends::from_config(&config, in_process)?);
    let tickets = Arc::new(auth::TicketCache::new(config.admin_ticket.as_deref()));
    tickets
        .clone()
        .spawn_refresh(backends.clone(), config.token_refresh, shutdown.clone());
    let packages = Arc::new(
        tars_packages::PackageStore::new(&config.packages)
            .map_err(|e| anyhow::anyhow!("package storage: {e}"))?,
    );
    let http_limits = config.http.clone();
    let auth_throttle = Arc::new(throttle::FailureThrottle::new(
        config.auth_failures_per_minute,
        throttle::MAX_ADDRESSES,
    ));
    let state = state::AppState {
        config: Arc::new(config),
        backends,
        tickets,
        packages,
        auth_throttle,
        readiness: Arc::default(),
    };
    let app = router::build_router(state);
    serve::serve(listener, app, http_limits, shutdown).await;
    Ok(())
}
