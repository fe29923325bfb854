//! Installing and removing tarsnode on one machine, step by step over one SSH session.
//!
//! Install: inspect what is installed (an installed node that answers is left alone
//! unless forced), upload the package over SFTP, unpack it beside the install, check its
//! layout, put the machine's IP (`localip.tars.com`) and the registry's endpoints
//! (`registryAddress`) into `conf/tars.tarsnode.config.conf` and `util/execute.sh`, stop
//! the old node (`util/stop.sh`) and make sure it stopped, copy the new files over the
//! old (the node's `data/` stays), start it (`util/start.sh`), and wait until it answers
//! a `Node.getStateInfo` call on the endpoint its configuration names.
//!
//! Uninstall: stop the node, make sure it stopped answering, remove `tarsnode/` (and the
//! install directory once empty).
//!
//! Every remote command is a fixed script whose only inputs are shell variables set from
//! quoted, validated values (the IP, the install directory, the registry locator); a
//! failed step is reported with its name, exit status and the last lines of its output.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tars_protocol::client::ClientConfig;
use tars_protocol::conf::NODE_ENDPOINT_PATH;
use tars_protocol::endpoint::{parse_endpoint, Endpoint};
use tars_protocol::node::{NodeClient, NODE_SERVANT};
use tokio::sync::Semaphore;

use crate::config::{check_locator, ResourceConfig};
use crate::shell::quote;
use crate::ssh::Session;

/// The installed configuration file, below the node's directory.
pub const CONF_FILE: &str = "conf/tars.tarsnode.config.conf";

/// A node installed on a machine and answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledNode {
    /// Where its `Node` servant listens (from its configuration file).
    pub endpoint: Endpoint,
    /// Its directory (`<install dir>/tarsnode`).
    pub home: String,
}

impl InstalledNode {
    /// `tars.tarsnode.NodeObj@tcp -h … -p … -t …`, as tarsregistry records it.
    pub fn node_obj(&self) -> String {
        let mut endpoint = self.endpoint.clone();
        endpoint.timeout_ms.get_or_insert(60_000);
        format!("{NODE_SERVANT}@{endpoint}")
    }

    /// Where it keeps its servers (`t_node_info.data_dir`).
    pub fn data_dir(&self) -> String {
        format!("{}/data", self.home)
    }

    /// The address to call it at.
    pub fn socket_addr(&self) -> String {
        self.endpoint.socket_addr()
    }
}

/// How one machine's install or uninstall ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Installed (or reinstalled) and answering.
    Installed(InstalledNode),
    /// A node was installed and answering already; nothing was changed.
    AlreadyInstalled(InstalledNode),
    /// Stopped and removed from this directory.
    Uninstalled {
        /// The node's directory that was removed.
        home: String,
    },
    /// There was no tarsnode in this directory.
    NotInstalled {
        /// The directory looked in.
        home: String,
    },
    /// What went wrong, for the operator.
    Failed(String),
}

/// Installs and removes tarsnode over SSH, a bounded number of machines at a time.
pub struct Installer {
    config: ResourceConfig,
    node_client: ClientConfig,
    slots: Semaphore,
    /// Machines being worked on by this process.
    busy: Mutex<HashSet<IpAddr>>,
}

impl std::fmt::Debug for Installer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Marks a machine busy while it lives.
struct BusyGuard<'a> {
    busy: &'a Mutex<HashSet<IpAddr>>,
    ip: IpAddr,
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.busy.lock().expect("busy").remove(&self.ip);
    }
}

/// A failed step, as the operator reads it.
fn step_failed(step: &str, ip: IpAddr, output: &crate::ssh::CommandOutput) -> String {
    format!(
        "step `{step}` failed on {ip} ({}); last lines of its output: {}",
        output.ending(),
        output.tail()
    )
}

impl Installer {
    /// An installer with these settings; nodes are called with `node_client`'s timeouts.
    pub fn new(config: ResourceConfig, node_client: ClientConfig) -> Arc<Installer> {
        Arc::new(Installer {
            slots: Semaphore::new(config.concurrency),
            config,
            node_client,
            busy: Mutex::new(HashSet::new()),
        })
    }

