use axum::extract::State;
use axum::Extension;
use serde::Serialize;
use tars_proto::deployer::{ExpandServerRequest, ExpandTarget, ServerConf, TarsNodeResult};

use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::{ApiError, ApiResult};
use crate::params::{JsonParams, Params};
use crate::state::AppState;

/// The answer's shape in the API document.
#[derive(Serialize)]
pub struct ExpandServerData {
    /// The new instances, as server_list shows them.
    server_conf: Vec<ServerConf>,
    /// Installing tarsnode on new machines (the resource module) is not enabled, so this
    /// is always empty, as the document says it is then.
    tars_node_rst: Vec<TarsNodeResult>,
}

fn target(params: &Params) -> ApiResult<ExpandTarget> {
    Ok(ExpandTarget {
        node_name: params.required_str("node_name")?,
        set: params.str_or_empty("set")?,
        obj_name: params.required_str("obj_name")?,
        bind_ip: params.required_str("bind_ip")?,
        port: params.required_i64("port")?,
    })
}

/// `/api/expand_server` (POST JSON): creates the instances `expand_preview_servers`
/// lists as copies of the source instance (application, server_name, node_name), with
/// the source node's node-level configuration files when `copy_node_config` is true.
/// All or nothing: a taken port or an existing instance is a 409 and writes nothing.
pub async fn expand_server(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonParams(params): JsonParams,
) -> ApiResult<Data<ExpandServerData>> {
    let targets = params
        .objects("expand_preview_servers")?
        .ok_or_else(|| ApiError::bad_param("expand_preview_servers", "is required"))?
        .iter()
        .map(target)
        .collect::<ApiResult<Vec<_>>>()?;
    let request = ExpandServerRequest {
        application: params.required_str("application")?,
        server_name: params.required_str("server_name")?,
        node_name: params.required_str("node_name")?,
        copy_node_config: params.bool("copy_node_config")?.unwrap_or(false),
        targets,
        user: caller.user,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move { c.expand_server(r).await })
        .await?;
    Ok(Data(ExpandServerData {
        server_conf: reply.servers,
        tars_node_rst: Vec::new(),
    }))
}
