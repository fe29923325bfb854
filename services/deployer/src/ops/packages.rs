//! Package records: what the gateway's package store kept, recorded in `t_server_patchs`
//! so patch_tars (and TARS's own tools) can find it, and listed per server.

use tars_common::authz::Role;
use tars_common::time::{format_api_time, now_local};
use tars_proto::deployer::{AddPackageRequest, Package, PackageListRequest, PackagePage};
use tars_store::packages::{NewPackage, PackageRow};
use tars_store::Store;

use super::limits::{self, server_patchs};
use super::{paging, validate};
use crate::error::{DeployerError, DeployerResult};

fn package(row: PackageRow) -> Package {
    Package {
        id: row.id,
        server: row.server.unwrap_or_default(),
        tgz: row.tgz.unwrap_or_default(),
        comment: row.update_text.unwrap_or_default(),
        posttime: format_api_time(row.posttime),
    }
}

/// Records a kept package (`upload_and_publish` records its package here too).
pub async fn upload_patch_package(
    store: &Store,
    request: AddPackageRequest,
) -> DeployerResult<Package> {
    // The row names the server `App.Server` in a column narrower than either name's.
    validate::stored_name("application", &request.application, &server_patchs::SERVER)?;
    validate::name("module_name", &request.module_name)?;
    super::access::target(Role::Operator, &request.application, &request.module_name)?;
    let server = format!("{}.{}", request.application, request.module_name);
    limits::derived(
        &["application", "module_name"],
        "the package's server name",
        &server,
        &server_patchs::SERVER,
    )?;
    if request.md5.len() != 32 || !request.md5.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(DeployerError::bad_param(
            "md5",
            format!("{:?} is not 32 hexadecimal digits", request.md5),
        ));
    }
    if request.tgz.is_empty() || request.tgz.contains(['/', '\\']) || request.tgz.contains("..") {
        return Err(DeployerError::bad_param(
            "tgz",
            format!("{:?} is not a plain file name", request.tgz),
        ));
    }
    limits::text("comment", &request.comment, &server_patchs::UPDATE_TEXT)?;
    limits::user(&request.user, &server_patchs::UPLOAD_USER)?;
    limits::user(&request.user, &server_patchs::LASTUSER)?;
    let id = store
        .insert_package(&NewPackage {
            server,
            tgz: request.tgz,
            md5: request.md5.to_ascii_lowercase(),
            comment: request.comment,
            user: request.user,
            posttime: now_local(),
        })
        .await?;
    let row = store
        .package_by_id(id)
        .await?
        .ok_or_else(|| DeployerError::Internal(format!("package {id} vanished after insert")))?;
    Ok(package(row))
}

/// The packages of one server, newest first.
pub async fn server_patch_list(
    store: &Store,
    request: PackageListRequest,
) -> DeployerResult<PackagePage> {
    let window = paging::history(request.page.as_ref())?;
    let (application, module_name) = (&request.application, &request.module_name);
    validate::name("application", application)?;
    validate::name("module_name", module_name)?;
    super::access::target(Role::Developer, application, module_name)?;
    let (count, rows) = store
        .packages_of(&format!("{application}.{module_name}"), Some(window))
        .await?;
    Ok(PackagePage {
        count,
        rows: rows.into_iter().map(package).collect(),
    })
}
