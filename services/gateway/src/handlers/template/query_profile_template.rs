use axum::extract::State;
use tars_proto::deployer::{ProfileTemplate, QueryProfileTemplateRequest};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/query_profile_template`: templates whose name and parent contain the given
/// fragments (both optional).
pub async fn query_profile_template(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<ProfileTemplate>>> {
    let request = QueryProfileTemplateRequest {
        template_name: params.str_or_empty("template_name")?,
        parents_name: params.str_or_empty("parents_name")?,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move {
            c.query_profile_template(r).await
        })
        .await?;
    Ok(Data(reply.templates))
}
