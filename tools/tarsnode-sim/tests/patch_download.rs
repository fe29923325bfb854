//! The simulator's patchPro downloads the package from a patch server, as tarsnode does:
//! a tiny in-memory tarspatch serves it over TCP (one chunk per permit the test hands
//! out, so progress is seen mid-download for certain), the simulator binary runs as a
//! child process, and a NodeClient asks for the patch and polls its progress.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use serde_json::Value;
use tars_protocol::client::ClientConfig;
use tars_protocol::frame::MAX_FRAME_LEN;
use tars_protocol::node::{NodeClient, PatchInfo, PatchRequest};
use tars_protocol::patch::{
    FileContent, FileInfo, PatchDispatcher, PatchServant, DEFAULT_CHUNK, PATCH_SERVANT,
};
use tars_protocol::server::{serve, ServerConfig};
use tokio::net::TcpSocket;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const PACKAGE: &str = "/TARSBatchPatching/App/Srv/App.Srv.tgz";

/// A patch server holding its files in memory; each `download` answer waits for a
/// permit of `gate`, so the test decides how far a download gets.
struct MemPatch {
    files: HashMap<String, Vec<u8>>,
    gate: Arc<Semaphore>,
}

/// More permits than any test's downloads need: the gate stays open.
const OPEN: usize = 1 << 20;

impl PatchServant for MemPatch {
    async fn list_file_info(&self, path: String) -> (i32, Vec<FileInfo>) {
        match self.files.get(&path) {
            Some(data) => (
                1,
                vec![FileInfo {
                    path: path.rsplit('/').next().unwrap_or_default().into(),
                    size: data.len() as i32,
                    can_exec: false,
                    md5: md5_hex(data),
                }],
            ),
            None => (-1, Vec::new()),
        }
    }

    async fn download(&self, file: String, pos: i32) -> (i32, Vec<u8>) {
        self.gate.acquire().await.expect("gate open").forget();
        let Some(data) = self.files.get(&file) else {
            return (-1, Vec::new());
        };
        let pos = pos.max(0) as usize;
        if pos >= data.len() {
            return (1, Vec::new());
        }
        (0, data[pos..data.len().min(pos + DEFAULT_CHUNK)].to_vec())
    }

    async fn prepare_patch_file(&self, _: String, _: String, _: String) -> (i32, String) {
        (-1, "read-only".into())
    }

    async fn delete_patch_file(&self, _: String, _: String, _: String) -> i32 {
        -1
    }

    async fn upload(&self, _: String, _: String, _: FileContent) -> i32 {
        -1
    }
}

fn md5_hex(data: &[u8]) -> String {
    format!("{:x}", Md5::digest(data))
}

/// A socket bound to `addr` with `SO_REUSEPORT` (and `SO_REUSEADDR`). Listening, it is
/// the patch server's listener; kept without listening, it holds the port (connections
/// are refused and no one else is given it) while sharing it with that listener.
fn bound(addr: SocketAddr) -> TcpSocket {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.set_reuseport(true).unwrap();
    socket.bind(addr).unwrap();
    socket
}

/// A patch server on a loopback port of its own.
struct PatchServer {
    port: u16,
    /// Holds the port after the server stopped: nothing else can answer there.
    held: TcpSocket,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl PatchServer {
    /// Serves `files` as tarspatch, answering a download call per permit of `gate`.
    fn start(files: HashMap<String, Vec<u8>>, gate: Arc<Semaphore>) -> PatchServer {
        let listener = bound("127.0.0.1:0".parse().unwrap()).listen(1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let config = ServerConfig {
            max_frame: MAX_FRAME_LEN,
            ..ServerConfig::new(PATCH_SERVANT)
        };
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve(
            listener,
            config,
            Arc::new(PatchDispatcher(Arc::new(MemPatch { files, gate }))),
            stop.clone(),
        ));
        PatchServer {
            port: addr.port(),
            held: bound(addr),
            stop,
            task,
        }
    }

    /// Stops the server; answers once its listener is closed.
    async fn stop(self) -> TcpSocket {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
        self.held
    }
}

/// The simulator as a child process, killed when dropped.
struct Sim {
    child: Child,
    /// The bound `ip:port` of each node, in --listen order.
    nodes: Vec<String>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls.jsonl");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tarsnode-sim"))
            .args(args)
            .arg("--log")
            .arg(&log)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tarsnode-sim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let nodes = line
            .trim()
            .strip_prefix("tarsnode-sim listening on ")
            .unwrap_or_else(|| panic!("simulator did not start: {line:?}"))
            .split(',')
            .map(String::from)
            .collect();
        Sim {
            child,
            nodes,
            log,
            _dir: dir,
        }
    }

    fn client(&self, node: usize) -> NodeClient {
        NodeClient::new(self.nodes[node].clone(), ClientConfig::default())
    }

    fn calls_of(&self, method: &str) -> Vec<Value> {
        read_log(&self.log)
            .into_iter()
            .filter(|c| c["method"] == method)
            .collect()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_log(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("log lines are JSON"))
        .collect()
}

