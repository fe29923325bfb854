use axum::extract::State;
use tars_proto::common::Empty;

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::state::AppState;

/// `/api/template_name_list`: every profile template name.
pub async fn template_name_list(State(state): State<AppState>) -> ApiResult<Data<Vec<String>>> {
    let reply = state
        .backends
        .deployer
        .call(
            Empty {},
            |mut c, r| async move { c.template_name_list(r).await },
        )
        .await?;
    Ok(Data(reply.items))
}
