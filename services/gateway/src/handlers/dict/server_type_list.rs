use axum::extract::State;
use tars_proto::common::Empty;

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::state::AppState;

/// `/api/server_type_list`: the server types TARS can run.
pub async fn server_type_list(State(state): State<AppState>) -> ApiResult<Data<Vec<String>>> {
    let reply = state
        .backends
        .deployer
        .call(
            Empty {},
            |mut c, r| async move { c.server_type_list(r).await },
        )
        .await?;
    Ok(Data(reply.items))
}
