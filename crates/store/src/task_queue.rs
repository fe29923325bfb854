//! The task queue (`t_platform_task_queue`): publishing, claims with leases, and the
//! fence every write of a running task carries.
//!
//! A claim names its holder and a generation (the queue row's `attempts`, incremented
//! by every claim). Every write a runner makes on behalf of a task — item states, the
//! task's end, its retry, and the registry rows a command changes — is conditional on
//! the queue row still naming that holder and generation, so a runner that lost its
//! claim (paused past its lease while another runner took the task over) cannot write.
//! Queue times are UTC.

use chrono::NaiveDateTime;

use crate::pool::with_pool;
use crate::{Store, StoreResult};

/// The proof of a claim: who holds the task, and which claim of it this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The task claimed (`t_platform_task_queue.task_no`).
    pub task_no: String,
    /// The runner holding it (`claimed_by`, the runner's `TARS_RUNNER_ID`).
    pub holder: String,
    /// The claim's generation; a later claim of the same task has a larger one.
    pub generation: i64,
}

/// A successful claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// What every write for this attempt must carry.
    pub fence: Fence,
    /// Earlier attempts that ended on an error.
    pub failures: i64,
    /// The error that ended the latest failed attempt.
    pub last_error: Option<String>,
    /// The `traceparent` the task was accepted under (empty: none).
    pub trace_parent: String,
}

/// What a claim attempt found.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimOutcome {
    /// This runner now holds the task.
    Claimed(Claimed),
    /// Another runner holds it under a valid lease (or won the race for it).
    Held,
    /// The task already ended.
    Finished,
    /// No such task in the queue.
    Missing,
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    trace_parent: String,
    attempts: i64,
    failures: i64,
    last_error: Option<String>,
    claimed_by: Option<String>,
    lease_until: Option<NaiveDateTime>,
    finished_at: Option<NaiveDateTime>,
}

/// The condition a fenced statement on another table adds; binds task_no, holder,
/// generation.
pub(crate) const FENCE_EXISTS: &str = "EXISTS (SELECT 1 FROM t_platform_task_queue f \
     WHERE f.task_no = ? AND f.claimed_by = ? AND f.attempts = ? AND f.finished_at IS NULL)";

/// The queue row of the fence, as a WHERE clause; binds task_no, holder, generation.
const FENCED_ROW: &str =
    "WHERE task_no = ? AND claimed_by = ? AND attempts = ? AND finished_at IS NULL";

/// `UPDATE t_platform_task_queue SET <set> WHERE <the fence's row>` with the SET values
/// bound first; true when the fence still held.
macro_rules! update_fenced_row {
    ($store:expr, $fence:expr, $set:literal $(, $value:expr)*) => {{
        let sql = format!("UPDATE t_platform_task_queue SET {} {FENCED_ROW}", $set);
        Ok(with_pool!($store, pool => {
            sqlx::query(&sql)
                $(.bind($value))*
                .bind(&$fence.task_no)
                .bind(&$fence.holder)
                .bind($fence.generation)
                .execute(pool)
                .await?
                .rows_affected()
                == 1
        }))
    }};
}

/// `UPDATE t_task_item SET <set> WHERE <the item> AND <the fence holds>`; true when the
/// fence still held.
macro_rules! update_fenced_item {
    ($store:expr, $fence:expr, $item_no:expr, $set:literal $(, $value:expr)*) => {{
        let sql = format!(
            "UPDATE t_task_item SET {} WHERE task_no = ? AND item_no = ? AND {FENCE_EXISTS}",
            $set
        );
        Ok(with_pool!($store, pool => {
            sqlx::query(&sql)
                $(.bind($value))*
                .bind(&$fence.task_no)
                .bind($item_no)
                .bind(&$fence.task_no)
                .bind(&$fence.holder)
                .bind($fence.generation)
                .execute(pool)
                .await?
                .rows_affected()
                == 1
        }))
    }};
}

