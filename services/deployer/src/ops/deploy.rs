//! Deploying a server: its instance rows and their adapters, in one transaction.

use std::collections::BTreeSet;

use tars_proto::deployer::{DeployAdapter, DeployServerReply, DeployServerRequest};
use tars_store::adapter_conf::NewAdapter;
use tars_store::server_conf::NewServer;
use tars_store::{Store, StoreError};

use tars_common::authz::Role;
use tars_nodes::Nodes;

use super::limits::{adapter_conf, server_conf};
use super::{convert, limits, validate};
use crate::config::Settings;
use crate::error::{DeployerError, DeployerResult};

// Defaults for values a request leaves out (expansion uses them for NULL source columns).
pub(crate) const DEFAULT_THREAD_NUM: i64 = 1;
pub(crate) const DEFAULT_MAX_CONNECTIONS: i64 = 100_000;
pub(crate) const DEFAULT_QUEUECAP: i64 = 50_000;
pub(crate) const DEFAULT_QUEUETIMEOUT: i64 = 20_000;
pub(crate) const DEFAULT_ASYNC_THREAD_NUM: i64 = 3;

/// Validates and writes a deployment; answers the instance on the request's node and,
/// with the resource module, the deployment's machines that have no node (installed
/// first with `install_node`).
pub async fn deploy_server(
    store: &Store,
    nodes_of: &Nodes,
    settings: &Settings,
    request: DeployServerRequest,
) -> DeployerResult<DeployServerReply> {
    super::access::target(Role::Operator, &request.application, &request.server_name)?;
    super::resource::require_for_install(request.install_node, settings)?;
    // The adapters' rows repeat the application in a narrower column than the server's.
    validate::stored_name(
        "application",
        &request.application,
        &adapter_conf::APPLICATION,
    )?;
    validate::stored_name(
        "server_name",
        &request.server_name,
        &server_conf::SERVER_NAME,
    )?;
    if !request.node_name.is_empty() {
        validate::node_name("node_name", &request.node_name)?;
    }
    validate::server_type(&request.server_type)?;
    if request.template_name.is_empty() {
        return Err(DeployerError::bad_param("template_name", "is required"));
    }
    limits::text(
        "template_name",
        &request.template_name,
        &server_conf::TEMPLATE_NAME,
    )?;
    limits::user(&request.user, &server_conf::LASTUSER)?;
    limits::user(&request.user, &adapter_conf::LASTUSER)?;
    super::templates::require_existing(store, "template_name", &request.template_name).await?;
    if request.enable_set {
        validate::set_fields(
            &request.set_name,
            &request.set_area,
            &request.set_group,
            &limits::SERVER_SET,
        )?;
    }
    if request.adapters.is_empty() {
        return Err(DeployerError::bad_param(
            "adapters",
            "must list at least one servant (obj_name, bind_ip, port)",
        ));
    }
    let now = tars_common::time::now_local();
    let mut nodes: Vec<String> = Vec::new();
    let mut adapters = Vec::with_capacity(request.adapters.len());
    let mut seen_objs = BTreeSet::new();
    for (i, adapter) in request.adapters.iter().enumerate() {
        let new = new_adapter(&request, adapter, i, now)?;
        if !seen_objs.insert((new.node_name.clone(), new.servant.clone())) {
            return Err(DeployerError::bad_param(
                &format!("adapters[{i}].obj_name"),
                format!(
                    "`{}` is listed twice for node {}",
                    adapter.obj_name, new.node_name
                ),
            ));
        }
        if !nodes.contains(&new.node_name) {
            nodes.push(new.node_name.clone());
        }
        adapters.push(new);
    }
    for node in &nodes {
        if store
            .server_by_name(&request.application, &request.server_name, node)
            .await?
            .is_some()
        {
            return Err(already_deployed(&request, node));
        }
    }
    let servers: Vec<NewServer> = nodes
        .iter()
        .map(|node| NewServer {
            application: request.application.clone(),
            server_name: request.server_name.clone(),
            node_name: node.clone(),
            server_type: request.server_type.clone(),
            template_name: request.template_name.clone(),
            enable_set: request.enable_set,
            set_name: request.enable_set.then(|| request.set_name.clone()),
            set_area: request.enable_set.then(|| request.set_area.clone()),
            set_group: request.enable_set.then(|| request.set_group.clone()),
            async_thread_num: DEFAULT_ASYNC_THREAD_NUM,
            posttime: now,
            lastuser: request.user.clone(),
            ..NewServer::default()
        })
        .collect();
    let ids = match store
        .insert_servers_with_adapters(&servers, &adapters)
        .await
    {
        Ok(ids) => ids,
        // Another request deployed the same instance between our check and insert.
        Err(StoreError::AlreadyExists(_)) => return Err(already_deployed(&request, &nodes[0])),
        Err(err) => return Err(err.into()),
    };
    let primary = store.server_by_id(ids[0]).await?.ok_or_else(|| {
        DeployerError::Internal(format!("server {} vanished after insert", ids[0]))
    })?;
    tracing::info!(
        application = %request.application,
        server = %request.server_name,
        nodes = ?nodes,
        "server deployed"
    );
    let tars_node_rst = super::resource::machines_without_node(
        store,
        nodes_of,
        settings,
        &nodes,
        request.install_node,
        &request.user,
    )
    .await;
    Ok(DeployServerReply {
        server_conf: Some(convert::server_conf(primary)),
        tars_node_rst,
    })
}

