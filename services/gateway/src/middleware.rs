//! The middleware stack applied to every route: a trace span per request (carried into
//! backend calls), panic containment with the envelope, and request logging.

use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::Request;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::error::ApiError;

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    ApiError::internal().into_response()
}

/// Wraps the router in the gateway's middleware.
pub fn apply_middleware(router: Router) -> Router {
    router.layer(CatchPanicLayer::custom(panic_response)).layer(
        TraceLayer::new_for_http()
            .make_span_with(|request: &Request<Body>| {
                tracing::info_span!(
                    "http",
                    method = %request.method(),
                    path = %request.uri().path(),
                    user = tracing::field::Empty,
                    status = tracing::field::Empty,
                )
            })
            .on_request(())
            .on_response(|response: &Response, latency: Duration, span: &Span| {
                span.record("status", response.status().as_u16());
                tracing::debug!(latency_ms = latency.as_secs_f64() * 1000.0, "answered");
            })
            .on_failure(()),
    )
}
