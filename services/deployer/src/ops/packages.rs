//! Package records: what the gateway's package store kept, recorded in `t_server_patchs`
//! so patch_tars (and TARS's own tools) can find it, and listed per server.

use tars_common::time::{format_api_time, now_local};
use tars_proto::deployer::{AddPackageRequest, Package, PackagePage};
use tars_store::packages::{NewPackage, PackageRow};
use tars_store::{PageWindow, Store};

use super::validate;
use crate::error::{DeployerError, DeployerResult};

/// `t_server_patchs.update_text` holds 255 characters.
const MAX_COMMENT_CHARS: usize = 255;

fn package(row: PackageRow) -> Package {
    Package {
        id: row.id,
        server: row.server.unwrap_or_default(),
        tgz: row.tgz.unwrap_or_default(),
        comment: row.update_text.unwrap_or_default(),
        posttime: format_api_time(row.posttime),
    }
}

/// Records a kept package.
pub async fn add(store: &Store, request: AddPackageRequest) -> DeployerResult<Package> {
    validate::name("application", &request.application)?;
    validate::name("module_name", &request.module_name)?;
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
    if request.comment.chars().count() > MAX_COMMENT_CHARS
        || request.comment.chars().any(|c| c.len_utf8() > 3)
    {
        return Err(DeployerError::bad_param(
            "comment",
            format!(
                "must be at most {MAX_COMMENT_CHARS} characters, without emoji (TARS stores \
                 it in a 3-byte utf8 column)"
            ),
        ));
    }
    let id = store
        .insert_package(&NewPackage {
            server: format!("{}.{}", request.application, request.module_name),
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
pub async fn list(
    store: &Store,
    application: &str,
    module_name: &str,
    window: Option<PageWindow>,
) -> DeployerResult<PackagePage> {
    validate::name("application", application)?;
    validate::name("module_name", module_name)?;
    let (count, rows) = store
        .packages_of(&format!("{application}.{module_name}"), window)
        .await?;
    Ok(PackagePage {
        count,
        rows: rows.into_iter().map(package).collect(),
    })
}
