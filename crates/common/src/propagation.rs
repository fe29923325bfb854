//! Carries the W3C trace context of the current span across gRPC calls, so one HTTP
//! request is one trace through the gateway and every backend it touches.

use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

struct MetadataExtractor<'a>(&'a tonic::metadata::MetadataMap);

impl Extractor for MetadataExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .keys()
            .filter_map(|k| match k {
                tonic::metadata::KeyRef::Ascii(k) => Some(k.as_str()),
                tonic::metadata::KeyRef::Binary(_) => None,
            })
            .collect()
    }
}

/// Writes the current span's context into outgoing gRPC metadata.
pub fn inject_current_context(metadata: &mut tonic::metadata::MetadataMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut MetadataInjector(metadata));
    });
}

/// The current span's trace context as a W3C `traceparent` value, to store with work
/// that continues later elsewhere (a task) or to send in a message header; `None` when
/// there is no valid context.
pub fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier = std::collections::HashMap::new();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut carrier);
    });
    carrier
        .remove("traceparent")
        .filter(|t| t.len() <= 64 && !t.is_empty())
}

/// Makes `span` a child of a stored `traceparent` (see [`current_traceparent`]); an
/// empty or malformed value leaves it a root.
pub fn adopt_traceparent(span: &tracing::Span, traceparent: &str) {
    if traceparent.is_empty() {
        return;
    }
    let mut carrier = std::collections::HashMap::new();
    carrier.insert("traceparent".to_string(), traceparent.to_string());
    let parent =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    let _ = span.set_parent(parent);
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Makes `span` a child of the W3C trace context of an incoming HTTP request (its
/// `traceparent` header), so a caller's trace continues through the platform.
pub fn adopt_http_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    let _ = span.set_parent(parent);
}

/// The trace id of the current span (32 hex digits), or empty.
pub fn current_trace_id() -> String {
    use opentelemetry::trace::TraceContextExt;
    let context = tracing::Span::current().context();
    let span_context = context.span().span_context().clone();
    if span_context.is_valid() {
        span_context.trace_id().to_string()
    } else {
        String::new()
    }
}

/// Makes `span` a child of the trace context found in incoming gRPC metadata.
pub fn adopt_remote_parent(span: &tracing::Span, metadata: &tonic::metadata::MetadataMap) {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&MetadataExtractor(metadata))
    });
    let _ = span.set_parent(parent);
}

/// Runs one gRPC operation inside a span that continues the caller's trace, and turns
/// its error into a status. Every backend's RPC methods go through this, so it is also
/// where RPCs are counted and timed ([`tars_metrics::grpc_call`]).
pub async fn traced_rpc<T, Req, E, F, Fut>(
    service: &'static str,
    rpc: &'static str,
    request: tonic::Request<Req>,
    op: F,
) -> Result<tonic::Response<T>, tonic::Status>
where
    F: FnOnce(Req) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: Into<tonic::Status> + std::fmt::Display,
{
    use tracing::Instrument;
    let span = tracing::info_span!("rpc", service, rpc);
    adopt_remote_parent(&span, request.metadata());
    let (metadata, _, message) = request.into_parts();
    let answer = crate::authz::with_caller_of(&metadata, op(message).instrument(span.clone()));
    let started = std::time::Instant::now();
    let result = match answer.await {
        Ok(reply) => Ok(tonic::Response::new(reply)),
        Err(err) => {
            span.in_scope(|| tracing::debug!(error = %err, "request failed"));
            Err(err.into())
        }
    };
    let code = result
        .as_ref()
        .map_or_else(|s| s.code(), |_| tonic::Code::Ok);
    tars_metrics::grpc_call(service, rpc, code as i32, started.elapsed());
    result
}
