use axum::extract::State;
use tars_proto::deployer::{ConfigFile, ConfigFileId};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/config_file?id=`: one file with its content.
pub async fn config_file(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<ConfigFile>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(ConfigFileId { id }, |mut c, r| async move {
            c.config_file_by_id(r).await
        })
        .await?;
    Ok(Data(reply))
}
