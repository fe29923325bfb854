//! Expanding a deployed server onto more nodes: the preview (the adapters each new node
//! would get, on free ports) and the expansion itself (new instances copied from the
//! source instance, their adapters and, on request, copies of the source node's
//! node-level configuration files). Which ports are free is [`ports`](super::ports)'
//! business; the writes are one store transaction.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use tars_common::authz::Role;
use tars_common::time::now_local;
use tars_nodes::Nodes;
use tars_proto::deployer::{
    ExpandPreviewServer, ExpandServerPreviewRequest, ExpandServerReply, ExpandServerRequest,
    ExpandTarget,
};
use tars_store::adapter_conf::{AdapterConfRow, NewAdapter};
use tars_store::expansion::{Expansion, NodeConfigCopy, NodeHoldings};
use tars_store::server_conf::{NewServer, ServerConfRow};
use tars_store::{Store, StoreError};

use super::limits::{self, adapter_conf, config_files, server_conf};
use super::ports::NodePorts;
use super::{convert, deploy, validate};
use crate::config::Settings;
use crate::error::{DeployerError, DeployerResult};

/// Preview status of a node the server is not deployed on yet (TarsWeb's
/// `api.expand.node.status.nonexistent` in its Chinese locale).
pub const STATUS_NEW: &str = "未扩容";
/// Preview status of a node the server already has an instance on (TarsWeb's
/// `api.expand.node.status.existent`).
pub const STATUS_EXISTS: &str = "已存在";

/// The parameter holding the new instances, as the API names it.
const TARGETS: &str = "expand_preview_servers";

/// The source instance and its adapters, or a 404.
async fn load_source(
    store: &Store,
    application: &str,
    server_name: &str,
    node_name: &str,
) -> DeployerResult<(ServerConfRow, Vec<AdapterConfRow>)> {
    validate::name("application", application)?;
    validate::name("server_name", server_name)?;
    validate::node_name("node_name", node_name)?;
    let source = store
        .server_by_name(application, server_name, node_name)
        .await?
        .ok_or_else(|| {
            DeployerError::NotFound(format!(
                "server {application}.{server_name} is not deployed on node {node_name}; \
                 the source of an expansion is a deployed instance (see /api/server_list)"
            ))
        })?;
    let adapters = store
        .adapters_of_instance(application, server_name, node_name)
        .await?;
    Ok((source, adapters))
}

/// The object name of a servant `App.Server.Obj`.
fn obj_name(adapter: &AdapterConfRow) -> &str {
    let servant = adapter.servant.as_deref().unwrap_or_default();
    servant.rsplit('.').next().unwrap_or(servant)
}

