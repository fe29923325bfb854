use axum::extract::State;
use tars_proto::deployer::{RealtimeState, ServerId};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/get_realtime_state?id=`: the server's state as its node reports it now.
pub async fn get_realtime_state(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<RealtimeState>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(ServerId { id }, |mut c, r| async move {
            c.get_realtime_state(r).await
        })
        .await?;
    Ok(Data(reply))
}