/// Runs `$body` in a transaction that first locks the fence's queue row; answers
/// `Ok(false)` (nothing written) when the fence no longer holds, else `Ok(true)`.
macro_rules! in_fenced_transaction {
    ($store:expr, $fence:expr, $tx:ident => $body:block) => {{
        with_pool!($store, pool => {
            let mut $tx = pool.begin().await?;
            if !lock_fence!($tx, $fence) {
                $tx.rollback().await?;
                return Ok(false);
            }
            $body
            $tx.commit().await?;
        });
        Ok(true)
    }};
}
pub(crate) use in_fenced_transaction;

/// Locks the claim row inside a transaction (InnoDB row lock; SQLite's write lock), so a
/// concurrent claim waits for the transaction; true while the fence holds.
macro_rules! lock_fence {
    ($tx:expr, $fence:expr) => {
        sqlx::query(
            "UPDATE t_platform_task_queue SET lease_until = lease_until \
             WHERE task_no = ? AND claimed_by = ? AND attempts = ? AND finished_at IS NULL",
        )
        .bind(&$fence.task_no)
        .bind(&$fence.holder)
        .bind($fence.generation)
        .execute(&mut *$tx)
        .await?
        .rows_affected()
            == 1
    };
}
pub(crate) use lock_fence;

impl Store {
    /// Up to `limit` tasks not yet handed to the queue, oldest first, each with the
    /// `traceparent` it was accepted under.
    pub async fn unpublished_tasks(&self, limit: i64) -> StoreResult<Vec<(String, String)>> {
        let sql = format!(
            "SELECT task_no, trace_parent FROM t_platform_task_queue WHERE published_at IS NULL \
             ORDER BY created_at LIMIT {limit}"
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, (String, String)>(&sql).fetch_all(pool).await?
        }))
    }

    /// Records that a task reached the queue.
    pub async fn mark_published(&self, task_no: &str, utc_now: NaiveDateTime) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE t_platform_task_queue SET published_at = ? WHERE task_no = ? AND published_at IS NULL")
                .bind(utc_now)
                .bind(task_no)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Claims a task for `holder` until `lease_until`: succeeds only for an unfinished task
    /// nobody holds (or whose holder's lease ran out), and only for one of several
    /// concurrent claimers (a compare-and-set on the generation). This is what makes a
    /// redelivered message, or a second runner, a no-op.
    pub async fn claim_task(
        &self,
        task_no: &str,
        holder: &str,
        utc_now: NaiveDateTime,
        lease_until: NaiveDateTime,
    ) -> StoreResult<ClaimOutcome> {
        let select =
            "SELECT trace_parent, attempts, failures, last_error, claimed_by, lease_until, \
                      finished_at FROM t_platform_task_queue WHERE task_no = ?";
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, ClaimRow>(select).bind(task_no).fetch_optional(pool).await?
        });
        let Some(row) = row else {
            return Ok(ClaimOutcome::Missing);
        };
        if row.finished_at.is_some() {
            return Ok(ClaimOutcome::Finished);
        }
        if row.claimed_by.is_some() && row.lease_until.is_some_and(|l| l >= utc_now) {
            return Ok(ClaimOutcome::Held);
        }
        let update =
            "UPDATE t_platform_task_queue SET claimed_by = ?, claimed_at = ?, lease_until = ?, \
                      attempts = ? WHERE task_no = ? AND attempts = ? AND finished_at IS NULL \
                      AND (claimed_by IS NULL OR lease_until < ?)";
        let generation = row.attempts + 1;
        let won = with_pool!(self, pool => {
            sqlx::query(update)
                .bind(holder)
                .bind(utc_now)
                .bind(lease_until)
                .bind(generation)
                .bind(task_no)
                .bind(row.attempts)
                .bind(utc_now)
                .execute(pool)
                .await?
                .rows_affected()
                == 1
        });
        if !won {
            return Ok(ClaimOutcome::Held);
        }
        Ok(ClaimOutcome::Claimed(Claimed {
            fence: Fence {
                task_no: task_no.to_string(),
                holder: holder.to_string(),
                generation,
            },
            failures: row.failures,
            last_error: row.last_error,
            trace_parent: row.trace_parent,
        }))
    }

    /// Extends the claim's lease; false when the claim is no longer this one (another
    /// runner claimed the task since, or it ended). An expired lease nobody else claimed
    /// is still this claim's and is extended.
    pub async fn renew_task_lease(
        &self,
        fence: &Fence,
        lease_until: NaiveDateTime,
    ) -> StoreResult<bool> {
        update_fenced_row!(self, fence, "lease_until = ?", lease_until)
    }

    /// Marks the task finished; false when the claim was lost.
    pub async fn finish_task(&self, fence: &Fence, utc_now: NaiveDateTime) -> StoreResult<bool> {
        update_fenced_row!(self, fence, "finished_at = ?", utc_now)
    }

    /// Ends this attempt on an error: the task becomes claimable again at `retry_at` (by
    /// any runner), with the failure counted and `error` kept. False when the claim was
    /// lost (then the new holder decides).
    pub async fn release_task_for_retry(
        &self,
        fence: &Fence,
        retry_at: NaiveDateTime,
        error: &str,
    ) -> StoreResult<bool> {
        update_fenced_row!(
            self,
            fence,
            "lease_until = ?, failures = failures + 1, last_error = ?",
            retry_at,
            error
        )
    }

    /// Hands the task back at once without counting a failure (a runner shutting down).
    pub async fn release_task(&self, fence: &Fence, utc_now: NaiveDateTime) -> StoreResult<bool> {
        update_fenced_row!(self, fence, "claimed_by = NULL, lease_until = ?", utc_now)
    }

    /// Ends the task as failed: every item not yet ended becomes failed with `reason`
    /// as its log, and the task is finished, in one transaction. False when the claim
    /// was lost (nothing is written).
    pub async fn fail_task(
        &self,
        fence: &Fence,
        reason: &str,
        local_now: NaiveDateTime,
        utc_now: NaiveDateTime,
    ) -> StoreResult<bool> {
        in_fenced_transaction!(self, fence, tx => {
            sqlx::query(
                "UPDATE t_task_item SET status = 4, end_time = ?, log = ? \
                 WHERE task_no = ? AND (status IS NULL OR status NOT IN (3, 4, 5))",
            )
            .bind(local_now)
            .bind(reason)
            .bind(&fence.task_no)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE t_platform_task_queue SET finished_at = ?, last_error = ? WHERE task_no = ?")
                .bind(utc_now)
                .bind(reason)
                .bind(&fence.task_no)
                .execute(&mut *tx)
                .await?;
        })
    }

    /// Unfinished tasks a runner may take over: held under an expired lease (a runner
    /// died, or an attempt failed and its retry is due), or never claimed and created
    /// before `unclaimed_before` (with `published_only`, also handed to the queue by
    /// then: a task still waiting for the broker stays queued).
    pub async fn claimable_tasks(
        &self,
        utc_now: NaiveDateTime,
        unclaimed_before: NaiveDateTime,
        published_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<String>> {
        let unclaimed = if published_only {
            "(claimed_by IS NULL AND published_at IS NOT NULL AND published_at < ?)"
        } else {
            "(claimed_by IS NULL AND created_at < ?)"
        };
        // A task handed back at shutdown has no holder but a lease time: it is due at once.
        let sql = format!(
            "SELECT task_no FROM t_platform_task_queue WHERE finished_at IS NULL AND \
             ((lease_until IS NOT NULL AND lease_until < ?) OR {unclaimed}) \
             ORDER BY created_at LIMIT {limit}"
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(&sql).bind(utc_now).bind(unclaimed_before).fetch_all(pool).await?
        }))
    }

    /// Marks an item running (before its node calls); false when the claim was lost.
    pub async fn start_task_item(
        &self,
        fence: &Fence,
        item_no: &str,
        local_now: NaiveDateTime,
    ) -> StoreResult<bool> {
        update_fenced_item!(
            self,
            fence,
            item_no,
            "status = 2, start_time = ?",
            local_now
        )
    }

    /// Records an item's outcome; false when the claim was lost (the outcome is then
    /// the new holder's to record).
    pub async fn finish_task_item(
        &self,
        fence: &Fence,
        item_no: &str,
        status: i64,
        log: &str,
        local_now: NaiveDateTime,
    ) -> StoreResult<bool> {
        update_fenced_item!(
            self,
            fence,
            item_no,
            "status = ?, end_time = ?, log = ?",
            status,
            local_now,
            log
        )
    }
}
