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

/// Makes `span` a child of the trace context found in incoming gRPC metadata.
pub fn adopt_remote_parent(span: &tracing::Span, metadata: &tonic::metadata::MetadataMap) {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&MetadataExtractor(metadata))
    });
    let _ = span.set_parent(parent);
}

/// Runs one gRPC operation inside a span that continues the caller's trace, and turns
/// its error into a status. Every backend's RPC methods go through this.
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
    match op(request.into_inner()).instrument(span.clone()).await {
        Ok(reply) => Ok(tonic::Response::new(reply)),
        Err(err) => {
            span.in_scope(|| tracing::debug!(error = %err, "request failed"));
            Err(err.into())
        }
    }
}
