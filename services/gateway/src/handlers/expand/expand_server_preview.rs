use axum::extract::State;
use tars_proto::deployer::{ExpandPreviewServer, ExpandServerPreviewRequest};

use crate::envelope::Data;
use crate::error::{ApiError, ApiResult};
use crate::params::JsonParams;
use crate::state::AppState;

/// `/api/expand_server_preview` (POST JSON): one row per adapter of the source instance
/// (application, server_name, node_name) per node of `expand_nodes`, each on a port free
/// on that node, with whether the server is on that node already. Writes nothing.
/// `set` and `copy_node_config` are accepted and not needed: the source is named by its
/// node, and nothing is copied by a preview.
pub async fn expand_server_preview(
    State(state): State<AppState>,
    JsonParams(params): JsonParams,
) -> ApiResult<Data<Vec<ExpandPreviewServer>>> {
    let expand_nodes = params.str_list("expand_nodes")?;
    if expand_nodes.is_empty() {
        return Err(ApiError::bad_param(
            "expand_nodes",
            "is required: the node IPs to expand to",
        ));
    }
    let request = ExpandServerPreviewRequest {
        application: params.required_str("application")?,
        server_name: params.required_str("server_name")?,
        node_name: params.required_str("node_name")?,
        expand_nodes,
        enable_set: params.bool("enable_set")?.unwrap_or(false),
        set_name: params.str_or_empty("set_name")?,
        set_area: params.str_or_empty("set_area")?,
        set_group: params.str_or_empty("set_group")?,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move {
            c.expand_server_preview(r).await
        })
        .await?;
    Ok(Data(reply.servers))
}
