//! What the store reports to the metrics (`tars_metrics`): the connection pool's figures,
//! the task queue's counts and a finished task's item statuses. Each is one cheap read,
//! made only by processes that record metrics.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::pool::with_pool;
use crate::{Store, StoreResult};

/// The task queue's counts, from `t_platform_task_queue` (unfinished rows only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCounts {
    /// Accepted, not yet handed to Kafka (`published_at IS NULL`).
    pub unpublished: i64,
    /// Handed to Kafka, held by no runner.
    pub published_unclaimed: i64,
    /// Held by no runner, published or not (what the embedded queue's sweeper takes).
    pub unclaimed: i64,
}

impl Store {
    /// The pool now: connections open, in use, and its size limit.
    pub fn pool_figures(&self) -> (u32, u32, u32) {
        with_pool!(self, pool => {
            let open = pool.size();
            let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
            (open, open.saturating_sub(idle), pool.options().get_max_connections())
        })
    }

    /// How long taking a pooled connection waits now (the connection is handed straight
    /// back).
    ///
    /// # Errors
    /// `Unavailable` when no connection came within the acquire timeout.
    pub async fn probe_acquire(&self) -> StoreResult<Duration> {
        let started = Instant::now();
        with_pool!(self, pool => {
            drop(pool.acquire().await?);
        });
        Ok(started.elapsed())
    }

    /// Samples the pool into the metrics now and every few seconds until `shutdown`, when
    /// this process records metrics.
    pub fn spawn_pool_metrics(&self, shutdown: CancellationToken) {
        let store = self.clone();
        tars_common::metrics::spawn_sampler(shutdown, move || {
            let store = store.clone();
            async move {
                let (open, in_use, max) = store.pool_figures();
                tars_metrics::db_pool(open, in_use, max);
                match store.probe_acquire().await {
                    Ok(waited) => tars_metrics::db_acquire_wait(waited),
                    Err(err) => tracing::debug!(error = %err, "pool probe failed"),
                }
            }
        });
    }

    /// The unfinished tasks by where they wait: three `COUNT`s over the queue's indexed
    /// columns.
    pub async fn queue_counts(&self) -> StoreResult<QueueCounts> {
        let count = |condition: &str| {
            format!(
                "SELECT COUNT(*) FROM t_platform_task_queue WHERE finished_at IS NULL AND {condition}"
            )
        };
        let (unpublished, published_unclaimed, unclaimed) = (
            count("published_at IS NULL"),
            count("published_at IS NOT NULL AND claimed_by IS NULL"),
            count("claimed_by IS NULL"),
        );
        Ok(with_pool!(self, pool => {
            QueueCounts {
                unpublished: sqlx::query_scalar::<_, i64>(&unpublished).fetch_one(pool).await?,
                published_unclaimed: sqlx::query_scalar::<_, i64>(&published_unclaimed)
                    .fetch_one(pool)
                    .await?,
                unclaimed: sqlx::query_scalar::<_, i64>(&unclaimed).fetch_one(pool).await?,
            }
        }))
    }

    /// How many items of `task_no` are in each status (a missing status reads 0).
    pub async fn item_status_counts(&self, task_no: &str) -> StoreResult<Vec<(i64, i64)>> {
        let sql = "SELECT COALESCE(status, 0) AS s, COUNT(*) FROM t_task_item \
                   WHERE task_no = ? GROUP BY COALESCE(status, 0)";
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, (i64, i64)>(sql).bind(task_no).fetch_all(pool).await?
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreConfig};

    #[tokio::test]
    async fn counts_and_figures_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig {
            database_url: None,
            data_dir: dir.path().to_path_buf(),
            max_connections: Some(3),
            acquire_timeout: std::time::Duration::from_secs(5),
            server_cache_ttl: None,
        })
        .await
        .unwrap();
        let (open, in_use, max) = store.pool_figures();
        assert_eq!(max, 3);
        assert!(open <= 3 && in_use <= open, "{open} {in_use}");
        store.probe_acquire().await.unwrap();
        let counts = store.queue_counts().await.unwrap();
        assert_eq!((counts.unpublished, counts.unclaimed), (0, 0));
        assert!(store.item_status_counts("none").await.unwrap().is_empty());
    }
}
