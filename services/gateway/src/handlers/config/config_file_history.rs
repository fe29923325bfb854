use axum::extract::State;
use tars_proto::deployer::{ConfigHistory, ConfigHistoryId};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/config_file_history?id=`: one history record of a file.
pub async fn config_file_history(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<ConfigHistory>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(ConfigHistoryId { id }, |mut c, r| async move {
            c.config_file_history(r).await
        })
        .await?;
    Ok(Data(reply))
}
