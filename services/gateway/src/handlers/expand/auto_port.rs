use axum::extract::State;
use tars_proto::deployer::{AutoPortRequest, NodePort};

use crate::envelope::Data;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::state::AppState;

/// `/api/auto_port?node_name=ip1;ip2`: one row per node with a port no adapter on that
/// node uses (10000-29999, lowest free first; a node listed twice gets two ports).
pub async fn auto_port(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<NodePort>>> {
    let node_names = params.str_list("node_name")?;
    if node_names.is_empty() {
        return Err(ApiError::bad_param(
            "node_name",
            "is required: node IPs separated by `;`",
        ));
    }
    let reply = state
        .backends
        .deployer
        .call(AutoPortRequest { node_names }, |mut c, r| async move {
            c.auto_port(r).await
        })
        .await?;
    Ok(Data(reply.ports))
}
