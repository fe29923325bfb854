use axum::extract::State;
use tars_proto::deployer::{CommandResult, SendCommandRequest};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/send_command?server_ids=1;2&command=`: sends a custom command to each server
/// through its node; one row per server, a failing node affecting only its own rows.
pub async fn send_command(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<CommandResult>>> {
    let request = SendCommandRequest {
        server_ids: params.id_list("server_ids")?,
        command: params.required_str("command")?,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move { c.send_command(r).await })
        .await?;
    Ok(Data(reply.results))
}
