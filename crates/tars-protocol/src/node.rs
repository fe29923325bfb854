//! The tarsnode `Node` interface (`framework/Node.tars`) and its structs
//! (`framework/NodeDescriptor.tars`): a typed client, and a servant trait with the
//! dispatcher that serves it (used by the node simulator).
//!
//! Parameter tags are 1-based positions over in- and out-params together; the return
//! value is tag 0. Answers always carry the return value and every out-param.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::client::{ClientConfig, Reply, ServantClient};
use crate::codec::{Field, Reader, TarsStruct, Writer};
use crate::packet::{ParamsWriter, VERSION_TARS};
use crate::server::{Call, DispatchError, Servant};
use crate::{struct_field, CallError, DecodeError};

/// The servant name tarsnode serves the interface under.
pub const NODE_SERVANT: &str = "tars.tarsnode.NodeObj";

/// tarsnode's default port.
pub const DEFAULT_NODE_PORT: u16 = 19385;

/// `ServerState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Not running (stopped, never started, or unknown to the node).
    Inactive = 0,
    /// Being started.
    Activating = 1,
    /// Running.
    Active = 2,
    /// Being stopped.
    Deactivating = 3,
    /// Being removed from the node.
    Destroying = 4,
    /// Removed from the node.
    Destroyed = 5,
}

impl ServerState {
    /// The state for an enum value; unknown values read as inactive.
    pub fn from_i32(v: i32) -> ServerState {
        match v {
            1 => ServerState::Activating,
            2 => ServerState::Active,
            3 => ServerState::Deactivating,
            4 => ServerState::Destroying,
            5 => ServerState::Destroyed,
            _ => ServerState::Inactive,
        }
    }

    /// The lowercase name `t_server_conf.present_state` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerState::Inactive => "inactive",
            ServerState::Activating => "activating",
            ServerState::Active => "active",
            ServerState::Deactivating => "deactivating",
            ServerState::Destroying => "destroying",
            ServerState::Destroyed => "destroyed",
        }
    }
}

impl Field for ServerState {
    fn write(&self, w: &mut Writer, tag: u8) {
        w.write_int(tag, *self as i64);
    }
    fn read_value(r: &mut Reader<'_>, head: crate::codec::Head) -> Result<Self, DecodeError> {
        Ok(ServerState::from_i32(i32::read_value(r, head)?))
    }
}

/// `ServerStateInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStateInfo {
    /// The state the server's process is in, as the node sees it
    /// (`t_server_conf.present_state`).
    pub server_state: ServerState,
    /// The process id on the node; 0 when no process runs.
    pub process_id: i32,
    /// The node answering (its `t_node_info.node_name`, usually its IP).
    pub node_name: String,
    /// The server's application, e.g. `Shop`.
    pub application: String,
    /// The server's name within the application, e.g. `Cart`.
    pub server_name: String,
    /// The state the server is meant to be in (`t_server_conf.setting_state`): the node
    /// keeps an active server running.
    pub setting_state: ServerState,
    /// Absent in older interface copies; tolerated either way.
    pub ex_state: BTreeMap<String, String>,
}

impl Default for ServerStateInfo {
    fn default() -> Self {
        ServerStateInfo {
            server_state: ServerState::Inactive,
            process_id: 0,
            node_name: String::new(),
            application: String::new(),
            server_name: String::new(),
            setting_state: ServerState::Inactive,
            ex_state: BTreeMap::new(),
        }
    }
}

impl TarsStruct for ServerStateInfo {
    fn write_fields(&self, w: &mut Writer) {
        self.server_state.write(w, 0);
        self.process_id.write(w, 1);
        self.node_name.write(w, 2);
        self.application.write(w, 3);
        self.server_name.write(w, 4);
        self.setting_state.write(w, 5);
        self.ex_state.write(w, 6);
    }
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ServerStateInfo {
            server_state: r.required(0)?,
            process_id: r.required(1)?,
            node_name: r.optional(2, String::new())?,
            application: r.optional(3, String::new())?,
            server_name: r.optional(4, String::new())?,
            setting_state: r.optional(5, ServerState::Inactive)?,
            ex_state: r.optional(6, BTreeMap::new())?,
        })
    }
}

