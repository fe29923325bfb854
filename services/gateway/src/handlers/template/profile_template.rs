use axum::extract::State;
use tars_proto::deployer::{ProfileTemplate, TemplateName};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/profile_template?template_name=`: one template by name.
pub async fn profile_template(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<ProfileTemplate>> {
    let template_name = params.required_str("template_name")?;
    let reply = state
        .backends
        .deployer
        .call(TemplateName { template_name }, |mut c, r| async move {
            c.profile_template_by_name(r).await
        })
        .await?;
    Ok(Data(reply))
}
