//! An in-process OpenTelemetry collector for the tracing tests: a real OTLP/gRPC trace
//! service the platform's processes export to (`OTEL_EXPORTER_OTLP_ENDPOINT`), keeping
//! every span it receives so a test can look at the tree of one trace.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use tokio::sync::Notify;

/// One received span.
#[derive(Debug, Clone)]
pub struct Span {
    /// `service.name` of the process that sent it.
    pub service: String,
    pub name: String,
    /// Hex.
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// Attributes as text.
    pub attributes: HashMap<String, String>,
}

#[derive(Default)]
struct Received {
    spans: Mutex<Vec<Span>>,
    arrived: Notify,
}

struct Receiver(Arc<Received>);

fn text(value: Option<&AnyValue>) -> String {
    match value {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut got = Vec::new();
        for resource in request.into_inner().resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|kv| kv.key == "service.name")
                .map(|kv| text(kv.value.as_ref().and_then(|v| v.value.as_ref())))
                .unwrap_or_default();
            for scope in resource.scope_spans {
                for span in scope.spans {
                    got.push(Span {
                        service: service.clone(),
                        name: span.name,
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        attributes: span
                            .attributes
                            .iter()
                            .map(|kv| {
                                (
                                    kv.key.clone(),
                                    text(kv.value.as_ref().and_then(|v| v.value.as_ref())),
                                )
                            })
                            .collect(),
                    });
                }
            }
        }
        self.0.spans.lock().unwrap().extend(got);
        self.0.arrived.notify_waiters();
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// A running collector.
pub struct Collector {
    pub endpoint: String,
    received: Arc<Received>,
    _server: tokio::task::JoinHandle<()>,
}

impl Collector {
    /// Listens on a loopback port of its own.
    pub async fn start() -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Received::default());
        let service = TraceServiceServer::new(Receiver(received.clone()));
        let server = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await;
        });
        Collector {
            endpoint,
            received,
            _server: server,
        }
    }

    /// The environment that makes a process export its spans here at once (short batch
    /// delay, so a test waits for spans rather than for a timer).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT".into(), self.endpoint.clone()),
            ("OTEL_BSP_SCHEDULE_DELAY".into(), "100".into()),
        ]
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.received.spans.lock().unwrap().clone()
    }

    /// Waits until the spans received satisfy `done` (each export wakes it), at most
    /// `limit`; answers them.
    pub async fn wait_for(&self, limit: Duration, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let deadline = Instant::now() + limit;
        loop {
            let arrived = self.received.arrived.notified();
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the spans expected did not arrive within {limit:?}; got:\n{}",
                render(&spans)
            );
            let _ = tokio::time::timeout(left, arrived).await;
        }
    }
}

/// The spans as indented trees, one per trace: `service name key=value …`.
pub fn render(spans: &[Span]) -> String {
    let mut out = String::new();
    let mut traces: Vec<&str> = spans.iter().map(|s| s.trace_id.as_str()).collect();
    traces.sort();
    traces.dedup();
    for trace in traces {
        out.push_str(&format!("trace {trace}\n"));
        let of_trace: Vec<&Span> = spans.iter().filter(|s| s.trace_id == trace).collect();
        let ids: Vec<&str> = of_trace.iter().map(|s| s.span_id.as_str()).collect();
        let roots: Vec<&&Span> = of_trace
            .iter()
            .filter(|s| !ids.contains(&s.parent_span_id.as_str()))
            .collect();
        for root in roots {
            tree(&of_trace, root, 1, &mut out);
        }
    }
    out
}

fn tree(spans: &[&Span], span: &Span, depth: usize, out: &mut String) {
    let mut attributes: Vec<String> = span
        .attributes
        .iter()
        .filter(|(k, _)| {
            !k.starts_with("code.")
                && !k.starts_with("thread.")
                && k.as_str() != "busy_ns"
                && k.as_str() != "idle_ns"
                && k.as_str() != "target"
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    attributes.sort();
    out.push_str(&format!(
        "{}{} {} {}\n",
        "  ".repeat(depth),
        span.service,
        span.name,
        attributes.join(" ")
    ));
    for child in spans.iter().filter(|s| s.parent_span_id == span.span_id) {
        tree(spans, child, depth + 1, out);
    }
}
