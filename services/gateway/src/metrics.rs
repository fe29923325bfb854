//! The gateway's metrics: every request counted and timed by route and status
//! ([`record_http`], the outermost layer), uploads ([`upload_received`]), and `/metrics`
//! itself ([`scrape`]), which answers only peers in `TARS_METRICS_ALLOW`.
//!
//! The `route` label is an endpoint's name from the table (for `/api/<name>` and
//! `/server/api/<name>` alike), `healthz`, `readyz`, `metrics`, `openapi`, `docs`, or
//! `other` for every path that routes nowhere: never the raw path, so unknown paths
//! cannot grow the number of series.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::Request;

use crate::error::{ApiError, ApiResult};
use crate::router::ROUTED;
use crate::state::AppState;
use crate::upload::UploadForm;

/// The `route` label of a request path.
pub fn route_label(path: &str) -> &'static str {
    match path {
        "/healthz" => return "healthz",
        "/readyz" => return "readyz",
        "/metrics" => return "metrics",
        _ => {}
    }
    let Some(name) = path
        .strip_prefix("/api/")
        .or_else(|| path.strip_prefix("/server/api/"))
    else {
        return "other";
    };
    if name == "openapi.json" {
        return "openapi";
    }
    if name == "docs" || name.starts_with("docs/") {
        return "docs";
    }
    ROUTED
        .iter()
        .find(|(endpoint, _)| *endpoint == name)
        .map_or("other", |(endpoint, _)| *endpoint)
}

/// Middleware: counts and times each request by route and status (until the answer's
/// headers; a streamed body's transfer is not included).
pub async fn record_http(request: Request<Body>, next: Next) -> Response {
    let route = route_label(request.uri().path());
    let started = Instant::now();
    let response = next.run(request).await;
    tars_metrics::http_request(route, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /metrics`: the process's metrics in Prometheus's text format, for a TCP peer in
/// `TARS_METRICS_ALLOW`; 403 for anyone else. No ticket, and `X-Forwarded-For` is not
/// read: the connection's own peer address decides.
pub async fn scrape(State(state): State<AppState>, request: Request<Body>) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    match peer {
        Some(ip) if state.config.metrics_access.allows(ip) => (
            [(CONTENT_TYPE, tars_common::metrics::CONTENT_TYPE)],
            tars_common::metrics::render(),
        )
            .into_response(),
        _ => {
            tracing::warn!(peer = ?peer, "metrics refused: peer not in TARS_METRICS_ALLOW");
            ApiError::forbidden(tars_common::metrics::refusal(peer)).into_response()
        }
    }
}

/// Records an upload's form read for `endpoint`: its package's bytes when one arrived
/// whole, and how long the form took.
pub fn upload_received(endpoint: &str, elapsed: Duration, received: &ApiResult<UploadForm>) {
    let bytes = received
        .as_ref()
        .ok()
        .and_then(|form| form.package.as_ref())
        .map(|package| package.size);
    tars_metrics::upload(endpoint, bytes, elapsed);
}

#[cfg(test)]
mod tests {
    use super::route_label;

    #[test]
    fn routes_are_endpoint_names_or_a_fixed_word() {
        assert_eq!(route_label("/api/tree"), "tree");
        assert_eq!(route_label("/server/api/add_task"), "add_task");
        assert_eq!(route_label("/api/upload_and_publish"), "upload_and_publish");
        assert_eq!(route_label("/healthz"), "healthz");
        assert_eq!(route_label("/metrics"), "metrics");
        assert_eq!(route_label("/api/openapi.json"), "openapi");
        assert_eq!(route_label("/api/docs/index.html"), "docs");
        assert_eq!(route_label("/api/no_such_thing"), "other");
        assert_eq!(route_label("/api/tree/extra"), "other");
        assert_eq!(route_label("/etc/passwd"), "other");
        assert_eq!(route_label("/api/"), "other");
    }
}
