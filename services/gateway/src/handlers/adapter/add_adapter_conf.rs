use axum::extract::State;
use axum::Extension;
use tars_proto::deployer::{AdapterConf, AdapterConfInput};

use super::adapter_fields;
use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::JsonParams;
use crate::state::AppState;

/// `/api/add_adapter_conf` (POST JSON): adds an adapter to a deployed server instance.
pub async fn add_adapter_conf(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonParams(params): JsonParams,
) -> ApiResult<Data<AdapterConf>> {
    let mut input = AdapterConfInput {
        application: params.required_str("application")?,
        server_name: params.required_str("server_name")?,
        node_name: params.required_str("node_name")?,
        user: caller.user,
        ..AdapterConfInput::default()
    };
    adapter_fields(&params, &mut input)?;
    let reply = state
        .backends
        .deployer
        .call(input, |mut c, r| async move { c.add_adapter_conf(r).await })
        .await?;
    Ok(Data(reply))
}
