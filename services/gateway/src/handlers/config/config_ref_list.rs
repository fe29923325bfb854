use axum::extract::State;
use tars_proto::deployer::{ConfigFileId, ConfigRefDetail};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/config_ref_list?config_id=`: a file's references, newest first, each with the
/// file it points at.
pub async fn config_ref_list(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<ConfigRefDetail>>> {
    let id = params.required_i64("config_id")?;
    let reply = state
        .backends
        .deployer
        .call(ConfigFileId { id }, |mut c, r| async move {
            c.config_ref_list(r).await
        })
        .await?;
    Ok(Data(reply.refs))
}
