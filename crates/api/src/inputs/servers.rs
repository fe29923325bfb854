//! 业务树, 服务管理, expansion, adapters, 字典 and 其他: what the deployer serves.

use serde::Deserialize;
use tars_proto::deployer as pb;
use utoipa::ToSchema;

use super::page;
use crate::params::de::*;
use crate::{IntoRequest, ParamError};

/// A server instance to deploy (application, server_name, node_name) with its adapters.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"application": "Shop", "server_name": "Cart",
    "node_name": "10.0.0.5", "server_type": "tars_cpp", "template_name": "tars.cpp.default",
    "adapters": [{"obj_name": "CartObj", "bind_ip": "10.0.0.5", "port": 10001,
        "port_type": "tcp", "protocol": "tars", "thread_num": 2}]}))]
pub struct DeployServer {
    /// The instance's servants; at least one.
    #[serde(deserialize_with = "required")]
    pub adapters: Vec<DeployAdapter>,
    /// The application, e.g. `Shop`.
    #[serde(deserialize_with = "required_text")]
    pub application: String,
    /// The server's name within the application, e.g. `Cart`.
    #[serde(deserialize_with = "required_text")]
    pub server_name: String,
    /// The node; empty means the first adapter's.
    #[serde(deserialize_with = "text")]
    pub node_name: Option<String>,
    /// `tars_cpp`, `tars_java` … (server_type_list).
    #[serde(deserialize_with = "required_text")]
    pub server_type: String,
    /// A profile template (template_name_list).
    #[serde(deserialize_with = "required_text")]
    pub template_name: String,
    /// Whether the instance belongs to a set; then `set_name`, `set_area` and `set_group`
    /// are required. Default false.
    #[serde(deserialize_with = "flag")]
    pub enable_set: Option<bool>,
    /// The set's name, letters and digits (e.g. `mtt`).
    #[serde(deserialize_with = "text")]
    pub set_name: Option<String>,
    /// The set's area, letters and digits (e.g. `sz`).
    #[serde(deserialize_with = "text")]
    pub set_area: Option<String>,
    /// The set's group: a number, or `*`.
    #[serde(deserialize_with = "text")]
    pub set_group: Option<String>,
    /// With the resource module on (`TARS_NODE_PACKAGE`), install tarsnode first on the
    /// instance's machines that have none; without it they are reported in
    /// `tars_node_rst`. Default false.
    #[serde(deserialize_with = "flag")]
    pub install_node: Option<bool>,
}

/// One servant of a new instance.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeployAdapter {
    /// The servant's object name; the servant becomes `App.Server.<obj_name>`.
    #[serde(deserialize_with = "required_text")]
    pub obj_name: String,
    /// The IP address the servant listens on.
    #[serde(deserialize_with = "required_text")]
    pub bind_ip: String,
    /// The port it listens on, 1-65535.
    #[serde(deserialize_with = "required_int")]
    pub port: i64,
    /// `tcp` (default) or `udp`.
    #[serde(deserialize_with = "text")]
    pub port_type: Option<String>,
    /// `tars` (default) or `not_tars`.
    #[serde(deserialize_with = "text")]
    pub protocol: Option<String>,
    /// Threads handling its requests; absent or 0: 1.
    #[serde(deserialize_with = "int")]
    pub thread_num: Option<i64>,
    /// The most connections it accepts at once; absent or 0: 100,000.
    #[serde(deserialize_with = "int")]
    pub max_connections: Option<i64>,
    /// How many requests may wait for a thread; absent or 0: 50,000.
    #[serde(deserialize_with = "int")]
    pub queuecap: Option<i64>,
    /// How long a request may wait in that queue, in milliseconds; absent or 0: 20,000.
    #[serde(deserialize_with = "int")]
    pub queuetimeout: Option<i64>,
    /// The node it listens on; empty means the instance's.
    #[serde(deserialize_with = "text")]
    pub node_name: Option<String>,
}

