//! The middleware stack applied to every route: a trace span per request (carried into
//! backend calls), panic containment with the envelope, request logging, and the
//! request-body guard that keeps keep-alive connections usable after a refusal.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use http::header::{CONNECTION, EXPECT};
use http::{HeaderValue, Request};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::time::Instant;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::error::ApiError;
use crate::serve::ConnectionHandle;

/// The most of an unread request body read (and discarded) after the answer so that the
/// connection can serve the next request; a larger remainder closes the connection.
pub const DRAIN_LIMIT: u64 = 1 << 20;

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    ApiError::internal().into_response()
}

/// Wraps the router in the gateway's middleware; `body_timeout` is
/// `TARS_HTTP_BODY_TIMEOUT_MS`.
pub fn apply_middleware(router: Router, body_timeout: Duration) -> Router {
    router
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let span = tracing::info_span!(
                        "http",
                        method = %request.method(),
                        path = %request.uri().path(),
                        user = tracing::field::Empty,
                        status = tracing::field::Empty,
                    );
                    // A caller's W3C `traceparent` makes this request part of its trace.
                    tars_common::propagation::adopt_http_parent(&span, request.headers());
                    span
                })
                .on_request(())
                .on_response(|response: &Response, latency: Duration, span: &Span| {
                    span.record("status", response.status().as_u16());
                    tracing::debug!(latency_ms = latency.as_secs_f64() * 1000.0, "answered");
                })
                .on_failure(()),
        )
        .layer(from_fn_with_state(body_timeout, guard_request_body))
}

/// When an API request's body must have arrived: `TARS_HTTP_BODY_TIMEOUT_MS` after its
/// headers (a request extension, read by the parameter extractor).
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    /// The deadline.
    pub at: Instant,
    /// The configured timeout, for messages.
    pub timeout: Duration,
}

/// What became of a request body once the answer is ready.
enum Leftover {
    /// Still held by someone (not dropped yet).
    InUse,
    /// Read to its end.
    Finished,
    /// Dropped before its end: the rest, to drain.
    Returned(Body),
}

/// A request body that reports, when dropped, whether it was read to its end, and hands
/// back what was not read.
struct WatchedBody {
    inner: Option<Body>,
    finished: bool,
    leftover: Arc<Mutex<Leftover>>,
}

impl HttpBody for WatchedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = std::task::ready!(std::pin::Pin::new(inner).poll_frame(cx));
        if frame.is_none() {
            self.finished = true;
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        let rest = self.inner.take();
        let outcome = match rest {
            Some(body) if !self.finished && !body.is_end_stream() => Leftover::Returned(body),
            _ => Leftover::Finished,
        };
        *self.leftover.lock().expect("leftover poisoned") = outcome;
    }
}

/// Reads and drops `body` up to [`DRAIN_LIMIT`] bytes before `until`; true when it ended.
async fn drain(mut body: Body, until: Instant) -> bool {
    if body.size_hint().lower() > DRAIN_LIMIT {
        return false;
    }
    let read_all = async {
        let mut seen = 0u64;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                seen += data.len() as u64;
                if seen > DRAIN_LIMIT {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout_at(until, read_all)
        .await
        .unwrap_or(false)
}

/// Middleware: sets the body deadline and, when a request is answered without its body
/// having been read (a 401 before the body, a 405, an early 413 …), reads the rest of a
/// small body so the keep-alive connection stays in step with the client; a body too
/// large or too slow for that gets `Connection: close` (and a lingering close), so the
/// client does not send its next request on a connection about to close.
async fn guard_request_body(
    State(body_timeout): State<Duration>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let deadline = BodyDeadline {
        at: Instant::now() + body_timeout,
        timeout: body_timeout,
    };
    // A client waiting for `100 Continue` has not sent its body: nothing to drain.
    let awaits_continue = request
        .headers()
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let connection = request.extensions().get::<ConnectionHandle>().cloned();
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(deadline);
    let leftover = Arc::new(Mutex::new(Leftover::InUse));
    let body = Body::new(WatchedBody {
        inner: Some(body),
        finished: false,
        leftover: leftover.clone(),
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let outcome = std::mem::replace(
        &mut *leftover.lock().expect("leftover poisoned"),
        Leftover::InUse,
    );
    let reusable = match outcome {
        Leftover::Finished => true,
        Leftover::InUse => false,
        Leftover::Returned(rest) => !awaits_continue && drain(rest, deadline.at).await,
    };
    if !reusable {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        if let Some(connection) = connection {
            connection.linger_on_close();
        }
    }
    response
}
