use axum::extract::State;
use axum::Extension;
use tars_proto::deployer::{DeployAdapter, DeployServerReply, DeployServerRequest};

use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::{ApiError, ApiResult};
use crate::params::{JsonParams, Params};
use crate::state::AppState;

fn adapter(params: &Params) -> ApiResult<DeployAdapter> {
    Ok(DeployAdapter {
        obj_name: params.required_str("obj_name")?,
        bind_ip: params.required_str("bind_ip")?,
        port: params.required_i64("port")?,
        port_type: params.str_or_empty("port_type")?,
        protocol: params.str_or_empty("protocol")?,
        thread_num: params.i64_or_zero("thread_num")?,
        max_connections: params.i64_or_zero("max_connections")?,
        queuecap: params.i64_or_zero("queuecap")?,
        queuetimeout: params.i64_or_zero("queuetimeout")?,
        node_name: params.str_or_empty("node_name")?,
    })
}

/// `/api/deploy_server` (POST JSON): creates a server instance and its adapters.
pub async fn deploy_server(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonParams(params): JsonParams,
) -> ApiResult<Data<DeployServerReply>> {
    let adapters = params
        .objects("adapters")?
        .ok_or_else(|| ApiError::bad_param("adapters", "is required"))?
        .iter()
        .map(adapter)
        .collect::<ApiResult<Vec<_>>>()?;
    let request = DeployServerRequest {
        application: params.required_str("application")?,
        server_name: params.required_str("server_name")?,
        node_name: params.str_or_empty("node_name")?,
        server_type: params.required_str("server_type")?,
        template_name: params.required_str("template_name")?,
        enable_set: params.bool("enable_set")?.unwrap_or(false),
        set_name: params.str_or_empty("set_name")?,
        set_area: params.str_or_empty("set_area")?,
        set_group: params.str_or_empty("set_group")?,
        adapters,
        user: caller.user,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move { c.deploy_server(r).await })
        .await?;
    Ok(Data(reply))
}
