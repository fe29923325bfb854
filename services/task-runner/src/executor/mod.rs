//! Executing tasks. A runner first claims a task (a compare-and-set with a lease and a
//! generation), so each task runs on one runner at a time; while it runs, the lease is
//! renewed, and a runner that dies or pauses stops renewing, letting another take the
//! task over. Every write of an attempt is fenced by its claim, and every node call is
//! preceded by a check that the claim still holds, so a runner that lost its claim
//! neither writes nor acts. Items already in a terminal state are never run again; an
//! item caught mid-run is run again.
//!
//! An attempt ends one of four ways: the task finished; the claim was lost (the new
//! holder carries on); the runner shuts down (the task is handed back at once); or the
//! database failed (the task is retried with a growing delay, and after
//! `max_retries` retries it ends failed with the error in its items' logs).

mod claim;
mod commands;
mod instance_lock;
mod items;
mod patch_source;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};
use tars_nodes::Nodes;
use tars_store::task_queue::{ClaimOutcome, Claimed};
use tars_store::{Store, StoreError, StoreResult};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use claim::LiveClaim;

/// Settings of execution.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// This runner's name in claims and instance locks ([`crate::Config::runner_id`]).
    pub runner_id: String,
    /// How long a claim or instance lock lasts without renewal ([`crate::Config::lease`]).
    pub lease: Duration,
    /// How many items of a parallel task run at once.
    pub item_concurrency: usize,
    /// How many tasks this runner executes at once (its execution slots).
    pub max_running_tasks: usize,
    /// How long a node may take to download and install a package before the item fails.
    pub patch_timeout: Duration,
    /// The Patch servant nodes download packages from: a name looked up among registered
    /// adapters, or a full proxy string ([`crate::Config::patch_obj`]).
    pub patch_obj: String,
    /// How long an item waits for an instance another task is acting on.
    pub lock_wait: Duration,
    /// Retries of a task whose attempt failed on the database, before it ends failed.
    pub max_retries: u32,
}

/// Why an attempt stopped before the task ended.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Another runner holds the task now (or the claim cannot be confirmed): write
    /// nothing more, call no node.
    LeaseLost,
    /// This runner is shutting down: hand the task back.
    Shutdown,
    /// The database failed: retry the attempt later.
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(err: StoreError) -> Self {
        Stop::Store(err)
    }
}

/// What taking a task found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// This runner claimed it and runs it now.
    Started,
    /// Another runner holds it.
    Held,
    /// It already ended.
    Finished,
    /// No such task.
    Missing,
}

/// Claims and runs tasks.
pub struct Executor {
    store: Store,
    nodes: Arc<Nodes>,
    config: ExecConfig,
    slots: Arc<Semaphore>,
    shutdown: CancellationToken,
}

fn utc_now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn lease_from(now: NaiveDateTime, lease: Duration) -> NaiveDateTime {
    now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(10))
}

/// The delay before retry number `n` (1-based): 1 s, 2 s, 4 s … at most a minute.
fn retry_delay(n: i64) -> Duration {
    Duration::from_secs(1u64 << (n.clamp(1, 7) - 1)).min(Duration::from_secs(60))
}

impl Executor {
    /// An executor with `config.max_running_tasks` slots; `shutdown` makes running attempts
    /// hand their tasks back.
    pub fn new(
        store: Store,
        nodes: Arc<Nodes>,
        config: ExecConfig,
        shutdown: CancellationToken,
    ) -> Arc<Executor> {
        let slots = Arc::new(Semaphore::new(config.max_running_tasks.max(1)));
        Arc::new(Executor {
            store,
            nodes,
            config,
            slots,
            shutdown,
        })
    }

    /// A slot for one more task, if one is free now.
    pub fn try_reserve(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Slots free now.
    pub fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }

