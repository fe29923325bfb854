//! Instance locks (`t_platform_instance_lock`): one row per server instance a task is
//! acting on, with a holder and a lease, so two tasks never act on one instance at once
//! and a lock whose holder died expires. Times are UTC.
//!
//! Only taking a lock may create its row; renewing only extends a row the holder still
//! has, so a renewal racing a release can never bring a released lock back.

use chrono::NaiveDateTime;

use crate::pool::with_pool;
use crate::{Store, StoreError, StoreResult};

/// The outcome of trying to take an instance lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAttempt {
    /// The caller holds the lock now.
    Taken,
    /// Someone else holds it (`holder` as recorded, until `lease_until`).
    Busy {
        /// The holder's name, `runner/task#generation` as the task-runner writes it.
        holder: String,
        /// When its lease ends unless renewed (UTC); after that the lock may be taken.
        lease_until: NaiveDateTime,
    },
}

#[derive(sqlx::FromRow)]
struct LockRow {
    holder: String,
    lease_until: NaiveDateTime,
}

impl Store {
    /// Takes the lock on `instance` for `holder` until `lease_until`: succeeds when it is
    /// free, expired, or already this holder's.
    pub async fn try_lock_instance(
        &self,
        instance: &str,
        holder: &str,
        utc_now: NaiveDateTime,
        lease_until: NaiveDateTime,
    ) -> StoreResult<LockAttempt> {
        let taken = with_pool!(self, pool => {
            sqlx::query("UPDATE t_platform_instance_lock SET holder = ?, lease_until = ? \
                         WHERE instance = ? AND (holder = ? OR lease_until < ?)")
                .bind(holder)
                .bind(lease_until)
                .bind(instance)
                .bind(holder)
                .bind(utc_now)
                .execute(pool)
                .await?
                .rows_affected()
                == 1
        });
        if taken {
            return Ok(LockAttempt::Taken);
        }
        let inserted = with_pool!(self, pool => {
            sqlx::query("INSERT INTO t_platform_instance_lock (instance, holder, lease_until) VALUES (?, ?, ?)")
                .bind(instance)
                .bind(holder)
                .bind(lease_until)
                .execute(pool)
                .await
                .map(|_| ())
        });
        match inserted.map_err(crate::error::convert_sqlx_err) {
            Ok(()) => Ok(LockAttempt::Taken),
            Err(StoreError::AlreadyExists(_)) => {
                let row = with_pool!(self, pool => {
                    sqlx::query_as::<_, LockRow>(
                        "SELECT holder, lease_until FROM t_platform_instance_lock WHERE instance = ?",
                    )
                    .bind(instance)
                    .fetch_optional(pool)
                    .await?
                });
                // Released between the insert and this read: free now, try again later.
                Ok(match row {
                    Some(r) => LockAttempt::Busy {
                        holder: r.holder,
                        lease_until: r.lease_until,
                    },
                    None => LockAttempt::Busy {
                        holder: String::new(),
                        lease_until: utc_now,
                    },
                })
            }
            Err(other) => Err(other),
        }
    }

    /// Extends `holder`'s lock; false when it no longer has it (expired and taken by
    /// another, or released). Never creates the row.
    pub async fn renew_instance_lock(
        &self,
        instance: &str,
        holder: &str,
        lease_until: NaiveDateTime,
    ) -> StoreResult<bool> {
        Ok(with_pool!(self, pool => {
            sqlx::query("UPDATE t_platform_instance_lock SET lease_until = ? WHERE instance = ? AND holder = ?")
                .bind(lease_until)
                .bind(instance)
                .bind(holder)
                .execute(pool)
                .await?
                .rows_affected()
                == 1
        }))
    }

    /// Releases an instance lock held by `holder` (nothing when another holds it).
    pub async fn unlock_instance(&self, instance: &str, holder: &str) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM t_platform_instance_lock WHERE instance = ? AND holder = ?")
                .bind(instance)
                .bind(holder)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
