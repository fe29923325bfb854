//! `tarsnode-sim`: stands in for tarsnode on as many machines as needed, for tests,
//! benchmarks and the development stack. Each listen address is one node.
//!
//! Packaged by `scripts/build-node-package.sh`, it is also an installable tarsnode for
//! `install_tars_node`: the package's `util/start.sh` runs it with `--config
//! conf/tars.tarsnode.config.conf` (it listens where the installed configuration's
//! `NodeAdapter` endpoint says), and `util/stop.sh` stops it.

mod call_log;
mod faults;
mod node;
mod patcher;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tars_protocol::client::ClientConfig;
use tars_protocol::conf::NODE_ENDPOINT_PATH;
use tars_protocol::endpoint::parse_endpoint;
use tars_protocol::node::{NodeDispatcher, NODE_SERVANT};
use tars_protocol::server::{serve, ServerConfig};

#[derive(Parser, Debug)]
#[command(
    name = "tarsnode-sim",
    about = "Simulated tarsnode(s) serving tars.tarsnode.NodeObj"
)]
struct Args {
    /// Address of one simulated node; repeat for more (e.g. 127.0.0.2:19385). Port 0
    /// picks a free port, one for every address given port 0, as nodes share
    /// `TARS_NODE_PORT`; the "listening on" line names it.
    #[arg(long = "listen")]
    listen: Vec<SocketAddr>,
    /// A range of node IPs, all on --port: `127.0.0.2-127.0.0.50`.
    #[arg(long)]
    ips: Option<String>,
    /// Port for --ips.
    #[arg(long, default_value_t = tars_protocol::node::DEFAULT_NODE_PORT)]
    port: u16,
    /// Run as an installed tarsnode: listen where this configuration file's
    /// `/tars/application/server/NodeAdapter<endpoint>` says (a package's
    /// `conf/tars.tarsnode.config.conf`, once the installer put the machine's IP in it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Append one JSON line per call received to this file.
    #[arg(long)]
    log: Option<PathBuf>,
    /// Wait this long before answering each call.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Answer calls with return value -1: `IP` (every method) or `IP:method`. Repeatable.
    #[arg(long = "fail")]
    fail: Vec<String>,
    /// Never answer: `IP` or `IP:method`. Repeatable.
    #[arg(long = "hang")]
    hang: Vec<String>,
    /// Deadline of each call to the patch server while downloading a package (tarsnode
    /// uses 60 s).
    #[arg(long, default_value_t = 60_000)]
    patch_timeout_ms: u64,
}

fn expand_range(range: &str, port: u16) -> anyhow::Result<Vec<SocketAddr>> {
    let (first, last) = range
        .split_once('-')
        .context("--ips takes FIRST-LAST, e.g. 127.0.0.2-127.0.0.50")?;
    let first: std::net::Ipv4Addr = first.trim().parse().context("--ips: first address")?;
    let last: std::net::Ipv4Addr = last.trim().parse().context("--ips: last address")?;
    let (a, b) = (u32::from(first), u32::from(last));
    anyhow::ensure!(
        a <= b && b - a < 4096,
        "--ips: the range must be ascending and hold at most 4096 addresses"
    );
    Ok((a..=b)
        .map(|ip| SocketAddr::from((std::net::Ipv4Addr::from(ip), port)))
        .collect())
}

/// The address the node servant of the configuration file at `path` listens on.
fn configured_address(path: &Path) -> anyhow::Result<SocketAddr> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --config {}", path.display()))?;
    let conf = tars_protocol::conf::parse(&text)
        .with_context(|| format!("--config {}", path.display()))?;
    let endpoint = conf
        .get(NODE_ENDPOINT_PATH)
        .with_context(|| format!("--config {} has no {NODE_ENDPOINT_PATH}", path.display()))?;
    let endpoint = parse_endpoint(endpoint)
        .with_context(|| format!("--config {}: {NODE_ENDPOINT_PATH}", path.display()))?;
    let ip: IpAddr = endpoint.host.parse().with_context(|| {
        format!(
            "--config {}: the node's host {:?} is not an IP address (was the package installed?)",
            path.display(),
            endpoint.host
        )
    })?;
    if let Some(locator) = conf.get("/tars/application/client<locator>") {
        tracing::info!(%locator, "registry locator of the installed node");
    }
    Ok(SocketAddr::new(ip, endpoint.port))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = tars_common::telemetry::init("tarsnode-sim");
    let args = Args::parse();
    let mut addrs = args.listen.clone();
    if let Some(range) = &args.ips {
        addrs.extend(expand_range(range, args.port)?);
    }
    if let Some(path) = &args.config {
        addrs.push(configured_address(path)?);
    }
    anyhow::ensure!(
        !addrs.is_empty(),
        "give at least one --listen address, an --ips range or a --config file"
    );
    let log = match &args.log {
        Some(path) => Some(Arc::new(call_log::CallLog::open(path)?)),
        None => None,
    };
    let faults = Arc::new(faults::Faults::parse(&args.fail, &args.hang)?);
    let latency = Duration::from_millis(args.latency_ms);
    let patch_client = ClientConfig {
        call_timeout: Duration::from_millis(args.patch_timeout_ms),
        ..ClientConfig::default()
    };
    let shutdown = tars_common::shutdown::on_signals();
    let mut tasks = tokio::task::JoinSet::new();
    let mut bound = Vec::new();
    // The port the first address given port 0 got, for the others given port 0.
    let mut picked: Option<u16> = None;
    for mut addr in addrs {
        let pick = addr.port() == 0;
        if let (true, Some(port)) = (pick, picked) {
            addr.set_port(port);
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        if pick && picked.is_none() {
            picked = Some(local.port());
        }
        bound.push(local.to_string());
        let node = node::SimNode::new(
            local.ip().to_string(),
            log.clone(),
            faults.clone(),
            latency,
            patch_client.clone(),
        );
        // The framework's limits (connections, calls in flight per connection, queued
        // answers, idle timeout) at their defaults, as a tarsnode would have its own.
        let config = ServerConfig::new(NODE_SERVANT);
        tasks.spawn(serve(
            listener,
            config,
            Arc::new(NodeDispatcher(Arc::new(node))),
            shutdown.clone(),
        ));
    }
    // Scripts and tests read this line; keep its shape.
    println!("tarsnode-sim listening on {}", bound.join(","));
    while let Some(result) = tasks.join_next().await {
        if let Ok(Err(err)) = result {
            tracing::error!(error = %err, "a node stopped serving");
        }
    }
    Ok(())
}
