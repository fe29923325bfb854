//! Tasks: TARS's `t_task` / `t_task_item`, and our queue (`t_platform_task_queue`) and
//! instance locks (`t_platform_instance_lock`).
//!
//! A task is written in one transaction with its items and its queue row, so an accepted
//! task is never lost. Queue times are UTC; TARS's own columns keep local time.

use chrono::NaiveDateTime;

use crate::args::{bind_args, Filter};
use crate::pool::with_pool;
use crate::{PageWindow, Store, StoreResult};

/// A task to create.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub task_no: String,
    pub serial: bool,
    pub user_name: String,
    pub items: Vec<NewTaskItem>,
}

/// One item of a task to create.
#[derive(Debug, Clone)]
pub struct NewTaskItem {
    pub item_no: String,
    pub application: String,
    pub server_name: String,
    pub node_name: String,
    pub set_name: String,
    pub command: String,
    /// JSON object text.
    pub parameters: String,
}

/// A task row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TaskRow {
    pub task_no: String,
    pub serial: Option<i64>,
    pub user_name: Option<String>,
    pub create_time: Option<NaiveDateTime>,
}

/// A task item row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TaskItemRow {
    pub task_no: String,
    pub item_no: String,
    pub application: Option<String>,
    pub server_name: Option<String>,
    pub node_name: Option<String>,
    pub command: Option<String>,
    pub parameters: Option<String>,
    pub start_time: Option<NaiveDateTime>,
    pub end_time: Option<NaiveDateTime>,
    pub status: Option<i64>,
    pub log: Option<String>,
}

/// Where a task is in the queue.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct QueueRow {
    pub task_no: String,
    pub published_at: Option<NaiveDateTime>,
    pub claimed_by: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub attempts: i64,
}

/// Filters of the task list; `None` does not filter.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub application: Option<String>,
    pub server_name: Option<String>,
    pub command: Option<String>,
    /// Created at or after (local time).
    pub from: Option<NaiveDateTime>,
    /// Created at or before (local time).
    pub to: Option<NaiveDateTime>,
}

/// A package row, as patch_tars needs it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PatchRow {
    pub id: i64,
    pub server: Option<String>,
    pub tgz: Option<String>,
    pub md5: Option<String>,
}

/// `t_task.create_time` is a TIMESTAMP in TARS's MySQL schema, which sqlx decodes only
/// as a zoned time; read it as DATETIME there, as the text it is in SQLite elsewhere.
fn create_time_column(store: &Store) -> &'static str {
    match store.backend() {
        crate::Backend::MySql => "CAST(t.create_time AS DATETIME) AS create_time",
        crate::Backend::Sqlite => "t.create_time",
    }
}

const ITEM_COLUMNS: &str =
    "task_no, item_no, application, server_name, node_name, command, parameters, \
     start_time, end_time, status, log";

impl Store {
    /// Writes a task, its items (status 0) and its queue row in one transaction.
    pub async fn insert_task(
        &self,
        task: &NewTask,
        local_now: NaiveDateTime,
        utc_now: NaiveDateTime,
    ) -> StoreResult<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO t_task (task_no, serial, user_name, create_time) VALUES (?, ?, ?, ?)")
                .bind(&task.task_no)
                .bind(i64::from(task.serial))
                .bind(&task.user_name)
                .bind(local_now)
                .execute(&mut *tx)
                .await?;
            for item in &task.items {
                sqlx::query(
                    "INSERT INTO t_task_item (task_no, item_no, application, server_name, node_name, set_name, \
                     command, parameters, status, log) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, '')",
                )
                .bind(&task.task_no)
                .bind(&item.item_no)
                .bind(&item.application)
                .bind(&item.server_name)
                .bind(&item.node_name)
                .bind(&item.set_name)
                .bind(&item.command)
                .bind(&item.parameters)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("INSERT INTO t_platform_task_queue (task_no, created_at) VALUES (?, ?)")
                .bind(&task.task_no)
                .bind(utc_now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The task row.
    pub async fn task(&self, task_no: &str) -> StoreResult<Option<TaskRow>> {
        let sql = format!(
            "SELECT t.task_no, t.serial, t.user_name, {} FROM t_task t WHERE t.task_no = ?",
            create_time_column(self)
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, TaskRow>(&sql).bind(task_no).fetch_optional(pool).await?
        }))
    }

