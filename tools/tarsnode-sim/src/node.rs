//! One simulated node: per-server state, faults, latency and the call log.
//!
//! Answers as tarsnode does where it matters to callers: start makes a server Active
//! with a pid, stop makes it Inactive, destroy forgets it; getStateInfo on an unknown
//! server returns -1, stop/destroy of an unknown server 1003. patchPro is answered at
//! once and the package is downloaded in the background ([`crate::patcher`]), its
//! progress and result reported by getPatchPercent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tars_protocol::client::ClientConfig;
use tars_protocol::node::{
    NodeResult, NodeServant, PatchInfo, PatchRequest, ServerState, ServerStateInfo,
};
use tars_protocol::server::DispatchError;

use crate::call_log::{CallLog, CallRecord, DownloadRecord};
use crate::faults::Faults;
use crate::patcher;

/// tarsnode's "load service descriptor failed" for an unknown server.
const EM_TARS_LOAD_SERVICE_DESC_ERR: i32 = 1003;

#[derive(Debug, Clone)]
struct ServerEntry {
    state: ServerState,
    setting: ServerState,
    pid: i32,
    patch: Option<PatchInfo>,
    /// Which patchPro `patch` belongs to: a download reports only while its patch is
    /// the latest, so an older one finishing late cannot overwrite a newer one.
    patch_id: u64,
}

impl ServerEntry {
    fn new() -> ServerEntry {
        ServerEntry {
            state: ServerState::Inactive,
            setting: ServerState::Inactive,
            pid: 0,
            patch: None,
            patch_id: 0,
        }
    }
}

type Servers = HashMap<(String, String), ServerEntry>;

/// A simulated tarsnode.
pub struct SimNode {
    ip: String,
    /// Shared with the background downloads of patches.
    servers: Arc<Mutex<Servers>>,
    next_pid: AtomicI32,
    next_patch: AtomicU64,
    log: Option<Arc<CallLog>>,
    faults: Arc<Faults>,
    latency: Duration,
    /// Timeouts of the calls to patch servers.
    patch_client: ClientConfig,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

fn now_s() -> i32 {
    (now_ms() / 1000) as i32
}

/// Changes the progress of patch `id` of `key`, if it is still the server's latest.
fn set_patch(
    servers: &Mutex<Servers>,
    key: &(String, String),
    id: u64,
    f: impl FnOnce(&mut PatchInfo),
) {
    let mut servers = servers.lock().expect("state poisoned");
    if let Some(entry) = servers.get_mut(key).filter(|e| e.patch_id == id) {
        if let Some(patch) = entry.patch.as_mut() {
            f(patch);
        }
    }
}

impl SimNode {
    pub fn new(
        ip: String,
        log: Option<Arc<CallLog>>,
        faults: Arc<Faults>,
        latency: Duration,
        patch_client: ClientConfig,
    ) -> SimNode {
        SimNode {
            ip,
            servers: Arc::new(Mutex::new(HashMap::new())),
            next_pid: AtomicI32::new(10_000),
            next_patch: AtomicU64::new(1),
            log,
            faults,
            latency,
            patch_client,
        }
    }

    /// Downloads the package of patch `id` in the background, then logs the download
    /// and reports the patch's end.
    fn spawn_patch(&self, request: PatchRequest, id: u64) {
        let servers = self.servers.clone();
        let log = self.log.clone();
        let ip = self.ip.clone();
        let config = self.patch_client.clone();
        tokio::spawn(async move {
            let key = (request.appname.clone(), request.servername.clone());
            let outcome = patcher::run(&request, config, |percent| {
                set_patch(&servers, &key, id, |p| p.percent = percent)
            })
            .await;
            tracing::info!(
                node = %ip,
                file = %outcome.file,
                bytes = outcome.bytes,
                result = %outcome.result,
                "patch download ended"
            );
            if let Some(log) = &log {
                log.record(&DownloadRecord {
                    ts_ms: now_ms(),
                    node: &ip,
                    method: "download",
                    application: &request.appname,
                    server_name: &request.servername,
                    file: &outcome.file,
                    bytes: outcome.bytes,
                    md5: &outcome.md5,
                    expected_md5: &request.md5,
                    ok: outcome.ok,
                    version: &request.version,
                    result: &outcome.result,
                });
            }
            let done = outcome.patch_info(&request, now_s());
            set_patch(&servers, &key, id, |p| *p = done);
        });
    }

    /// Latency and hangs, applied to every call before it is handled.
    async fn delay(&self, method: &str) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        if self.faults.hangs(&self.ip, method) {
            std::future::pending::<()>().await;
        }
    }

    fn record(&self, method: &str, application: &str, server_name: &str, command: &str, ret: i32) {
        if let Some(log) = &self.log {
            log.record(&CallRecord {
                ts_ms: now_ms(),
                node: &self.ip,
                method,
                application,
                server_name,
                command,
                ret,
            });
        }
    }

    /// Handles one app/server call: `act` runs on the state unless the call is made to fail.
    async fn handle(
        &self,
        method: &str,
        application: String,
        server_name: String,
        command: &str,
        act: impl FnOnce(&mut Servers, (String, String)) -> NodeResult,
    ) -> NodeResult {
        self.delay(method).await;
        let result = if self.faults.fails(&self.ip, method) {
            NodeResult {
                ret: -1,
                result: format!("injected failure of {method} on {}", self.ip),
            }
        } else {
            let mut servers = self.servers.lock().expect("state poisoned");
            act(&mut servers, (application.clone(), server_name.clone()))
        };
        self.record(method, &application, &server_name, command, result.ret);
        result
    }
}

