use axum::extract::State;
use axum::Extension;
use tars_proto::deployer::{ProfileTemplate, ProfileTemplateInput};

use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/update_profile_template`: rewrites a template's name, parent and body.
pub async fn update_profile_template(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> ApiResult<Data<ProfileTemplate>> {
    let input = ProfileTemplateInput {
        id: params.required_i64("id")?,
        template_name: params.required_str("template_name")?,
        parents_name: params.required_str("parents_name")?,
        profile: params.required_str("profile")?,
        user: caller.user,
    };
    let reply = state
        .backends
        .deployer
        .call(input, |mut c, r| async move {
            c.update_profile_template(r).await
        })
        .await?;
    Ok(Data(reply))
}
