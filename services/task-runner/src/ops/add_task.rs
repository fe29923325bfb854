//! Accepting a task: validate everything, then write it durably (task, items, queue row)
//! before answering; the relay hands it to the queue afterwards.

use serde_json::{Map, Value};
use tars_proto::task_runner::AddTaskRequest;
use tars_store::tasks::{NewTask, NewTaskItem};
use tars_store::Store;

use crate::error::{TaskError, TaskResult};

/// Commands a task item may carry.
pub const COMMANDS: [&str; 7] = [
    "start",
    "stop",
    "restart",
    "grace_restart",
    "patch_tars",
    "grace_patch_tars",
    "undeploy_tars",
];

/// A new task number: time-ordered, unique across replicas.
pub fn new_task_no() -> String {
    let millis = chrono::Utc::now().timestamp_millis();
    format!("{millis:012x}{:08x}", rand::random::<u32>())
}

fn parameters(index: usize, command: &str, json: &str) -> TaskResult<Map<String, Value>> {
    let param = |field: &str| format!("items[{index}].parameters{field}");
    let map = if json.trim().is_empty() {
        Map::new()
    } else {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(map)) => map,
            Ok(Value::Null) => Map::new(),
            _ => return Err(TaskError::bad_param(&param(""), "must be an object")),
        }
    };
    if command.contains("patch_tars") {
        for field in ["patch_id", "bak_flag", "update_text"] {
            if map.get(field).is_none_or(Value::is_null) {
                return Err(TaskError::bad_param(
                    &param(&format!(".{field}")),
                    format!("is required for {command}"),
                ));
            }
        }
        let patch_id = &map["patch_id"];
        let ok = match patch_id {
            Value::Number(n) => n.as_i64().is_some(),
            Value::String(s) => s.trim().parse::<i64>().is_ok(),
            _ => false,
        };
        if !ok {
            return Err(TaskError::bad_param(
                &param(".patch_id"),
                "must be a package id (an integer)",
            ));
        }
    }
    Ok(map)
}

/// The package id of a patch item.
pub fn patch_id(parameters: &Map<String, Value>) -> Option<i64> {
    match parameters.get("patch_id")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether `bak_flag` is set (true, 1, "1", "true").
pub fn bak_flag(parameters: &Map<String, Value>) -> bool {
    match parameters.get("bak_flag") {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => matches!(s.trim(), "1" | "true" | "True"),
        _ => false,
    }
}

/// Validates and stores a task; answers its number.
pub async fn add_task(store: &Store, request: AddTaskRequest) -> TaskResult<String> {
    if request.items.is_empty() {
        return Err(TaskError::bad_param("items", "must list at least one item"));
    }
    let task_no = new_task_no();
    let mut items = Vec::with_capacity(request.items.len());
    for (i, item) in request.items.iter().enumerate() {
        if !COMMANDS.contains(&item.command.as_str()) {
            return Err(TaskError::bad_param(
                &format!("items[{i}].command"),
                format!("`{}` is not one of {}", item.command, COMMANDS.join(", ")),
            ));
        }
        let params = parameters(i, &item.command, &item.parameters_json)?;
        let server = store.server_by_id(item.server_id).await?.ok_or_else(|| {
            TaskError::NotFound(format!(
                "items[{i}].server_id: no server with id {}",
                item.server_id
            ))
        })?;
        if let Some(id) = patch_id(&params) {
            if store.patch_by_id(id).await?.is_none() {
                return Err(TaskError::NotFound(format!(
                    "items[{i}].parameters.patch_id: no package with id {id}; upload one with upload_patch_package"
                )));
            }
        }
        items.push(NewTaskItem {
            item_no: format!("{task_no}-{i:04}"),
            application: server.application.unwrap_or_default(),
            server_name: server.server_name.unwrap_or_default(),
            node_name: server.node_name,
            set_name: [server.set_name, server.set_area, server.set_group]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("."),
            command: item.command.clone(),
            parameters: Value::Object(params).to_string(),
        });
    }
    let user: String = request.user.chars().take(20).collect();
    let task = NewTask {
        task_no: task_no.clone(),
        serial: request.serial,
        user_name: user,
        items,
    };
    store
        .insert_task(
            &task,
            tars_common::time::now_local(),
            chrono::Utc::now().naive_utc(),
        )
        .await?;
    tracing::info!(task_no = %task_no, items = task.items.len(), serial = task.serial, "task accepted");
    Ok(task_no)
}
