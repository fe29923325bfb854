//! Serving the metrics ([`tars_metrics`] records them): one Prometheus recorder per
//! process ([`install`]; standalone's services share it), its text at `/metrics` for the
//! peers in `TARS_METRICS_ALLOW` only ([`MetricsAccess`]; others get 403), either on the
//! gateway's HTTP port or on a listener of its own at `TARS_METRICS_ADDR` ([`start`]), and
//! the periodic sampling of gauges ([`spawn_sampler`]).
//!
//! `/metrics` carries no ticket (Prometheus cannot send one), so the TCP peer's address is
//! the only check: `X-Forwarded-For` is never read here.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::env::{var, EnvError};
use crate::networks::AllowList;

/// How often gauges (database pool, task queue, Kafka lag) are sampled.
pub const SAMPLE_PERIOD: Duration = Duration::from_secs(5);

/// The `Content-Type` of Prometheus's text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Connections a metrics listener serves at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 16;

/// How long a metrics connection may take to send a request's headers, or stay idle
/// between requests.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Who may read `/metrics`: `TARS_METRICS_ALLOW`, CIDR blocks or addresses
/// (comma-separated), or `none`; loopback by default.
pub type MetricsAccess = AllowList;

/// Reads `TARS_METRICS_ALLOW` (default loopback).
///
/// # Errors
/// When it is set but unusable.
pub fn access_from_env() -> Result<MetricsAccess, EnvError> {
    match var("TARS_METRICS_ALLOW") {
        None => Ok(MetricsAccess::default()),
        Some(value) => MetricsAccess::parse(&value).map_err(|reason| EnvError {
            name: "TARS_METRICS_ALLOW",
            value,
            reason,
        }),
    }
}

/// Why `peer` was refused, for the answer and the log.
pub fn refusal(peer: Option<IpAddr>) -> String {
    match peer {
        Some(ip) => format!(
            "{ip} may not read /metrics: add it to TARS_METRICS_ALLOW (CIDR blocks or addresses)"
        ),
        None => "the peer's address is unknown; /metrics is refused".to_string(),
    }
}

/// A backend's metrics settings: `TARS_METRICS_ADDR` and `TARS_METRICS_ALLOW`.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// Where the metrics listener binds; `None` (unset): no listener.
    pub addr: Option<SocketAddr>,
    /// Who may read it.
    pub access: MetricsAccess,
}

impl MetricsConfig {
    /// Reads both variables.
    ///
    /// # Errors
    /// When one is set but unusable.
    pub fn from_env() -> Result<MetricsConfig, EnvError> {
        let addr =
            match var("TARS_METRICS_ADDR") {
                None => None,
                Some(value) => Some(value.trim().parse().map_err(
                    |e: std::net::AddrParseError| EnvError {
                        name: "TARS_METRICS_ADDR",
                        reason: format!("{e}; give host:port, e.g. 127.0.0.1:9464"),
                        value,
                    },
                )?),
            };
        Ok(MetricsConfig {
            addr,
            access: access_from_env()?,
        })
    }
}

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs this process's Prometheus recorder (once; later calls answer the same) and
/// describes every metric. `None` when another recorder was installed first. Call it
/// before the services start, so nothing is recorded before it.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".to_string()),
                    tars_metrics::LATENCY_BUCKETS,
                )
                .expect("buckets are not empty");
            match builder.install_recorder() {
                Ok(handle) => {
                    tars_metrics::describe();
                    // Rendering drains histograms too; this bounds what they hold between
                    // scrapes when nobody scrapes.
                    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                        let upkeep = handle.clone();
                        runtime.spawn(async move {
                            loop {
                                tokio::time::sleep(SAMPLE_PERIOD).await;
                                upkeep.run_upkeep();
                            }
                        });
                    }
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(error = %err, "metrics disabled: cannot install the recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// Whether this process records metrics (samplers run only then).
pub fn installed() -> bool {
    HANDLE.get().is_some_and(Option::is_some)
}

/// Every metric in Prometheus's text format (empty when none is installed).
pub fn render() -> String {
    match install() {
        Some(handle) => {
            handle.run_upkeep();
            handle.render()
        }
        None => String::new(),
    }
}

/// The answer to `method path` from `peer` on a metrics listener.
fn answer(
    method: &http::Method,
    path: &str,
    peer: IpAddr,
    access: &MetricsAccess,
) -> http::Response<String> {
    let reply = |status: http::StatusCode, content_type: &str, body: String| {
        let mut response = http::Response::new(body);
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_str(content_type).expect("valid header"),
        );
        response
    };
    let text = "text/plain; charset=utf-8";
    if path != "/metrics" {
        return reply(
            http::StatusCode::NOT_FOUND,
            text,
            "not found; metrics are at /metrics\n".into(),
        );
    }
    if method != http::Method::GET && method != http::Method::HEAD {
        return reply(
            http::StatusCode::METHOD_NOT_ALLOWED,
            text,
            "/metrics accepts GET\n".into(),
        );
    }
    if !access.allows(peer) {
        tracing::warn!(%peer, "metrics refused: peer not in TARS_METRICS_ALLOW");
        let body = format!("{}\n", refusal(Some(peer)));
        return reply(http::StatusCode::FORBIDDEN, text, body);
    }
    let body = if method == http::Method::HEAD {
        String::new()
    } else {
        render()
    };
    reply(http::StatusCode::OK, CONTENT_TYPE, body)
}

/// Serves `/metrics` on `listener` until `shutdown`: at most 16 connections at once,
/// each closed when it sends no complete request headers for 30 s.
pub async fn serve(listener: TcpListener, access: MetricsAccess, shutdown: CancellationToken) {
    let access = Arc::new(access);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = shutdown.cancelled() => return,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "metrics listener cannot accept; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => return,
        };
        let access = access.clone();
        let service = hyper::service::service_fn(move |request: http::Request<_>| {
            let response = answer(request.method(), request.uri().path(), peer.ip(), &access);
            async move { Ok::<_, Infallible>(response) }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                result = connection => {
                    if let Err(err) = result {
                        tracing::debug!(%peer, error = %err, "metrics connection closed");
                    }
                }
                () = shutdown.cancelled() => {}
            }
            drop(permit);
        });
    }
}

