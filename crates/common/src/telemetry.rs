//! Logging and tracing setup shared by every binary.
//!
//! Logs go to stderr through `tracing-subscriber` (`RUST_LOG` filters, default `info`;
//! `TARS_LOG_FORMAT=json` for one JSON object per line). Spans are also exported through
//! OpenTelemetry (OTLP over gRPC) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; without it
//! an SDK tracer still runs so trace ids exist and propagate between services.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Keeps the tracer provider alive; flushes spans when dropped.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber for a process called `service_name`.
///
/// Safe to call more than once (tests, standalone mode): later calls keep the first setup.
pub fn init(service_name: &'static str) -> TelemetryGuard {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let provider = build_provider(service_name);
    let tracer = provider.tracer(service_name);
    let otel_layer = tracing_opentelemetry::layer().with_tracer(tracer);
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,opentelemetry=warn,opentelemetry_sdk=warn"));
    let json = crate::env::var("TARS_LOG_FORMAT").as_deref() == Some("json");
    let fmt_layer = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        // Colour only on a terminal: a log file or a pipe (systemd, a collector) would
        // otherwise be full of escape codes.
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .boxed()
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(otel_layer)
        .try_init()
        .is_ok();
    if installed {
        opentelemetry::global::set_tracer_provider(provider.clone());
    }
    TelemetryGuard {
        provider: installed.then_some(provider),
    }
}

use tracing_subscriber::Layer as _;

fn build_provider(service_name: &'static str) -> SdkTracerProvider {
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name)
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    if crate::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_none() {
        return builder.build();
    }
    match opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()
    {
        Ok(exporter) => builder.with_batch_exporter(exporter).build(),
        Err(err) => {
            eprintln!("OTLP exporter disabled: {err}");
            builder.build()
        }
    }
}
