//! The audit log's side of every deployer call: a write through the API (the gateway
//! marks those) gets its row once, in the write's own transaction where the store can
//! (`tars_store::audit`), else here, after the call, with its outcome: refusals (403) and
//! failures included. Rows older than `TARS_AUDIT_RETENTION_DAYS` are purged hourly
//! ([`spawn_purge`]); clients can neither write nor delete them.

use tars_store::Store;

use crate::error::DeployerResult;

/// Records the outcome of the call being served, if it is audited.
pub async fn finish<T>(store: &Store, answer: &DeployerResult<T>) {
    match answer {
        Ok(_) => store.finish_audited_call(200, "").await,
        Err(err) => {
            store
                .finish_audited_call(err.code().http_status(), &err.to_string())
                .await
        }
    }
}

/// How often old audit rows are looked for.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
/// Rows deleted per statement, so a purge never holds long locks.
const PURGE_BATCH: i64 = 1000;

/// Deletes audit rows older than `days` now and every hour until `shutdown`; `days == 0`
/// keeps every row. Several deployers purging at once only repeat each other's deletes.
pub fn spawn_purge(store: Store, days: u32, shutdown: tokio_util::sync::CancellationToken) {
    if days == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            let before = tars_common::time::now_local() - chrono::Duration::days(i64::from(days));
            match store.purge_audit(before, PURGE_BATCH).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(rows = n, %before, "old audit rows purged (TARS_AUDIT_RETENTION_DAYS)")
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot purge old audit rows; will try again in an hour")
                }
            }
        }
    });
}
