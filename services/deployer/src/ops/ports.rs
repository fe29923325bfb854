//! Which ports a node's adapters use, and picking free ones (`auto_port`, and the ports
//! `expand_server_preview` proposes).
//!
//! A port is taken on a node when any adapter there (of any server) names it in its
//! endpoint (`… -p PORT …`). Free ports are picked from TarsWeb's range, 10000-29999, but
//! lowest first instead of at random: the answer is repeatable, and a port proposed twice
//! is caught when `expand_server` checks it again in its transaction.

use std::collections::{BTreeMap, HashMap};

use tars_proto::deployer::NodePort;
use tars_store::Store;

use super::validate;
use crate::error::{DeployerError, DeployerResult};

/// Lowest port handed out (TarsWeb's `randPort` range starts here).
pub const AUTO_PORT_MIN: u16 = 10_000;
/// Highest port handed out (TarsWeb's range ends below 30000).
pub const AUTO_PORT_MAX: u16 = 29_999;

/// The ports in use on one node, each with the endpoint that uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodePorts {
    node_name: String,
    used: BTreeMap<u16, String>,
}

impl NodePorts {
    /// The ports these endpoints of `node_name`'s adapters use; endpoints without a
    /// readable `-p` take no port.
    pub fn from_endpoints(node_name: &str, endpoints: &[String]) -> NodePorts {
        let used = endpoints
            .iter()
            .filter_map(|e| validate::endpoint_port(e).map(|p| (p, e.clone())))
            .collect();
        NodePorts {
            node_name: node_name.to_string(),
            used,
        }
    }

    /// The ports in use on `node_name` now.
    pub async fn load(store: &Store, node_name: &str) -> DeployerResult<NodePorts> {
        let endpoints = store.endpoints_on_node(node_name).await?;
        Ok(NodePorts::from_endpoints(node_name, &endpoints))
    }

    /// The endpoint using `port`, if one does.
    pub fn user_of(&self, port: u16) -> Option<&str> {
        self.used.get(&port).map(String::as_str)
    }

    /// The lowest free port of the range, marked used so the next call picks another.
    ///
    /// # Errors
    /// `Conflict` when every port of the range is taken on this node.
    pub fn take_free(&mut self) -> DeployerResult<u16> {
        let port = (AUTO_PORT_MIN..=AUTO_PORT_MAX)
            .find(|p| !self.used.contains_key(p))
            .ok_or_else(|| {
                DeployerError::Conflict(format!(
                    "every port from {AUTO_PORT_MIN} to {AUTO_PORT_MAX} is used on node {}; \
                     choose a port yourself",
                    self.node_name
                ))
            })?;
        self.used.insert(port, String::new());
        Ok(port)
    }
}

/// One free port per listed node (a node listed twice gets two different ports).
pub async fn auto_port(store: &Store, node_names: &[String]) -> DeployerResult<Vec<NodePort>> {
    if node_names.is_empty() {
        return Err(DeployerError::bad_param(
            "node_name",
            "is required: node IPs separated by `;`",
        ));
    }
    for node in node_names {
        validate::node_name("node_name", node)?;
    }
    let mut nodes: HashMap<&str, NodePorts> = HashMap::new();
    let mut answer = Vec::with_capacity(node_names.len());
    for node in node_names {
        let ports = match nodes.entry(node.as_str()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(NodePorts::load(store, node).await?)
            }
        };
        answer.push(NodePort {
            node_name: node.clone(),
            port: i64::from(ports.take_free()?),
        });
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_skip_used_ones_and_each_other() {
        let mut ports = NodePorts::from_endpoints(
            "10.0.0.1",
            &[
                "tcp -h 10.0.0.1 -t 60000 -p 10000 -e 0".to_string(),
                "udp -h 10.0.0.1 -p 10002".to_string(),
                "tcp -h 10.0.0.1".to_string(),
            ],
        );
        assert_eq!(ports.user_of(10002), Some("udp -h 10.0.0.1 -p 10002"));
        assert_eq!(ports.take_free().unwrap(), 10001);
        assert_eq!(ports.take_free().unwrap(), 10003);
        assert_eq!(ports.user_of(10004), None);
    }

    #[test]
    fn a_full_range_is_a_conflict() {
        let endpoints: Vec<String> = (AUTO_PORT_MIN..=AUTO_PORT_MAX)
            .map(|p| format!("tcp -h a -p {p}"))
            .collect();
        let mut ports = NodePorts::from_endpoints("a", &endpoints);
        assert!(matches!(ports.take_free(), Err(DeployerError::Conflict(_))));
    }
}
