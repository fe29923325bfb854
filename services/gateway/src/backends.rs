//! gRPC clients of the backends. Every call carries the current trace context and a
//! deadline, and its failure is translated by [`ApiError::from_backend`] with the
//! backend's name and address, so an outage says who is down.

use std::future::Future;
use std::time::Duration;

use tars_proto::deployer::deployer_client::DeployerClient;
use tars_proto::monitor::monitor_client::MonitorClient;
use tars_proto::task_runner::task_runner_client::TaskRunnerClient;
use tonic::transport::{Channel, Endpoint};

use crate::config::Config;
use crate::error::{ApiError, ApiResult};

/// A backend client and where it points.
#[derive(Clone)]
pub struct Backend<C> {
    client: C,
    name: &'static str,
    url: String,
}

impl<C: Clone> Backend<C> {
    /// Calls one RPC: `call(client, request)`; errors become [`ApiError`]s naming this backend.
    pub async fn call<Req, Resp, F, Fut>(&self, message: Req, call: F) -> ApiResult<Resp>
    where
        F: FnOnce(C, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
    {
        let mut request = tonic::Request::new(message);
        tars_common::propagation::inject_current_context(request.metadata_mut());
        call(self.client.clone(), request)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| ApiError::from_backend(status, self.name, &self.url))
    }

    /// The backend's name, for readiness reports.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Where the backend is.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// All backends of the gateway.
#[derive(Clone)]
pub struct Backends {
    /// Servers, adapters, templates, tree, dictionaries, tokens.
    pub deployer: Backend<DeployerClient<Channel>>,
    /// Task execution.
    pub task_runner: Backend<TaskRunnerClient<Channel>>,
    /// Monitoring queries.
    pub monitor: Backend<MonitorClient<Channel>>,
}

/// An address the gateway cannot use as a backend.
#[derive(Debug, thiserror::Error)]
#[error("backend address {url:?} ({variable}) is invalid: {reason}")]
pub struct BadBackendUrl {
    variable: &'static str,
    url: String,
    reason: String,
}

fn channel(variable: &'static str, url: &str, timeout: Duration) -> Result<Channel, BadBackendUrl> {
    let endpoint = Endpoint::from_shared(url.to_string()).map_err(|e| BadBackendUrl {
        variable,
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    // Lazy: the gateway starts (and answers /healthz) before its backends are up, and a
    // broken connection is re-established on the next call.
    Ok(endpoint
        .connect_timeout(Duration::from_secs(2).min(timeout))
        .timeout(timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .connect_lazy())
}

impl Backends {
    /// Clients for the configured addresses; nothing is connected yet.
    pub fn from_config(config: &Config) -> Result<Backends, BadBackendUrl> {
        let timeout = config.backend_timeout;
        Ok(Backends {
            deployer: Backend {
                client: DeployerClient::new(channel(
                    "TARS_DEPLOYER_URL",
                    &config.deployer_url,
                    timeout,
                )?)
                .max_decoding_message_size(64 << 20),
                name: "deployer",
                url: config.deployer_url.clone(),
            },
            task_runner: Backend {
                client: TaskRunnerClient::new(channel(
                    "TARS_TASK_RUNNER_URL",
                    &config.task_runner_url,
                    timeout,
                )?),
                name: "task-runner",
                url: config.task_runner_url.clone(),
            },
            monitor: Backend {
                client: MonitorClient::new(channel(
                    "TARS_MONITOR_URL",
                    &config.monitor_url,
                    timeout,
                )?),
                name: "monitor",
                url: config.monitor_url.clone(),
            },
        })
    }
}
