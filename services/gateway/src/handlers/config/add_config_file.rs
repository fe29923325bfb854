use axum::extract::State;
use axum::Extension;
use tars_proto::deployer::{AddConfigFileRequest, ConfigFile};

use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/add_config_file`: adds a file at application/set level (`level` 1-4) or server
/// level (5); a server-level file also gets an empty node-level file per deployed node.
pub async fn add_config_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult<Data<ConfigFile>> {
    let request = AddConfigFileRequest {
        level: params.required_i64("level")?,
        application: params.required_str("application")?,
        server_name: params.str_or_empty("server_name")?,
        set_name: params.str_or_empty("set_name")?,
        set_area: params.str_or_empty("set_area")?,
        set_group: params.str_or_empty("set_group")?,
        filename: params.required_str("filename")?,
        config: params.present_str("config")?,
        user: caller.user,
    };
    let reply = state
        .backends
        .deployer
        .call(
            request,
            |mut c, r| async move { c.add_config_file(r).await },
        )
        .await?;
    Ok(Data(reply))
}
