//! Tasks: TARS's `t_task` / `t_task_item` and reading them back; the queue row written
//! with each task is driven by [`crate::task_queue`].
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
    /// `t_task.task_no`: the task's number, unique (the task-runner makes it time-ordered:
    /// 12 hex digits of milliseconds, 8 random).
    pub task_no: String,
    /// `serial`: run the items one after another (stopping at a failure) rather than in
    /// parallel.
    pub serial: bool,
    /// `user_name`: who submitted the task (the API's user).
    pub user_name: String,
    /// The items, written in this order with the task.
    pub items: Vec<NewTaskItem>,
    /// The W3C `traceparent` of the request that accepted it (empty: none), which the
    /// runner continues.
    pub trace_parent: String,
}

/// One item of a task to create.
#[derive(Debug, Clone)]
pub struct NewTaskItem {
    /// `t_task_item.item_no`: the item's number, unique within the task (`<task_no>-0000`,
    /// `-0001` …).
    pub item_no: String,
    /// `application` of the server instance acted on.
    pub application: String,
    /// `server_name` of the instance.
    pub server_name: String,
    /// `node_name`: the node the instance runs on.
    pub node_name: String,
    /// `set_name`: the instance's set as `name.area.group` (just the name when that is too
    /// long for the column); empty when not in a set.
    pub set_name: String,
    /// `command`: `start`, `stop`, `restart`, `grace_restart`, `patch_tars`,
    /// `grace_patch_tars` or `undeploy_tars`.
    pub command: String,
    /// JSON object text.
    pub parameters: String,
}

/// A task row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TaskRow {
    /// `t_task.task_no`: the task's number.
    pub task_no: String,
    /// `serial`: 1 when the items run one after another, 0 (or NULL) when in parallel.
    pub serial: Option<i64>,
    /// `user_name`: who submitted the task.
    pub user_name: Option<String>,
    /// `create_time`: when it was accepted (local time).
    pub create_time: Option<NaiveDateTime>,
}

/// A task item row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TaskItemRow {
    /// `t_task_item.task_no`: the task the item belongs to.
    pub task_no: String,
    /// `item_no`: the item's number within the task.
    pub item_no: String,
    /// `application` of the instance acted on.
    pub application: Option<String>,
    /// `server_name` of the instance.
    pub server_name: Option<String>,
    /// `node_name`: the node the instance runs on.
    pub node_name: Option<String>,
    /// `command`: what the item does (`start`, `patch_tars` …).
    pub command: Option<String>,
    /// `parameters`: the item's parameters as JSON object text (`patch_id`, `bak_flag`,
    /// `update_text`).
    pub parameters: Option<String>,
    /// `start_time`: when the item started running (local time); `None` before.
    pub start_time: Option<NaiveDateTime>,
    /// `end_time`: when it ended (local time); `None` before.
    pub end_time: Option<NaiveDateTime>,
    /// `status`: TARS's item status number (0 not started, 1 prepare, 2 running, 3 success,
    /// 4 failed, 5 cancelled, 6 paused).
    pub status: Option<i64>,
    /// `log`: the item's outcome in words (the node's answer, or why it failed), shown as
    /// `execute_info`.
    pub log: Option<String>,
}

/// Where a task is in the queue.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct QueueRow {
    /// `t_platform_task_queue.task_no`: the task.
    pub task_no: String,
    /// `published_at`: when the relay put the task on Kafka (UTC); `None` when not (yet)
    /// published, as always in embedded mode.
    pub published_at: Option<NaiveDateTime>,
    /// `claimed_by`: the runner holding the claim; `None` when unclaimed or handed back.
    pub claimed_by: Option<String>,
    /// `lease_until`: when the claim expires unless renewed, or when a retry is due (UTC).
    pub lease_until: Option<NaiveDateTime>,
    /// `finished_at`: when the task ended (UTC); `None` while it has not.
    pub finished_at: Option<NaiveDateTime>,
    /// Claims so far; the current claim's generation.
    pub attempts: i64,
    /// Attempts that ended on an error.
    pub failures: i64,
    /// `last_error`: the error that ended the latest failed attempt.
    pub last_error: Option<String>,
}