fn already_deployed(request: &DeployServerRequest, node: &str) -> DeployerError {
    DeployerError::Conflict(format!(
        "server {}.{} is already deployed on node {node}; use update_server to change it or expand_server to add nodes",
        request.application, request.server_name
    ))
}

fn new_adapter(
    request: &DeployServerRequest,
    adapter: &DeployAdapter,
    index: usize,
    now: chrono::NaiveDateTime,
) -> DeployerResult<NewAdapter> {
    let param = |field: &str| format!("adapters[{index}].{field}");
    validate::name(&param("obj_name"), &adapter.obj_name)?;
    let node_name = if adapter.node_name.is_empty() {
        request.node_name.clone()
    } else {
        adapter.node_name.clone()
    };
    if node_name.is_empty() {
        return Err(DeployerError::bad_param(
            "node_name",
            "is required (for the server, or for each adapter)",
        ));
    }
    validate::node_name(&param("node_name"), &node_name)?;
    if adapter.bind_ip.is_empty() {
        return Err(DeployerError::bad_param(&param("bind_ip"), "is required"));
    }
    validate::host(&param("bind_ip"), &adapter.bind_ip)?;
    let port = validate::port(&param("port"), adapter.port)?;
    let port_type = if adapter.port_type.is_empty() {
        "tcp"
    } else {
        adapter.port_type.as_str()
    };
    if !matches!(port_type, "tcp" | "udp") {
        return Err(DeployerError::bad_param(
            &param("port_type"),
            format!("`{port_type}` must be tcp or udp"),
        ));
    }
    let protocol = if adapter.protocol.is_empty() {
        "tars"
    } else {
        adapter.protocol.as_str()
    };
    if !matches!(protocol, "tars" | "not_tars") {
        return Err(DeployerError::bad_param(
            &param("protocol"),
            format!("`{protocol}` must be tars or not_tars"),
        ));
    }
    for (field, value, column) in [
        ("thread_num", adapter.thread_num, adapter_conf::THREAD_NUM),
        (
            "max_connections",
            adapter.max_connections,
            adapter_conf::MAX_CONNECTIONS,
        ),
        ("queuecap", adapter.queuecap, adapter_conf::QUEUECAP),
        (
            "queuetimeout",
            adapter.queuetimeout,
            adapter_conf::QUEUETIMEOUT,
        ),
    ] {
        if value < 0 {
            return Err(DeployerError::bad_param(
                &param(field),
                "must not be negative",
            ));
        }
        limits::int(&param(field), value, &column)?;
    }
    let or_default = |value: i64, default: i64| if value > 0 { value } else { default };
    let servant = format!(
        "{}.{}.{}",
        request.application, request.server_name, adapter.obj_name
    );
    let adapter_name = format!("{servant}Adapter");
    let endpoint = format!("{port_type} -h {} -t 60000 -p {port} -e 0", adapter.bind_ip);
    let obj_name = param("obj_name");
    let names = ["application", "server_name", obj_name.as_str()];
    limits::derived(&names, "the servant", &servant, &adapter_conf::SERVANT)?;
    limits::derived(
        &names,
        "the adapter name",
        &adapter_name,
        &adapter_conf::ADAPTER_NAME,
    )?;
    limits::derived(
        &[param("bind_ip").as_str()],
        "the endpoint",
        &endpoint,
        &adapter_conf::ENDPOINT,
    )?;
    Ok(NewAdapter {
        application: request.application.clone(),
        server_name: request.server_name.clone(),
        node_name,
        adapter_name,
        thread_num: or_default(adapter.thread_num, DEFAULT_THREAD_NUM),
        endpoint,
        max_connections: or_default(adapter.max_connections, DEFAULT_MAX_CONNECTIONS),
        allow_ip: String::new(),
        servant,
        queuecap: or_default(adapter.queuecap, DEFAULT_QUEUECAP),
        queuetimeout: or_default(adapter.queuetimeout, DEFAULT_QUEUETIMEOUT),
        protocol: protocol.to_string(),
        handlegroup: String::new(),
        posttime: now,
        lastuser: request.user.clone(),
    })
}
