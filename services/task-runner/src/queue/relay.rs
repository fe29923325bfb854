//! The relay: publishes accepted tasks (oldest first) and marks each published once the
//! broker acknowledged it. Several relays may run (one per task-runner replica); a task
//! published twice is claimed once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tars_store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Where the relay sends tasks.
pub trait Publisher: Send + Sync + 'static {
    /// Publishes one task number with the `traceparent` it was accepted under (empty:
    /// none); `Err` leaves it for the next attempt.
    fn publish(
        &self,
        task_no: &str,
        trace_parent: &str,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// Runs until `shutdown`; `wake` makes it look at once (after add_task).
pub async fn run<P: Publisher>(
    store: Store,
    publisher: Arc<P>,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let batch = match store.unpublished_tasks(500).await {
            Ok(batch) => batch,
            Err(err) => {
                tracing::warn!(error = %err, "relay cannot read unpublished tasks");
                Vec::new()
            }
        };
        let mut broker_down = false;
        for (task_no, trace_parent) in &batch {
            match publisher.publish(task_no, trace_parent).await {
                Ok(()) => {
                    if let Err(err) = store
                        .mark_published(task_no, chrono::Utc::now().naive_utc())
                        .await
                    {
                        tracing::warn!(task_no, error = %err, "published, but cannot record it; it may be published again");
                    }
                    backoff = Duration::from_millis(200);
                }
                Err(err) => {
                    tracing::warn!(task_no, error = %err, "cannot publish task; will retry");
                    broker_down = true;
                    break;
                }
            }
        }
        let wait = if broker_down {
            backoff = (backoff * 2).min(Duration::from_secs(5));
            backoff
        } else if batch.len() == 500 {
            Duration::ZERO
        } else {
            Duration::from_secs(1)
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = wake.notified(), if !broker_down => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
