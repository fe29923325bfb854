use axum::extract::State;
use tars_proto::deployer::LoadServerRequest;

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/load_server`: asks the instance's node to reload it; answers the node's text.
pub async fn load_server(State(state): State<AppState>, params: Params) -> ApiResult<Data<String>> {
    let request = LoadServerRequest {
        application: params.required_str("application")?,
        server_name: params.required_str("server_name")?,
        node_name: params.required_str("node_name")?,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move { c.load_server(r).await })
        .await?;
    Ok(Data(reply.result))
}