    /// The settings.
    pub fn config(&self) -> &ResourceConfig {
        &self.config
    }

    fn claim(&self, ip: IpAddr) -> Option<BusyGuard<'_>> {
        self.busy
            .lock()
            .expect("busy")
            .insert(ip)
            .then_some(BusyGuard {
                busy: &self.busy,
                ip,
            })
    }

    fn busy_message(ip: IpAddr) -> Outcome {
        Outcome::Failed(format!(
            "another install or uninstall of {ip} is in progress; try again when it has ended"
        ))
    }

    /// Whether a node answers a `getStateInfo` call at `addr`.
    pub async fn node_answers(&self, addr: &str) -> bool {
        let client = NodeClient::new(addr, self.node_client.clone());
        client
            .get_state_info("tars", "tarsnode", None)
            .await
            .is_ok()
    }

    /// Calls the node at `addr` until it answers (`true`) or, with `answering: false`,
    /// until it stops answering; at most `TARS_NODE_START_TIMEOUT_MS`.
    async fn wait_for_node(&self, addr: &str, answering: bool) -> bool {
        let deadline = Instant::now() + self.config.start_timeout;
        let mut pause = Duration::from_millis(50);
        loop {
            if self.node_answers(addr).await == answering {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// Installs tarsnode on `ip`, pointing it at the registry `locator`. With `force`, a
    /// node that is installed and answering is reinstalled.
    pub async fn install(&self, ip: IpAddr, locator: &str, force: bool) -> Outcome {
        if let Err(reason) = check_locator(locator) {
            return Outcome::Failed(format!("the registry locator {locator:?} {reason}"));
        }
        let Some(_busy) = self.claim(ip) else {
            return Installer::busy_message(ip);
        };
        let Ok(_slot) = self.slots.acquire().await else {
            return Outcome::Failed("the installer is shutting down".into());
        };
        let package = &self.config.package;
        match tokio::fs::metadata(package).await {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => {
                return Outcome::Failed(format!(
                    "package missing: {} (TARS_NODE_PACKAGE) is not a file",
                    package.display()
                ))
            }
            Err(e) => {
                return Outcome::Failed(format!(
                    "package missing: {} (TARS_NODE_PACKAGE): {e}",
                    package.display()
                ))
            }
        }
        let session = match Session::connect(ip, &self.config.ssh).await {
            Ok(session) => session,
            Err(reason) => return Outcome::Failed(reason),
        };
        let outcome = match self.install_over(&session, ip, locator, force).await {
            Ok(outcome) => outcome,
            Err(reason) => Outcome::Failed(reason),
        };
        session.close().await;
        outcome
    }

    /// The shell variables every script starts with.
    fn preamble(&self, ip: IpAddr) -> String {
        let dir = self.config.install_dir_for(&ip.to_string());
        let dir = dir.trim_end_matches('/');
        format!(
            "set -u\ndir={}\nhome=\"$dir/tarsnode\"\nconf=\"$home/{CONF_FILE}\"\n",
            quote(dir)
        )
    }

    /// Runs one step's script; a non-zero exit is the step's failure.
    async fn step(
        &self,
        session: &Session,
        ip: IpAddr,
        step: &str,
        script: &str,
    ) -> Result<String, String> {
        let command = format!("{}{script}", self.preamble(ip));
        let output = session
            .run(&command, self.config.ssh.command_timeout)
            .await
            .map_err(|reason| format!("step `{step}` on {ip} {reason}"))?;
        if output.succeeded() {
            Ok(output.output)
        } else {
            Err(step_failed(step, ip, &output))
        }
    }

    /// The installed node's configuration and where it says the node listens, if one is
    /// installed in the directory.
    async fn installed(
        &self,
        session: &Session,
        ip: IpAddr,
    ) -> Result<Option<InstalledNode>, String> {
        let text = self
            .step(
                session,
                ip,
                "inspect the installed node",
                "if [ -f \"$conf\" ]; then cat \"$conf\"; else echo '#not-installed'; fi\n",
            )
            .await?;
        if text.trim() == "#not-installed" {
            return Ok(None);
        }
        self.node_from_conf(ip, &text).map(Some)
    }

    fn node_from_conf(&self, ip: IpAddr, text: &str) -> Result<InstalledNode, String> {
        let dir = self.config.install_dir_for(&ip.to_string());
        let home = format!("{}/tarsnode", dir.trim_end_matches('/'));
        let unreadable = |why: String| {
            format!("cannot tell where the node listens from {home}/{CONF_FILE} on {ip}: {why}")
        };
        let conf = tars_protocol::conf::parse(text).map_err(|e| unreadable(e.to_string()))?;
        let endpoint = conf
            .get(NODE_ENDPOINT_PATH)
            .ok_or_else(|| unreadable(format!("it has no {NODE_ENDPOINT_PATH}")))?;
        let endpoint = parse_endpoint(endpoint).map_err(|e| unreadable(e.to_string()))?;
        Ok(InstalledNode { endpoint, home })
    }

    async fn install_over(
        &self,
        session: &Session,
        ip: IpAddr,
        locator: &str,
        force: bool,
    ) -> Result<Outcome, String> {
        let old = self.installed(session, ip).await?;
        if let Some(node) = &old {
            if !force && self.node_answers(&node.socket_addr()).await {
                return Ok(Outcome::AlreadyInstalled(node.clone()));
            }
        }
        let nonce = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let staging = format!("stage=\"$dir/.tarsnode-install-{nonce}\"\n");
        self.step(
            session,
            ip,
            "prepare the install directory",
            &format!("{staging}mkdir -p \"$dir\" && rm -rf \"$stage\" && mkdir \"$stage\"\n"),
        )
        .await?;
        let dir = self.config.install_dir_for(&ip.to_string());
        let upload = format!(
            "{}/.tarsnode-install-{nonce}/package.tgz",
            dir.trim_end_matches('/')
        );
        let result = self
            .replace_node(session, ip, locator, &staging, &upload, old.as_ref())
            .await;
        // The staging directory goes whatever happened (it is gone already on success).
        let _ = self
            .step(
                session,
                ip,
                "clean up",
                &format!("{staging}rm -rf \"$stage\"\n"),
            )
            .await;
        result
    }

    async fn replace_node(
        &self,
        session: &Session,
        ip: IpAddr,
        locator: &str,
        staging: &str,
        upload: &str,
        old: Option<&InstalledNode>,
    ) -> Result<Outcome, String> {
        session
            .upload(&self.config.package, upload, self.config.ssh.upload_timeout)
            .await
            .map_err(|reason| format!("step `upload the package` failed: {reason}"))?;
        self.step(
            session,
            ip,
            "unpack the package",
            &format!(
                "{staging}tar -xzf \"$stage/package.tgz\" -C \"$stage\" || exit $?\n\
                 for f in {CONF_FILE} util/start.sh util/stop.sh; do\n\
                 \x20 if [ -f \"$stage/tarsnode/$f\" ]; then :; else\n\
                 \x20   echo \"package missing: it has no tarsnode/$f (TARS_NODE_PACKAGE must be a tarsnode .tgz)\"; exit 3\n\
                 \x20 fi\n\
                 done\n"
            ),
        )
        .await?;
        // The values are checked: an IP's text and plain endpoint text hold no `|`, `&`,
        // `\` or newline, which sed would read specially.
        let ip_text = ip.to_string();
        let sed = format!(
            "sed -i -e {} -e {}",
            quote(&format!("s|localip\\.tars\\.com|{ip_text}|g")),
            quote(&format!("s|registryAddress|{}|g", locator.trim()))
        );
        let text = self
            .step(
                session,
                ip,
                "configure the node",
                &format!(
                    "{staging}{sed} \"$stage/tarsnode/{CONF_FILE}\" || exit $?\n\
                     if [ -f \"$stage/tarsnode/util/execute.sh\" ]; then \
                     {sed} \"$stage/tarsnode/util/execute.sh\" || exit $?; fi\n\
                     chmod 755 \"$stage/tarsnode/util/\"*.sh 2>/dev/null\n\
                     cat \"$stage/tarsnode/{CONF_FILE}\"\n"
                ),
            )
            .await?;
        let new = self.node_from_conf(ip, &text)?;
        self.step(
            session,
            ip,
            "stop the running node",
            "if [ -f \"$home/util/stop.sh\" ]; then sh \"$home/util/stop.sh\"; else echo 'no node installed'; fi\n",
        )
        .await?;
        for stopped in old.into_iter().chain([&new]) {
            if !self.wait_for_node(&stopped.socket_addr(), false).await {
                return Err(format!(
                    "a node still answers on {} after util/stop.sh (waited {} ms, \
                     TARS_NODE_START_TIMEOUT_MS); stop it by hand and install again",
                    stopped.endpoint,
                    self.config.start_timeout.as_millis()
                ));
            }
        }
        self.step(
            session,
            ip,
            "copy the node into place",
            &format!(
                "{staging}mkdir -p \"$home\" && cp -Rf \"$stage/tarsnode/.\" \"$home/\" && rm -rf \"$stage\"\n"
            ),
        )
        .await?;
        let started = self
            .step(
                session,
                ip,
                "start the node",
                "sh \"$home/util/start.sh\"\n",
            )
            .await?;
        if !self.wait_for_node(&new.socket_addr(), true).await {
            return Err(format!(
                "the node did not answer on {} within {} ms of util/start.sh \
                 (TARS_NODE_START_TIMEOUT_MS); util/start.sh said: {}; look at its log in {}",
                new.endpoint,
                self.config.start_timeout.as_millis(),
                crate::ssh::tail(&started),
                new.home
            ));
        }
        Ok(Outcome::Installed(new))
    }

    /// Stops tarsnode on `ip` and removes it.
    pub async fn uninstall(&self, ip: IpAddr) -> Outcome {
        let Some(_busy) = self.claim(ip) else {
            return Installer::busy_message(ip);
        };
        let Ok(_slot) = self.slots.acquire().await else {
            return Outcome::Failed("the installer is shutting down".into());
        };
        let session = match Session::connect(ip, &self.config.ssh).await {
            Ok(session) => session,
            Err(reason) => return Outcome::Failed(reason),
        };
        let outcome = match self.uninstall_over(&session, ip).await {
            Ok(outcome) => outcome,
            Err(reason) => Outcome::Failed(reason),
        };
        session.close().await;
        outcome
    }

    async fn uninstall_over(&self, session: &Session, ip: IpAddr) -> Result<Outcome, String> {
        let dir = self.config.install_dir_for(&ip.to_string());
        let home = format!("{}/tarsnode", dir.trim_end_matches('/'));
        let present = self
            .step(
                session,
                ip,
                "inspect the installed node",
                "if [ -d \"$home\" ]; then echo present; else echo absent; fi\n",
            )
            .await?;
        if present.trim() == "absent" {
            return Ok(Outcome::NotInstalled { home });
        }
        // A node whose configuration cannot be read is still stopped and removed; only
        // the check that it stopped answering needs its endpoint.
        let node = self.installed(session, ip).await.ok().flatten();
        self.step(
            session,
            ip,
            "stop the node",
            "if [ -f \"$home/util/stop.sh\" ]; then sh \"$home/util/stop.sh\"; else echo 'no util/stop.sh'; fi\n",
        )
        .await?;
        if let Some(node) = &node {
            if !self.wait_for_node(&node.socket_addr(), false).await {
                return Err(format!(
                    "the node still answers on {} after util/stop.sh (waited {} ms, \
                     TARS_NODE_START_TIMEOUT_MS); nothing was removed",
                    node.endpoint,
                    self.config.start_timeout.as_millis()
                ));
            }
        }
        self.step(
            session,
            ip,
            "remove the node",
            "rm -rf \"$home\" || exit $?\nrmdir \"$dir\" 2>/dev/null || true\n",
        )
        .await?;
        Ok(Outcome::Uninstalled { home })
    }
}
