use axum::extract::State;
use tars_proto::deployer::ConfigFileId;

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/merged_node_config?id=`: the text tarsconfig serves for that file: layers and
/// references merged in TARS's order.
pub async fn merged_node_config(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<String>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(ConfigFileId { id }, |mut c, r| async move {
            c.merged_node_config(r).await
        })
        .await?;
    Ok(Data(reply.config))
}
