use axum::extract::State;
use axum::Extension;
use tars_proto::deployer::{AdapterConf, AdapterConfInput};

use super::adapter_fields;
use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::JsonParams;
use crate::state::AppState;

/// `/api/update_adapter_conf` (POST JSON): changes the given fields of one adapter.
pub async fn update_adapter_conf(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonParams(params): JsonParams,
) -> ApiResult<Data<AdapterConf>> {
    let mut input = AdapterConfInput {
        id: params.required_i64("id")?,
        user: caller.user,
        ..AdapterConfInput::default()
    };
    adapter_fields(&params, &mut input)?;
    let reply = state
        .backends
        .deployer
        .call(
            input,
            |mut c, r| async move { c.update_adapter_conf(r).await },
        )
        .await?;
    Ok(Data(reply))
}
