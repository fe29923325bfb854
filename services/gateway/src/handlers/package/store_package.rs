//! The steps both upload endpoints share: keep the staged file under a generated name,
//! then record it; a record that cannot be written takes the file away again.

use tars_packages::layout::package_name;
use tars_packages::Staged;
use tars_proto::deployer::{AddPackageRequest, Package};

use crate::error::ApiResult;
use crate::state::AppState;
use crate::upload::package_error;

/// What was stored.
pub struct StoredPackage {
    pub package: Package,
    pub size: u64,
    pub md5: String,
}

/// Keeps `staged` as a package of `application.module_name` and records it.
pub async fn store_package(
    state: &AppState,
    application: &str,
    module_name: &str,
    comment: &str,
    user: &str,
    staged: Staged,
) -> ApiResult<StoredPackage> {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let name = package_name(application, module_name, millis);
    let (size, md5) = (staged.size, staged.md5.clone());
    state
        .packages
        .keep(application, module_name, &name, staged)
        .await
        .map_err(package_error)?;
    let request = AddPackageRequest {
        application: application.to_string(),
        module_name: module_name.to_string(),
        tgz: name.clone(),
        md5: md5.clone(),
        comment: comment.to_string(),
        user: user.to_string(),
    };
    let recorded = state
        .backends
        .deployer
        .call(request, |mut c, r| async move { c.add_package(r).await })
        .await;
    match recorded {
        Ok(package) => Ok(StoredPackage { package, size, md5 }),
        Err(err) => {
            state
                .packages
                .discard(application, module_name, &name)
                .await;
            Err(err)
        }
    }
}
