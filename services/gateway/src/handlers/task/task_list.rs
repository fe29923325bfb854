use axum::extract::State;
use serde_json::Value;
use tars_proto::task_runner::TaskListRequest;

use super::view::task_json;
use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/task_list`: tasks newest first, filtered by application, server_name, command
/// and creation time (`from`, `to`), paged by `curr_page`/`page_size`.
pub async fn task_list(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<Value>>> {
    let request = TaskListRequest {
        application: params.str_or_empty("application")?,
        server_name: params.str_or_empty("server_name")?,
        command: params.str_or_empty("command")?,
        from: params.str_or_empty("from")?,
        to: params.str_or_empty("to")?,
        page: Some(params.page()?),
    };
    let reply = state
        .backends
        .task_runner
        .call(request, |mut c, r| async move { c.task_list(r).await })
        .await?;
    Ok(Data(reply.tasks.iter().map(task_json).collect()))
}
