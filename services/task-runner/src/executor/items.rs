//! Running a task's items: serial (stop at the first failure, cancelling the rest, as
//! AdminRegistry does) or parallel (a bounded number at once), each item under its
//! instance lock, each write fenced by the claim.

use std::sync::Arc;

use futures::stream::{self, StreamExt};
use tars_store::tasks::TaskItemRow;

use super::claim::LiveClaim;
use super::instance_lock::{InstanceLock, LockFailure, LockRequest};
use super::{commands, Executor, Stop};
use crate::status::{is_terminal, TaskItemStatus};

/// The longest item log kept: `t_task_item.log` is a TEXT column (64 KiB).
const MAX_LOG_BYTES: usize = 16 * 1024;

/// Runs the claimed task's items until they have all ended, or the attempt stops.
pub(super) async fn execute(exec: &Arc<Executor>, claim: &LiveClaim) -> Result<(), Stop> {
    let task_no = &claim.fence.task_no;
    let Some(task) = exec.store.task(task_no).await? else {
        return Ok(());
    };
    let items = exec.store.task_items(task_no).await?;
    let user = task.user_name.unwrap_or_default();
    if task.serial.unwrap_or(0) != 0 {
        let mut failed = items
            .iter()
            .any(|i| i.status == Some(TaskItemStatus::Failed as i64));
        for it in &items {
            let status = run_item(exec, claim, it, failed, &user).await?;
            failed |= status == TaskItemStatus::Failed as i64;
        }
        return Ok(());
    }
    // The futures are built first: a `map` closure returning borrowing futures trips
    // the compiler's higher-ranked lifetime checks inside a spawned task.
    let runs: Vec<_> = items
        .iter()
        .map(|it| run_item(exec, claim, it, false, &user))
        .collect();
    let results: Vec<Result<i64, Stop>> = stream::iter(runs)
        .buffer_unordered(exec.config.item_concurrency.max(1))
        .collect()
        .await;
    // A lost claim outranks everything (write nothing more), then a database failure
    // (retry), then a shutdown (hand back).
    let mut stop = None;
    for r in results {
        if let Err(s) = r {
            stop = Some(match (stop, s) {
                (Some(Stop::LeaseLost), _) | (_, Stop::LeaseLost) => Stop::LeaseLost,
                (Some(Stop::Store(e)), _) | (_, Stop::Store(e)) => Stop::Store(e),
                _ => Stop::Shutdown,
            });
        }
    }
    stop.map_or(Ok(()), Err)
}

/// Runs one item unless it already ended, in its own span; answers its final status.
async fn run_item(
    exec: &Executor,
    claim: &LiveClaim,
    it: &TaskItemRow,
    cancel: bool,
    user: &str,
) -> Result<i64, Stop> {
    use tracing::Instrument;
    let span = tracing::info_span!(
        "item",
        item_no = %it.item_no,
        command = it.command.as_deref().unwrap_or_default(),
        application = it.application.as_deref().unwrap_or_default(),
        server_name = it.server_name.as_deref().unwrap_or_default(),
        node = it.node_name.as_deref().unwrap_or_default(),
        status = tracing::field::Empty,
    );
    let result = run_item_in_span(exec, claim, it, cancel, user)
        .instrument(span.clone())
        .await;
    if let Ok(status) = &result {
        span.record("status", status);
    }
    result
}

async fn run_item_in_span(
    exec: &Executor,
    claim: &LiveClaim,
    it: &TaskItemRow,
    cancel: bool,
    user: &str,
) -> Result<i64, Stop> {
    let status = it.status.unwrap_or(TaskItemStatus::NotStart as i64);
    if is_terminal(status) {
        return Ok(status);
    }
    let fence = &claim.fence;
    let now = tars_common::time::now_local;
    if cancel {
        let log = "cancelled: an earlier item failed";
        return match exec
            .store
            .finish_task_item(
                fence,
                &it.item_no,
                TaskItemStatus::Cancel as i64,
                log,
                now(),
            )
            .await?
        {
            true => Ok(TaskItemStatus::Cancel as i64),
            false => Err(Stop::LeaseLost),
        };
    }
    if exec.shutdown.is_cancelled() {
        return Err(Stop::Shutdown);
    }
    let instance = format!(
        "{}.{}@{}",
        it.application.as_deref().unwrap_or_default(),
        it.server_name.as_deref().unwrap_or_default(),
        it.node_name.as_deref().unwrap_or_default()
    );
    let holder = format!(
        "{}/{}#{}",
        exec.config.runner_id, fence.task_no, fence.generation
    );
    let request = LockRequest {
        instance: &instance,
        holder: &holder,
        lease: exec.config.lease,
        max_wait: exec.config.lock_wait,
        shutdown: &exec.shutdown,
    };
    let lock = match InstanceLock::acquire(&exec.store, claim, request).await {
        Ok(lock) => lock,
        Err(LockFailure::Stop(stop)) => return Err(stop),
        Err(LockFailure::Busy { holder, waited }) => {
            let log = format!(
                "{instance} is busy: {holder} has been acting on it for more than {} s; \
                 run this item again once that task has ended",
                waited.as_secs()
            );
            return match exec
                .store
                .finish_task_item(
                    fence,
                    &it.item_no,
                    TaskItemStatus::Failed as i64,
                    &log,
                    now(),
                )
                .await?
            {
                true => Ok(TaskItemStatus::Failed as i64),
                false => Err(Stop::LeaseLost),
            };
        }
    };
    let outcome = async {
        if !exec
            .store
            .start_task_item(fence, &it.item_no, now())
            .await?
        {
            return Err(Stop::LeaseLost);
        }
        let (status, log) = commands::execute(exec, claim, &lock, it, user).await?;
        let log = truncate_log(log);
        if !exec
            .store
            .finish_task_item(fence, &it.item_no, status as i64, &log, now())
            .await?
        {
            return Err(Stop::LeaseLost);
        }
        Ok(status as i64)
    }
    .await;
    lock.release().await;
    outcome
}

fn truncate_log(mut log: String) -> String {
    if log.len() > MAX_LOG_BYTES {
        let mut cut = MAX_LOG_BYTES;
        while !log.is_char_boundary(cut) {
            cut -= 1;
        }
        log.truncate(cut);
        log.push_str(" … (truncated)");
    }
    log
}

#[cfg(test)]
mod tests {
    use super::truncate_log;

    #[test]
    fn long_logs_are_cut_on_a_character_boundary() {
        let short = "ok".to_string();
        assert_eq!(truncate_log(short.clone()), short);
        let long = "é".repeat(20_000);
        let cut = truncate_log(long);
        assert!(cut.len() <= 16 * 1024 + 20);
        assert!(cut.ends_with("(truncated)"));
    }
}
