//! Executing tasks. A runner first claims a task (a conditional update with a lease), so
//! each task runs on one runner at a time; while it runs, the lease is renewed, and a
//! runner that dies stops renewing, letting another take the task over. Items already in
//! a terminal state are never run again; an item caught mid-run is run again.

mod commands;
mod patch_source;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use futures::stream::{self, StreamExt};
use tars_nodes::Nodes;
use tars_store::tasks::TaskItemRow;
use tars_store::{Store, StoreResult};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::status::item;

/// Settings of execution.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    pub runner_id: String,
    pub lease: Duration,
    pub item_concurrency: usize,
    pub max_running_tasks: usize,
    pub patch_timeout: Duration,
    pub patch_obj: String,
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

impl Executor {
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

    /// Waits for a free slot, then claims `task_no`; when the claim succeeds the task runs
    /// in the background. Returns whether this runner took the task. The claim is durable
    /// when this returns, so a queue offset may be committed after it.
    pub async fn take(self: &Arc<Self>, task_no: &str) -> StoreResult<bool> {
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let now = utc_now();
        let claimed = self
            .store
            .claim_task(
                task_no,
                &self.config.runner_id,
                now,
                lease_from(now, self.config.lease),
            )
            .await?;
        if claimed {
            let this = self.clone();
            let task_no = task_no.to_string();
            tokio::spawn(async move {
                this.run(&task_no).await;
                drop(permit);
            });
        }
        Ok(claimed)
    }

    /// Waits until every running task has finished, or `limit` has passed.
    pub async fn drain(&self, limit: Duration) {
        let all = self.config.max_running_tasks.max(1) as u32;
        let _ = tokio::time::timeout(limit, self.slots.acquire_many(all)).await;
    }

    async fn run(self: &Arc<Self>, task_no: &str) {
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = self.spawn_renewer(task_no, lost.clone());
        let started = std::time::Instant::now();
        match self.execute(task_no, &lost).await {
            Ok(()) if !lost.load(Ordering::SeqCst) => {
                if let Err(err) = self
                    .store
                    .finish_task(task_no, &self.config.runner_id, utc_now())
                    .await
                {
                    tracing::warn!(task_no, error = %err, "cannot mark task finished; it will be resumed");
                } else {
                    tracing::info!(
                        task_no,
                        ms = started.elapsed().as_millis() as u64,
                        "task finished"
                    );
                }
            }
            Ok(()) => tracing::warn!(task_no, "lost the task's lease; another runner resumes it"),
            Err(err) => {
                tracing::warn!(task_no, error = %err, "task interrupted; it will be resumed after its lease")
            }
        }
        renewer.cancel();
    }

    fn spawn_renewer(&self, task_no: &str, lost: Arc<AtomicBool>) -> CancellationToken {
        let stop = CancellationToken::new();
        let (store, holder, lease) = (
            self.store.clone(),
            self.config.runner_id.clone(),
            self.config.lease,
        );
        let (task_no, stop_renewing) = (task_no.to_string(), stop.clone());
        tokio::spawn(async move {
            let period = (lease / 3).max(Duration::from_millis(50));
            loop {
                tokio::select! {
                    _ = stop_renewing.cancelled() => return,
                    _ = tokio::time::sleep(period) => {}
                }
                match store
                    .renew_task_lease(&task_no, &holder, lease_from(utc_now(), lease))
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(err) => {
                        tracing::warn!(task_no, error = %err, "cannot renew the task lease")
                    }
                }
            }
        });
        stop
    }

    async fn execute(self: &Arc<Self>, task_no: &str, lost: &AtomicBool) -> StoreResult<()> {
        let Some(task) = self.store.task(task_no).await? else {
            return Ok(());
        };
        let items = self.store.task_items(task_no).await?;
        let user = task.user_name.unwrap_or_default();
        if task.serial.unwrap_or(0) != 0 {
            // After a failure the remaining items are cancelled, as AdminRegistry does.
            let mut failed = items.iter().any(|i| i.status == Some(item::FAILED));
            for it in &items {
                if lost.load(Ordering::SeqCst) || self.shutdown.is_cancelled() {
                    return Ok(());
                }
                let status = self.run_item(it, failed, &user).await?;
                failed |= status == item::FAILED;
            }
        } else {
            // Owned items and a cloned handle per future: borrowing futures inside a
            // spawned task trip the compiler's higher-ranked lifetime checks.
            let results: Vec<StoreResult<i64>> = stream::iter(items)
                .map(|it| {
                    let (this, user) = (self.clone(), user.clone());
                    async move { this.run_item(&it, false, &user).await }
                })
                .buffer_unordered(self.config.item_concurrency.max(1))
                .collect()
                .await;
            for r in results {
                r?;
            }
        }
        Ok(())
    }

    /// Runs one item unless it already ended; answers its final status.
    async fn run_item(&self, it: &TaskItemRow, cancel: bool, user: &str) -> StoreResult<i64> {
        let status = it.status.unwrap_or(item::NOT_START);
        if item::is_terminal(status) {
            return Ok(status);
        }
        let now = tars_common::time::now_local;
        if cancel {
            self.store
                .finish_task_item(
                    &it.task_no,
                    &it.item_no,
                    item::CANCEL,
                    "cancelled: an earlier item failed",
                    now(),
                )
                .await?;
            return Ok(item::CANCEL);
        }
        let instance = format!(
            "{}.{}@{}",
            it.application.as_deref().unwrap_or_default(),
            it.server_name.as_deref().unwrap_or_default(),
            it.node_name.as_deref().unwrap_or_default()
        );
        let holder = format!("{}/{}", self.config.runner_id, it.task_no);
        self.lock_instance(&instance, &holder).await?;
        let keep = self.spawn_lock_renewer(&instance, &holder);
        self.store
            .start_task_item(&it.task_no, &it.item_no, now())
            .await?;
        let (status, log) = commands::execute(self, it, user).await;
        keep.cancel();
        let finished = self
            .store
            .finish_task_item(&it.task_no, &it.item_no, status, &log, now())
            .await;
        let _ = self.store.unlock_instance(&instance, &holder).await;
        finished?;
        Ok(status)
    }

    /// Waits until this task holds the instance: two tasks never act on one instance at once.
    async fn lock_instance(&self, instance: &str, holder: &str) -> StoreResult<()> {
        loop {
            let now = utc_now();
            if self
                .store
                .try_lock_instance(instance, holder, now, lease_from(now, self.config.lease))
                .await?
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn spawn_lock_renewer(&self, instance: &str, holder: &str) -> CancellationToken {
        let stop = CancellationToken::new();
        let (store, lease) = (self.store.clone(), self.config.lease);
        let (instance, holder, stopped) = (instance.to_string(), holder.to_string(), stop.clone());
        tokio::spawn(async move {
            let period = (lease / 3).max(Duration::from_millis(50));
            loop {
                tokio::select! {
                    _ = stopped.cancelled() => return,
                    _ = tokio::time::sleep(period) => {}
                }
                let now = utc_now();
                let _ = store
                    .try_lock_instance(&instance, &holder, now, lease_from(now, lease))
                    .await;
            }
        });
        stop
    }
}
