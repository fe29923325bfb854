use axum::extract::State;
use axum::Extension;
use serde_json::Value;
use tars_proto::task_runner::{AddTaskItem, AddTaskRequest};

use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::{ApiError, ApiResult};
use crate::params::JsonParams;
use crate::state::AppState;

/// `/api/add_task` (POST JSON): accepts a task durably and answers its number; the task
/// runs when a runner takes it from the queue.
pub async fn add_task(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonParams(params): JsonParams,
) -> ApiResult<Data<String>> {
    let items = params
        .objects("items")?
        .ok_or_else(|| ApiError::bad_param("items", "is required"))?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let parameters = match item.value("parameters") {
                None => String::new(),
                Some(v @ Value::Object(_)) => v.to_string(),
                Some(Value::String(s)) if s.trim().is_empty() => String::new(),
                Some(_) => {
                    return Err(ApiError::bad_param(
                        &format!("items[{i}].parameters"),
                        "must be an object",
                    ))
                }
            };
            Ok(AddTaskItem {
                server_id: item.required_i64("server_id")?,
                command: item.required_str("command")?,
                parameters_json: parameters,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    if items.is_empty() {
        return Err(ApiError::bad_param("items", "must list at least one item"));
    }
    let request = AddTaskRequest {
        serial: params.bool("serial")?.unwrap_or(false),
        items,
        user: caller.user,
    };
    let reply = state
        .backends
        .task_runner
        .call(request, |mut c, r| async move { c.add_task(r).await })
        .await?;
    Ok(Data(reply.task_no))
}