/// Filters of the task list; `None` does not filter.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Only tasks with an item of this application.
    pub application: Option<String>,
    /// Only tasks with an item of this server name.
    pub server_name: Option<String>,
    /// Only tasks with an item of this command.
    pub command: Option<String>,
    /// Created at or after (local time).
    pub from: Option<NaiveDateTime>,
    /// Created at or before (local time).
    pub to: Option<NaiveDateTime>,
    /// Only tasks whose every item is of what a caller may read; `None`: every task.
    pub within: Option<crate::Within>,
}

/// A package row, as patch_tars needs it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PatchRow {
    /// `t_server_patchs.id`: the package's key (a patch item's `patch_id`).
    pub id: i64,
    /// `server`: whose package it is, `App.Server`.
    pub server: Option<String>,
    /// `tgz`: the file's name in the package store.
    pub tgz: Option<String>,
    /// `md5`: the file's MD5 in hex, which the node checks.
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

const QUEUE_COLUMNS: &str =
    "task_no, published_at, claimed_by, lease_until, finished_at, attempts, failures, last_error";

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
            sqlx::query("INSERT INTO t_platform_task_queue (task_no, created_at, trace_parent) VALUES (?, ?, ?)")
                .bind(&task.task_no)
                .bind(utc_now)
                .bind(&task.trace_parent)
                .execute(&mut *tx)
                .await?;
            let audited = crate::audited::audit_in_tx!(tx)?;
            tx.commit().await?;
            if audited {
                crate::audited::committed();
            }
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
        let sql = format!("SELECT {QUEUE_COLUMNS} FROM t_platform_task_queue WHERE task_no = ?");
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, QueueRow>(&sql).bind(task_no).fetch_optional(pool).await?
        }))
    }

    /// One page of tasks, newest first (by id, which follows creation), with at least
    /// one item matching the filters.
    pub async fn list_tasks(
        &self,
        filter: &TaskFilter,
        window: PageWindow,
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
        let mut clauses = Vec::new();
        if !f.args.is_empty() {
            // EXISTS walks the tasks newest first and stops at the page's end; an IN over
            // every matching item would read them all first.
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM t_task_item i{} AND i.task_no = t.task_no)",
                f.where_sql()
            ));
        }
        if let Some(within) = &filter.within {
            let mut w = Filter::default();
            w.within(within, "o.application", "o.server_name");
            let readable = w.where_sql();
            let readable = readable.trim_start_matches(" WHERE ");
            clauses.push(format!(
                "NOT EXISTS (SELECT 1 FROM t_task_item o WHERE o.task_no = t.task_no \
                 AND NOT ({}))",
                readable
            ));
            f.args.extend(w.args);
        }
        if filter.from.is_some() {
            clauses.push("t.create_time >= ?".to_string());
        }
        if filter.to.is_some() {
            clauses.push("t.create_time <= ?".to_string());
        }
        let where_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT t.task_no, t.serial, t.user_name, {} FROM t_task t{where_sql} \
             ORDER BY t.id DESC LIMIT {} OFFSET {}",
            create_time_column(self),
            window.limit,
            window.offset
        );
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

    /// The items of several tasks in one query, each task's in the order they were given.
    pub async fn items_of_tasks(&self, task_nos: &[String]) -> StoreResult<Vec<TaskItemRow>> {
        if task_nos.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM t_task_item WHERE task_no IN ({}) ORDER BY id",
            placeholders(task_nos.len())
        );
        Ok(with_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, TaskItemRow>(&sql);
            for t in task_nos {
                q = q.bind(t);
            }
            q.fetch_all(pool).await?
        }))
    }

    /// The queue rows of several tasks in one query (tasks written by other tools have
    /// none).
    pub async fn queue_states(&self, task_nos: &[String]) -> StoreResult<Vec<QueueRow>> {
        if task_nos.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {QUEUE_COLUMNS} FROM t_platform_task_queue WHERE task_no IN ({})",
            placeholders(task_nos.len())
        );
        Ok(with_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, QueueRow>(&sql);
            for t in task_nos {
                q = q.bind(t);
            }
            q.fetch_all(pool).await?
        }))
    }

    /// The package with that id.
    pub async fn patch_by_id(&self, id: i64) -> StoreResult<Option<PatchRow>> {
        let sql = "SELECT id, server, tgz, md5 FROM t_server_patchs WHERE id = ?";
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, PatchRow>(sql).bind(id).fetch_optional(pool).await?
        }))
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}