    /// The task's items, in the order they were given.
    pub async fn task_items(&self, task_no: &str) -> StoreResult<Vec<TaskItemRow>> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM t_task_item WHERE task_no = ? ORDER BY id");
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, TaskItemRow>(&sql).bind(task_no).fetch_all(pool).await?
        }))
    }

    /// The task's queue row.
    pub async fn task_queue_state(&self, task_no: &str) -> StoreResult<Option<QueueRow>> {
        let sql = "SELECT task_no, published_at, claimed_by, lease_until, finished_at, attempts \
                   FROM t_platform_task_queue WHERE task_no = ?";
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, QueueRow>(sql).bind(task_no).fetch_optional(pool).await?
        }))
    }

    /// Tasks newest first, with items matching the filters.
    pub async fn list_tasks(
        &self,
        filter: &TaskFilter,
        window: Option<PageWindow>,
    ) -> StoreResult<Vec<TaskRow>> {
        let mut f = Filter::default();
        if let Some(v) = &filter.application {
            f.eq("i.application", v.as_str());
        }
        if let Some(v) = &filter.server_name {
            f.eq("i.server_name", v.as_str());
        }
        if let Some(v) = &filter.command {
            f.eq("i.command", v.as_str());
        }
        let mut sql = format!(
            "SELECT t.task_no, t.serial, t.user_name, {} FROM t_task t \
             WHERE t.task_no IN (SELECT i.task_no FROM t_task_item i{})",
            create_time_column(self),
            f.where_sql()
        );
        if filter.from.is_some() {
            sql.push_str(" AND t.create_time >= ?");
        }
        if filter.to.is_some() {
            sql.push_str(" AND t.create_time <= ?");
        }
        sql.push_str(" ORDER BY t.create_time DESC, t.id DESC");
        if let Some(w) = window {
            sql.push_str(&format!(" LIMIT {} OFFSET {}", w.limit, w.offset));
        }
        Ok(with_pool!(self, pool => {
            let mut q = bind_args!(sqlx::query_as::<_, TaskRow>(&sql), f.args);
            if let Some(from) = filter.from {
                q = q.bind(from);
            }
            if let Some(to) = filter.to {
                q = q.bind(to);
            }
            q.fetch_all(pool).await?
        }))
    }

    /// Up to `limit` tasks not yet handed to the queue, oldest first.
    pub async fn unpublished_tasks(&self, limit: i64) -> StoreResult<Vec<String>> {
        let sql = format!(
            "SELECT task_no FROM t_platform_task_queue WHERE published_at IS NULL ORDER BY created_at LIMIT {limit}"
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(&sql).fetch_all(pool).await?
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
    /// nobody holds (or whose holder's lease ran out). This conditional update is what
    /// makes a redelivered message, or a second runner, a no-op.
    pub async fn claim_task(
        &self,
        task_no: &str,
        holder: &str,
        utc_now: NaiveDateTime,
        lease_until: NaiveDateTime,
    ) -> StoreResult<bool> {
        let sql = "UPDATE t_platform_task_queue SET claimed_by = ?, claimed_at = ?, lease_until = ?, \
                   attempts = attempts + 1 \
                   WHERE task_no = ? AND finished_at IS NULL AND (claimed_by IS NULL OR lease_until < ?)";
        Ok(with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(holder)
                .bind(utc_now)
                .bind(lease_until)
                .bind(task_no)
                .bind(utc_now)
                .execute(pool)
                .await?
                .rows_affected()
                == 1
        }))
    }

    /// Extends `holder`'s lease; false when the task is no longer held by it.
    pub async fn renew_task_lease(
        &self,
        task_no: &str,
        holder: &str,
        lease_until: NaiveDateTime,
    ) -> StoreResult<bool> {
        let sql = "UPDATE t_platform_task_queue SET lease_until = ? \
                   WHERE task_no = ? AND claimed_by = ? AND finished_at IS NULL";
        Ok(with_pool!(self, pool => {
            sqlx::query(sql).bind(lease_until).bind(task_no).bind(holder).execute(pool).await?.rows_affected() == 1
        }))
    }

    /// Marks a task finished.
    pub async fn finish_task(
        &self,
        task_no: &str,
        holder: &str,
        utc_now: NaiveDateTime,
    ) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE t_platform_task_queue SET finished_at = ? WHERE task_no = ? AND claimed_by = ?")
                .bind(utc_now)
                .bind(task_no)
                .bind(holder)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Unfinished tasks a runner may take over: held under an expired lease, or never
    /// claimed and created before `unclaimed_before` (with `published_only`, also handed
    /// to the queue by then: a task still waiting for the broker stays queued).
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
        let sql = format!(
            "SELECT task_no FROM t_platform_task_queue WHERE finished_at IS NULL AND \
             ((claimed_by IS NOT NULL AND lease_until < ?) OR {unclaimed}) \
             ORDER BY created_at LIMIT {limit}"
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(&sql).bind(utc_now).bind(unclaimed_before).fetch_all(pool).await?
        }))
    }

    /// Marks an item running (before its node calls).
    pub async fn start_task_item(
        &self,
        task_no: &str,
        item_no: &str,
        local_now: NaiveDateTime,
    ) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE t_task_item SET status = 2, start_time = ? WHERE task_no = ? AND item_no = ?")
                .bind(local_now)
                .bind(task_no)
                .bind(item_no)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Records an item's outcome.
    pub async fn finish_task_item(
        &self,
        task_no: &str,
        item_no: &str,
        status: i64,
        log: &str,
        local_now: NaiveDateTime,
    ) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE t_task_item SET status = ?, end_time = ?, log = ? WHERE task_no = ? AND item_no = ?")
                .bind(status)
                .bind(local_now)
                .bind(log)
                .bind(task_no)
                .bind(item_no)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The package with that id.
    pub async fn patch_by_id(&self, id: i64) -> StoreResult<Option<PatchRow>> {
        let sql = "SELECT id, server, tgz, md5 FROM t_server_patchs WHERE id = ?";
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, PatchRow>(sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Takes the lock on a server instance for `holder` until `lease_until`; false when
    /// another holder has it.
    pub async fn try_lock_instance(
        &self,
        instance: &str,
        holder: &str,
        utc_now: NaiveDateTime,
        lease_until: NaiveDateTime,
    ) -> StoreResult<bool> {
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
            return Ok(true);
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
        match inserted {
            Ok(_) => Ok(true),
            Err(err) => match crate::error::convert_sqlx_err(err) {
                crate::StoreError::AlreadyExists(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Releases an instance lock held by `holder`.
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
