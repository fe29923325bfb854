//! Simulated tarsnodes for the tests: each test gets its own loopback IPs (all of
//! 127.0.0.0/8 is local on Linux), so tests can run in parallel on one port.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

use super::{binary, Process};

/// `n` fresh loopback IPs, never handed out before in this test process.
pub fn fresh_ips(n: usize) -> Vec<String> {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let base = 100 + (std::process::id() % 100);
    (0..n)
        .map(|_| {
            let k = NEXT.fetch_add(1, Ordering::SeqCst);
            format!("127.{base}.{}.{}", k / 250, k % 250 + 2)
        })
        .collect()
}

/// A running simulator and its call log.
pub struct Simulator {
    /// Kept to stop the simulator (by PID) when the test ends.
    _process: Process,
    /// The port every node listens on (`TARS_NODE_PORT` for the platform).
    pub port: u16,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Simulator {
    /// Starts one simulator serving every IP in `ips` on one port the simulator picks
    /// (it binds port 0 and announces the port); see [`Simulator::start`] for `extra`.
    pub fn on_free_port(ips: &[String], extra: &[&str]) -> Simulator {
        Simulator::start(ips, 0, extra)
    }

    /// Starts one simulator serving every IP in `ips` on `port` (0: one port it picks),
    /// with extra arguments (`--fail IP`, `--hang IP`, `--latency-ms N`).
    pub fn start(ips: &[String], port: u16, extra: &[&str]) -> Simulator {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls.jsonl");
        let listen: Vec<String> = ips.iter().map(|ip| format!("{ip}:{port}")).collect();
        let mut args: Vec<&str> = Vec::new();
        for l in &listen {
            args.extend(["--listen", l.as_str()]);
        }
        let log_arg = log.display().to_string();
        args.extend(["--log", log_arg.as_str()]);
        args.extend(extra);
        let (process, bound) = Process::spawn(
            "tarsnode-sim",
            &binary("tarsnode-sim"),
            &args,
            &[],
            &dir.path().join("sim.log"),
        );
        // `ip:port,ip:port,…`, one port for all.
        let ports: Vec<u16> = bound
            .split(',')
            .map(|a| {
                let (_, port) = a.rsplit_once(':').expect("ip:port");
                port.parse().expect("a port number")
            })
            .collect();
        assert!(
            ports.iter().all(|p| *p == ports[0]) && (port == 0 || ports[0] == port),
            "every node on one port: {bound}"
        );
        Simulator {
            _process: process,
            port: ports[0],
            log,
            _dir: dir,
        }
    }

    /// Every call logged so far.
    pub fn calls(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("log lines are JSON"))
            .collect()
    }

    /// Calls of `method` logged so far.
    pub fn calls_of(&self, method: &str) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|c| c["method"] == method)
            .collect()
    }
}
