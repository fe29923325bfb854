//! Task pipeline benchmark (not a test): standalone platform with Kafka (Tansu, in
//! memory), 50 simulated nodes answering in 20 ms, 1,000 servers. Prints add_task
//! acceptance per second, pickup latency (accept → first node call), and the wall time
//! of a 1,000-item parallel restart at item concurrency 64.
//!
//! Run: `cargo bench --bench task_pipeline` (needs `tansu` on PATH or in ~/.cargo/bin).

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

mod support;

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let tansu = std::env::var("HOME")
        .map(|h| format!("{h}/.cargo/bin/tansu"))
        .unwrap();
    let kafka_port = free_port();
    let url = format!("tcp://127.0.0.1:{kafka_port}");
    let _broker = Kill(
        Command::new(&tansu)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu"),
    );
    while TcpStream::connect(("127.0.0.1", kafka_port)).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let node_port = free_port();
    let sim_log = dir.path().join("calls.jsonl");
    let _sim = Kill(
        Command::new(
            std::path::Path::new(env!("CARGO_BIN_EXE_tars-platform"))
                .with_file_name("tarsnode-sim"),
        )
        .args([
            "--ips",
            "127.0.9.1-127.0.9.50",
            "--port",
            &node_port.to_string(),
            "--latency-ms",
            "20",
            "--log",
        ])
        .arg(&sim_log)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start tarsnode-sim (cargo build --release -p tarsnode-sim)"),
    );
    let platform = support::Platform::start(&[
        ("TARS_KAFKA_BROKERS", format!("127.0.0.1:{kafka_port}")),
        ("TARS_NODE_PORT", node_port.to_string()),
        ("TARS_TASK_ITEM_CONCURRENCY", "64".to_string()),
    ]);
    let (addr, ticket) = (platform.addr.clone(), platform.ticket.clone());
    let base = format!("http://{addr}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let client = reqwest::Client::new();
        let (client_c, base_c, ticket_c) = (client.clone(), base.clone(), ticket.clone());
        let post = move |path: &str, body: Value| {
            let (client, url) = (client_c.clone(), format!("{base_c}{path}?ticket={ticket_c}"));
            async move { client.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let mut servers = Vec::new();
        for i in 0..1000 {
            let node = format!("127.0.9.{}", i % 50 + 1);
            let body = json!({"application": "Bench", "server_name": format!("S{i}"), "node_name": node,
                "server_type": "tars_cpp", "template_name": "tars.cpp.default",
                "adapters": [{"obj_name": "O", "bind_ip": node, "port": 10000}]});
            servers.push(post("/api/deploy_server", body).await["data"]["server_conf"]["id"].as_i64().unwrap());
        }
        println!("platform with Kafka (Tansu), 50 nodes at 20 ms, 1000 servers");

        // Pickup latency: accept → the node sees the call (minus its 20 ms answer delay).
        let mut pickups = Vec::new();
        for (k, server) in servers.iter().take(200).enumerate() {
            let accepted = now_ms();
            let reply = post("/api/add_task", json!({"serial": true, "items": [{"server_id": server, "command": "grace_restart"}]})).await;
            assert_eq!(reply["ret_code"], 200, "{reply}");
            pickups.push((accepted, format!("S{k}")));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        let calls: Vec<Value> = std::fs::read_to_string(&sim_log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let mut latencies: Vec<u128> = pickups
            .iter()
            .filter_map(|(accepted, server)| {
                calls.iter().find(|c| c["server_name"] == server.as_str() && c["method"] == "notifyServer")
                    .map(|c| (c["ts_ms"].as_u64().unwrap() as u128).saturating_sub(*accepted + 20))
            })
            .collect();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!("pickup latency over {} tasks: p50 {} ms, p99 {} ms", latencies.len(), pct(0.5), pct(0.99));

        // add_task acceptance rate: 32 clients for 5 s.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut workers = Vec::new();
        for w in 0..32usize {
            let post = post.clone();
            let servers = servers.clone();
            workers.push(tokio::spawn(async move {
                let mut n = 0usize;
                while Instant::now() < deadline {
                    let server = servers[(w * 31 + n) % 1000];
                    let reply = post("/api/add_task", json!({"serial": true, "items": [{"server_id": server, "command": "grace_restart"}]})).await;
                    assert_eq!(reply["ret_code"], 200);
                    n += 1;
                }
                n
            }));
        }
        let mut accepted = 0;
        for w in workers {
            accepted += w.await.unwrap();
        }
        println!("add_task accepted: {:.0} tasks/s (32 clients, 5 s)", accepted as f64 / 5.0);
        tokio::time::sleep(Duration::from_secs(10)).await;

        // A 1,000-item parallel restart.
        let items: Vec<Value> = servers.iter().map(|s| json!({"server_id": s, "command": "restart"})).collect();
        let started = Instant::now();
        let reply = post("/api/add_task", json!({"serial": false, "items": items})).await;
        let task_no = reply["data"].as_str().unwrap().to_string();
        loop {
            let t: Value = client.get(format!("{base}/api/task?ticket={ticket}&task_no={task_no}")).send().await.unwrap().json().await.unwrap();
            if t["data"]["status"].as_i64().is_some_and(|s| s >= 3) {
                println!("1000-item parallel restart: status {} in {:.2} s", t["data"]["status"], started.elapsed().as_secs_f64());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}
