//! One simulated node: per-server state, faults, latency and the call log.
//!
//! Answers as tarsnode does where it matters to callers: start makes a server Active
//! with a pid, stop makes it Inactive, destroy forgets it; getStateInfo on an unknown
//! server returns -1, stop/destroy of an unknown server 1003.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tars_protocol::node::{
    NodeResult, NodeServant, PatchInfo, PatchRequest, ServerState, ServerStateInfo,
};
use tars_protocol::server::DispatchError;

use crate::call_log::{CallLog, CallRecord};
use crate::faults::Faults;

/// tarsnode's "load service descriptor failed" for an unknown server.
const EM_TARS_LOAD_SERVICE_DESC_ERR: i32 = 1003;

#[derive(Debug, Clone)]
struct ServerEntry {
    state: ServerState,
    setting: ServerState,
    pid: i32,
    patch: Option<PatchInfo>,
}

impl ServerEntry {
    fn new() -> ServerEntry {
        ServerEntry {
            state: ServerState::Inactive,
            setting: ServerState::Inactive,
            pid: 0,
            patch: None,
        }
    }
}

/// A simulated tarsnode.
pub struct SimNode {
    ip: String,
    servers: Mutex<HashMap<(String, String), ServerEntry>>,
    next_pid: AtomicI32,
    log: Option<Arc<CallLog>>,
    faults: Arc<Faults>,
    latency: Duration,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

impl SimNode {
    pub fn new(
        ip: String,
        log: Option<Arc<CallLog>>,
        faults: Arc<Faults>,
        latency: Duration,
    ) -> SimNode {
        SimNode {
            ip,
            servers: Mutex::new(HashMap::new()),
            next_pid: AtomicI32::new(10_000),
            log,
            faults,
            latency,
        }
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
        act: impl FnOnce(&mut HashMap<(String, String), ServerEntry>, (String, String)) -> NodeResult,
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
        self.handle(
            "patchPro",
            request.appname.clone(),
            request.servername.clone(),
            &version,
            |servers, key| {
                let entry = servers.entry(key).or_insert_with(ServerEntry::new);
                entry.patch = Some(PatchInfo {
                    patching: false,
                    percent: 100,
                    modify_time: (now_ms() / 1000) as i32,
                    version: request.version.clone(),
                    result: "patch succ".into(),
                    succ: true,
                });
                ok("patch request accepted")
            },
        )
        .await
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
