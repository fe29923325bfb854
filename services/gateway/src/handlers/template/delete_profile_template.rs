use axum::extract::State;
use tars_proto::deployer::TemplateId;

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/delete_profile_template?id=`: deletes a template no server or template uses;
/// answers `[id]`.
pub async fn delete_profile_template(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<i64>>> {
    let id = params.required_i64("id")?;
    let reply = state
        .backends
        .deployer
        .call(TemplateId { id }, |mut c, r| async move {
            c.delete_profile_template(r).await
        })
        .await?;
    Ok(Data(vec![reply.id]))
}
