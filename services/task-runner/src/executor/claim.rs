//! A claim held while a task runs: its fence, the renewer that extends its lease, and
//! the check made before every node call.
//!
//! The runner trusts its claim only until `valid_until`, a local monotonic deadline a
//! safety margin short of the lease it last wrote. Past that deadline (a pause, a slow
//! or unreachable database) it must confirm the claim with a fenced renewal before it
//! acts again; if the renewal finds another holder, or cannot be made, the claim counts
//! as lost: no node call is issued and no state is written any more.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tars_store::task_queue::Fence;
use tars_store::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{lease_from, utc_now, Stop};

/// The claim of a running task.
pub(super) struct LiveClaim {
    pub fence: Fence,
    store: Store,
    lease: Duration,
    valid_until: Arc<Mutex<Instant>>,
    /// Cancelled once the claim is known lost; waits select on it.
    lost: CancellationToken,
    stop_renewing: CancellationToken,
    renewer: Option<JoinHandle<()>>,
}

/// How much earlier than its lease a runner stops trusting its claim: covers the
/// database round trip and clock differences between runners.
fn margin(lease: Duration) -> Duration {
    (lease / 5).max(Duration::from_millis(100))
}

impl LiveClaim {
    /// Starts renewing `fence`, whose lease was written by a request sent at `sent_at`.
    pub fn start(store: Store, fence: Fence, lease: Duration, sent_at: Instant) -> LiveClaim {
        let valid_until = Arc::new(Mutex::new(sent_at + lease.saturating_sub(margin(lease))));
        let lost = CancellationToken::new();
        let stop_renewing = CancellationToken::new();
        let renewer = tokio::spawn(renew(
            store.clone(),
            fence.clone(),
            lease,
            valid_until.clone(),
            lost.clone(),
            stop_renewing.clone(),
        ));
        LiveClaim {
            fence,
            store,
            lease,
            valid_until,
            lost,
            stop_renewing,
            renewer: Some(renewer),
        }
    }

    /// Resolves when the claim is known lost.
    pub async fn lost(&self) {
        self.lost.cancelled().await
    }

    /// Succeeds while this runner may act for the task: within the trusted time, or
    /// after a fenced renewal confirmed the claim.
    pub async fn ensure_held(&self) -> Result<(), Stop> {
        if self.lost.is_cancelled() {
            return Err(Stop::LeaseLost);
        }
        if Instant::now() < *self.valid_until.lock().expect("not poisoned") {
            return Ok(());
        }
        let sent_at = Instant::now();
        match self
            .store
            .renew_task_lease(&self.fence, lease_from(utc_now(), self.lease))
            .await
        {
            Ok(true) => {
                extend(&self.valid_until, sent_at, self.lease);
                Ok(())
            }
            Ok(false) => {
                tracing::warn!(task_no = %self.fence.task_no, generation = self.fence.generation,
                    "the task was claimed by another runner; stopping");
                self.lost.cancel();
                Err(Stop::LeaseLost)
            }
            Err(err) => {
                tracing::warn!(task_no = %self.fence.task_no, error = %err,
                    "cannot confirm the task's lease; stopping, the task will be taken over");
                self.lost.cancel();
                Err(Stop::LeaseLost)
            }
        }
    }

    /// Stops the renewer and waits until it has stopped, so nothing renews the lease
    /// after this returns.
    pub async fn stop(mut self) {
        self.stop_renewing.cancel();
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.await;
        }
    }
}

impl Drop for LiveClaim {
    fn drop(&mut self) {
        self.stop_renewing.cancel();
    }
}

fn extend(valid_until: &Mutex<Instant>, sent_at: Instant, lease: Duration) {
    let until = sent_at + lease.saturating_sub(margin(lease));
    let mut current = valid_until.lock().expect("not poisoned");
    if until > *current {
        *current = until;
    }
}

async fn renew(
    store: Store,
    fence: Fence,
    lease: Duration,
    valid_until: Arc<Mutex<Instant>>,
    lost: CancellationToken,
    stop: CancellationToken,
) {
    let period = (lease / 3).max(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        let sent_at = Instant::now();
        let renewed = store
            .renew_task_lease(&fence, lease_from(utc_now(), lease))
            .await;
        if stop.is_cancelled() {
            return;
        }
        match renewed {
            Ok(true) => extend(&valid_until, sent_at, lease),
            Ok(false) => {
                tracing::warn!(task_no = %fence.task_no, generation = fence.generation,
                    "lost the task's claim to another runner");
                lost.cancel();
                return;
            }
            // The trusted time runs out on its own; the next check confirms or gives up.
            Err(err) => {
                tracing::warn!(task_no = %fence.task_no, error = %err, "cannot renew the task's lease")
            }
        }
    }
}
