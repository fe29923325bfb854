//! Who may touch what, checked where the ops find their targets (they load the rows
//! anyway, so a check costs no query): the role each endpoint needs on its target's
//! application or server ([`tars_common::authz`]), and what lists may show.

use tars_common::authz::{self, Role, Scope};
use tars_store::config_files::ConfigFileRow;
use tars_store::server_conf::ServerConfRow;
use tars_store::Within;

use crate::error::DeployerResult;

/// What the caller's lists may show (where they are at least `developer`); `None`:
/// everything.
pub fn readable() -> Option<Within> {
    match authz::scope(Role::Developer) {
        Scope::All => None,
        Scope::Some { apps, servers } => Some(Within {
            apps: apps.into_iter().collect(),
            servers: servers.into_iter().collect(),
        }),
    }
}

/// The caller holds `need` on this server instance's server.
pub fn server(need: Role, row: &ServerConfRow) -> DeployerResult<()> {
    let application = row.application.as_deref().unwrap_or_default();
    authz::require(need, application, row.server_name.as_deref())?;
    Ok(())
}

/// The caller holds `need` on `application` (and `server_name`, when not empty).
pub fn target(need: Role, application: &str, server_name: &str) -> DeployerResult<()> {
    let server = Some(server_name).filter(|s| !s.is_empty());
    authz::require(need, application, server)?;
    Ok(())
}

/// The caller holds `need` on a configuration file's place: its `server_name` column is
/// `App` (application and set levels) or `App.Server` (server and node levels).
pub fn config_file(need: Role, row: &ConfigFileRow) -> DeployerResult<()> {
    let place = row.server_name.as_deref().unwrap_or_default();
    let (application, server) = place.split_once('.').unwrap_or((place, ""));
    target(need, application, server)?;
    authz::note_ids(&format!("config {}", row.id));
    Ok(())
}

/// The caller is an admin.
pub fn admin() -> DeployerResult<()> {
    authz::require_admin()?;
    Ok(())
}
