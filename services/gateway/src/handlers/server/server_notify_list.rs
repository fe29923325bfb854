use axum::extract::State;
use tars_proto::deployer::{ServerNotifyListRequest, ServerNotifyPage};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/server_notify_list?tree_node_id=`: notifications of the servers under a tree
/// node, newest first, paged by `curr_page`/`page_size` as `{count, rows}`.
pub async fn server_notify_list(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<ServerNotifyPage>> {
    let request = ServerNotifyListRequest {
        tree_node_id: params.required_str("tree_node_id")?,
        page: Some(params.page()?),
    };
    let reply = state
        .backends
        .deployer
        .call(
            request,
            |mut c, r| async move { c.server_notify_list(r).await },
        )
        .await?;
    Ok(Data(reply))
}
