//! Gateway configuration, from environment variables.

use std::net::SocketAddr;
use std::time::Duration;

use tars_common::env::{var, var_or, var_parsed, EnvError};
use tars_common::networks::{parse_networks, IpNet};

/// The shortest `TARS_ADMIN_TICKET` accepted: shorter secrets can be guessed.
pub const MIN_ADMIN_TICKET_CHARS: usize = 16;

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
    /// `TARS_ADMIN_TICKET`: when set, a ticket accepted as user `admin` without a token row;
    /// at least [`MIN_ADMIN_TICKET_CHARS`] characters.
    pub admin_ticket: Option<String>,
    /// `TARS_AUTH_FAILURES_PER_MINUTE`, default 30: failed ticket checks one client address
    /// may make per minute (a burst of that many, refilled evenly); past it the gateway
    /// answers 429 with `Retry-After`. 0 turns the throttle off.
    pub auth_failures_per_minute: u32,
    /// `TARS_TRUSTED_PROXIES`, default none: CIDRs (or addresses) of the proxies whose
    /// `X-Forwarded-For` names the client; from anyone else the header is ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// `TARS_METRICS_ALLOW`, default loopback: the TCP peers that may read `/metrics`
    /// (never decided by `X-Forwarded-For`).
    pub metrics_access: tars_common::metrics::MetricsAccess,
    /// Connection limits and timeouts of the HTTP server (`TARS_HTTP_*`).
    pub http: HttpLimits,
    /// `TARS_TOKEN_REFRESH_SECS`, default 5: how often the ticket cache is reloaded, which
    /// bounds how long a revoked token keeps working on this gateway.
    pub token_refresh: Duration,
    /// Where uploaded packages are kept (`TARS_PACKAGE_STORE`, `TARS_PACKAGE_DIR`,
    /// `TARS_UPLOAD_MAX_BYTES`, …).
    pub packages: tars_packages::PackageConfig,
    /// `TARS_PUBLISH_WAIT_MS`, default 120000: how long `upload_and_publish` waits for its
    /// task before answering that it is still running.
    pub publish_wait: Duration,
    /// `TARS_RESOURCE_WAIT_MS`, default 600000: how much longer than
    /// `TARS_BACKEND_TIMEOUT_MS` the endpoints that may install tarsnode over SSH
    /// (install/uninstall_tars_node, deploy_server and expand_server with `install_node`)
    /// wait for the deployer; each machine's steps have their own timeouts there.
    pub resource_wait: Duration,
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
            admin_ticket: admin_ticket()?,
            auth_failures_per_minute: var_parsed("TARS_AUTH_FAILURES_PER_MINUTE", 30)?,
            trusted_proxies: trusted_proxies()?,
            metrics_access: tars_common::metrics::access_from_env()?,
            http: HttpLimits::from_env()?,
            token_refresh: Duration::from_secs(var_parsed("TARS_TOKEN_REFRESH_SECS", 5)?),
            packages: tars_packages::PackageConfig::from_env()?,
            publish_wait: Duration::from_millis(var_parsed("TARS_PUBLISH_WAIT_MS", 120_000)?),
            resource_wait: Duration::from_millis(var_parsed("TARS_RESOURCE_WAIT_MS", 600_000)?),
        })
    }

    /// How much longer than `TARS_BACKEND_TIMEOUT_MS` the call behind `endpoint` may take:
    /// [`Config::resource_wait`] for those that may install tarsnode over SSH, else none.
    pub fn extra_wait(&self, endpoint: &str) -> Duration {
        match endpoint {
            "install_tars_node" | "uninstall_tars_node" | "deploy_server" | "expand_server" => {
                self.resource_wait
            }
            _ => Duration::ZERO,
        }
    }
}

/// How the HTTP server treats connections: what a client may hold and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// `TARS_HTTP_HEADER_TIMEOUT_MS`, default 10000: a request's headers must be complete
    /// this long after its first byte, or the connection is closed.
    pub header_timeout: Duration,
    /// `TARS_HTTP_IDLE_TIMEOUT_MS`, default 60000: a connection with no request in
    /// progress (just opened, or kept alive after an answer) is closed when the first byte
    /// of the next request does not come within this.
    pub idle_timeout: Duration,
    /// `TARS_HTTP_BODY_TIMEOUT_MS`, default 60000: an API request's body must have arrived
    /// this long after its headers (408 otherwise). Package uploads are exempt: they are
    /// dropped when they send nothing for 60 s.
    pub body_timeout: Duration,
    /// `TARS_HTTP_MAX_CONNECTIONS`, default 512: open HTTP connections served at once;
    /// further connections wait in the listen backlog until one closes.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

impl HttpLimits {
    /// Reads the `TARS_HTTP_*` variables; errors name the variable at fault.
    pub fn from_env() -> Result<HttpLimits, EnvError> {
        let defaults = HttpLimits::default();
        let millis = |name: &'static str, default: Duration| -> Result<Duration, EnvError> {
            let ms: u64 = var_parsed(name, default.as_millis() as u64)?;
            if ms == 0 {
                return Err(EnvError {
                    name,
                    value: "0".into(),
                    reason: "must be a positive number of milliseconds".into(),
                });
            }
            Ok(Duration::from_millis(ms))
        };
        let max_connections = var_parsed("TARS_HTTP_MAX_CONNECTIONS", defaults.max_connections)?;
        if max_connections == 0 {
            return Err(EnvError {
                name: "TARS_HTTP_MAX_CONNECTIONS",
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(HttpLimits {
            header_timeout: millis("TARS_HTTP_HEADER_TIMEOUT_MS", defaults.header_timeout)?,
            idle_timeout: millis("TARS_HTTP_IDLE_TIMEOUT_MS", defaults.idle_timeout)?,
            body_timeout: millis("TARS_HTTP_BODY_TIMEOUT_MS", defaults.body_timeout)?,
            max_connections,
        })
    }
}

/// `TARS_ADMIN_TICKET`, refused when it is short enough to guess. The value is never
/// echoed: it is a secret.
fn admin_ticket() -> Result<Option<String>, EnvError> {
    let Some(ticket) = var("TARS_ADMIN_TICKET") else {
        return Ok(None);
    };
    let chars = ticket.chars().count();
    if chars < MIN_ADMIN_TICKET_CHARS {
        return Err(EnvError {
            name: "TARS_ADMIN_TICKET",
            value: format!("<{chars} characters, not shown>"),
            reason: format!(
                "the admin ticket must be at least {MIN_ADMIN_TICKET_CHARS} characters; \
                 use a random secret, e.g. `openssl rand -hex 24`"
            ),
        });
    }
    Ok(Some(ticket))
}

/// `TARS_TRUSTED_PROXIES`: CIDRs or plain addresses, separated by commas or spaces.
fn trusted_proxies() -> Result<Vec<IpNet>, EnvError> {
    let Some(value) = var("TARS_TRUSTED_PROXIES") else {
        return Ok(Vec::new());
    };
    parse_networks(&value).map_err(|reason| EnvError {
        name: "TARS_TRUSTED_PROXIES",
        value: value.clone(),
        reason,
    })
}
