//! 资源: installing tarsnode on machines and removing it, through the resource module
//! ([`tars_resource`], on when `TARS_NODE_PACKAGE` is set), and keeping `t_node_info` in
//! step: an installed node that answers is recorded (node object, endpoint, data
//! directory, active), an uninstalled one's row is deleted. Each machine gets its own
//! outcome; a machine that still holds servers cannot be uninstalled.
//!
//! deploy_server and expand_server use [`machines_without_node`] to report (or, with
//! `install_node`, install) the machines of a deployment that have no node.

use std::net::IpAddr;
use std::sync::Arc;

use tars_nodes::Nodes;
use tars_proto::deployer::{InstallTarsNodeRequest, TarsNodeResult, UninstallTarsNodeRequest};
use tars_resource::config::check_locator;
use tars_resource::ips::{parse_ip, parse_ips};
use tars_resource::{InstalledNode, Installer, Outcome};
use tars_store::node_info::NodeRegistration;
use tars_store::Store;

use crate::config::Settings;
use crate::error::{DeployerError, DeployerResult};

/// The answer when the module is off, saying what to configure.
pub const NOT_CONFIGURED: &str = "installing tarsnode is not configured on the deployer: set \
    TARS_NODE_PACKAGE to the tarsnode .tgz to install, TARS_SSH_KEY (a private key file the \
    machines accept) or TARS_SSH_PASSWORD, and TARS_SSH_KNOWN_HOSTS (the machines' host keys), \
    then restart it; see README, \"Resources\"";

/// Servers listed by name in a refusal, at most.
const SERVERS_NAMED: usize = 10;

/// The resource module, or a 503 saying how to turn it on.
fn module(settings: &Settings) -> DeployerResult<&Arc<Installer>> {
    settings
        .resource
        .as_ref()
        .ok_or_else(|| DeployerError::Unavailable(NOT_CONFIGURED.to_string()))
}

/// Refuses a request asking for an install (`install_node`) when the module is off.
/// Installing is the admin's (like install_tars_node).
pub fn require_for_install(install_node: bool, settings: &Settings) -> DeployerResult<()> {
    if install_node {
        super::access::admin()?;
        module(settings)?;
    }
    Ok(())
}

fn machines(ips: &[String]) -> DeployerResult<Vec<IpAddr>> {
    parse_ips(ips).map_err(|reason| DeployerError::bad_param("ips", reason))
}

/// What replaces `registryAddress` in the package: `TARS_REGISTRY_LOCATOR`, else the
/// registries' `tars.tarsregistry.QueryObj` rows of `t_registry_info` as TarsWeb builds it
/// (`tcp -h <host> -p <port>` per `locator_id`, joined by `:`).
async fn registry_locator(store: &Store, installer: &Installer) -> DeployerResult<String> {
    if let Some(locator) = &installer.config().registry_locator {
        return Ok(locator.clone());
    }
    let mut endpoints = Vec::new();
    for id in store.registry_locator_ids().await? {
        let usable = id.rsplit_once(':').and_then(|(host, port)| {
            let port: u16 = port.trim().parse().ok().filter(|p| *p != 0)?;
            let host = host.trim();
            let plain = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            plain.then(|| format!("tcp -h {host} -p {port}"))
        });
        match usable {
            Some(endpoint) => endpoints.push(endpoint),
            None => {
                tracing::warn!(locator_id = %id, "ignoring an unusable t_registry_info.locator_id")
            }
        }
    }
    if endpoints.is_empty() {
        return Err(DeployerError::Unavailable(
            "no registry to point the new nodes at: t_registry_info has no \
             tars.tarsregistry.QueryObj row with a usable locator_id (host:port; tarsregistry \
             records one when it runs); set TARS_REGISTRY_LOCATOR on the deployer, e.g. \
             `tcp -h 10.0.0.1 -p 17890`"
                .to_string(),
        ));
    }
    let locator = endpoints.join(":");
    check_locator(&locator).map_err(|reason| {
        DeployerError::Unavailable(format!(
            "the registry locator built from t_registry_info, {locator:?}, {reason}; set \
             TARS_REGISTRY_LOCATOR on the deployer"
        ))
    })?;
    Ok(locator)
}

fn result(ip: IpAddr, rst: bool, msg: String) -> TarsNodeResult {
    TarsNodeResult {
        ip: ip.to_string(),
        rst,
        msg,
    }
}