fn ok(result: impl Into<String>) -> NodeResult {
    NodeResult {
        ret: 0,
        result: result.into(),
    }
}

fn unknown(key: &(String, String)) -> NodeResult {
    NodeResult {
        ret: EM_TARS_LOAD_SERVICE_DESC_ERR,
        result: format!("server {}.{} not exist", key.0, key.1),
    }
}

impl NodeServant for SimNode {
    async fn load_server(&self, application: String, server_name: String) -> NodeResult {
        let ip = self.ip.clone();
        self.handle(
            "loadServer",
            application,
            server_name,
            "",
            |servers, key| {
                servers.entry(key.clone()).or_insert_with(ServerEntry::new);
                ok(format!("{}.{} loaded on {ip}", key.0, key.1))
            },
        )
        .await
    }

    async fn start_server(&self, application: String, server_name: String) -> NodeResult {
        let pid = self.next_pid.fetch_add(1, Ordering::SeqCst);
        self.handle(
            "startServer",
            application,
            server_name,
            "",
            |servers, key| {
                let entry = servers.entry(key).or_insert_with(ServerEntry::new);
                entry.state = ServerState::Active;
                entry.setting = ServerState::Active;
                entry.pid = pid;
                ok(format!("started, pid {pid}"))
            },
        )
        .await
    }

    async fn stop_server(&self, application: String, server_name: String) -> NodeResult {
        self.handle(
            "stopServer",
            application,
            server_name,
            "",
            |servers, key| match servers.get_mut(&key) {
                Some(entry) => {
                    entry.state = ServerState::Inactive;
                    entry.setting = ServerState::Inactive;
                    entry.pid = 0;
                    ok("stopped")
                }
                None => unknown(&key),
            },
        )
        .await
    }

    async fn destroy_server(&self, application: String, server_name: String) -> NodeResult {
        self.handle(
            "destroyServer",
            application,
            server_name,
            "",
            |servers, key| match servers.remove(&key) {
                Some(_) => ok("destroyed"),
                None => unknown(&key),
            },
        )
        .await
    }

    async fn notify_server(
        &self,
        application: String,
        server_name: String,
        command: String,
    ) -> NodeResult {
        let answer = format!("[notify] {command}: done");
        self.handle(
            "notifyServer",
            application,
            server_name,
            &command,
            |_, _| ok(answer),
        )
        .await
    }

    async fn get_state_info(
        &self,
        application: String,
        server_name: String,
    ) -> (i32, ServerStateInfo, String) {
        self.delay("getStateInfo").await;
        let (ret, info, result) = if self.faults.fails(&self.ip, "getStateInfo") {
            (
                -1,
                ServerStateInfo::default(),
                format!("injected failure of getStateInfo on {}", self.ip),
            )
        } else {
            let servers = self.servers.lock().expect("state poisoned");
            match servers.get(&(application.clone(), server_name.clone())) {
                Some(entry) => (
                    0,
                    ServerStateInfo {
                        server_state: entry.state,
                        process_id: entry.pid,
                        node_name: self.ip.clone(),
                        application: application.clone(),
                        server_name: server_name.clone(),
                        setting_state: entry.setting,
                        ..ServerStateInfo::default()
                    },
                    String::new(),
                ),
                None => (
                    -1,
                    ServerStateInfo::default(),
                    format!("server {application}.{server_name} not exist"),
                ),
            }
        };
        self.record("getStateInfo", &application, &server_name, "", ret);
        (ret, info, result)
    }

    async fn patch_pro(&self, request: PatchRequest) -> NodeResult {
        let version = request.version.clone();
        let id = self.next_patch.fetch_add(1, Ordering::SeqCst);
        let mut accepted = false;
        let result = self
            .handle(
                "patchPro",
                request.appname.clone(),
                request.servername.clone(),
                &version,
                |servers, key| {
                    let entry = servers.entry(key).or_insert_with(ServerEntry::new);
                    entry.patch_id = id;
                    entry.patch = Some(PatchInfo {
                        patching: true,
                        percent: 0,
                        modify_time: now_s(),
                        version: version.clone(),
                        result: String::new(),
                        succ: false,
                    });
                    accepted = true;
                    ok("patch request accepted")
                },
            )
            .await;
        if accepted {
            self.spawn_patch(request, id);
        }
        result
    }

    async fn get_patch_percent(
        &self,
        application: String,
        server_name: String,
    ) -> (i32, PatchInfo) {
        self.delay("getPatchPercent").await;
        let (ret, info) = if self.faults.fails(&self.ip, "getPatchPercent") {
            (-1, PatchInfo::default())
        } else {
            let servers = self.servers.lock().expect("state poisoned");
            let patch = servers
                .get(&(application.clone(), server_name.clone()))
                .and_then(|e| e.patch.clone());
            (0, patch.unwrap_or_default())
        };
        self.record("getPatchPercent", &application, &server_name, "", ret);
        (ret, info)
    }

    async fn shutdown(&self) -> NodeResult {
        self.record("shutdown", "", "", "", 0);
        ok("")
    }

    async fn stop_all_servers(&self) -> NodeResult {
        self.delay("stopAllServers").await;
        let mut servers = self.servers.lock().expect("state poisoned");
        for entry in servers.values_mut() {
            entry.state = ServerState::Inactive;
            entry.pid = 0;
        }
        drop(servers);
        self.record("stopAllServers", "", "", "", 0);
        ok("")
    }

    async fn before_call(&self, _func: &str) -> Result<(), DispatchError> {
        Ok(())
    }
}
