//! Accepting a task: validate everything, then write it durably (task, items, queue row)
//! before answering; the relay hands it to the queue afterwards.

use std::collections::HashMap;
use tars_common::authz::{self, Role};

use tars_proto::task_runner::{AddTaskRequest, TaskParameters};
use tars_store::tasks::{NewTask, NewTaskItem};
use tars_store::Store;

use crate::error::{TaskError, TaskResult};
use crate::parameters::to_stored;

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

/// The most items one task may carry; a larger publish is several tasks. Bounds what
/// one call writes in one transaction and what one task's answer weighs.
pub const MAX_ITEMS: usize = 10_000;

/// A new task number: time-ordered, unique across replicas.
pub fn new_task_no() -> String {
    let millis = chrono::Utc::now().timestamp_millis();
    format!("{millis:012x}{:08x}", rand::random::<u32>())
}

/// The item's parameters; a patch needs all three (their types are the gateway's check).
fn parameters(
    index: usize,
    command: &str,
    parameters: Option<&TaskParameters>,
) -> TaskResult<TaskParameters> {
    let parameters = parameters.cloned().unwrap_or_default();
    if command.contains("patch_tars") {
        let given = [
            ("patch_id", parameters.patch_id.is_some()),
            ("bak_flag", parameters.bak_flag.is_some()),
            ("update_text", parameters.update_text.is_some()),
        ];
        if let Some((field, _)) = given.iter().find(|(_, given)| !given) {
            return Err(TaskError::bad_param(
                &format!("items[{index}].parameters.{field}"),
                format!("is required for {command}"),
            ));
        }
    }
    Ok(parameters)
}

/// TARS's `t_task_item` holds shorter names than `t_server_conf` (application 30,
/// server and node 50 characters): a server whose names do not fit cannot be the target
/// of a task. Refused the same way on both databases (SQLite would store them, MySQL
/// refuse them).
fn fits_task_item(
    index: usize,
    server_id: i64,
    app: &str,
    server: &str,
    node: &str,
) -> TaskResult<()> {
    for (column, value, limit) in [
        ("application", app, 30),
        ("server_name", server, 50),
        ("node_name", node, 50),
    ] {
        let chars = value.chars().count();
        if chars > limit {
            return Err(TaskError::bad_param(
                &format!("items[{index}].server_id"),
                format!(
                    "names server {server_id}, whose {column} `{value}` has {chars} characters; \
                     TARS's t_task_item.{column} holds {limit}, so tasks cannot act on it"
                ),
            ));
        }
    }
    Ok(())
}

/// `name.area.group` for `t_task_item.set_name` (20 characters, informational); a set
/// whose full name is longer is recorded by its name alone (at most 16).
fn set_label(name: Option<String>, area: Option<String>, group: Option<String>) -> String {
    let full = [name.clone(), area, group]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(".");
    if full.chars().count() <= 20 {
        full
    } else {
        name.unwrap_or_default()
    }
}

/// Validates and stores a task; answers its number.
pub async fn add_task(store: &Store, request: AddTaskRequest) -> TaskResult<String> {
    if request.items.is_empty() {
        return Err(TaskError::bad_param("items", "must list at least one item"));
    }
    if request.items.len() > MAX_ITEMS {
        return Err(TaskError::bad_param(
            "items",
            format!(
                "lists {} items; a task takes at most {MAX_ITEMS}: split it into several tasks",
                request.items.len()
            ),
        ));
    }
    let task_no = new_task_no();
    let mut items = Vec::with_capacity(request.items.len());
    // Two items on one instance would act on it concurrently (parallel) or fight over
    // its lock; refuse them up front, naming every id involved.
    let mut instances: HashMap<String, Vec<i64>> = HashMap::new();
    for (i, item) in request.items.iter().enumerate() {
        if !COMMANDS.contains(&item.command.as_str()) {
            return Err(TaskError::bad_param(
                &format!("items[{i}].command"),
                format!("`{}` is not one of {}", item.command, COMMANDS.join(", ")),
            ));
        }
        let params = parameters(i, &item.command, item.parameters.as_ref())?;
        let server = store.server_by_id(item.server_id).await?.ok_or_else(|| {
            TaskError::NotFound(format!(
                "items[{i}].server_id: no server with id {}",
                item.server_id
            ))
        })?;
        let app = server.application.clone().unwrap_or_default();
        let name = server.server_name.clone().unwrap_or_default();
        // Every item's server must be the caller's to change: nothing of a task runs
        // unless all of it may. (TarsWeb lets a developer add tasks; here it is an
        // operator's.)
        authz::require(Role::Operator, &app, Some(&name))?;
        authz::note_ids(&format!("server {}", item.server_id));
        fits_task_item(i, item.server_id, &app, &name, &server.node_name)?;
        instances
            .entry(format!("{app}.{name}@{}", server.node_name).to_lowercase())
            .or_default()
            .push(item.server_id);
        if let Some(id) = params.patch_id {
            let Some(package) = store.patch_by_id(id).await? else {
                return Err(TaskError::NotFound(format!(
                    "items[{i}].parameters.patch_id: no package with id {id}; upload one with upload_patch_package"
                )));
            };
            // A package is built for one server; the node would fail on it only later.
            let target = format!("{app}.{name}");
            let owner = package.server.unwrap_or_default();
            if !owner.eq_ignore_ascii_case(&target) {
                return Err(TaskError::bad_param(
                    &format!("items[{i}].parameters.patch_id"),
                    format!(
                        "names package {id}, which belongs to {owner}, not to {target}; \
                         pick one of {target}'s packages (server_patch_list)"
                    ),
                ));
            }
        }
        items.push(NewTaskItem {
            item_no: format!("{task_no}-{i:04}"),
            application: server.application.unwrap_or_default(),
            server_name: server.server_name.unwrap_or_default(),
            node_name: server.node_name,
            set_name: set_label(server.set_name, server.set_area, server.set_group),
            command: item.command.clone(),
            parameters: to_stored(&params),
        });
    }
    let mut repeated: Vec<String> = instances
        .into_iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(instance, ids)| {
            let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!("{instance} (server ids {})", ids.join(", "))
        })
        .collect();
    if !repeated.is_empty() {
        repeated.sort();
        return Err(TaskError::bad_param(
            "items",
            format!(
                "name the same server instance more than once: {}; list each instance once",
                repeated.join("; ")
            ),
        ));
    }
    let user: String = request.user.chars().take(20).collect();
    let task = NewTask {
        task_no: task_no.clone(),
        serial: request.serial,
        user_name: user,
        items,
        // The runner that takes the task continues this request's trace.
        trace_parent: tars_common::propagation::current_traceparent().unwrap_or_default(),
    };
    store
        .insert_task(
            &task,
            tars_common::time::now_local(),
            chrono::Utc::now().naive_utc(),
        )
        .await?;
    tracing::info!(task_no = %task_no, items = task.items.len(), serial = task.serial, "task accepted");
    tars_metrics::task_accepted();
    Ok(task_no)
}