/// Records an answering node in `t_node_info`; the outcome's message.
async fn record(store: &Store, ip: IpAddr, node: &InstalledNode, done: String) -> TarsNodeResult {
    let node_name = ip.to_string();
    let registration = NodeRegistration {
        node_name: &node_name,
        node_obj: &node.node_obj(),
        endpoint_ip: &node.endpoint.host,
        endpoint_port: i64::from(node.endpoint.port),
        data_dir: &node.data_dir(),
        now: tars_common::time::now_local(),
    };
    match store.register_node(&registration).await {
        Ok(()) => result(ip, true, format!("{done}; recorded in t_node_info")),
        Err(err) => {
            tracing::error!(node = %ip, error = %err, "an installed node could not be recorded");
            result(
                ip,
                false,
                format!(
                    "{done}, but recording it in t_node_info failed ({err}); install again \
                     once the database answers"
                ),
            )
        }
    }
}

/// Installs on each machine (concurrently, at most `TARS_SSH_CONCURRENCY` at once) and
/// records the answering nodes. Each machine runs in its own task, so a caller that goes
/// away does not cut an install short.
async fn install_on(
    store: &Store,
    installer: &Arc<Installer>,
    ips: &[IpAddr],
    locator: &str,
    force: bool,
    user: &str,
) -> Vec<TarsNodeResult> {
    let tasks: Vec<_> = ips
        .iter()
        .map(|&ip| {
            let (store, installer) = (store.clone(), installer.clone());
            let (locator, user) = (locator.to_string(), user.to_string());
            tokio::spawn(async move {
                let outcome = installer.install(ip, &locator, force).await;
                let answer = match outcome {
                    Outcome::Installed(node) => {
                        let done = format!(
                            "tarsnode installed in {} and answering on {}",
                            node.home, node.endpoint
                        );
                        record(&store, ip, &node, done).await
                    }
                    Outcome::AlreadyInstalled(node) => {
                        let done = format!(
                            "tarsnode already installed in {} and answering on {}; nothing \
                             changed (force=1 reinstalls it)",
                            node.home, node.endpoint
                        );
                        record(&store, ip, &node, done).await
                    }
                    Outcome::Failed(reason) => result(ip, false, reason),
                    other => result(ip, false, format!("unexpected outcome {other:?}")),
                };
                tracing::info!(node = %ip, %user, rst = answer.rst, msg = %answer.msg, "install_tars_node");
                answer
            })
        })
        .collect();
    join(ips, tasks).await
}

/// The tasks' answers in the machines' order.
async fn join(
    ips: &[IpAddr],
    tasks: Vec<tokio::task::JoinHandle<TarsNodeResult>>,
) -> Vec<TarsNodeResult> {
    let mut answers = Vec::with_capacity(tasks.len());
    for (ip, task) in ips.iter().zip(tasks) {
        answers.push(task.await.unwrap_or_else(|err| {
            tracing::error!(node = %ip, error = %err, "a machine's task failed");
            result(
                *ip,
                false,
                format!("internal error while working on {ip}; see the deployer's log"),
            )
        }));
    }
    answers
}

/// `install_tars_node`: installs tarsnode on each machine; one outcome per machine.
pub async fn install_tars_node(
    store: &Store,
    settings: &Settings,
    request: InstallTarsNodeRequest,
) -> DeployerResult<Vec<TarsNodeResult>> {
    super::access::admin()?;
    let installer = module(settings)?;
    tars_common::authz::note_ids(&format!("machines {}", request.ips.join(";")));
    let ips = machines(&request.ips)?;
    let locator = registry_locator(store, installer).await?;
    Ok(install_on(
        store,
        installer,
        &ips,
        &locator,
        request.force,
        &request.user,
    )
    .await)
}

