use axum::extract::State;
use tars_proto::deployer::ConfigFileId;

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/delete_config_file?id=`: deletes a file (a server-level file with its node-level
/// files); 409 while other files reference it. Answers `[id]`.
pub async fn delete_config_file(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<i64>>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(ConfigFileId { id }, |mut c, r| async move {
            c.delete_config_file(r).await
        })
        .await?;
    Ok(Data(vec![reply.id]))
}