fn request(patchobj: &str, md5: &str, version: &str) -> PatchRequest {
    PatchRequest {
        appname: "App".into(),
        servername: "Srv".into(),
        nodename: "127.0.0.1".into(),
        binname: "Srv".into(),
        version: version.into(),
        servertype: "tars_cpp".into(),
        patchobj: patchobj.into(),
        md5: md5.into(),
        ..PatchRequest::default()
    }
}

/// Polls getPatchPercent until the patch of `version` ends; also returns every
/// progress seen while it ran.
async fn wait_patch(client: &NodeClient, version: &str) -> (PatchInfo, Vec<PatchInfo>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let (ret, info) = client.get_patch_percent("App", "Srv", None).await.unwrap();
        assert_eq!(ret, 0);
        assert_eq!(info.version, version, "{info:?}");
        if !info.patching {
            return (info, seen);
        }
        seen.push(info);
        assert!(Instant::now() < deadline, "the patch did not end: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls getPatchPercent until the patch of `version` has made progress.
async fn wait_progress(client: &NodeClient, version: &str) -> PatchInfo {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (ret, info) = client.get_patch_percent("App", "Srv", None).await.unwrap();
        assert_eq!(ret, 0);
        assert_eq!(info.version, version, "{info:?}");
        if info.percent > 0 || !info.patching {
            return info;
        }
        assert!(
            Instant::now() < deadline,
            "the patch made no progress: {info:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_downloads_the_package_and_checks_its_md5() {
    let package: Vec<u8> = (0..3 * DEFAULT_CHUNK + 1234)
        .map(|i| (i % 253) as u8)
        .collect();
    let md5 = md5_hex(&package);
    let files = HashMap::from([(PACKAGE.to_string(), package.clone())]);
    // The first chunk only, until the test has seen the progress it made.
    let gate = Arc::new(Semaphore::new(1));
    let server = PatchServer::start(files, gate.clone());
    let patchobj = format!(
        "tars.tarspatch.PatchObj@tcp -h 127.0.0.1 -p {} -t 60000",
        server.port
    );
    let sim = Sim::start(&["--listen", "127.0.0.1:0"]);
    let node = sim.client(0);

    // The right md5, in capitals: compared without case.
    let accepted = node
        .patch_pro(&request(&patchobj, &md5.to_uppercase(), "7"), None)
        .await
        .unwrap();
    assert_eq!(accepted.ret, 0, "{accepted:?}");
    let midway = wait_progress(&node, "7").await;
    assert!(
        midway.patching && (1..100).contains(&midway.percent) && !midway.succ,
        "progress is visible while downloading: {midway:?}"
    );
    gate.add_permits(OPEN);
    let (done, seen) = wait_patch(&node, "7").await;
    assert!(done.succ, "{done:?}");
    assert_eq!((done.percent, done.result.as_str()), (100, "patch succ"));
    assert!(
        seen.iter()
            .all(|p| (midway.percent..100).contains(&p.percent) && !p.succ),
        "progress only grows and stays below 100 until the end: {seen:?}"
    );
    let downloads = sim.calls_of("download");
    assert_eq!(downloads.len(), 1, "{downloads:?}");
    let line = &downloads[0];
    assert_eq!(line["node"], "127.0.0.1");
    assert_eq!(line["application"], "App");
    assert_eq!(line["server_name"], "Srv");
    assert_eq!(line["file"], PACKAGE);
    assert_eq!(line["bytes"], package.len() as u64);
    assert_eq!(line["md5"], md5.as_str());
    assert_eq!(line["expected_md5"], md5.to_uppercase());
    assert_eq!(line["ok"], true);
    assert_eq!(line["version"], "7");
    // The patchPro line keeps its shape: the version as its command.
    let calls = sim.calls_of("patchPro");
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0]["command"].as_str(), calls[0]["ret"].as_i64()),
        (Some("7"), Some(0))
    );

    // A wrong md5: the whole file arrives, and the patch fails naming both sums.
    let wrong = "0123456789abcdef0123456789abcdef";
    node.patch_pro(&request(&patchobj, wrong, "8"), None)
        .await
        .unwrap();
    let (done, _) = wait_patch(&node, "8").await;
    assert!(!done.succ, "{done:?}");
    assert_eq!(
        done.result,
        format!("md5 mismatch: expected {wrong}, downloaded {md5}")
    );
    let downloads = sim.calls_of("download");
    assert_eq!(downloads.len(), 2);
    assert_eq!(downloads[1]["ok"], false);
    assert_eq!(downloads[1]["md5"], md5.as_str());
    assert_eq!(downloads[1]["expected_md5"], wrong);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_failures_are_reported_by_get_patch_percent() {
    let files = HashMap::from([(PACKAGE.to_string(), b"tiny".to_vec())]);
    let server = PatchServer::start(files, Arc::new(Semaphore::new(OPEN)));
    let patchobj = format!(
        "tars.tarspatch.PatchObj@tcp -h 127.0.0.1 -p {}",
        server.port
    );
    let sim = Sim::start(&[
        "--listen",
        "127.0.0.1:0",
        "--listen",
        "127.0.0.2:0",
        "--fail",
        "127.0.0.2:patchPro",
        "--patch-timeout-ms",
        "2000",
    ]);
    let node = sim.client(0);
    let md5 = md5_hex(b"tiny");

    // The platform's default patchobj names no endpoint.
    node.patch_pro(&request("tars.tarspatch.PatchObj", &md5, "1"), None)
        .await
        .unwrap();
    let (done, _) = wait_patch(&node, "1").await;
    assert!(!done.succ);
    assert!(done.result.contains("has no endpoint"), "{done:?}");

    // A group's package is looked up under the group's name: not there.
    let mut grouped = request(&patchobj, &md5, "2");
    grouped.groupname = "Grp".into();
    node.patch_pro(&grouped, None).await.unwrap();
    let (done, _) = wait_patch(&node, "2").await;
    assert_eq!(
        done.result,
        "/TARSBatchPatching/App/Grp/App.Grp.tgz is not a file (listFileInfo returned -1)"
    );

    // The patch server is gone (its port held, refusing): the call error is named.
    let _gone = server.stop().await;
    node.patch_pro(&request(&patchobj, &md5, "3"), None)
        .await
        .unwrap();
    let (done, _) = wait_patch(&node, "3").await;
    assert!(!done.succ);
    assert!(done.result.contains("listFileInfo"), "{done:?}");
    assert!(done.result.contains("refused"), "{done:?}");

    let downloads = sim.calls_of("download");
    let results: Vec<(&str, bool)> = downloads
        .iter()
        .map(|d| (d["version"].as_str().unwrap(), d["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(results, [("1", false), ("2", false), ("3", false)]);
    assert_eq!(
        downloads[1]["file"],
        "/TARSBatchPatching/App/Grp/App.Grp.tgz"
    );

    // --fail IP:patchPro still fails patchPro itself, and nothing is downloaded.
    let failing = sim.client(1);
    let refused = failing
        .patch_pro(&request(&patchobj, &md5, "4"), None)
        .await
        .unwrap();
    assert_eq!(refused.ret, -1, "{refused:?}");
    // No patch was started (patchPro records one before it answers, and starts its
    // download then), so none can be downloading.
    let (ret, info) = failing.get_patch_percent("App", "Srv", None).await.unwrap();
    assert_eq!((ret, info), (0, PatchInfo::default()));
    assert_eq!(sim.calls_of("download").len(), 3);
}
