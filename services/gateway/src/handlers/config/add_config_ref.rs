use axum::extract::State;
use tars_proto::deployer::{AddConfigRefRequest, ConfigRef};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/add_config_ref?config_id=&reference_id=`: makes a file include a file of a
/// higher level of the same application.
pub async fn add_config_ref(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<ConfigRef>> {
    let request = AddConfigRefRequest {
        config_id: params.required_i64("config_id")?,
        reference_id: params.required_i64("reference_id")?,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move { c.add_config_ref(r).await })
        .await?;
    Ok(Data(reply))
}