impl IntoRequest<pb::DeployServerRequest> for DeployServer {
    fn into_request(self, user: &str) -> Result<pb::DeployServerRequest, ParamError> {
        let adapters = self
            .adapters
            .into_iter()
            .map(|a| pb::DeployAdapter {
                obj_name: a.obj_name,
                bind_ip: a.bind_ip,
                port: a.port,
                port_type: a.port_type.unwrap_or_default(),
                protocol: a.protocol.unwrap_or_default(),
                thread_num: a.thread_num.unwrap_or(0),
                max_connections: a.max_connections.unwrap_or(0),
                queuecap: a.queuecap.unwrap_or(0),
                queuetimeout: a.queuetimeout.unwrap_or(0),
                node_name: a.node_name.unwrap_or_default(),
            })
            .collect();
        Ok(pb::DeployServerRequest {
            application: self.application,
            server_name: self.server_name,
            node_name: self.node_name.unwrap_or_default(),
            server_type: self.server_type,
            template_name: self.template_name,
            enable_set: self.enable_set.unwrap_or(false),
            set_name: self.set_name.unwrap_or_default(),
            set_area: self.set_area.unwrap_or_default(),
            set_group: self.set_group.unwrap_or_default(),
            adapters,
            user: user.to_string(),
            install_node: self.install_node.unwrap_or(false),
        })
    }
}

/// The fields of one instance to change; the others keep their values.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"id": 1, "async_thread_num": 5}))]
pub struct UpdateServer {
    /// TarsWeb's name for `bak_flag`; wins over it.
    #[serde(rename = "isBak", deserialize_with = "flag")]
    pub is_bak: Option<bool>,
    /// A backup instance is patched but not restarted.
    #[serde(deserialize_with = "flag")]
    pub bak_flag: Option<bool>,
    /// The instance's id (`id` of server_list).
    #[serde(deserialize_with = "required_int")]
    pub id: i64,
    /// The profile template its configuration is rendered from (template_name_list).
    #[serde(deserialize_with = "text")]
    pub template_name: Option<String>,
    /// `tars_cpp`, `tars_java` … (server_type_list).
    #[serde(deserialize_with = "text")]
    pub server_type: Option<String>,
    /// Put the instance in the set given by the set fields (each required, given here or
    /// already stored), or, when false, take it out of its set (the set fields are
    /// cleared).
    #[serde(deserialize_with = "flag")]
    pub enable_set: Option<bool>,
    /// The set's name, letters and digits.
    #[serde(deserialize_with = "text")]
    pub set_name: Option<String>,
    /// The set's area, letters and digits.
    #[serde(deserialize_with = "text")]
    pub set_area: Option<String>,
    /// The set's group: a number, or `*`.
    #[serde(deserialize_with = "text")]
    pub set_group: Option<String>,
    /// Threads for asynchronous callbacks in the server (not negative).
    #[serde(deserialize_with = "int")]
    pub async_thread_num: Option<i64>,
    /// The working directory on the node; empty for the node's default.
    #[serde(deserialize_with = "text")]
    pub base_path: Option<String>,
    /// The executable's path on the node; empty for the default.
    #[serde(deserialize_with = "text")]
    pub exe_path: Option<String>,
    /// A script the node runs to start the server (chiefly `not_tars` servers); empty for
    /// none.
    #[serde(deserialize_with = "text")]
    pub start_script_path: Option<String>,
    /// A script the node runs to stop it; empty for none.
    #[serde(deserialize_with = "text")]
    pub stop_script_path: Option<String>,
    /// A script the node runs to check that it is alive; empty for none.
    #[serde(deserialize_with = "text")]
    pub monitor_script_path: Option<String>,
    /// The private template: TARS configuration text merged over the template for this
    /// instance.
    #[serde(deserialize_with = "text")]
    pub profile: Option<String>,
}

impl IntoRequest<pb::UpdateServerRequest> for UpdateServer {
    fn into_request(self, _: &str) -> Result<pb::UpdateServerRequest, ParamError> {
        Ok(pb::UpdateServerRequest {
            id: self.id,
            bak_flag: self.is_bak.or(self.bak_flag),
            template_name: self.template_name,
            server_type: self.server_type,
            enable_set: self.enable_set,
            set_name: self.set_name,
            set_area: self.set_area,
            set_group: self.set_group,
            async_thread_num: self.async_thread_num,
            base_path: self.base_path,
            exe_path: self.exe_path,
            start_script_path: self.start_script_path,
            stop_script_path: self.stop_script_path,
            monitor_script_path: self.monitor_script_path,
            profile: self.profile,
        })
    }
}

