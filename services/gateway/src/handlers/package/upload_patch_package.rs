use axum::body::Body;
use axum::extract::State;
use axum::Extension;
use http::Request;
use tars_proto::deployer::Package;

use super::store_package::store_package;
use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::upload::{package_error, receive};

/// `/api/upload_patch_package` (multipart): stores the package in field `suse` for
/// `application`.`module_name`, checking `md5` when given, and records it.
pub async fn upload_patch_package(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request<Body>,
) -> ApiResult<Data<Package>> {
    let limit = state.config.packages.max_upload_bytes;
    let mut form = receive(request, &state.packages, limit).await?;
    let application = form.required_name("application")?;
    let module_name = form.required_name("module_name")?;
    let staged = form.take_package()?;
    staged.check_md5(form.field("md5")).map_err(package_error)?;
    let comment = form.field("comment").unwrap_or_default().to_string();
    let stored = store_package(
        &state,
        &application,
        &module_name,
        &comment,
        &caller.user,
        staged,
    )
    .await?;
    tracing::info!(
        package = %stored.package.tgz,
        id = stored.package.id,
        bytes = stored.size,
        md5 = %stored.md5,
        "package uploaded"
    );
    Ok(Data(stored.package))
}
