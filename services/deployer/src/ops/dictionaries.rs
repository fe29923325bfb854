//! Dictionaries for pickers: server types, template names and the cascade selector
//! (application → server → set → node → servant).

use std::collections::BTreeSet;

use tars_proto::deployer::CascadeSelectRequest;
use tars_store::server_conf::ServerFilter;
use tars_store::Store;

use super::validate::SERVER_TYPES;
use crate::error::{DeployerError, DeployerResult};

/// Every server type TARS can run.
pub fn server_type_list() -> Vec<String> {
    SERVER_TYPES.iter().map(|s| s.to_string()).collect()
}

/// Every template name.
pub async fn template_name_list(store: &Store) -> DeployerResult<Vec<String>> {
    Ok(store.template_names().await?)
}

fn require<'a>(value: &'a str, param: &str, level: i64) -> DeployerResult<&'a str> {
    if value.is_empty() {
        Err(DeployerError::bad_param(
            param,
            format!("is required when level is {level}"),
        ))
    } else {
        Ok(value)
    }
}

/// The choices at one level of the cascade: 1 applications, 2 servers of an application,
/// 3 sets of a server (`name.area.group`, or "" for instances without set), 4 nodes of a
/// server in a set, 5 servants of a server.
pub async fn cascade_select_server(
    store: &Store,
    request: CascadeSelectRequest,
) -> DeployerResult<Vec<String>> {
    let level = request.level;
    // Only what the caller may read: fewer choices, not a refusal.
    let readable = super::access::readable();
    let app_readable = |app: &str| {
        readable.as_ref().is_none_or(|w| {
            w.apps.iter().any(|a| a == app) || w.servers.iter().any(|(a, _)| a == app)
        })
    };
    let server_readable =
        |app: &str, server: &str| readable.as_ref().is_none_or(|w| w.covers(app, server));
    if level >= 2 {
        let app = require(&request.application, "application", level)?;
        if !app_readable(app) {
            return Ok(Vec::new());
        }
        if level >= 3 {
            let server = require(&request.server_name, "server_name", level)?;
            if !server_readable(app, server) {
                return Ok(Vec::new());
            }
        }
    }
    match level {
        1 => {
            let mut apps = store.distinct_applications().await?;
            apps.retain(|app| app_readable(app));
            Ok(apps)
        }
        2 => {
            let app = require(&request.application, "application", level)?;
            let mut servers = store.distinct_server_names(app).await?;
            servers.retain(|server| server_readable(app, server));
            Ok(servers)
        }
        3 => {
            let app = require(&request.application, "application", level)?;
            let server = require(&request.server_name, "server_name", level)?;
            let sets: BTreeSet<String> = store
                .distinct_sets(app, server)
                .await?
                .into_iter()
                .map(|e| {
                    if e.enable_set == "Y" {
                        format!(
                            "{}.{}.{}",
                            e.set_name.unwrap_or_default(),
                            e.set_area.unwrap_or_default(),
                            e.set_group.unwrap_or_default()
                        )
                    } else {
                        String::new()
                    }
                })
                .collect();
            Ok(sets.into_iter().collect())
        }
        4 => {
            let app = require(&request.application, "application", level)?;
            let server = require(&request.server_name, "server_name", level)?;
            let mut filter = ServerFilter {
                application: Some(app.to_string()),
                server_name: Some(server.to_string()),
                enable_set: Some(false),
                ..ServerFilter::default()
            };
            if !request.set.is_empty() {
                let parts: Vec<&str> = request.set.split('.').collect();
                let [name, area, group] = parts.as_slice() else {
                    return Err(DeployerError::bad_param(
                        "set",
                        format!("`{}` must be `<set name>.<set area>.<set group>`", request.set),
                    ));
                };
                filter.enable_set = Some(true);
                filter.set_name = Some(name.to_string());
                filter.set_area = Some(area.to_string());
                filter.set_group = Some(group.to_string());
            }
            let nodes: BTreeSet<String> = store
                .list_servers(&filter, None)
                .await?
                .into_iter()
                .map(|s| s.node_name)
                .collect();
            Ok(nodes.into_iter().collect())
        }
        5 => {
            let app = require(&request.application, "application", level)?;
            let server = require(&request.server_name, "server_name", level)?;
            let filter = ServerFilter {
                application: Some(app.to_string()),
                server_name: Some(server.to_string()),
                ..ServerFilter::default()
            };
            let mut servants = BTreeSet::new();
            for instance in store.list_servers(&filter, None).await? {
                for adapter in store.adapters_of_instance(app, server, &instance.node_name).await? {
                    if let Some(servant) = adapter.servant {
                        servants.insert(servant);
                    }
                }
            }
            Ok(servants.into_iter().collect())
        }
        other => Err(DeployerError::bad_param(
            "level",
            format!("{other} is not a level: use 1 (application), 2 (server), 3 (set), 4 (node) or 5 (servant)"),
        )),
    }
}
