//! Pushing configuration files: each server instance a file applies to is told to reload
//! it (`tars.loadconfig <file>` through its node's `notifyServer`), as TarsWeb's
//! push_config_file does.

use std::collections::HashSet;

use tars_nodes::Nodes;
use tars_proto::deployer::CommandResult;
use tars_store::config_files::{ConfigFileRow, LEVEL_NODE, LEVEL_SERVER};
use tars_store::Store;

use super::config_files::{describe, instances_in_set};
use super::node_calls::{notify_all, NotifyTarget};
use crate::error::{DeployerError, DeployerResult};

/// The instances a file applies to: a node-level file its own instance, a server-level
/// file every instance of the server (in its set).
async fn targets_of(store: &Store, file: &ConfigFileRow) -> DeployerResult<Vec<NotifyTarget>> {
    let server_name = file.server_name.as_deref().unwrap_or_default();
    let (application, server) = server_name.split_once('.').unwrap_or((server_name, ""));
    let command = format!(
        "tars.loadconfig {}",
        file.filename.as_deref().unwrap_or_default()
    );
    let target = |node_name: String| NotifyTarget {
        application: application.to_string(),
        server_name: server.to_string(),
        node_name,
        command: command.clone(),
    };
    match file.level {
        Some(LEVEL_NODE) => Ok(vec![target(file.host.clone())]),
        Some(LEVEL_SERVER) => {
            let filter = instances_in_set(
                application,
                server,
                [&file.set_name, &file.set_area, &file.set_group],
            );
            Ok(store
                .list_servers(&filter, None)
                .await?
                .into_iter()
                .map(|s| target(s.node_name))
                .collect())
        }
        _ => Err(DeployerError::bad_param(
            "ids",
            format!(
                "includes {}, an application/set level file; push the server or node files \
                 that reference it",
                describe(file)
            ),
        )),
    }
}

/// Tells every instance the files apply to to reload them. Unknown ids are refused before
/// anything is sent.
pub async fn push_config_file(
    store: &Store,
    nodes: &Nodes,
    ids: &[i64],
) -> DeployerResult<Vec<CommandResult>> {
    if ids.is_empty() {
        return Err(DeployerError::bad_param("ids", "is required"));
    }
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let files = store.config_files_by_ids(&unique).await?;
    let missing: Vec<String> = unique
        .iter()
        .filter(|id| !files.iter().any(|f| f.id == **id))
        .map(i64::to_string)
        .collect();
    if !missing.is_empty() {
        return Err(DeployerError::NotFound(format!(
            "no configuration file with id {}; nothing was pushed",
            missing.join(", ")
        )));
    }
    // Every file must be the caller's to push before anything is sent. TarsWeb lets a
    // developer push (hasOpeAuth); here pushing is an operator's.
    for file in &files {
        super::access::config_file(tars_common::authz::Role::Operator, file)?;
    }
    // In the order asked, each instance told about each file once.
    let mut targets: Vec<NotifyTarget> = Vec::new();
    let mut seen_targets = HashSet::new();
    let mut seen_ids = HashSet::new();
    for id in ids {
        if !seen_ids.insert(*id) {
            continue;
        }
        let Some(file) = files.iter().find(|f| f.id == *id) else {
            continue;
        };
        for target in targets_of(store, file).await? {
            if seen_targets.insert(target.clone()) {
                targets.push(target);
            }
        }
    }
    Ok(notify_all(store, nodes, targets).await)
}