/// A tree node (`1App`, `1App.5Server`, `1App.2set.3area.4group` … as /api/tree shows),
/// and a page.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"tree_node_id": "1Shop"}))]
pub struct TreeNodeList {
    /// A node id of /api/tree; the list covers the servers below it.
    #[serde(deserialize_with = "required_text")]
    pub tree_node_id: String,
    /// 1-based page (also `cur_page`); absent: the list's default.
    #[serde(deserialize_with = "int")]
    pub curr_page: Option<i64>,
    /// TarsWeb's name for `curr_page`.
    #[serde(deserialize_with = "int")]
    pub cur_page: Option<i64>,
    /// Rows per page, at most 1,000.
    #[serde(deserialize_with = "int")]
    pub page_size: Option<i64>,
}

impl IntoRequest<pb::ServerListRequest> for TreeNodeList {
    fn into_request(self, _: &str) -> Result<pb::ServerListRequest, ParamError> {
        Ok(pb::ServerListRequest {
            page: page(self.curr_page, self.cur_page, self.page_size)?,
            tree_node_id: self.tree_node_id,
        })
    }
}

impl IntoRequest<pb::ServerNotifyListRequest> for TreeNodeList {
    fn into_request(self, _: &str) -> Result<pb::ServerNotifyListRequest, ParamError> {
        Ok(pb::ServerNotifyListRequest {
            page: page(self.curr_page, self.cur_page, self.page_size)?,
            tree_node_id: self.tree_node_id,
        })
    }
}

/// Filters (all optional) and a page.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"application": "Shop"}))]
pub struct InactiveServerList {
    /// Only instances of this application.
    #[serde(deserialize_with = "text")]
    pub application: Option<String>,
    /// Only instances of servers of this name.
    #[serde(deserialize_with = "text")]
    pub server_name: Option<String>,
    /// Only instances on this node.
    #[serde(deserialize_with = "text")]
    pub node_name: Option<String>,
    /// 1-based page (also `cur_page`); absent: every row, at most 1,000.
    #[serde(deserialize_with = "int")]
    pub curr_page: Option<i64>,
    /// TarsWeb's name for `curr_page`.
    #[serde(deserialize_with = "int")]
    pub cur_page: Option<i64>,
    /// Rows per page, at most 1,000.
    #[serde(deserialize_with = "int")]
    pub page_size: Option<i64>,
}

impl IntoRequest<pb::InactiveServerListRequest> for InactiveServerList {
    fn into_request(self, _: &str) -> Result<pb::InactiveServerListRequest, ParamError> {
        Ok(pb::InactiveServerListRequest {
            page: page(self.curr_page, self.cur_page, self.page_size)?,
            application: self.application.unwrap_or_default(),
            server_name: self.server_name.unwrap_or_default(),
            node_name: self.node_name.unwrap_or_default(),
        })
    }
}

/// One server instance by its names.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"application": "Shop", "server_name": "Cart", "node_name": "10.0.0.5"}))]
pub struct Instance {
    /// The application, e.g. `Shop`.
    #[serde(deserialize_with = "required_text")]
    pub application: String,
    /// The server's name within the application.
    #[serde(deserialize_with = "required_text")]
    pub server_name: String,
    /// The node the instance runs on (its IP, as `node_name` in server_list).
    #[serde(deserialize_with = "required_text")]
    pub node_name: String,
}

impl IntoRequest<pb::LoadServerRequest> for Instance {
    fn into_request(self, _: &str) -> Result<pb::LoadServerRequest, ParamError> {
        Ok(pb::LoadServerRequest {
            application: self.application,
            server_name: self.server_name,
            node_name: self.node_name,
        })
    }
}

fn expand_nodes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let nodes = texts(d)?;
    if nodes.is_empty() {
        return Err(serde::de::Error::custom(
            "is required: the node IPs to expand to",
        ));
    }
    Ok(nodes)
}