/// Installs the recorder and, when `config.addr` is set, binds it and serves `/metrics`
/// there until `shutdown`; answers the bound address (`None` without a listener: the
/// recorder is then not installed either, and recording costs nothing).
///
/// # Errors
/// When the address cannot be bound.
pub async fn start(
    config: &MetricsConfig,
    shutdown: CancellationToken,
) -> std::io::Result<Option<SocketAddr>> {
    let Some(addr) = config.addr else {
        return Ok(None);
    };
    install();
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {addr} (TARS_METRICS_ADDR): {e}"),
        )
    })?;
    let bound = listener.local_addr()?;
    tokio::spawn(serve(listener, config.access.clone(), shutdown));
    Ok(Some(bound))
}

/// Runs `sample` now and then every [`SAMPLE_PERIOD`] until `shutdown`, when metrics are
/// [`installed`] (otherwise nothing is spawned).
pub fn spawn_sampler<F, Fut>(shutdown: CancellationToken, mut sample: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    if !installed() {
        return;
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SAMPLE_PERIOD);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => sample().await,
                () = shutdown.cancelled() => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_allow_list_defaults_to_loopback() {
        let access = MetricsAccess::default();
        assert!(access.allows(ip("127.0.0.1")));
        assert!(access.allows(ip("127.0.0.2")));
        assert!(access.allows(ip("::1")));
        assert!(!access.allows(ip("10.0.0.1")));
        let none = MetricsAccess::parse("none").unwrap();
        assert!(!none.allows(ip("127.0.0.1")));
        assert!(MetricsAccess::parse(" , ").is_err());
        assert!(MetricsAccess::parse("prometheus.local").is_err());
    }

    #[test]
    fn only_allowed_peers_read_metrics() {
        let access = MetricsAccess::parse("10.0.0.0/8").unwrap();
        let get = http::Method::GET;
        let refused = answer(&get, "/metrics", ip("127.0.0.1"), &access);
        assert_eq!(refused.status(), 403);
        assert!(
            refused.body().contains("TARS_METRICS_ALLOW"),
            "{}",
            refused.body()
        );
        let allowed = answer(&get, "/metrics", ip("10.1.2.3"), &access);
        assert_eq!(allowed.status(), 200);
        assert_eq!(allowed.headers()["content-type"], CONTENT_TYPE);
        assert_eq!(
            answer(&get, "/other", ip("10.1.2.3"), &access).status(),
            404
        );
        let post = http::Method::POST;
        assert_eq!(
            answer(&post, "/metrics", ip("10.1.2.3"), &access).status(),
            405
        );
    }
}
