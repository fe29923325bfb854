//! The sweeper: claims tasks nobody is running.
//!
//! Embedded mode: every unclaimed task (this is the queue's consumer; a wake-up from
//! add_task makes pickup immediate). Kafka mode: tasks whose lease expired (their runner
//! died or paused, or a failed attempt's retry is due) and tasks published long ago that
//! no consumer claimed.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tars_store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::executor::{Executor, Taken};

/// How the sweeper chooses unclaimed tasks.
#[derive(Debug, Clone, Copy)]
pub enum SweepMode {
    /// Take every unclaimed task at once.
    Embedded,
    /// Take only tasks published more than `unclaimed_grace` ago and still unclaimed.
    Kafka {
        /// How long a published task may wait for a consumer's claim before the sweeper
        /// takes it from the database ([`crate::Config::unclaimed_grace`]).
        unclaimed_grace: Duration,
    },
}

/// Runs until `shutdown`.
pub async fn run(
    store: Store,
    executor: Arc<Executor>,
    mode: SweepMode,
    period: Duration,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(period) => {}
        }
        let now = Utc::now().naive_utc();
        let (before, published_only) = match mode {
            SweepMode::Embedded => (now + chrono::Duration::seconds(1), false),
            SweepMode::Kafka { unclaimed_grace } => (
                now - chrono::Duration::from_std(unclaimed_grace).unwrap_or_default(),
                true,
            ),
        };
        match store
            .claimable_tasks(now, before, published_only, 100)
            .await
        {
            Ok(tasks) => {
                for task_no in tasks {
                    if shutdown.is_cancelled() {
                        return;
                    }
                    match executor.take(&task_no).await {
                        Ok(Taken::Started) => tracing::debug!(task_no, "sweeper took the task"),
                        Ok(_) => {}
                        Err(err) => tracing::warn!(task_no, error = %err, "cannot claim a task"),
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot look for tasks to run"),
        }
    }
}
