use axum::extract::State;
use tars_proto::deployer::{AdapterConf, AdapterId};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/adapter_conf?id=`: one adapter.
pub async fn adapter_conf(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<AdapterConf>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(AdapterId { id }, |mut c, r| async move {
            c.adapter_conf_by_id(r).await
        })
        .await?;
    Ok(Data(reply))
}
