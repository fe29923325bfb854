//! Reading tasks back: one task, or a filtered list.

use std::collections::HashMap;
use tars_common::authz::{self, Role, Scope};

use chrono::NaiveDateTime;
use tars_common::time::format_api_time;
use tars_proto::task_runner::{TaskItemView, TaskListRequest, TaskView};
use tars_store::tasks::{QueueRow, TaskFilter, TaskItemRow, TaskRow};
use tars_store::Store;

use crate::error::{TaskError, TaskResult};
use crate::parameters::from_stored;
use crate::status::{self, TaskStatus};

/// A task's answer from its row, its queue row (none for tasks written by other tools)
/// and its items.
fn view(row: TaskRow, queue: Option<&QueueRow>, items: Vec<TaskItemRow>) -> TaskView {
    let statuses: Vec<i64> = items.iter().map(|i| i.status.unwrap_or(0)).collect();
    let (queued, task_status) = match queue {
        Some(q) if q.finished_at.is_some() => (false, status::finished_task_status(&statuses)),
        // Claimed once at least: running, or waiting for a retry or a takeover.
        Some(q) if q.claimed_by.is_some() || q.attempts > 0 => (false, TaskStatus::Running),
        None if statuses.iter().all(|s| status::is_terminal(*s)) => {
            (false, status::finished_task_status(&statuses))
        }
        _ => (true, TaskStatus::NotStart),
    };
    TaskView {
        queued,
        task_no: row.task_no,
        serial: row.serial.unwrap_or(0) != 0,
        status: task_status as i32,
        create_time: format_api_time(row.create_time),
        user_name: row.user_name.unwrap_or_default(),
        items: items
            .into_iter()
            .map(|i| {
                let s = i.status.unwrap_or(0);
                TaskItemView {
                    task_no: i.task_no,
                    item_no: i.item_no,
                    application: i.application.unwrap_or_default(),
                    server_name: i.server_name.unwrap_or_default(),
                    node_name: i.node_name.unwrap_or_default(),
                    command: i.command.unwrap_or_default(),
                    parameters: Some(from_stored(i.parameters.as_deref())),
                    start_time: format_api_time(i.start_time),
                    end_time: format_api_time(i.end_time),
                    status: s as i32,
                    status_info: status::item_name(s).to_string(),
                    execute_info: i.log.unwrap_or_default(),
                }
            })
            .collect(),
    }
}

/// What the caller's task list may show (tasks whose every item they may read).
fn readable() -> Option<tars_store::Within> {
    match authz::scope(Role::Developer) {
        Scope::All => None,
        Scope::Some { apps, servers } => Some(tars_store::Within {
            apps: apps.into_iter().collect(),
            servers: servers.into_iter().collect(),
        }),
    }
}

/// One task.
pub async fn task(store: &Store, task_no: &str) -> TaskResult<TaskView> {
    if task_no.trim().is_empty() {
        return Err(TaskError::bad_param("task_no", "is required"));
    }
    let row = store.task(task_no).await?.ok_or_else(|| {
        TaskError::NotFound(format!("no task {task_no}; list tasks with /api/task_list"))
    })?;
    let queue = store.task_queue_state(task_no).await?;
    let items = store.task_items(task_no).await?;
    // A task is read with the developer role on every item's server.
    for item in &items {
        authz::require(
            Role::Developer,
            item.application.as_deref().unwrap_or_default(),
            item.server_name.as_deref(),
        )?;
    }
    Ok(view(row, queue.as_ref(), items))
}

fn parse_time(param: &str, value: &str, end_of_day: bool) -> TaskResult<Option<NaiveDateTime>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(value, tars_common::time::API_TIME_FORMAT) {
        return Ok(Some(t));
    }
    match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(d) => Ok(Some(if end_of_day {
            d.and_hms_opt(23, 59, 59).expect("valid time")
        } else {
            d.and_hms_opt(0, 0, 0).expect("valid time")
        })),
        Err(_) => Err(TaskError::bad_param(
            param,
            format!("{value:?} must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"),
        )),
    }
}

/// One page of the tasks matching the filters, newest first, read in three queries
/// whatever the page size (tasks, their items, their queue rows).
pub async fn task_list(store: &Store, request: TaskListRequest) -> TaskResult<Vec<TaskView>> {
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    let filter = TaskFilter {
        from: parse_time("from", &request.from, false)?,
        to: parse_time("to", &request.to, true)?,
        application: non_empty(request.application),
        server_name: non_empty(request.server_name),
        command: non_empty(request.command),
        within: readable(),
    };
    let window = crate::paging::window(request.page.as_ref())?;
    let rows = store.list_tasks(&filter, window).await?;
    let task_nos: Vec<String> = rows.iter().map(|r| r.task_no.clone()).collect();
    let mut items: HashMap<String, Vec<TaskItemRow>> = HashMap::new();
    for item in store.items_of_tasks(&task_nos).await? {
        items.entry(item.task_no.clone()).or_default().push(item);
    }
    let queues: HashMap<String, QueueRow> = store
        .queue_states(&task_nos)
        .await?
        .into_iter()
        .map(|q| (q.task_no.clone(), q))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let its = items.remove(&row.task_no).unwrap_or_default();
            let queue = queues.get(&row.task_no);
            view(row, queue, its)
        })
        .collect())
}