    /// Waits for a slot for one more task.
    pub async fn reserve(&self) -> OwnedSemaphorePermit {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// Waits for a free slot, then claims `task_no` (see [`Executor::take_with`]).
    pub async fn take(self: &Arc<Self>, task_no: &str) -> StoreResult<Taken> {
        let permit = self.reserve().await;
        self.take_with(permit, task_no).await
    }

    /// Claims `task_no` with a reserved slot; when the claim succeeds the task runs in the
    /// background, holding the slot. The claim is durable when this returns, so a queue
    /// offset may be committed after it.
    pub async fn take_with(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        task_no: &str,
    ) -> StoreResult<Taken> {
        let sent_at = Instant::now();
        let now = utc_now();
        let outcome = self
            .store
            .claim_task(
                task_no,
                &self.config.runner_id,
                now,
                lease_from(now, self.config.lease),
            )
            .await?;
        Ok(match outcome {
            ClaimOutcome::Claimed(claimed) => {
                let this = self.clone();
                tokio::spawn(async move {
                    this.run(claimed, sent_at).await;
                    drop(permit);
                });
                Taken::Started
            }
            ClaimOutcome::Held => Taken::Held,
            ClaimOutcome::Finished => Taken::Finished,
            ClaimOutcome::Missing => Taken::Missing,
        })
    }

    /// Waits until every running task has finished, or `limit` has passed.
    pub async fn drain(&self, limit: Duration) {
        let all = self.config.max_running_tasks.max(1) as u32;
        let _ = tokio::time::timeout(limit, self.slots.acquire_many(all)).await;
    }

    /// Runs a claimed task in a span that continues the trace of the request that
    /// accepted it (its stored `traceparent`), whichever runner took it and however.
    async fn run(self: &Arc<Self>, claimed: Claimed, sent_at: Instant) {
        use tracing::Instrument;
        let span = tracing::info_span!(
            "task",
            task_no = %claimed.fence.task_no,
            generation = claimed.fence.generation,
            runner = %self.config.runner_id,
        );
        tars_common::propagation::adopt_traceparent(&span, &claimed.trace_parent);
        self.run_in_span(claimed, sent_at).instrument(span).await
    }

    async fn run_in_span(self: &Arc<Self>, claimed: Claimed, sent_at: Instant) {
        let claim = LiveClaim::start(
            self.store.clone(),
            claimed.fence.clone(),
            self.config.lease,
            sent_at,
        );
        let task_no = claimed.fence.task_no.clone();
        let generation = claimed.fence.generation;
        let started = Instant::now();
        let outcome = if claimed.failures > i64::from(self.config.max_retries) {
            Err(Stop::Store(StoreError::Db(
                claimed.last_error.clone().unwrap_or_default(),
            )))
        } else {
            items::execute(self, &claim).await
        };
        let fence = claim.fence.clone();
        claim.stop().await;
        let result = match outcome {
            Ok(()) => match self.store.finish_task(&fence, utc_now()).await {
                Ok(true) => {
                    tracing::info!(
                        task_no,
                        generation,
                        ms = started.elapsed().as_millis() as u64,
                        "task finished"
                    );
                    crate::metrics::task_ended(&self.store, &task_no).await;
                    Ok(())
                }
                Ok(false) => {
                    Err("the claim was lost before the task could be marked finished".to_string())
                }
                Err(err) => Err(format!(
                    "cannot mark the task finished ({err}); it is resumed after its lease"
                )),
            },
            Err(Stop::LeaseLost) => {
                tracing::warn!(
                    task_no,
                    generation,
                    "stopped: another runner holds the task now"
                );
                Ok(())
            }
            Err(Stop::Shutdown) => match self.store.release_task(&fence, utc_now()).await {
                Ok(_) => {
                    tracing::info!(task_no, "shutting down: task handed back to the queue");
                    Ok(())
                }
                Err(err) => Err(format!(
                    "cannot hand the task back ({err}); it is resumed after its lease"
                )),
            },
            Err(Stop::Store(err)) => self.after_failure(&fence, claimed.failures + 1, &err).await,
        };
        if let Err(message) = result {
            tracing::warn!(task_no, generation, "{message}");
        }
    }

    /// Retries the task later, or ends it failed once it failed too often.
    async fn after_failure(
        &self,
        fence: &tars_store::task_queue::Fence,
        failures: i64,
        err: &StoreError,
    ) -> Result<(), String> {
        let task_no = &fence.task_no;
        if failures > i64::from(self.config.max_retries) {
            let reason = format!(
                "gave up after {failures} failed attempts; last error: {err}; \
                 check the database, then submit the task again"
            );
            return match self
                .store
                .fail_task(fence, &reason, tars_common::time::now_local(), utc_now())
                .await
            {
                Ok(ended) => {
                    tracing::error!(task_no, failures, error = %err, "task failed: too many failed attempts");
                    if ended {
                        crate::metrics::task_ended(&self.store, task_no).await;
                    }
                    Ok(())
                }
                Err(e) => Err(format!(
                    "cannot end the failed task ({e}); it is resumed after its lease"
                )),
            };
        }
        let delay = retry_delay(failures);
        let retry_at = utc_now() + chrono::Duration::from_std(delay).unwrap_or_default();
        match self
            .store
            .release_task_for_retry(fence, retry_at, &err.to_string())
            .await
        {
            Ok(_) => {
                tracing::warn!(task_no, failures, retry_in_ms = delay.as_millis() as u64, error = %err,
                    "task attempt failed on the database; it will be retried");
                Ok(())
            }
            Err(e) => Err(format!("attempt failed ({err}) and cannot be rescheduled ({e}); it is resumed after its lease")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_minute() {
        assert_eq!(retry_delay(1), Duration::from_secs(1));
        assert_eq!(retry_delay(2), Duration::from_secs(2));
        assert_eq!(retry_delay(4), Duration::from_secs(8));
        assert_eq!(retry_delay(30), Duration::from_secs(60));
    }
}