/// `uninstall_tars_node`: refused (409, nothing done) while any of the machines holds
/// servers; else stops and removes tarsnode on each and deletes its `t_node_info` row.
pub async fn uninstall_tars_node(
    store: &Store,
    settings: &Settings,
    request: UninstallTarsNodeRequest,
) -> DeployerResult<Vec<TarsNodeResult>> {
    super::access::admin()?;
    let installer = module(settings)?;
    tars_common::authz::note_ids(&format!("machines {}", request.ips.join(";")));
    let ips = machines(&request.ips)?;
    let mut holding = Vec::new();
    for ip in &ips {
        let servers = store.servers_on_node(&ip.to_string()).await?;
        if servers.is_empty() {
            continue;
        }
        let mut named = servers[..servers.len().min(SERVERS_NAMED)].join(", ");
        if servers.len() > SERVERS_NAMED {
            named.push_str(&format!(" and {} more", servers.len() - SERVERS_NAMED));
        }
        holding.push(format!("{ip} has {named}"));
    }
    if !holding.is_empty() {
        return Err(DeployerError::Conflict(format!(
            "servers are still deployed: {}; undeploy them first (add_task with undeploy_tars), \
             then uninstall. Nothing was changed",
            holding.join("; ")
        )));
    }
    let tasks: Vec<_> = ips
        .iter()
        .map(|&ip| {
            let (store, installer) = (store.clone(), installer.clone());
            let user = request.user.clone();
            tokio::spawn(async move {
                let answer = match installer.uninstall(ip).await {
                    Outcome::Uninstalled { home } => {
                        forget(&store, ip, format!("tarsnode stopped and removed from {home}")).await
                    }
                    Outcome::NotInstalled { home } => {
                        forget(&store, ip, format!("no tarsnode was installed in {home}")).await
                    }
                    Outcome::Failed(reason) => result(ip, false, reason),
                    other => result(ip, false, format!("unexpected outcome {other:?}")),
                };
                tracing::info!(node = %ip, %user, rst = answer.rst, msg = %answer.msg, "uninstall_tars_node");
                answer
            })
        })
        .collect();
    Ok(join(&ips, tasks).await)
}

/// Deletes a removed node's `t_node_info` row; the outcome's message.
async fn forget(store: &Store, ip: IpAddr, done: String) -> TarsNodeResult {
    match store.delete_node(&ip.to_string()).await {
        Ok(true) => result(ip, true, format!("{done}; its t_node_info row is deleted")),
        Ok(false) => result(ip, true, format!("{done}; t_node_info had no row for it")),
        Err(err) => result(
            ip,
            false,
            format!("{done}, but deleting its t_node_info row failed ({err}); uninstall again once the database answers"),
        ),
    }
}

/// For deploy_server and expand_server: the machines of `node_names` on which no node
/// answers, each reported ("no tarsnode on this machine") or, with `install`, installed.
/// Empty when the module is off (TarsWeb answers `[]` then).
pub async fn machines_without_node(
    store: &Store,
    nodes: &Nodes,
    settings: &Settings,
    node_names: &[String],
    install: bool,
    user: &str,
) -> Vec<TarsNodeResult> {
    let Some(installer) = settings.resource.as_ref() else {
        return Vec::new();
    };
    let mut checks = Vec::new();
    for name in node_names {
        let addr = match nodes.address(store, name).await {
            Ok(addr) => addr,
            Err(err) => {
                checks.push(futures::future::Either::Left(futures::future::ready((
                    name.clone(),
                    Some(format!("its node's address cannot be read: {err}")),
                ))));
                continue;
            }
        };
        let (installer, name) = (installer.clone(), name.clone());
        checks.push(futures::future::Either::Right(async move {
            let answers = installer.node_answers(&addr).await;
            (
                name,
                (!answers).then(|| format!("nothing answers on {addr}")),
            )
        }));
    }
    let mut missing = Vec::new();
    let mut answers = Vec::new();
    for (name, absent) in futures::future::join_all(checks).await {
        let Some(why) = absent else { continue };
        match parse_ip(&name) {
            Ok(ip) if install => missing.push(ip),
            Ok(ip) => answers.push(result(
                ip,
                false,
                format!(
                    "no tarsnode on this machine ({why}); install it with \
                     install_tars_node?ips={ip}, or ask for it with install_node=1"
                ),
            )),
            Err(_) => answers.push(TarsNodeResult {
                ip: name.clone(),
                rst: false,
                msg: format!(
                    "no tarsnode on this machine ({why}), and it is not named by an IP \
                     address, so it cannot be installed from here"
                ),
            }),
        }
    }
    if missing.is_empty() {
        return answers;
    }
    match registry_locator(store, installer).await {
        Ok(locator) => {
            answers.extend(install_on(store, installer, &missing, &locator, false, user).await)
        }
        Err(err) => answers.extend(missing.iter().map(|ip| result(*ip, false, err.to_string()))),
    }
    answers
}
