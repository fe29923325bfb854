//! The JSON shape of a task, as the API document shows it; `parameters` is the object the
//! caller sent, not its stored text.

use serde_json::{json, Value};
use tars_proto::task_runner::TaskView;

/// A task with its items.
pub fn task_json(task: &TaskView) -> Value {
    json!({
        "task_no": task.task_no,
        "serial": task.serial,
        "status": task.status,
        "create_time": task.create_time,
        "user_name": task.user_name,
        "items": task.items.iter().map(|i| json!({
            "task_no": i.task_no,
            "item_no": i.item_no,
            "application": i.application,
            "server_name": i.server_name,
            "node_name": i.node_name,
            "command": i.command,
            "parameters": serde_json::from_str::<Value>(&i.parameters_json).unwrap_or_else(|_| json!({})),
            "start_time": i.start_time,
            "end_time": i.end_time,
            "status": i.status,
            "status_info": i.status_info,
            "execute_info": i.execute_info,
        })).collect::<Vec<_>>(),
    })
}
