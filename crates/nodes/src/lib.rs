//! Reaching TARS servers: where a node listens and one reused client per address (shared
//! by the deployer's synchronous node calls and the task-runner's tasks), and where a
//! framework servant such as tarspatch or a query server is reached ([`servants`]).
//!
//! A node's address is `t_node_info.node_obj` when tarsregistry recorded one, otherwise
//! `<node_name>:<TARS_NODE_PORT>` (node names are IP addresses in TARS).

pub mod servants;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tars_protocol::client::ClientConfig;
use tars_protocol::endpoint::parse_obj_proxy;
use tars_protocol::node::NodeClient;
use tars_protocol::CallError;
use tars_store::{Store, StoreError};

/// How to reach nodes.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// `TARS_NODE_PORT`, default 19385: tarsnode's port when `t_node_info` has no endpoint.
    pub default_port: u16,
    /// `TARS_NODE_TIMEOUT_MS`, default 5000: deadline of one node call.
    pub call_timeout: Duration,
    /// `TARS_NODE_CONNECT_TIMEOUT_MS`, default 2000.
    pub connect_timeout: Duration,
}

impl NodeConfig {
    /// Reads the variables above.
    pub fn from_env() -> Result<NodeConfig, tars_common::env::EnvError> {
        use tars_common::env::var_parsed;
        Ok(NodeConfig {
            default_port: var_parsed("TARS_NODE_PORT", tars_protocol::node::DEFAULT_NODE_PORT)?,
            call_timeout: Duration::from_millis(var_parsed("TARS_NODE_TIMEOUT_MS", 5000)?),
            connect_timeout: Duration::from_millis(var_parsed(
                "TARS_NODE_CONNECT_TIMEOUT_MS",
                2000,
            )?),
        })
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            default_port: tars_protocol::node::DEFAULT_NODE_PORT,
            call_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
        }
    }
}

/// Clients of the nodes, one per address, shared by every request.
#[derive(Debug)]
pub struct Nodes {
    config: NodeConfig,
    clients: Mutex<HashMap<String, Arc<NodeClient>>>,
}

impl Nodes {
    /// No clients yet.
    pub fn new(config: NodeConfig) -> Nodes {
        Nodes {
            config,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The node's address.
    pub async fn address(&self, store: &Store, node_name: &str) -> Result<String, StoreError> {
        if let Some(obj) = store.node_obj(node_name).await? {
            match parse_obj_proxy(&obj) {
                Ok(proxy) => return Ok(proxy.endpoints[0].socket_addr()),
                Err(err) => {
                    tracing::warn!(node = node_name, error = %err, "ignoring unusable t_node_info.node_obj")
                }
            }
        }
        Ok(format!("{node_name}:{}", self.config.default_port))
    }

    /// A client for the node (created on first use; connections are reused).
    pub async fn client(
        &self,
        store: &Store,
        node_name: &str,
    ) -> Result<Arc<NodeClient>, StoreError> {
        let addr = self.address(store, node_name).await?;
        let mut clients = self.clients.lock().expect("node clients poisoned");
        let client = clients.entry(addr.clone()).or_insert_with(|| {
            Arc::new(NodeClient::new(
                addr,
                ClientConfig {
                    connect_timeout: self.config.connect_timeout,
                    call_timeout: self.config.call_timeout,
                    ..ClientConfig::default()
                },
            ))
        });
        Ok(client.clone())
    }
}

/// How a failed node call should be reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeFailure {
    /// The node could not be reached or did not answer in time.
    Unreachable(String),
    /// The node answered with a framework error or garbage.
    Failed(String),
}

/// Classifies a failed node call, with a message naming the node.
pub fn classify(node_name: &str, err: CallError) -> NodeFailure {
    match err {
        CallError::Remote { .. } | CallError::Malformed { .. } => {
            NodeFailure::Failed(format!("node {node_name} failed the call: {err}"))
        }
        _ => NodeFailure::Unreachable(format!("node {node_name} is unreachable: {err}")),
    }
}
