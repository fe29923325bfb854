use axum::extract::State;
use tars_proto::deployer::AdapterId;

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/delete_adapter_conf?id=`: removes an adapter; answers `[id]`.
pub async fn delete_adapter_conf(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<i64>>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(AdapterId { id }, |mut c, r| async move {
            c.delete_adapter_conf(r).await
        })
        .await?;
    Ok(Data(vec![reply.id]))
}
