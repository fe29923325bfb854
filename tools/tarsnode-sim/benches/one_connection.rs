//! Bench (not a test): how many Node calls per second one client connection sustains
//! against `tarsnode-sim`, at several numbers of calls in flight.
//!
//! Run: `cargo bench -p tarsnode-sim --bench one_connection` (`BENCH_SECONDS`, default 5).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tars_protocol::client::ClientConfig;
use tars_protocol::node::NodeClient;

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sim = Command::new(env!("CARGO_BIN_EXE_tarsnode-sim"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tarsnode-sim");
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.contains("listening on"),
        "simulator did not start: {line}"
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = Arc::new(NodeClient::new(
            format!("127.0.0.1:{port}"),
            ClientConfig {
                call_timeout: Duration::from_secs(10),
                ..ClientConfig::default()
            },
        ));
        client
            .notify_server("Bench", "Srv", "warmup", None)
            .await
            .unwrap();
        println!("one connection to tarsnode-sim, notifyServer calls, {seconds} s per run");
        for in_flight in [1usize, 16, 64, 256] {
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let mut workers = Vec::new();
            for _ in 0..in_flight {
                let client = client.clone();
                workers.push(tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    while Instant::now() < deadline {
                        let start = Instant::now();
                        client
                            .notify_server("Bench", "Srv", "tars.viewstatus", None)
                            .await
                            .unwrap();
                        latencies.push(start.elapsed());
                    }
                    latencies
                }));
            }
            let mut all = Vec::new();
            for w in workers {
                all.extend(w.await.unwrap());
            }
            all.sort();
            let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
            println!(
                "  {in_flight:>4} in flight: {:>8.0} calls/s   p50 {:>7.3} ms   p99 {:>7.3} ms",
                all.len() as f64 / seconds as f64,
                pct(0.50).as_secs_f64() * 1000.0,
                pct(0.99).as_secs_f64() * 1000.0
            );
        }
    });
    let _ = sim.kill();
    let _ = sim.wait();
}
