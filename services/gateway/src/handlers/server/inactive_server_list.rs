use axum::extract::State;
use tars_proto::deployer::{InactiveServerListRequest, ServerConf};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/inactive_server_list`: servers whose setting state is inactive, optionally
/// narrowed by application, server_name and node_name, and paged.
pub async fn inactive_server_list(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<ServerConf>>> {
    let request = InactiveServerListRequest {
        application: params.str_or_empty("application")?,
        server_name: params.str_or_empty("server_name")?,
        node_name: params.str_or_empty("node_name")?,
        page: Some(params.page()?),
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move {
            c.inactive_server_list(r).await
        })
        .await?;
    Ok(Data(reply.servers))
}
