use axum::extract::State;
use tars_proto::deployer::{AdapterConf, ServerId};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/adapter_conf_list?id=<server id>`: the adapters of one server instance.
pub async fn adapter_conf_list(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<AdapterConf>>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(ServerId { id }, |mut c, r| async move {
            c.adapter_conf_list(r).await
        })
        .await?;
    Ok(Data(reply.adapters))
}