/// The source instance (application, server_name, node_name) and the nodes to copy it
/// onto. `set` and `copy_node_config` are accepted and not needed.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"application": "Shop", "server_name": "Cart",
    "node_name": "10.0.0.5", "expand_nodes": ["10.0.0.6"]}))]
pub struct ExpandServerPreview {
    /// Node IPs: a list, or text separated by `;`.
    #[serde(deserialize_with = "expand_nodes")]
    pub expand_nodes: Vec<String>,
    /// The source instance's application.
    #[serde(deserialize_with = "required_text")]
    pub application: String,
    /// The source instance's server name.
    #[serde(deserialize_with = "required_text")]
    pub server_name: String,
    /// The source instance's node, whose adapters are copied.
    #[serde(deserialize_with = "required_text")]
    pub node_name: String,
    /// The new instances' set, when true: `set_name.set_area.set_group`.
    #[serde(deserialize_with = "flag")]
    pub enable_set: Option<bool>,
    /// The set's name.
    #[serde(deserialize_with = "text")]
    pub set_name: Option<String>,
    /// The set's area.
    #[serde(deserialize_with = "text")]
    pub set_area: Option<String>,
    /// The set's group.
    #[serde(deserialize_with = "text")]
    pub set_group: Option<String>,
}

impl IntoRequest<pb::ExpandServerPreviewRequest> for ExpandServerPreview {
    fn into_request(self, _: &str) -> Result<pb::ExpandServerPreviewRequest, ParamError> {
        Ok(pb::ExpandServerPreviewRequest {
            application: self.application,
            server_name: self.server_name,
            node_name: self.node_name,
            expand_nodes: self.expand_nodes,
            enable_set: self.enable_set.unwrap_or(false),
            set_name: self.set_name.unwrap_or_default(),
            set_area: self.set_area.unwrap_or_default(),
            set_group: self.set_group.unwrap_or_default(),
        })
    }
}

/// The instances to create, as expand_server_preview lists them, copied from the source
/// instance (application, server_name, node_name).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"application": "Shop", "server_name": "Cart",
    "node_name": "10.0.0.5", "copy_node_config": true, "expand_preview_servers": [
        {"node_name": "10.0.0.6", "set": "", "obj_name": "CartObj", "bind_ip": "10.0.0.6",
         "port": 10001}]}))]
pub struct ExpandServer {
    /// One row per adapter of each new instance, as expand_server_preview answered them
    /// (ports possibly changed); at least one.
    #[serde(deserialize_with = "required")]
    pub expand_preview_servers: Vec<ExpandTarget>,
    /// The source instance's application.
    #[serde(deserialize_with = "required_text")]
    pub application: String,
    /// The source instance's server name.
    #[serde(deserialize_with = "required_text")]
    pub server_name: String,
    /// The source instance's node; its settings and adapters' options are copied.
    #[serde(deserialize_with = "required_text")]
    pub node_name: String,
    /// Copy the source node's node-level configuration files too.
    #[serde(deserialize_with = "flag")]
    pub copy_node_config: Option<bool>,
    /// As deploy_server's: install tarsnode first on new machines that have none.
    #[serde(deserialize_with = "flag")]
    pub install_node: Option<bool>,
}

/// One adapter of one new instance.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExpandTarget {
    /// The new instance's node.
    #[serde(deserialize_with = "required_text")]
    pub node_name: String,
    /// `name.area.group`, or empty without set.
    #[serde(deserialize_with = "text")]
    pub set: Option<String>,
    /// The adapter's object name (`CartObj` of `Shop.Cart.CartObj`), one of the source's.
    #[serde(deserialize_with = "required_text")]
    pub obj_name: String,
    /// The IP address the adapter listens on at the new node.
    #[serde(deserialize_with = "required_text")]
    pub bind_ip: String,
    /// The port it listens on there, 1-65535 (auto_port proposes free ones).
    #[serde(deserialize_with = "required_int")]
    pub port: i64,
}

