use axum::extract::State;
use tars_proto::deployer::CascadeSelectRequest;

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/cascade_select_server?level=`: the choices at one level (1 application,
/// 2 server, 3 set, 4 node, 5 servant) given the levels above.
pub async fn cascade_select_server(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<String>>> {
    let request = CascadeSelectRequest {
        level: params.required_i64("level")?,
        application: params.str_or_empty("application")?,
        server_name: params.str_or_empty("server_name")?,
        set: params.str_or_empty("set")?,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move {
            c.cascade_select_server(r).await
        })
        .await?;
    Ok(Data(reply.items))
}
