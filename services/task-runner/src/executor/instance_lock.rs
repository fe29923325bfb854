//! The lock on one server instance while an item acts on it: taken with a bounded wait,
//! renewed while held, released on every way out of the item (an explicit release
//! stops the renewer before deleting the row; a dropped guard releases in the
//! background; the lease is the backstop when the runner dies).

use std::time::{Duration, Instant};

use tars_store::instance_lock::LockAttempt;
use tars_store::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::claim::LiveClaim;
use super::{lease_from, utc_now, Stop};

/// Why an instance lock was not taken.
pub(super) enum LockFailure {
    /// Held by someone else for longer than the wait allows.
    Busy { holder: String, waited: Duration },
    /// The task must stop (claim lost, shutdown, database failure).
    Stop(Stop),
}

impl From<Stop> for LockFailure {
    fn from(stop: Stop) -> Self {
        LockFailure::Stop(stop)
    }
}

/// A held instance lock.
pub(super) struct InstanceLock {
    store: Store,
    instance: String,
    holder: String,
    lost: CancellationToken,
    stop_renewing: CancellationToken,
    renewer: Option<JoinHandle<()>>,
}

/// What an acquisition needs.
pub(super) struct LockRequest<'a> {
    pub instance: &'a str,
    pub holder: &'a str,
    pub lease: Duration,
    pub max_wait: Duration,
    pub shutdown: &'a CancellationToken,
}

impl InstanceLock {
    /// Waits until the instance is free (polling with a growing pause), at most
    /// `max_wait`; gives up as soon as the claim is lost or the runner shuts down.
    pub async fn acquire(
        store: &Store,
        claim: &LiveClaim,
        request: LockRequest<'_>,
    ) -> Result<InstanceLock, LockFailure> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            claim.ensure_held().await?;
            let now = utc_now();
            match store
                .try_lock_instance(
                    request.instance,
                    request.holder,
                    now,
                    lease_from(now, request.lease),
                )
                .await
                .map_err(Stop::Store)?
            {
                LockAttempt::Taken => {
                    return Ok(InstanceLock::held(
                        store.clone(),
                        request.instance,
                        request.holder,
                        request.lease,
                    ))
                }
                LockAttempt::Busy { holder, .. } => {
                    let waited = started.elapsed();
                    if waited >= request.max_wait {
                        return Err(LockFailure::Busy { holder, waited });
                    }
                    tokio::select! {
                        _ = claim.lost() => return Err(Stop::LeaseLost.into()),
                        _ = request.shutdown.cancelled() => return Err(Stop::Shutdown.into()),
                        _ = tokio::time::sleep(pause.min(request.max_wait - waited)) => {}
                    }
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    fn held(store: Store, instance: &str, holder: &str, lease: Duration) -> InstanceLock {
        let lost = CancellationToken::new();
        let stop_renewing = CancellationToken::new();
        let renewer = tokio::spawn(renew(
            store.clone(),
            instance.to_string(),
            holder.to_string(),
            lease,
            lost.clone(),
            stop_renewing.clone(),
        ));
        InstanceLock {
            store,
            instance: instance.to_string(),
            holder: holder.to_string(),
            lost,
            stop_renewing,
            renewer: Some(renewer),
        }
    }

    /// Fails once the lock was found taken by another holder (it expired while this
    /// runner could not renew it): the instance is no longer this item's alone.
    pub fn ensure_held(&self) -> Result<(), Stop> {
        if self.lost.is_cancelled() {
            Err(Stop::LeaseLost)
        } else {
            Ok(())
        }
    }

    /// Stops renewing, then deletes the lock row. A failed delete is logged; the lease
    /// frees the instance soon after.
    pub async fn release(mut self) {
        self.stop_renewing.cancel();
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.await;
        }
        if let Err(err) = self
            .store
            .unlock_instance(&self.instance, &self.holder)
            .await
        {
            tracing::warn!(instance = %self.instance, error = %err,
                "cannot release the instance lock; it frees when its lease ends");
        }
    }
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        self.stop_renewing.cancel();
        // Not released explicitly (the item's future was dropped): release in the
        // background once the renewer has stopped.
        if let Some(renewer) = self.renewer.take() {
            let (store, instance, holder) = (
                self.store.clone(),
                self.instance.clone(),
                self.holder.clone(),
            );
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = renewer.await;
                    let _ = store.unlock_instance(&instance, &holder).await;
                });
            }
        }
    }
}

async fn renew(
    store: Store,
    instance: String,
    holder: String,
    lease: Duration,
    lost: CancellationToken,
    stop: CancellationToken,
) {
    let period = (lease / 3).max(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        match store
            .renew_instance_lock(&instance, &holder, lease_from(utc_now(), lease))
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                if !stop.is_cancelled() {
                    tracing::warn!(%instance, %holder, "lost the instance lock to another holder");
                    lost.cancel();
                }
                return;
            }
            Err(err) => tracing::warn!(%instance, error = %err, "cannot renew the instance lock"),
        }
    }
}
