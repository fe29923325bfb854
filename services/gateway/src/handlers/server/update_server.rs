use axum::extract::State;
use tars_proto::deployer::{ServerConf, UpdateServerRequest};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::JsonParams;
use crate::state::AppState;

/// `/api/update_server` (POST JSON): changes the given fields of one server instance.
pub async fn update_server(
    State(state): State<AppState>,
    JsonParams(params): JsonParams,
) -> ApiResult<Data<ServerConf>> {
    let bak_flag = match params.bool("isBak")? {
        Some(b) => Some(b),
        None => params.bool("bak_flag")?,
    };
    let request = UpdateServerRequest {
        id: params.required_i64("id")?,
        bak_flag,
        template_name: params.str("template_name")?,
        server_type: params.str("server_type")?,
        enable_set: params.bool("enable_set")?,
        set_name: params.str("set_name")?,
        set_area: params.str("set_area")?,
        set_group: params.str("set_group")?,
        async_thread_num: params.i64("async_thread_num")?,
        base_path: params.str("base_path")?,
        exe_path: params.str("exe_path")?,
        start_script_path: params.str("start_script_path")?,
        stop_script_path: params.str("stop_script_path")?,
        monitor_script_path: params.str("monitor_script_path")?,
        profile: params.str("profile")?,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move { c.update_server(r).await })
        .await?;
    Ok(Data(reply))
}
