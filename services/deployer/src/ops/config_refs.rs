//! References between configuration files: a file includes the files it references when
//! tarsconfig assembles it. A file may reference only files of a higher level (a node or
//! server file references server or application/set files) of the same application.

use tars_proto::deployer::{ConfigRef, ConfigRefDetail};
use tars_store::config_refs::RefInsertion;
use tars_store::{Store, StoreError};

use tars_common::authz::Role;

use super::access;
use super::config_files::{describe, file_not_found, load, to_config_file};
use super::limits::{self, config_references};
use crate::error::{DeployerError, DeployerResult};

fn level_name(level: Option<i64>) -> &'static str {
    match level {
        Some(1) => "application/set level",
        Some(2) => "server level",
        Some(3) => "node level",
        _ => "unknown level",
    }
}

/// The application a stored `server_name` (`App` or `App.Server`) belongs to.
fn application_of(server_name: Option<&str>) -> &str {
    let name = server_name.unwrap_or_default();
    name.split_once('.').map_or(name, |(app, _)| app)
}

/// Makes `config_id` reference `reference_id`.
pub async fn add_config_ref(
    store: &Store,
    config_id: i64,
    reference_id: i64,
) -> DeployerResult<ConfigRef> {
    limits::int("config_id", config_id, &config_references::CONFIG_ID)?;
    limits::int(
        "reference_id",
        reference_id,
        &config_references::REFERENCE_ID,
    )?;
    if config_id == reference_id {
        return Err(DeployerError::bad_param(
            "reference_id",
            format!("is the file itself ({config_id}); a file cannot reference itself"),
        ));
    }
    let file = load(store, config_id).await?;
    access::config_file(Role::Operator, &file)?;
    let target = store
        .config_file_by_id(reference_id)
        .await?
        .ok_or_else(|| {
            DeployerError::NotFound(format!(
                "reference_id {reference_id} names no configuration file; a reference must \
                 point at an existing file"
            ))
        })?;
    let (file_level, target_level) = (file.level.unwrap_or(0), target.level.unwrap_or(0));
    if target_level >= file_level {
        return Err(DeployerError::bad_param(
            "reference_id",
            format!(
                "names {} at {}, but {} is at {}; a file may only reference files of a higher \
                 level (application/set above server above node)",
                describe(&target),
                level_name(target.level),
                describe(&file),
                level_name(file.level)
            ),
        ));
    }
    let (file_app, target_app) = (
        application_of(file.server_name.as_deref()),
        application_of(target.server_name.as_deref()),
    );
    if !file_app.eq_ignore_ascii_case(target_app) {
        return Err(DeployerError::bad_param(
            "reference_id",
            format!(
                "names a file of application {target_app}, but file {config_id} belongs to \
                 {file_app}; references stay within one application"
            ),
        ));
    }
    match store.insert_config_ref(config_id, reference_id).await {
        Ok(RefInsertion::Added(id)) => Ok(ConfigRef {
            id,
            config_id,
            reference_id,
        }),
        Ok(RefInsertion::MissingFile(id)) => Err(file_not_found(id)),
        Err(StoreError::AlreadyExists(_)) => Err(DeployerError::Conflict(format!(
            "file {config_id} already references file {reference_id}"
        ))),
        Err(other) => Err(other.into()),
    }
}

/// Removes a reference.
pub async fn delete_config_ref(store: &Store, id: i64) -> DeployerResult<i64> {
    // The reference belongs to the including file.
    if let Some(reference) = store.config_ref_by_id(id).await? {
        match store
            .config_file_by_id(reference.config_id.unwrap_or_default())
            .await?
        {
            Some(file) => access::config_file(Role::Operator, &file)?,
            None => access::target(Role::Operator, "*", "")?,
        }
    }
    if store.delete_config_ref(id).await? {
        Ok(id)
    } else {
        Err(DeployerError::NotFound(format!(
            "no configuration reference with id {id}; list a file's references with \
             /api/config_ref_list?config_id="
        )))
    }
}

/// The references of a file, newest first, each with the file it points at.
pub async fn config_ref_list(
    store: &Store,
    config_id: i64,
) -> DeployerResult<Vec<ConfigRefDetail>> {
    access::config_file(Role::Developer, &load(store, config_id).await?)?;
    Ok(store
        .config_refs_with_files(config_id)
        .await?
        .into_iter()
        .map(|(reference, file)| ConfigRefDetail {
            id: reference.id,
            config_id: reference.config_id.unwrap_or_default(),
            reference: Some(to_config_file(file)),
        })
        .collect())
}