/// `PatchInfo`: progress of a patch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchInfo {
    /// Whether a patch is still downloading or installing.
    pub patching: bool,
    /// Progress in percent, 0-100; 100 once the package has arrived whole.
    pub percent: i32,
    /// When the progress last changed, in seconds since the Unix epoch.
    pub modify_time: i32,
    /// The version being installed, as the patch request named it (our `t_server_patchs`
    /// id).
    pub version: String,
    /// The outcome in words: `patch succ`, or why the patch failed.
    pub result: String,
    /// Whether the last patch succeeded (absent in older interface copies: read as false).
    pub succ: bool,
}

impl TarsStruct for PatchInfo {
    fn write_fields(&self, w: &mut Writer) {
        self.patching.write(w, 0);
        self.percent.write(w, 1);
        self.modify_time.write(w, 2);
        self.version.write(w, 3);
        self.result.write(w, 4);
        self.succ.write(w, 5);
    }
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PatchInfo {
            patching: r.required(0)?,
            percent: r.required(1)?,
            modify_time: r.required(2)?,
            version: r.required(3)?,
            result: r.required(4)?,
            succ: r.optional(5, false)?,
        })
    }
}

/// `PatchRequest`: what to download and install. TarsProtocol HEAD's layout (tags 0-11);
/// the extra `baseImage` at tag 12 of other copies is skipped when present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchRequest {
    /// The server's application.
    pub appname: String,
    /// The server's name within the application.
    pub servername: String,
    /// The node asked to install (`t_node_info.node_name`).
    pub nodename: String,
    /// Names the package fetched:
    /// `TARSBatchPatching/<App>/<groupname>/<App>.<groupname>.tgz` on the patch server (the
    /// server name when empty); we send the server name.
    pub groupname: String,
    /// The executable's name inside the package; we send the server name.
    pub binname: String,
    /// The version the node records and reports in [`PatchInfo::version`]; we send the
    /// package's `t_server_patchs` id.
    pub version: String,
    /// Who asked for the patch (the task's user), for the node's records.
    pub user: String,
    /// The server's type (`t_server_conf.server_type`, e.g. `tars_cpp`), which decides how
    /// the package is installed.
    pub servertype: String,
    /// The proxy string of the Patch servant to download from, with its endpoints
    /// (`tars.tarspatch.PatchObj@tcp -h H -p P`), so no registry lookup is needed.
    pub patchobj: String,
    /// The package's expected MD5 in hex (`t_server_patchs.md5`); the patch fails when the
    /// download does not match.
    pub md5: String,
    /// The operating system of an OS-specific package; we send none, so the node fetches
    /// the group's package.
    pub ostype: String,
    /// The package's file name (`t_server_patchs.tgz`); with an empty `ostype` the node
    /// fetches the group's package instead.
    pub filepath: String,
}

impl TarsStruct for PatchRequest {
    fn write_fields(&self, w: &mut Writer) {
        self.appname.write(w, 0);
        self.servername.write(w, 1);
        self.nodename.write(w, 2);
        self.groupname.write(w, 3);
        self.binname.write(w, 4);
        self.version.write(w, 5);
        self.user.write(w, 6);
        self.servertype.write(w, 7);
        self.patchobj.write(w, 8);
        self.md5.write(w, 9);
        self.ostype.write(w, 10);
        self.filepath.write(w, 11);
    }
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PatchRequest {
            appname: r.required(0)?,
            servername: r.required(1)?,
            nodename: r.required(2)?,
            groupname: r.required(3)?,
            binname: r.required(4)?,
            version: r.required(5)?,
            user: r.required(6)?,
            servertype: r.required(7)?,
            patchobj: r.required(8)?,
            md5: r.required(9)?,
            ostype: r.optional(10, String::new())?,
            filepath: r.optional(11, String::new())?,
        })
    }
}

struct_field!(ServerStateInfo, PatchInfo, PatchRequest);

/// The return value and result string most Node methods answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeResult {
    /// The method's return value (0 = success).
    pub ret: i32,
    /// The `result` out-param.
    pub result: String,
}

/// A client of one tarsnode.
#[derive(Debug)]
pub struct NodeClient {
    client: ServantClient,
    version: i16,
}

