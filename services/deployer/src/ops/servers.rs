//! Reading and editing server instances.

use tars_proto::common::Page;
use tars_proto::deployer::{InactiveServerListRequest, ServerConf, UpdateServerRequest};
use tars_store::server_conf::{ServerFilter, ServerUpdate};
use tars_store::Store;

use tars_common::authz::Role;

use super::limits::{self, server_conf};
use super::tree::TreeSelection;
use super::validate;
use super::{access, convert};
use crate::error::{DeployerError, DeployerResult};

/// The server with that id.
pub async fn server(store: &Store, id: i64) -> DeployerResult<ServerConf> {
    let row = store
        .server_by_id(id)
        .await?
        .ok_or_else(|| server_not_found(id))?;
    access::server(Role::Developer, &row)?;
    Ok(convert::server_conf(row))
}

/// The 404 for an unknown server id.
pub fn server_not_found(id: i64) -> DeployerError {
    DeployerError::NotFound(format!(
        "no server with id {id}; list servers with /api/server_list?tree_node_id=1<application>"
    ))
}

/// Every server under a tree node (or one page of them).
pub async fn server_list(
    store: &Store,
    tree_node_id: &str,
    page: Option<&Page>,
) -> DeployerResult<Vec<ServerConf>> {
    let mut filter = TreeSelection::parse(tree_node_id)?.server_filter();
    filter.within = access::readable();
    let window = super::paging::fleet(page)?;
    let rows = store.list_servers(&filter, window).await?;
    let rows = match window {
        Some(_) => rows,
        None => super::paging::whole(rows, "servers")?,
    };
    Ok(rows.into_iter().map(convert::server_conf).collect())
}

/// Servers whose setting state is inactive, optionally narrowed and paged.
pub async fn inactive_server_list(
    store: &Store,
    request: InactiveServerListRequest,
) -> DeployerResult<Vec<ServerConf>> {
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    let filter = ServerFilter {
        application: non_empty(request.application),
        server_name: non_empty(request.server_name),
        node_name: non_empty(request.node_name),
        setting_state: Some("inactive".to_string()),
        within: access::readable(),
        ..ServerFilter::default()
    };
    let window = super::paging::fleet(request.page.as_ref())?;
    let rows = store.list_servers(&filter, window).await?;
    let rows = match window {
        Some(_) => rows,
        None => super::paging::whole(rows, "inactive servers")?,
    };
    Ok(rows.into_iter().map(convert::server_conf).collect())
}

/// Refuses a change `t_server_conf` cannot hold. Set fields are checked even when the
/// server is not in a set: they are stored all the same.
fn check_sizes(request: &UpdateServerRequest) -> DeployerResult<()> {
    for (param, value, column) in [
        (
            "template_name",
            &request.template_name,
            server_conf::TEMPLATE_NAME,
        ),
        ("set_name", &request.set_name, server_conf::SET_NAME),
        ("set_area", &request.set_area, server_conf::SET_AREA),
        ("set_group", &request.set_group, server_conf::SET_GROUP),
        ("base_path", &request.base_path, server_conf::BASE_PATH),
        ("exe_path", &request.exe_path, server_conf::EXE_PATH),
        (
            "start_script_path",
            &request.start_script_path,
            server_conf::START_SCRIPT_PATH,
        ),
        (
            "stop_script_path",
            &request.stop_script_path,
            server_conf::STOP_SCRIPT_PATH,
        ),
        (
            "monitor_script_path",
            &request.monitor_script_path,
            server_conf::MONITOR_SCRIPT_PATH,
        ),
        ("profile", &request.profile, server_conf::PROFILE),
    ] {
        limits::optional_text(param, value.as_deref(), &column)?;
    }
    limits::optional_int(
        "async_thread_num",
        request.async_thread_num,
        &server_conf::ASYNC_THREAD_NUM,
    )
}

/// Applies the given changes to a server and answers it as stored.
pub async fn update_server(
    store: &Store,
    request: UpdateServerRequest,
) -> DeployerResult<ServerConf> {
    let current = store
        .server_by_id(request.id)
        .await?
        .ok_or_else(|| server_not_found(request.id))?;
    access::server(Role::Operator, &current)?;
    check_sizes(&request)?;
    if let Some(server_type) = &request.server_type {
        validate::server_type(server_type)?;
    }
    if let Some(template) = &request.template_name {
        super::templates::require_existing(store, "template_name", template).await?;
    }
    if let Some(n) = request.async_thread_num {
        if n < 0 {
            return Err(DeployerError::bad_param(
                "async_thread_num",
                "must not be negative",
            ));
        }
    }
    let enable_set = request.enable_set.unwrap_or(current.enable_set == "Y");
    let mut update = ServerUpdate {
        bak_flag: request.bak_flag,
        template_name: request.template_name,
        server_type: request.server_type,
        enable_set: request.enable_set,
        set_name: request.set_name,
        set_area: request.set_area,
        set_group: request.set_group,
        async_thread_num: request.async_thread_num,
        base_path: request.base_path,
        exe_path: request.exe_path,
        start_script_path: request.start_script_path,
        stop_script_path: request.stop_script_path,
        monitor_script_path: request.monitor_script_path,
        profile: request.profile,
    };
    if enable_set {
        let pick = |new: &Option<String>, old: &Option<String>| {
            new.clone().or_else(|| old.clone()).unwrap_or_default()
        };
        validate::set_fields(
            &pick(&update.set_name, &current.set_name),
            &pick(&update.set_area, &current.set_area),
            &pick(&update.set_group, &current.set_group),
            &limits::SERVER_SET,
        )?;
    } else if request.enable_set == Some(false) {
        // Leaving a set clears its fields, as deploying without set does.
        update.set_name = Some(String::new());
        update.set_area = Some(String::new());
        update.set_group = Some(String::new());
    }
    store
        .update_server(request.id, &update, tars_common::time::now_local())
        .await?;
    store
        .server_by_id(request.id)
        .await?
        .map(convert::server_conf)
        .ok_or_else(|| server_not_found(request.id))
}
