use axum::extract::State;
use serde_json::{json, Value};
use tars_proto::task_runner::TaskNo;

use super::view::task_json;
use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/task?task_no=`: the task and its items; exactly `{"status": 0}` while it waits
/// in the queue.
pub async fn task(State(state): State<AppState>, params: Params) -> ApiResult<Data<Value>> {
    let task_no = params.required_str("task_no")?;
    let view = state
        .backends
        .task_runner
        .call(
            TaskNo { task_no },
            |mut c, r| async move { c.task(r).await },
        )
        .await?;
    if view.queued {
        return Ok(Data(json!({ "status": 0 })));
    }
    Ok(Data(task_json(&view)))
}