/// Lists the adapters each new node would get, each on a port free on that node.
pub async fn expand_server_preview(
    store: &Store,
    request: ExpandServerPreviewRequest,
) -> DeployerResult<Vec<ExpandPreviewServer>> {
    // TarsWeb asks for the operator role here (hasDevAuth), though nothing is written.
    super::access::target(Role::Operator, &request.application, &request.server_name)?;
    if request.expand_nodes.is_empty() {
        return Err(DeployerError::bad_param(
            "expand_nodes",
            "is required: the nodes to expand to",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, node) in request.expand_nodes.iter().enumerate() {
        validate::node_name(&format!("expand_nodes[{i}]"), node)?;
        if !seen.insert(node.as_str()) {
            return Err(DeployerError::bad_param(
                &format!("expand_nodes[{i}]"),
                format!("`{node}` is listed twice"),
            ));
        }
    }
    let set = if request.enable_set {
        validate::set_fields(
            &request.set_name,
            &request.set_area,
            &request.set_group,
            &limits::SERVER_SET,
        )?;
        format!(
            "{}.{}.{}",
            request.set_name, request.set_area, request.set_group
        )
    } else {
        String::new()
    };
    let (source, adapters) = load_source(
        store,
        &request.application,
        &request.server_name,
        &request.node_name,
    )
    .await?;
    let mut rows = Vec::with_capacity(adapters.len() * request.expand_nodes.len());
    for node in &request.expand_nodes {
        let exists = store
            .server_by_name(&request.application, &request.server_name, node)
            .await?
            .is_some();
        let mut ports = NodePorts::load(store, node).await?;
        for adapter in &adapters {
            rows.push(ExpandPreviewServer {
                // As stored: MySQL matched the request's names case-insensitively.
                application: source.application.clone().unwrap_or_default(),
                server_name: source.server_name.clone().unwrap_or_default(),
                set: set.clone(),
                obj_name: obj_name(adapter).to_string(),
                node_name: node.clone(),
                bind_ip: node.clone(),
                port: i64::from(ports.take_free()?),
                template_name: source.template_name.clone(),
                status: if exists { STATUS_EXISTS } else { STATUS_NEW }.to_string(),
            });
        }
    }
    Ok(rows)
}

/// One validated adapter of a new instance.
struct Target {
    node_name: String,
    obj_name: String,
    bind_ip: String,
    port: u16,
}

/// A target's set: empty, or `name.area.group` as a set-enabled server has it.
fn parse_set(param: &str, value: &str) -> DeployerResult<Option<[String; 3]>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = value.split('.').collect();
    let [name, area, group] = parts.as_slice() else {
        return Err(DeployerError::bad_param(
            param,
            format!("`{value}` must be empty or `name.area.group`, e.g. `mtt.sz.1`"),
        ));
    };
    validate::set_fields(name, area, group, &limits::SERVER_SET).map_err(|err| {
        DeployerError::bad_param(param, format!("`{value}` is not a usable set: {err}"))
    })?;
    Ok(Some([
        name.to_string(),
        area.to_string(),
        group.to_string(),
    ]))
}

/// Validates the fields of one target that need no database.
fn target(index: usize, target: &ExpandTarget) -> DeployerResult<Target> {
    let param = |field: &str| format!("{TARGETS}[{index}].{field}");
    validate::node_name(&param("node_name"), &target.node_name)?;
    if target.obj_name.is_empty() {
        return Err(DeployerError::bad_param(&param("obj_name"), "is required"));
    }
    validate::name(&param("obj_name"), &target.obj_name)?;
    if target.bind_ip.trim().is_empty() {
        return Err(DeployerError::bad_param(&param("bind_ip"), "is required"));
    }
    if target.bind_ip.parse::<IpAddr>().is_err() {
        return Err(DeployerError::bad_param(
            &param("bind_ip"),
            format!("`{}` is not an IP address", target.bind_ip),
        ));
    }
    let port = validate::port(&param("port"), target.port)?;
    Ok(Target {
        node_name: target.node_name.clone(),
        obj_name: target.obj_name.clone(),
        bind_ip: target.bind_ip.clone(),
        port,
    })
}

/// The source adapter a target copies, or a 400 naming the source's objects.
fn source_adapter<'a>(
    index: usize,
    t: &Target,
    sources: &HashMap<&str, &'a AdapterConfRow>,
) -> DeployerResult<&'a AdapterConfRow> {
    sources.get(t.obj_name.as_str()).copied().ok_or_else(|| {
        let mut known: Vec<&str> = sources.keys().copied().collect();
        known.sort_unstable();
        DeployerError::bad_param(
            &format!("{TARGETS}[{index}].obj_name"),
            format!(
                "`{}` is not an adapter of the source instance; it has {}",
                t.obj_name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        )
    })
}

/// The source's endpoint with another host and port; the transport (tcp unless the
/// source says udp or ssl), the timeout and any other option are kept.
pub fn endpoint_for(source: &str, bind_ip: &str, port: u16) -> String {
    let mut words = source.split_whitespace().peekable();
    let transport = match words.peek() {
        Some(&t) if matches!(t, "tcp" | "udp" | "ssl") => {
            words.next();
            t
        }
        _ => "tcp",
    };
    let mut out = vec![transport.to_string(), "-h".to_string(), bind_ip.to_string()];
    let mut has_port = false;
    while let Some(flag) = words.next() {
        let value = words.next();
        match flag {
            "-h" => {}
            "-p" => {
                has_port = true;
                out.extend(["-p".to_string(), port.to_string()]);
            }
            _ => {
                out.push(flag.to_string());
                out.extend(value.map(str::to_string));
            }
        }
    }
    if !has_port {
        out.extend(["-p".to_string(), port.to_string()]);
    }
    out.join(" ")
}

