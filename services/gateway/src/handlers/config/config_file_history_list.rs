use axum::extract::State;
use tars_proto::deployer::{ConfigHistoryListRequest, ConfigHistoryPage};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/config_file_history_list?config_id=`: a file's history, newest first, paged by
/// `curr_page`/`page_size` as `{count, rows}`.
pub async fn config_file_history_list(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<ConfigHistoryPage>> {
    let request = ConfigHistoryListRequest {
        config_id: params.required_i64("config_id")?,
        page: Some(params.page()?),
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move {
            c.config_file_history_list(r).await
        })
        .await?;
    Ok(Data(reply))
}
