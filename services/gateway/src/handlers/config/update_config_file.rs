use axum::extract::State;
use axum::Extension;
use tars_proto::deployer::{ConfigFile, UpdateConfigFileRequest};

use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::JsonParams;
use crate::state::AppState;

/// `/api/update_config_file` (POST JSON): replaces a file's content; the change and its
/// `reason` (required, as TarsWeb requires it) go into the file's history.
pub async fn update_config_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonParams(params): JsonParams,
) -> ApiResult<Data<ConfigFile>> {
    let request = UpdateConfigFileRequest {
        id: params.required_i64("id")?,
        config: params.present_str("config")?,
        reason: params.required_str("reason")?,
        user: caller.user,
    };
    let reply = state
        .backends
        .deployer
        .call(
            request,
            |mut c, r| async move { c.update_config_file(r).await },
        )
        .await?;
    Ok(Data(reply))
}