/// Maps a decode error of an answer from `addr` to a call error.
pub(crate) fn malformed(addr: &str) -> impl Fn(DecodeError) -> CallError + '_ {
    move |error| CallError::Malformed {
        addr: addr.to_string(),
        error,
    }
}

/// How a node call ended, for the metrics: every Node method answers its return code
/// first (tag 0).
fn node_result(result: &Result<Reply, CallError>) -> tars_metrics::NodeResult {
    use tars_metrics::NodeResult;
    match result {
        Ok(reply) => match reply.params.required::<i32>(0, "") {
            Ok(0) => NodeResult::Ok,
            Ok(_) => NodeResult::Failed,
            Err(_) => NodeResult::Error,
        },
        Err(CallError::Timeout { .. }) => NodeResult::Timeout,
        Err(_) => NodeResult::Error,
    }
}

impl NodeClient {
    /// A client of the node at `addr` (`host:port`), speaking the TARS layout.
    pub fn new(addr: impl Into<String>, config: ClientConfig) -> NodeClient {
        NodeClient {
            client: ServantClient::new(addr, NODE_SERVANT, config),
            version: VERSION_TARS,
        }
    }

    /// The same, speaking `version` (1 TARS, 3 TUP).
    pub fn with_version(addr: impl Into<String>, config: ClientConfig, version: i16) -> NodeClient {
        NodeClient {
            client: ServantClient::new(addr, NODE_SERVANT, config),
            version,
        }
    }

    /// The node's address.
    pub fn addr(&self) -> &str {
        self.client.addr()
    }