impl IntoRequest<pb::ExpandServerRequest> for ExpandServer {
    fn into_request(self, user: &str) -> Result<pb::ExpandServerRequest, ParamError> {
        let targets = self
            .expand_preview_servers
            .into_iter()
            .map(|t| pb::ExpandTarget {
                node_name: t.node_name,
                set: t.set.unwrap_or_default(),
                obj_name: t.obj_name,
                bind_ip: t.bind_ip,
                port: t.port,
            })
            .collect();
        Ok(pb::ExpandServerRequest {
            application: self.application,
            server_name: self.server_name,
            node_name: self.node_name,
            copy_node_config: self.copy_node_config.unwrap_or(false),
            targets,
            user: user.to_string(),
            install_node: self.install_node.unwrap_or(false),
        })
    }
}

fn port_nodes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let nodes = texts(d)?;
    if nodes.is_empty() {
        return Err(serde::de::Error::custom(
            "is required: node IPs separated by `;`",
        ));
    }
    Ok(nodes)
}

/// The nodes to find a free port on.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"node_name": "10.0.0.5;10.0.0.6"}))]
pub struct AutoPort {
    /// Node IPs separated by `;` (or a list); a node listed twice gets two ports.
    #[serde(deserialize_with = "port_nodes")]
    pub node_name: Vec<String>,
}

impl IntoRequest<pb::AutoPortRequest> for AutoPort {
    fn into_request(self, _: &str) -> Result<pb::AutoPortRequest, ParamError> {
        Ok(pb::AutoPortRequest {
            node_names: self.node_name,
        })
    }
}

/// A new adapter of a deployed instance (application, server_name, node_name).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"application": "Shop", "server_name": "Cart",
    "node_name": "10.0.0.5", "servant": "Shop.Cart.AdminObj",
    "endpoint": "tcp -h 10.0.0.5 -t 60000 -p 10002", "thread_num": 1}))]
pub struct AddAdapterConf {
    /// The instance's application.
    #[serde(deserialize_with = "required_text")]
    pub application: String,
    /// The instance's server name.
    #[serde(deserialize_with = "required_text")]
    pub server_name: String,
    /// The instance's node.
    #[serde(deserialize_with = "required_text")]
    pub node_name: String,
    /// Threads handling the servant's requests; absent or 0: 1.
    #[serde(deserialize_with = "int")]
    pub thread_num: Option<i64>,
    /// `tcp -h <ip> -t <timeout> -p <port>`.
    #[serde(deserialize_with = "text")]
    pub endpoint: Option<String>,
    /// The most connections it accepts at once; absent or 0: 100,000.
    #[serde(deserialize_with = "int")]
    pub max_connections: Option<i64>,
    /// The client addresses allowed to connect; empty allows everyone.
    #[serde(deserialize_with = "text")]
    pub allow_ip: Option<String>,
    /// `App.Server.Obj`.
    #[serde(deserialize_with = "text")]
    pub servant: Option<String>,
    /// How many requests may wait for a thread; absent or 0: 50,000.
    #[serde(deserialize_with = "int")]
    pub queuecap: Option<i64>,
    /// How long a request may wait in that queue, in milliseconds; absent or 0: 20,000.
    #[serde(deserialize_with = "int")]
    pub queuetimeout: Option<i64>,
    /// `tars` (default) or `not_tars`.
    #[serde(deserialize_with = "text")]
    pub protocol: Option<String>,
    /// A named group of handler threads shared with other adapters; empty for its own.
    #[serde(deserialize_with = "text")]
    pub handlegroup: Option<String>,
}

impl IntoRequest<pb::AdapterConfInput> for AddAdapterConf {
    fn into_request(self, user: &str) -> Result<pb::AdapterConfInput, ParamError> {
        Ok(pb::AdapterConfInput {
            id: 0,
            application: self.application,
            server_name: self.server_name,
            node_name: self.node_name,
            thread_num: self.thread_num,
            endpoint: self.endpoint,
            max_connections: self.max_connections,
            allow_ip: self.allow_ip,
            servant: self.servant,
            queuecap: self.queuecap,
            queuetimeout: self.queuetimeout,
            protocol: self.protocol,
            handlegroup: self.handlegroup,
            user: user.to_string(),
        })
    }
}

