use axum::extract::State;
use tars_proto::deployer::ConfigRefId;

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/delete_config_ref?id=`: removes a reference; answers `[id]`.
pub async fn delete_config_ref(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<i64>>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(ConfigRefId { id }, |mut c, r| async move {
            c.delete_config_ref(r).await
        })
        .await?;
    Ok(Data(vec![reply.id]))
}
