//! Probes for load balancers: no ticket needed.
//!
//! `/readyz` is answered from a result at most [`READINESS_TTL`] old: however often it is
//! called, the backends and the database see one check per second per gateway (callers
//! arriving during a check wait for it). A failure answers only which dependency is
//! down; addresses and raw errors go to the log.

use std::future::Future;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use tars_proto::common::Empty;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::envelope::envelope;
use crate::error::ApiResult;
use crate::state::AppState;

/// How long a readiness result is reused.
pub const READINESS_TTL: Duration = Duration::from_secs(1);

/// What a readiness check found down, by name (`deployer`, `task-runner`, `monitor`,
/// `database`); empty when everything answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readiness {
    /// The dependencies that are down.
    pub down: Vec<&'static str>,
}

/// The last readiness result and when it was taken.
#[derive(Default)]
pub struct ReadinessCache {
    last: Mutex<Option<(Instant, Readiness)>>,
}

impl ReadinessCache {
    /// The cached result while fresh, else the result of `check` (run by one caller at a
    /// time; the others wait for it and share it).
    pub async fn get<F, Fut>(&self, check: F) -> Readiness
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Readiness>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, readiness)) = last.as_ref() {
            if at.elapsed() < READINESS_TTL {
                return readiness.clone();
            }
        }
        let readiness = check().await;
        *last = Some((Instant::now(), readiness.clone()));
        readiness
    }
}

/// `GET /healthz`: the process is alive and serving.
pub async fn healthz() -> Response {
    envelope(StatusCode::OK, "", serde_json::json!({ "status": "ok" }))
}

/// Records one backend's readiness answer in `down`, logging the details.
fn note(
    down: &mut Vec<&'static str>,
    backend: &'static str,
    result: ApiResult<tars_proto::common::ReadyReply>,
) {
    match result {
        Ok(reply) if reply.ready => {}
        Ok(reply) => {
            // The deployer and the task-runner are not ready only when their database
            // does not answer.
            tracing::warn!(backend, detail = %reply.detail, "readiness: database is down");
            if !down.contains(&"database") {
                down.push("database");
            }
        }
        Err(err) => {
            tracing::warn!(backend, error = %err.message(), "readiness: backend is down");
            down.push(backend);
        }
    }
}

/// Asks every backend (and through them the database) whether it is ready.
async fn check(state: &AppState) -> Readiness {
    let b = &state.backends;
    let (deployer, task_runner, monitor) = tokio::join!(
        b.deployer
            .call(Empty {}, |mut c, r| async move { c.ready(r).await }),
        b.task_runner
            .call(Empty {}, |mut c, r| async move { c.ready(r).await }),
        b.monitor
            .call(Empty {}, |mut c, r| async move { c.ready(r).await }),
    );
    let mut down = Vec::new();
    note(&mut down, b.deployer.name(), deployer);
    note(&mut down, b.task_runner.name(), task_runner);
    note(&mut down, b.monitor.name(), monitor);
    Readiness { down }
}

/// `GET /readyz`: every backend answers and the database is reachable; 503 otherwise,
/// naming what is down (`data.down`).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = state.readiness.get(|| check(&state)).await;
    if readiness.down.is_empty() {
        envelope(StatusCode::OK, "", serde_json::json!({ "status": "ready" }))
    } else {
        let message = format!("not ready: {}", readiness.down.join(", "));
        envelope(
            StatusCode::SERVICE_UNAVAILABLE,
            &message,
            serde_json::json!({ "down": readiness.down }),
        )
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_check_per_second_whatever_the_callers() {
        let cache = Arc::new(ReadinessCache::default());
        let checks = Arc::new(AtomicUsize::new(0));
        let probe = |cache: Arc<ReadinessCache>, checks: Arc<AtomicUsize>| async move {
            cache
                .get(|| async {
                    checks.fetch_add(1, Ordering::SeqCst);
                    // A slow backend: callers arriving meanwhile wait for this check.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Readiness {
                        down: vec!["deployer"],
                    }
                })
                .await
        };
        let answers = futures::future::join_all(
            (0..50).map(|_| tokio::spawn(probe(cache.clone(), checks.clone()))),
        )
        .await;
        for answer in answers {
            assert_eq!(answer.unwrap().down, vec!["deployer"]);
        }
        assert_eq!(checks.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_millis(500)).await;
        probe(cache.clone(), checks.clone()).await;
        assert_eq!(checks.load(Ordering::SeqCst), 1, "still fresh");
        tokio::time::advance(READINESS_TTL).await;
        probe(cache.clone(), checks.clone()).await;
        assert_eq!(checks.load(Ordering::SeqCst), 2, "stale after a second");
    }
}