/// Creates the listed instances as copies of the source instance, in one transaction;
/// answers the new servers and, with the resource module, the new machines that have no
/// node (installed first with `install_node`).
pub async fn expand_server(
    store: &Store,
    nodes_of: &Nodes,
    settings: &Settings,
    request: ExpandServerRequest,
) -> DeployerResult<ExpandServerReply> {
    super::access::target(Role::Operator, &request.application, &request.server_name)?;
    super::resource::require_for_install(request.install_node, settings)?;
    validate::name("application", &request.application)?;
    validate::name("server_name", &request.server_name)?;
    validate::node_name("node_name", &request.node_name)?;
    limits::user(&request.user, &server_conf::LASTUSER)?;
    limits::user(&request.user, &adapter_conf::LASTUSER)?;
    if request.copy_node_config {
        limits::user(&request.user, &config_files::LASTUSER)?;
    }
    if request.targets.is_empty() {
        return Err(DeployerError::bad_param(
            TARGETS,
            "is required: the instances to create (node_name, set, obj_name, bind_ip, port), \
             as expand_server_preview lists them",
        ));
    }
    // Nodes in the order first listed, each with its set.
    let mut nodes: Vec<(String, Option<[String; 3]>)> = Vec::new();
    let mut targets = Vec::with_capacity(request.targets.len());
    let mut seen_objs = BTreeSet::new();
    let mut seen_ports = BTreeSet::new();
    for (i, given) in request.targets.iter().enumerate() {
        let t = target(i, given)?;
        let set = parse_set(&format!("{TARGETS}[{i}].set"), &given.set)?;
        match nodes.iter().find(|(node, _)| *node == t.node_name) {
            Some((_, first)) if *first != set => {
                return Err(DeployerError::bad_param(
                    &format!("{TARGETS}[{i}].set"),
                    format!(
                        "`{}` differs from the set given earlier for node {}; one instance \
                         has one set",
                        given.set, t.node_name
                    ),
                ))
            }
            Some(_) => {}
            None => nodes.push((t.node_name.clone(), set)),
        }
        if !seen_objs.insert((t.node_name.clone(), t.obj_name.clone())) {
            return Err(DeployerError::bad_param(
                &format!("{TARGETS}[{i}].obj_name"),
                format!("`{}` is listed twice for node {}", t.obj_name, t.node_name),
            ));
        }
        if !seen_ports.insert((t.node_name.clone(), t.port)) {
            return Err(DeployerError::bad_param(
                &format!("{TARGETS}[{i}].port"),
                format!("{} is listed twice for node {}", t.port, t.node_name),
            ));
        }
        targets.push(t);
    }
    let (source, source_adapters) = load_source(
        store,
        &request.application,
        &request.server_name,
        &request.node_name,
    )
    .await?;
    let mut sources: HashMap<&str, &AdapterConfRow> = HashMap::new();
    for adapter in &source_adapters {
        sources.entry(obj_name(adapter)).or_insert(adapter);
    }
    let copied = targets
        .iter()
        .enumerate()
        .map(|(i, t)| Ok((t, source_adapter(i, t, &sources)?)))
        .collect::<DeployerResult<Vec<_>>>()?;

    let now = now_local();
    let servers = nodes
        .iter()
        .map(|(node, set)| new_server(&source, node, set.as_ref(), &request.user, now))
        .collect();
    let adapters = copied
        .iter()
        .enumerate()
        .map(|(i, (t, src))| new_adapter(i, t, src, &request.user, now))
        .collect::<DeployerResult<_>>()?;
    let copy_node_config = request.copy_node_config.then(|| NodeConfigCopy {
        server_name: format!(
            "{}.{}",
            source.application.as_deref().unwrap_or_default(),
            source.server_name.as_deref().unwrap_or_default()
        ),
        from_host: source.node_name.clone(),
        reason: format!("expand_server: copied from node {}", source.node_name),
        posttime: now,
        lastuser: request.user.clone(),
    });
    let expansion = Expansion {
        servers,
        adapters,
        copy_node_config,
    };
    let check = |holdings: &NodeHoldings| check_node(&request, &targets, holdings);
    let expanded = match store.expand_servers(&expansion, check).await {
        Ok(Ok(expanded)) => expanded,
        Ok(Err(refusal)) => return Err(refusal),
        // Another request created the same instance between our check and insert.
        Err(StoreError::AlreadyExists(_)) => {
            return Err(DeployerError::Conflict(format!(
                "server {}.{} was deployed on one of these nodes meanwhile; preview again",
                request.application, request.server_name
            )))
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(
        application = %request.application,
        server = %request.server_name,
        from = %request.node_name,
        nodes = ?nodes.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        config_files = expanded.config_file_ids.len(),
        "server expanded"
    );
    let mut created = Vec::with_capacity(expanded.server_ids.len());
    for id in expanded.server_ids {
        let row = store.server_by_id(id).await?.ok_or_else(|| {
            DeployerError::Internal(format!("server {id} vanished after the expansion"))
        })?;
        created.push(convert::server_conf(row));
    }
    let machines: Vec<String> = nodes.into_iter().map(|(node, _)| node).collect();
    let tars_node_rst = super::resource::machines_without_node(
        store,
        nodes_of,
        settings,
        &machines,
        request.install_node,
        &request.user,
    )
    .await;
    Ok(ExpandServerReply {
        servers: created,
        tars_node_rst,
    })
}

/// Refuses a node where the instance exists already or one of its new ports is taken.
fn check_node(
    request: &ExpandServerRequest,
    targets: &[Target],
    holdings: &NodeHoldings,
) -> DeployerResult<()> {
    let node = &holdings.node_name;
    if holdings.instance_exists {
        return Err(DeployerError::Conflict(format!(
            "server {}.{} already has an instance on node {node}; expand only to nodes \
             expand_server_preview marks {STATUS_NEW:?}",
            request.application, request.server_name
        )));
    }
    let ports = NodePorts::from_endpoints(node, &holdings.endpoints);
    for t in targets.iter().filter(|t| t.node_name == *node) {
        if let Some(endpoint) = ports.user_of(t.port) {
            return Err(DeployerError::Conflict(format!(
                "port {} is already used on node {node} (endpoint `{endpoint}`); pick a free \
                 one with /api/auto_port?node_name={node}",
                t.port
            )));
        }
    }
    Ok(())
}

/// The source's server row on `node`, in `set`.
fn new_server(
    source: &ServerConfRow,
    node: &str,
    set: Option<&[String; 3]>,
    user: &str,
    now: chrono::NaiveDateTime,
) -> NewServer {
    NewServer {
        application: source.application.clone().unwrap_or_default(),
        server_name: source.server_name.clone().unwrap_or_default(),
        node_name: node.to_string(),
        server_type: source.server_type.clone(),
        template_name: source.template_name.clone(),
        enable_set: set.is_some(),
        set_name: set.map(|s| s[0].clone()),
        set_area: set.map(|s| s[1].clone()),
        set_group: set.map(|s| s[2].clone()),
        bak_flag: source.bak_flag != 0,
        async_thread_num: source
            .async_thread_num
            .unwrap_or(deploy::DEFAULT_ASYNC_THREAD_NUM),
        base_path: source.base_path.clone().unwrap_or_default(),
        exe_path: source.exe_path.clone(),
        start_script_path: source.start_script_path.clone().unwrap_or_default(),
        stop_script_path: source.stop_script_path.clone().unwrap_or_default(),
        monitor_script_path: source.monitor_script_path.clone().unwrap_or_default(),
        profile: source.profile.clone().unwrap_or_default(),
        posttime: now,
        lastuser: user.to_string(),
    }
}

/// Source adapter `src` on `t`'s node, bound to `t`'s address; refused when the
/// endpoint with that address no longer fits its column (an IPv6 address is longer than
/// the source's).
fn new_adapter(
    index: usize,
    t: &Target,
    src: &AdapterConfRow,
    user: &str,
    now: chrono::NaiveDateTime,
) -> DeployerResult<NewAdapter> {
    let servant = src.servant.clone().unwrap_or_default();
    let endpoint = endpoint_for(
        src.endpoint.as_deref().unwrap_or_default(),
        &t.bind_ip,
        t.port,
    );
    limits::derived(
        &[format!("{TARGETS}[{index}].bind_ip").as_str()],
        "the endpoint",
        &endpoint,
        &adapter_conf::ENDPOINT,
    )?;
    Ok(NewAdapter {
        application: src.application.clone().unwrap_or_default(),
        server_name: src.server_name.clone().unwrap_or_default(),
        node_name: t.node_name.clone(),
        adapter_name: src
            .adapter_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("{servant}Adapter")),
        thread_num: src.thread_num.unwrap_or(deploy::DEFAULT_THREAD_NUM),
        endpoint,
        max_connections: src
            .max_connections
            .unwrap_or(deploy::DEFAULT_MAX_CONNECTIONS),
        allow_ip: src.allow_ip.clone(),
        servant,
        queuecap: src.queuecap.unwrap_or(deploy::DEFAULT_QUEUECAP),
        queuetimeout: src.queuetimeout.unwrap_or(deploy::DEFAULT_QUEUETIMEOUT),
        protocol: src
            .protocol
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "tars".into()),
        handlegroup: src.handlegroup.clone().unwrap_or_default(),
        posttime: now,
        lastuser: user.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_transport_timeout_and_options() {
        assert_eq!(
            endpoint_for("udp -h 10.0.0.1 -t 3000 -p 10001 -e 1", "10.0.0.2", 12000),
            "udp -h 10.0.0.2 -t 3000 -p 12000 -e 1"
        );
        assert_eq!(
            endpoint_for("tcp -p 1 -h a", "10.0.0.2", 2),
            "tcp -h 10.0.0.2 -p 2"
        );
        assert_eq!(endpoint_for("", "10.0.0.2", 2), "tcp -h 10.0.0.2 -p 2");
    }

    #[test]
    fn sets_are_empty_or_three_parts() {
        assert_eq!(parse_set("set", "").unwrap(), None);
        assert_eq!(
            parse_set("set", "mtt.sz.1").unwrap(),
            Some(["mtt".into(), "sz".into(), "1".into()])
        );
        assert!(parse_set("set", "mtt.sz").is_err());
        assert!(parse_set("set", "mtt.sz.x").is_err());
    }
}
