use axum::extract::State;
use tars_proto::deployer::{PackageListRequest, PackagePage};

use crate::envelope::Data;
use crate::error::ApiResult;
use crate::params::Params;
use crate::state::AppState;

/// `/api/server_patch_list?application=&module_name=`: a server's packages, newest first,
/// paged by `curr_page`/`page_size` as `{count, rows}`.
pub async fn server_patch_list(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Data<PackagePage>> {
    let request = PackageListRequest {
        application: params.required_str("application")?,
        module_name: params.required_str("module_name")?,
        page: Some(params.page()?),
    };
    let reply = state
        .backends
        .deployer
        .call(request, |mut c, r| async move { c.package_list(r).await })
        .await?;
    Ok(Data(reply))
}
