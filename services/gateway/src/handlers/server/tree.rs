use axum::extract::State;
use tars_proto::common::Empty;
use tars_proto::deployer::TreeNode;

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::state::AppState;

/// `/api/tree`: the business tree of every deployed server.
pub async fn tree(State(state): State<AppState>) -> ApiResult<Data<Vec<TreeNode>>> {
    let reply = state
        .backends
        .deployer
        .call(Empty {}, |mut c, r| async move { c.tree(r).await })
        .await?;
    Ok(Data(reply.nodes))
}
