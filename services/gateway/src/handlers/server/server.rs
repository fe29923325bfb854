use axum::extract::State;
use tars_proto::deployer::{ServerConf, ServerId};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/server?id=`: one server instance.
pub async fn server(State(state): State<AppState>, params: Params) -> ApiResult<Data<ServerConf>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(ServerId { id }, |mut c, r| async move { c.server(r).await })
        .await?;
    Ok(Data(reply))
}
