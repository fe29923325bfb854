use axum::extract::State;
use tars_proto::deployer::{ServerConf, ServerListRequest};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/server_list?tree_node_id=`: every server instance under a tree node (at most
/// 1,000; `curr_page`/`page_size` page through more).
pub async fn server_list(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<ServerConf>>> {
    let tree_node_id = params.required_str("tree_node_id")?;
    let reply = state
        .backends
        .deployer
        .call(
            ServerListRequest {
                tree_node_id,
                page: Some(params.page()?),
            },
            |mut c, r| async move { c.server_list(r).await },
        )
        .await?;
    Ok(Data(reply.servers))
}
