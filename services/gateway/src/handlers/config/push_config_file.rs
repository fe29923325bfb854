use axum::extract::State;
use tars_proto::deployer::{CommandResult, PushConfigRequest};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/push_config_file?ids=1;2;3`: tells every server instance the files apply to to
/// reload them (`tars.loadconfig <file>`); one row per instance, a dead node failing only
/// its own rows.
pub async fn push_config_file(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<Vec<CommandResult>>> {
    let request = PushConfigRequest {
        ids: params.id_list("ids")?,
    };
    let reply = state
        .backends
        .deployer
        .call(
            request,
            |mut c, r| async move { c.push_config_file(r).await },
        )
        .await?;
    Ok(Data(reply.results))
}
