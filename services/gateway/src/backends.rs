//! gRPC clients of the backends. Every call carries the current trace context and a
//! deadline, and its failure is translated by [`ApiError::from_backend`] with the
//! backend's name and address, so an outage says who is down.

use std::future::Future;
use std::time::Duration;

use tars_common::grpc_security::GrpcSecurity;
use tars_proto::deployer::deployer_client::DeployerClient;
use tars_proto::monitor::monitor_client::MonitorClient;
use tars_proto::task_runner::task_runner_client::TaskRunnerClient;
use tars_proto::MAX_MESSAGE_BYTES;
use tonic::body::Body;
use tonic::transport::Endpoint;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};

use crate::auth::Caller;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};

/// How gRPC requests reach a backend: a TCP channel (backends in other processes) or
/// the backend's service called in-process (standalone mode). Both go through the same
/// generated client, so handlers cannot tell them apart.
pub type Transport = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, TransportError>;

/// A transport failure. A named type rather than a bare `BoxError`: with the boxed
/// trait object as the error, the compiler cannot prove the client futures `Send`.
/// `source()` exposes the inner error so tonic still finds the status it carries
/// (connect refused → unavailable, deadline → deadline exceeded).
#[derive(Debug)]
pub struct TransportError(tower::BoxError);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// A backend client and where it points.
#[derive(Clone)]
pub struct Backend<C> {
    client: C,
    name: &'static str,
    url: String,
    /// `TARS_BACKEND_TIMEOUT_MS`: the deadline of a call.
    timeout: Duration,
}

impl<C: Clone> Backend<C> {
    /// Calls one RPC within `TARS_BACKEND_TIMEOUT_MS`: `call(client, request)`; errors
    /// become [`ApiError`]s naming this backend.
    pub fn call<Req, Resp, F, Fut>(
        &self,
        message: Req,
        call: F,
    ) -> impl Future<Output = ApiResult<Resp>> + Send + 'static
    where
        C: Send + 'static,
        Req: Send + 'static,
        Resp: Send + 'static,
        F: FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
    {
        self.call_as(None, Duration::ZERO, message, call)
    }

    /// [`Backend::call`] on behalf of `caller`, allowed `extra` time beyond the usual
    /// deadline (for an RPC that waits on purpose): the backend is told who calls, with
    /// what grants, which endpoint, and whether to record it in the audit log.
    pub fn call_as<Req, Resp, F, Fut>(
        &self,
        caller: Option<&Caller>,
        extra: Duration,
        message: Req,
        call: F,
    ) -> impl Future<Output = ApiResult<Resp>> + Send + 'static
    where
        C: Send + 'static,
        Req: Send + 'static,
        Resp: Send + 'static,
        F: FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>> + Send + 'static,
    {
        let client = self.client.clone();
        let name = self.name;
        let url = self.url.clone();
        let deadline = self.timeout.saturating_add(extra);
        let mut request = tonic::Request::new(message);
        request.set_timeout(deadline);
        tars_common::propagation::inject_current_context(request.metadata_mut());
        if let Some(caller) = caller {
            caller.identity().inject(request.metadata_mut(), "");
        }
        async move {
            // The deadline is per call, not per channel, so that one RPC can be given
            // longer; a tonic Status keeps it a 503, not an unknown error.
            let answer = tokio::time::timeout(deadline, call(client, request))
                .await
                .unwrap_or_else(|_| {
                    Err(tonic::Status::deadline_exceeded(
                        "backend did not answer in time",
                    ))
                });
            answer
                .map(tonic::Response::into_inner)
                .map_err(|status| ApiError::from_backend(status, name, &url))
        }
    }

    /// A failure of this backend, as the caller sees it.
    pub fn error(&self, status: tonic::Status) -> ApiError {
        ApiError::from_backend(status, self.name, &self.url)
    }

