//! Probes for load balancers: no ticket needed.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use tars_proto::common::Empty;

use crate::envelope::envelope;
use crate::state::AppState;

/// `GET /healthz`: the process is alive and serving.
pub async fn healthz() -> Response {
    envelope(StatusCode::OK, "", serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: every backend answers and the database is reachable; 503 otherwise,
/// with what is not ready.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let b = &state.backends;
    let (deployer, task_runner, monitor) = tokio::join!(
        b.deployer
            .call(Empty {}, |mut c, r| async move { c.ready(r).await }),
        b.task_runner
            .call(Empty {}, |mut c, r| async move { c.ready(r).await }),
        b.monitor
            .call(Empty {}, |mut c, r| async move { c.ready(r).await }),
    );
    let mut problems = Vec::new();
    for (name, result) in [
        (b.deployer.name(), deployer),
        (b.task_runner.name(), task_runner),
        (b.monitor.name(), monitor),
    ] {
        match result {
            Ok(reply) if reply.ready => {}
            Ok(reply) => problems.push(format!("{name}: {}", reply.detail)),
            Err(err) => problems.push(err.message),
        }
    }
    if problems.is_empty() {
        envelope(StatusCode::OK, "", serde_json::json!({ "status": "ready" }))
    } else {
        let message = format!("not ready: {}", problems.join("; "));
        envelope(
            StatusCode::SERVICE_UNAVAILABLE,
            &message,
            serde_json::json!({}),
        )
    }
    .into_response()
}