    async fn call(
        &self,
        func: &str,
        params: ParamsWriter,
        timeout: Option<Duration>,
    ) -> Result<Reply, CallError> {
        use tracing::Instrument;
        // One span per node call: which node, which method, how it ended, how long it took
        // (the business return code is recorded by the callers that read it).
        let span = tracing::info_span!(
            "node_call",
            node = %self.addr(),
            method = func,
            ret = tracing::field::Empty,
            error = tracing::field::Empty,
            ms = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let result = self
            .client
            .invoke(func, self.version, params.finish(), timeout)
            .instrument(span.clone())
            .await;
        span.record("ms", started.elapsed().as_millis() as u64);
        match &result {
            Ok(reply) => {
                if let Ok(ret) = reply.params.required::<i32>(0, "") {
                    span.record("ret", ret);
                }
            }
            Err(err) => {
                span.record("error", tracing::field::display(err));
            }
        }
        tars_metrics::node_call(func, node_result(&result), started.elapsed());
        result
    }

    async fn app_server_call(
        &self,
        func: &str,
        application: &str,
        server_name: &str,
        timeout: Option<Duration>,
    ) -> Result<NodeResult, CallError> {
        let mut p = ParamsWriter::new(self.version);
        p.put(1, "application", &application.to_string()).put(
            2,
            "serverName",
            &server_name.to_string(),
        );
        let reply = self.call(func, p, timeout).await?;
        let m = malformed(self.addr());
        Ok(NodeResult {
            ret: reply.params.required(0, "").map_err(&m)?,
            result: reply.params.required(3, "result").map_err(&m)?,
        })
    }

    /// `loadServer`: re-reads the server's configuration on the node.
    pub async fn load_server(
        &self,
        application: &str,
        server_name: &str,
        timeout: Option<Duration>,
    ) -> Result<NodeResult, CallError> {
        self.app_server_call("loadServer", application, server_name, timeout)
            .await
    }

    /// `startServer`.
    pub async fn start_server(
        &self,
        application: &str,
        server_name: &str,
        timeout: Option<Duration>,
    ) -> Result<NodeResult, CallError> {
        self.app_server_call("startServer", application, server_name, timeout)
            .await
    }

    /// `stopServer`.
    pub async fn stop_server(
        &self,
        application: &str,
        server_name: &str,
        timeout: Option<Duration>,
    ) -> Result<NodeResult, CallError> {
        self.app_server_call("stopServer", application, server_name, timeout)
            .await
    }

    /// `destroyServer`.
    pub async fn destroy_server(
        &self,
        application: &str,
        server_name: &str,
        timeout: Option<Duration>,
    ) -> Result<NodeResult, CallError> {
        self.app_server_call("destroyServer", application, server_name, timeout)
            .await
    }

    /// `notifyServer`: sends a command (e.g. `tars.loadconfig x.conf`) to the server.
    pub async fn notify_server(
        &self,
        application: &str,
        server_name: &str,
        command: &str,
        timeout: Option<Duration>,
    ) -> Result<NodeResult, CallError> {
        let mut p = ParamsWriter::new(self.version);
        p.put(1, "application", &application.to_string())
            .put(2, "serverName", &server_name.to_string())
            .put(3, "command", &command.to_string());
        let reply = self.call("notifyServer", p, timeout).await?;
        let m = malformed(self.addr());
        Ok(NodeResult {
            ret: reply.params.required(0, "").map_err(&m)?,
            result: reply.params.required(4, "result").map_err(&m)?,
        })
    }

    /// `getStateInfo`: the server's state on the node.
    pub async fn get_state_info(
        &self,
        application: &str,
        server_name: &str,
        timeout: Option<Duration>,
    ) -> Result<(i32, ServerStateInfo, String), CallError> {
        let mut p = ParamsWriter::new(self.version);
        p.put(1, "application", &application.to_string()).put(
            2,
            "serverName",
            &server_name.to_string(),
        );
        let reply = self.call("getStateInfo", p, timeout).await?;
        let m = malformed(self.addr());
        Ok((
            reply.params.required(0, "").map_err(&m)?,
            reply.params.required(3, "info").map_err(&m)?,
            reply.params.required(4, "result").map_err(&m)?,
        ))
    }

    /// `patchPro`: queues a patch on the node.
    pub async fn patch_pro(
        &self,
        request: &PatchRequest,
        timeout: Option<Duration>,
    ) -> Result<NodeResult, CallError> {
        let mut p = ParamsWriter::new(self.version);
        p.put(1, "req", request);
        let reply = self.call("patchPro", p, timeout).await?;
        let m = malformed(self.addr());
        Ok(NodeResult {
            ret: reply.params.required(0, "").map_err(&m)?,
            result: reply.params.required(2, "result").map_err(&m)?,
        })
    }

    /// `getPatchPercent`: progress of the last patch.
    pub async fn get_patch_percent(
        &self,
        application: &str,
        server_name: &str,
        timeout: Option<Duration>,
    ) -> Result<(i32, PatchInfo), CallError> {
        let mut p = ParamsWriter::new(self.version);
        p.put(1, "application", &application.to_string()).put(
            2,
            "serverName",
            &server_name.to_string(),
        );
        let reply = self.call("getPatchPercent", p, timeout).await?;
        let m = malformed(self.addr());
        Ok((
            reply.params.required(0, "").map_err(&m)?,
            reply.params.required(3, "tPatchInfo").map_err(&m)?,
        ))
    }
}

/// What a tarsnode does; implemented by the simulator.
pub trait NodeServant: Send + Sync + 'static {
    /// `loadServer`: re-read the server's configuration from the registry.
    fn load_server(
        &self,
        application: String,
        server_name: String,
    ) -> impl Future<Output = NodeResult> + Send;
    /// `startServer`: start the server's process.
    fn start_server(
        &self,
        application: String,
        server_name: String,
    ) -> impl Future<Output = NodeResult> + Send;
    /// `stopServer`: stop the server's process.
    fn stop_server(
        &self,
        application: String,
        server_name: String,
    ) -> impl Future<Output = NodeResult> + Send;
    /// `destroyServer`: remove the server from the node.
    fn destroy_server(
        &self,
        application: String,
        server_name: String,
    ) -> impl Future<Output = NodeResult> + Send;
    /// `notifyServer`: pass `command` (e.g. `tars.loadconfig x.conf`) to the server;
    /// `result` is its answer.
    fn notify_server(
        &self,
        application: String,
        server_name: String,
        command: String,
    ) -> impl Future<Output = NodeResult> + Send;
    /// `getStateInfo`: the return value (0, or non-zero for a server the node does not
    /// know), the server's state and a result text.
    fn get_state_info(
        &self,
        application: String,
        server_name: String,
    ) -> impl Future<Output = (i32, ServerStateInfo, String)> + Send;
    /// `patchPro`: accept a patch and answer at once; the download and install go on in the
    /// background, reported by `get_patch_percent`.
    fn patch_pro(&self, request: PatchRequest) -> impl Future<Output = NodeResult> + Send;
    /// `getPatchPercent`: the return value and the progress of the server's last patch.
    fn get_patch_percent(
        &self,
        application: String,
        server_name: String,
    ) -> impl Future<Output = (i32, PatchInfo)> + Send;
    /// `shutdown`: stop the node itself.
    fn shutdown(&self) -> impl Future<Output = NodeResult> + Send;
    /// `stopAllServers`: stop every server on the node.
    fn stop_all_servers(&self) -> impl Future<Output = NodeResult> + Send;
    /// Called for every call before dispatch, with the function name; an error fails the
    /// call at the framework level (used to inject failures).
    fn before_call(&self, func: &str) -> impl Future<Output = Result<(), DispatchError>> + Send;
}