    /// The backend's name, for readiness reports.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// All backends of the gateway.
#[derive(Clone)]
pub struct Backends {
    /// Servers, adapters, templates, tree, dictionaries, tokens.
    pub deployer: Backend<DeployerClient<Transport>>,
    /// Task execution.
    pub task_runner: Backend<TaskRunnerClient<Transport>>,
    /// Monitoring queries.
    pub monitor: Backend<MonitorClient<Transport>>,
}

/// An address the gateway cannot use as a backend.
#[derive(Debug, thiserror::Error)]
#[error("backend address {url:?} ({variable}) is invalid: {reason}")]
pub struct BadBackendUrl {
    variable: &'static str,
    url: String,
    reason: String,
}

/// Why the gateway cannot set up its backend clients.
#[derive(Debug, thiserror::Error)]
pub enum BackendSetupError {
    /// A backend address (`TARS_DEPLOYER_URL`, `TARS_TASK_RUNNER_URL`, `TARS_MONITOR_URL`)
    /// that is not a usable URL.
    #[error(transparent)]
    BadUrl(#[from] BadBackendUrl),
    /// `TARS_INTERNAL_TOKEN` or a `TARS_GRPC_TLS_*` setting is wrong (too short a token, a
    /// certificate without its key, a file that cannot be read).
    #[error(transparent)]
    Security(#[from] tars_common::env::EnvError),
}

fn channel(
    variable: &'static str,
    url: &str,
    timeout: Duration,
    security: &GrpcSecurity,
) -> Result<Transport, BadBackendUrl> {
    let bad = |reason: String| BadBackendUrl {
        variable,
        url: url.to_string(),
        reason,
    };
    let tls = security.client_tls();
    // With TARS_GRPC_TLS_CA the backends are reached over TLS whatever the scheme says.
    let url = match (&tls, url.strip_prefix("http://")) {
        (Some(_), Some(rest)) => format!("https://{rest}"),
        _ => url.to_string(),
    };
    let mut endpoint = Endpoint::from_shared(url).map_err(|e| bad(e.to_string()))?;
    if let Some(tls) = tls {
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| bad(format!("TLS (TARS_GRPC_TLS_*): {e}")))?;
    }
    // Lazy: the gateway starts (and answers /healthz) before its backends are up, and a
    // broken connection is re-established on the next call.
    let channel = endpoint
        .connect_timeout(Duration::from_secs(2).min(timeout))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .connect_lazy();
    let token = security.client_header();
    let channel = channel.map_request(move |mut request: http::Request<Body>| {
        if let Some(token) = &token {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, token.clone());
        }
        request
    });
    Ok(BoxCloneSyncService::new(
        channel.map_err(|e| TransportError(tower::BoxError::from(e))),
    ))
}

/// A backend's gRPC service called in-process (the deadline is [`Backend::call`]'s).
pub fn in_process<S>(service: S) -> Transport
where
    S: Service<
            http::Request<Body>,
            Response = http::Response<Body>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    BoxCloneSyncService::new(
        service.map_err(|never: std::convert::Infallible| -> TransportError { match never {} }),
    )
}

/// Transports that replace the configured addresses (standalone mode).
#[derive(Default)]
pub struct InProcess {
    /// The deployer's service.
    pub deployer: Option<Transport>,
    /// The task-runner's service.
    pub task_runner: Option<Transport>,
    /// The monitor's service.
    pub monitor: Option<Transport>,
}

impl Backends {
    /// Clients for the configured addresses (nothing is connected yet), except those
    /// given in-process.
    pub fn from_config(
        config: &Config,
        in_process: InProcess,
    ) -> Result<Backends, BackendSetupError> {
        let timeout = config.backend_timeout;
        // The token and TLS of backends in other processes (TARS_INTERNAL_TOKEN,
        // TARS_GRPC_TLS_*); in-process backends need neither.
        let security = GrpcSecurity::from_env()?;
        let pick = |given: Option<Transport>,
                    variable: &'static str,
                    url: &str|
         -> Result<(Transport, String), BadBackendUrl> {
            match given {
                Some(transport) => Ok((transport, "in-process".to_string())),
                None => Ok((channel(variable, url, timeout, &security)?, url.to_string())),
            }
        };
        let (deployer, deployer_url) = pick(
            in_process.deployer,
            "TARS_DEPLOYER_URL",
            &config.deployer_url,
        )?;
        let (runner, runner_url) = pick(
            in_process.task_runner,
            "TARS_TASK_RUNNER_URL",
            &config.task_runner_url,
        )?;
        let (monitor, monitor_url) =
            pick(in_process.monitor, "TARS_MONITOR_URL", &config.monitor_url)?;
        Ok(Backends {
            deployer: Backend {
                client: DeployerClient::new(deployer)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(MAX_MESSAGE_BYTES),
                name: "deployer",
                url: deployer_url,
                timeout,
            },
            task_runner: Backend {
                client: TaskRunnerClient::new(runner)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(MAX_MESSAGE_BYTES),
                name: "task-runner",
                url: runner_url,
                timeout,
            },
            monitor: Backend {
                client: MonitorClient::new(monitor)
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(MAX_MESSAGE_BYTES),
                name: "monitor",
                url: monitor_url,
                timeout,
            },
        })
    }
}
