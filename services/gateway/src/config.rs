//! Gateway configuration, from environment variables.

use std::net::SocketAddr;
use std::time::Duration;

use tars_common::env::{var, var_or, var_parsed, EnvError};

/// Everything the gateway needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TARS_HTTP_ADDR`, default `127.0.0.1:3000`: where HTTP is served.
    pub http_addr: SocketAddr,
    /// `TARS_DEPLOYER_URL`, default `http://127.0.0.1:7001`: the deployer's gRPC address.
    pub deployer_url: String,
    /// `TARS_TASK_RUNNER_URL`, default `http://127.0.0.1:7002`.
    pub task_runner_url: String,
    /// `TARS_MONITOR_URL`, default `http://127.0.0.1:7003`.
    pub monitor_url: String,
    /// `TARS_BACKEND_TIMEOUT_MS`, default 10000: deadline of every backend call.
    pub backend_timeout: Duration,
    /// `TARS_MAX_BODY_BYTES`, default 8 MiB: largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// `TARS_ADMIN_TICKET`: when set, a ticket accepted as user `admin` without a token row.
    pub admin_ticket: Option<String>,
    /// `TARS_TOKEN_REFRESH_SECS`, default 5: how often the ticket cache is reloaded, which
    /// bounds how long a revoked token keeps working on this gateway.
    pub token_refresh: Duration,
    /// Where uploaded packages are kept (`TARS_PACKAGE_STORE`, `TARS_PACKAGE_DIR`,
    /// `TARS_UPLOAD_MAX_BYTES`, …).
    pub packages: tars_packages::PackageConfig,
    /// `TARS_PUBLISH_WAIT_MS`, default 120000: how long `upload_and_publish` waits for its
    /// task before answering that it is still running.
    pub publish_wait: Duration,
}

impl Config {
    /// Reads the configuration; errors name the variable at fault.
    pub fn from_env() -> Result<Config, EnvError> {
        Ok(Config {
            http_addr: var_parsed("TARS_HTTP_ADDR", "127.0.0.1:3000".parse().expect("valid"))?,
            deployer_url: var_or("TARS_DEPLOYER_URL", "http://127.0.0.1:7001"),
            task_runner_url: var_or("TARS_TASK_RUNNER_URL", "http://127.0.0.1:7002"),
            monitor_url: var_or("TARS_MONITOR_URL", "http://127.0.0.1:7003"),
            backend_timeout: Duration::from_millis(var_parsed("TARS_BACKEND_TIMEOUT_MS", 10_000)?),
            max_body_bytes: var_parsed("TARS_MAX_BODY_BYTES", 8 << 20)?,
            admin_ticket: var("TARS_ADMIN_TICKET"),
            token_refresh: Duration::from_secs(var_parsed("TARS_TOKEN_REFRESH_SECS", 5)?),
            packages: tars_packages::PackageConfig::from_env()?,
            publish_wait: Duration::from_millis(var_parsed("TARS_PUBLISH_WAIT_MS", 120_000)?),
        })
    }
}
