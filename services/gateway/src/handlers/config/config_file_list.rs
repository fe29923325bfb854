use axum::extract::State;
use tars_proto::deployer::{ConfigFile, ConfigFileListRequest};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/config_file_list?level=&application=…`: the files of one place in the tree:
/// application (1), set name (2), set area (3), set group (4) or server (5).
pub async fn config_file_list(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<ConfigFile>>> {
    let request = ConfigFileListRequest {
        level: params.required_i64("level")?,
        application: params.required_str("application")?,
        server_name: params.str_or_empty("server_name")?,
        set_name: params.str("set_name")?,
        set_area: params.str("set_area")?,
        set_group: params.str("set_group")?,
    };
    let reply = state
        .backends
        .deployer
        .call(
            request,
            |mut c, r| async move { c.config_file_list(r).await },
        )
        .await?;
    Ok(Data(reply.files))
}
