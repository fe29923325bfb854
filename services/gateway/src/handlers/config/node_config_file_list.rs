use axum::extract::State;
use axum::Extension;
use tars_proto::deployer::{ConfigFile, NodeConfigFileListRequest};

use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::JsonParams;
use crate::state::AppState;

/// `/api/node_config_file_list` (POST JSON): the node-level files of server-level file
/// `config_id`, one per node the server is deployed on (missing ones are created empty).
/// `application` and `server_name` are required, as in TarsWeb, and must be the file's.
pub async fn node_config_file_list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonParams(params): JsonParams,
) -> ApiResult<Data<Vec<ConfigFile>>> {
    let request = NodeConfigFileListRequest {
        config_id: params.required_i64("config_id")?,
        application: params.required_str("application")?,
        server_name: params.required_str("server_name")?,
        set_name: params.str("set_name")?,
        set_area: params.str("set_area")?,
        set_group: params.str("set_group")?,
        user: caller.user,
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move {
            c.node_config_file_list(r).await
        })
        .await?;
    Ok(Data(reply.files))
}
