//! Calls that go straight to a server's tarsnode and answer with its result: load a
//! server, send it a command, read its live state.

use futures::stream::{self, StreamExt};
use tars_proto::deployer::{CommandResult, LoadServerRequest};
use tars_store::server_conf::ServerConfRow;
use tars_store::Store;

use tars_common::authz::Role;

use super::{access, validate};
use crate::error::{DeployerError, DeployerResult};

fn call_failed(node_name: &str, err: tars_protocol::CallError) -> DeployerError {
    match classify(node_name, err) {
        NodeFailure::Unreachable(msg) => DeployerError::Unavailable(msg),
        NodeFailure::Failed(msg) => DeployerError::BadGateway(msg),
    }
}
use tars_nodes::{classify, NodeFailure, Nodes};

/// Most nodes a command is sent to at once.
const COMMAND_CONCURRENCY: usize = 64;

fn names(server: &ServerConfRow) -> (String, String) {
    (
        server.application.clone().unwrap_or_default(),
        server.server_name.clone().unwrap_or_default(),
    )
}

/// `loadServer` on the instance's node: answers the node's result text.
pub async fn load_server(
    store: &Store,
    nodes: &Nodes,
    request: LoadServerRequest,
) -> DeployerResult<String> {
    validate::name("application", &request.application)?;
    validate::name("server_name", &request.server_name)?;
    validate::node_name("node_name", &request.node_name)?;
    // TarsWeb lets a developer load a server (hasOpeAuth); so do we.
    access::target(Role::Developer, &request.application, &request.server_name)?;
    if store
        .server_by_name(
            &request.application,
            &request.server_name,
            &request.node_name,
        )
        .await?
        .is_none()
    {
        return Err(DeployerError::NotFound(format!(
            "server {}.{} is not deployed on node {}",
            request.application, request.server_name, request.node_name
        )));
    }
    let client = nodes.client(store, &request.node_name).await?;
    let answer = client
        .load_server(&request.application, &request.server_name, None)
        .await
        .map_err(|e| call_failed(&request.node_name, e))?;
    if answer.ret != 0 {
        return Err(DeployerError::BadGateway(format!(
            "node {} could not load {}.{} (ret {}): {}",
            request.node_name, request.application, request.server_name, answer.ret, answer.result
        )));
    }
    Ok(answer.result)
}

/// `notifyServer(command)` on the node of each server, concurrently; one row per server
/// in the order given. Unknown ids are refused before anything is sent.
pub async fn send_command(
    store: &Store,
    nodes: &Nodes,
    server_ids: &[i64],
    command: &str,
) -> DeployerResult<Vec<CommandResult>> {
    if server_ids.is_empty() {
        return Err(DeployerError::bad_param(
            "server_ids",
            "must list at least one server id",
        ));
    }
    if command.trim().is_empty() {
        return Err(DeployerError::bad_param("command", "is required"));
    }
    let mut servers = Vec::with_capacity(server_ids.len());
    for id in server_ids {
        let server = store
            .server_by_id(*id)
            .await?
            .ok_or_else(|| super::servers::server_not_found(*id))?;
        servers.push(server);
    }
    // Every server must be the caller's to command before any is sent anything.
    for server in &servers {
        access::server(Role::Operator, server)?;
    }
    let targets = servers
        .iter()
        .map(|server| {
            let (application, server_name) = names(server);
            NotifyTarget {
                application,
                server_name,
                node_name: server.node_name.clone(),
                command: command.to_string(),
            }
        })
        .collect();
    Ok(notify_all(store, nodes, targets).await)
}

/// One `notifyServer` call to make.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NotifyTarget {
    /// The instance's application.
    pub application: String,
    /// The instance's server name.
    pub server_name: String,
    /// The node it runs on.
    pub node_name: String,
    /// The command sent (e.g. `tars.loadconfig cart.conf`).
    pub command: String,
}

/// Sends each target its command on its node, concurrently; one row per target in the
/// order given. A node that cannot be reached fails only its own rows.
pub async fn notify_all(
    store: &Store,
    nodes: &Nodes,
    targets: Vec<NotifyTarget>,
) -> Vec<CommandResult> {
    stream::iter(targets)
        .map(|target| async move {
            let (ret_code, err_msg) = match nodes.client(store, &target.node_name).await {
                Err(err) => (-1, err.to_string()),
                Ok(client) => match client
                    .notify_server(
                        &target.application,
                        &target.server_name,
                        &target.command,
                        None,
                    )
                    .await
                {
                    Ok(answer) => (i64::from(answer.ret), answer.result),
                    Err(err) => (-1, call_failed(&target.node_name, err).to_string()),
                },
            };
            CommandResult {
                application: target.application,
                server_name: target.server_name,
                node_name: target.node_name,
                ret_code,
                err_msg,
            }
        })
        .buffered(COMMAND_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
}

/// The server's state as its node reports it now.
pub async fn get_realtime_state(store: &Store, nodes: &Nodes, id: i64) -> DeployerResult<String> {
    let server = store
        .server_by_id(id)
        .await?
        .ok_or_else(|| super::servers::server_not_found(id))?;
    access::server(Role::Developer, &server)?;
    let (application, server_name) = names(&server);
    let client = nodes.client(store, &server.node_name).await?;
    let (ret, info, result) = client
        .get_state_info(&application, &server_name, None)
        .await
        .map_err(|e| call_failed(&server.node_name, e))?;
    if ret != 0 {
        return Err(DeployerError::BadGateway(format!(
            "node {} has no state for {application}.{server_name} (ret {ret}): {result}",
            server.node_name
        )));
    }
    Ok(info.server_state.as_str().to_string())
}