/// The fields of one adapter to change; the others keep their values.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"id": 3, "thread_num": 4}))]
pub struct UpdateAdapterConf {
    /// The adapter's id (`id` of adapter_conf_list).
    #[serde(deserialize_with = "required_int")]
    pub id: i64,
    /// Threads handling the servant's requests.
    #[serde(deserialize_with = "int")]
    pub thread_num: Option<i64>,
    /// Where it listens: `tcp -h <ip> -t <timeout> -p <port>`.
    #[serde(deserialize_with = "text")]
    pub endpoint: Option<String>,
    /// The most connections it accepts at once.
    #[serde(deserialize_with = "int")]
    pub max_connections: Option<i64>,
    /// The client addresses allowed to connect; empty allows everyone.
    #[serde(deserialize_with = "text")]
    pub allow_ip: Option<String>,
    /// The servant's full name, `App.Server.Obj` of the adapter's own server.
    #[serde(deserialize_with = "text")]
    pub servant: Option<String>,
    /// How many requests may wait for a thread.
    #[serde(deserialize_with = "int")]
    pub queuecap: Option<i64>,
    /// How long a request may wait in that queue, in milliseconds.
    #[serde(deserialize_with = "int")]
    pub queuetimeout: Option<i64>,
    /// `tars` or `not_tars`.
    #[serde(deserialize_with = "text")]
    pub protocol: Option<String>,
    /// A named group of handler threads shared with other adapters; empty for its own.
    #[serde(deserialize_with = "text")]
    pub handlegroup: Option<String>,
}

impl IntoRequest<pb::AdapterConfInput> for UpdateAdapterConf {
    fn into_request(self, user: &str) -> Result<pb::AdapterConfInput, ParamError> {
        Ok(pb::AdapterConfInput {
            id: self.id,
            thread_num: self.thread_num,
            endpoint: self.endpoint,
            max_connections: self.max_connections,
            allow_ip: self.allow_ip,
            servant: self.servant,
            queuecap: self.queuecap,
            queuetimeout: self.queuetimeout,
            protocol: self.protocol,
            handlegroup: self.handlegroup,
            user: user.to_string(),
            ..pb::AdapterConfInput::default()
        })
    }
}

/// The level to list choices of (1 application, 2 server, 3 set, 4 node, 5 servant) and
/// the choices made above it.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"level": 2, "application": "Shop"}))]
pub struct CascadeSelectServer {
    /// The level whose choices are listed: 1 applications, 2 servers, 3 sets, 4 nodes, 5
    /// servants.
    #[serde(deserialize_with = "required_int")]
    pub level: i64,
    /// The application chosen; required from level 2.
    #[serde(deserialize_with = "text")]
    pub application: Option<String>,
    /// The server chosen; required from level 3.
    #[serde(deserialize_with = "text")]
    pub server_name: Option<String>,
    /// `name.area.group`.
    #[serde(deserialize_with = "text")]
    pub set: Option<String>,
}

impl IntoRequest<pb::CascadeSelectRequest> for CascadeSelectServer {
    fn into_request(self, _: &str) -> Result<pb::CascadeSelectRequest, ParamError> {
        Ok(pb::CascadeSelectRequest {
            level: self.level,
            application: self.application.unwrap_or_default(),
            server_name: self.server_name.unwrap_or_default(),
            set: self.set.unwrap_or_default(),
        })
    }
}

/// A custom command for some servers.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"server_ids": "1", "command": "tars.viewstatus"}))]
pub struct SendCommand {
    /// Server ids separated by `;` (or a list).
    #[serde(deserialize_with = "ids")]
    #[schema(value_type = String)]
    pub server_ids: Vec<i64>,
    /// The command sent to each server through its node, e.g. `tars.viewstatus` or
    /// `tars.setloglevel DEBUG`.
    #[serde(deserialize_with = "required_text")]
    pub command: String,
}

impl IntoRequest<pb::SendCommandRequest> for SendCommand {
    fn into_request(self, _: &str) -> Result<pb::SendCommandRequest, ParamError> {
        Ok(pb::SendCommandRequest {
            server_ids: self.server_ids,
            command: self.command,
        })
    }
}