/// Serves a [`NodeServant`] as the `Node` interface.
pub struct NodeDispatcher<T>(pub Arc<T>);

/// Reads an out-param a C++ client may have sent, only to type-check it.
pub(crate) fn check_out<T: Field>(call: &Call, tag: u8, name: &str) -> Result<(), DispatchError> {
    call.params.get::<T>(tag, name)?;
    Ok(())
}

/// Encodes an answer in the call's layout.
pub(crate) fn answer(call: &Call, values: impl FnOnce(&mut ParamsWriter)) -> Bytes {
    let mut p = ParamsWriter::new(call.version);
    values(&mut p);
    p.finish()
}

impl<T: NodeServant> Servant for NodeDispatcher<T> {
    async fn dispatch(&self, call: Call) -> Result<Bytes, DispatchError> {
        let node = &self.0;
        node.before_call(&call.func).await?;
        let app_server = |call: &Call| -> Result<(String, String), DispatchError> {
            Ok((
                call.params.required(1, "application")?,
                call.params.required(2, "serverName")?,
            ))
        };
        let result_at = |call: &Call, tag: u8, r: NodeResult| {
            answer(call, |p| {
                p.put(0, "", &r.ret).put(tag, "result", &r.result);
            })
        };
        match call.func.as_str() {
            "loadServer" | "startServer" | "stopServer" | "destroyServer" => {
                let (app, server) = app_server(&call)?;
                check_out::<String>(&call, 3, "result")?;
                let r = match call.func.as_str() {
                    "loadServer" => node.load_server(app, server).await,
                    "startServer" => node.start_server(app, server).await,
                    "stopServer" => node.stop_server(app, server).await,
                    _ => node.destroy_server(app, server).await,
                };
                Ok(result_at(&call, 3, r))
            }
            "notifyServer" => {
                let (app, server) = app_server(&call)?;
                let command: String = call.params.required(3, "command")?;
                check_out::<String>(&call, 4, "result")?;
                let r = node.notify_server(app, server, command).await;
                Ok(result_at(&call, 4, r))
            }
            "getStateInfo" => {
                let (app, server) = app_server(&call)?;
                check_out::<ServerStateInfo>(&call, 3, "info")?;
                check_out::<String>(&call, 4, "result")?;
                let (ret, info, result) = node.get_state_info(app, server).await;
                Ok(answer(&call, |p| {
                    p.put(0, "", &ret)
                        .put(3, "info", &info)
                        .put(4, "result", &result);
                }))
            }
            "patchPro" => {
                let request: PatchRequest = call.params.required(1, "req")?;
                check_out::<String>(&call, 2, "result")?;
                let r = node.patch_pro(request).await;
                Ok(result_at(&call, 2, r))
            }
            "getPatchPercent" => {
                let (app, server) = app_server(&call)?;
                check_out::<PatchInfo>(&call, 3, "tPatchInfo")?;
                let (ret, info) = node.get_patch_percent(app, server).await;
                Ok(answer(&call, |p| {
                    p.put(0, "", &ret).put(3, "tPatchInfo", &info);
                }))
            }
            "shutdown" | "stopAllServers" => {
                check_out::<String>(&call, 1, "result")?;
                let r = if call.func == "shutdown" {
                    node.shutdown().await
                } else {
                    node.stop_all_servers().await
                };
                Ok(result_at(&call, 1, r))
            }
            _ => Err(DispatchError::NoFunction),
        }
    }
}
