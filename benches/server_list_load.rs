//! Load benchmark (not a test): starts the standalone platform built with the bench
//! profile on a fresh SQLite database, deploys 1,000 servers (20 applications × 50
//! servers) over the API, then drives `server_list` for one 50-server application and
//! `server?id=` with `wrk` at 64 connections, and prints throughput and latency.
//!
//! Run: `cargo bench --bench server_list_load` (needs `wrk`: `apt-get install wrk`).
//! `BENCH_SECONDS` (default 10) sets each run's length; `TARS_DATABASE_URL` benchmarks
//! another database.

use std::process::Command;
use std::time::Instant;

mod support;

const APPLICATIONS: usize = 20;
const SERVERS_PER_APPLICATION: usize = 50;

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed: apt-get install wrk");
        std::process::exit(2);
    }
    let seconds = std::env::var("BENCH_SECONDS").unwrap_or_else(|_| "10".into());
    let database = std::env::var("TARS_DATABASE_URL").ok();
    let env: Vec<(&str, String)> = database
        .into_iter()
        .map(|url| ("TARS_DATABASE_URL", url))
        .collect();
    let platform = support::Platform::start(&env);
    let (addr, ticket) = (platform.addr.clone(), platform.ticket.clone());
    println!("platform (bench profile, SQLite) at {addr}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let last_id = runtime.block_on(load_servers(&addr, &ticket));
    println!(
        "deployed {} servers in {:.1} s",
        APPLICATIONS * SERVERS_PER_APPLICATION,
        started.elapsed().as_secs_f64()
    );

    let list_url = format!("http://{addr}/api/server_list?tree_node_id=1App7&ticket={ticket}");
    let server_url = format!(
        "http://{addr}/api/server?id={}&ticket={ticket}",
        last_id / 2
    );
    for (name, url) in [
        ("server_list (50 servers)", list_url),
        ("server?id=", server_url),
    ] {
        let output = Command::new("wrk")
            .args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency", &url])
            .output()
            .expect("run wrk");
        let text = String::from_utf8_lossy(&output.stdout);
        println!("\n== {name}: wrk -t2 -c64 -d{seconds}s ==");
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("Requests/sec")
                || t.starts_with("50%")
                || t.starts_with("90%")
                || t.starts_with("99%")
                || t.starts_with("Non-2xx")
                || t.contains("requests in")
                || t.starts_with("Socket errors")
            {
                println!("  {t}");
            }
        }
    }
}

async fn load_servers(addr: &str, ticket: &str) -> i64 {
    let client = reqwest::Client::new();
    let mut last_id = 0;
    for app in 0..APPLICATIONS {
        for server in 0..SERVERS_PER_APPLICATION {
            let node = format!("10.0.{}.{}", app, server + 1);
            let body = serde_json::json!({
                "application": format!("App{app}"),
                "server_name": format!("Server{server}"),
                "node_name": node,
                "server_type": "tars_cpp",
                "template_name": "tars.cpp.default",
                "adapters": [{"obj_name": "MainObj", "bind_ip": node, "port": 10000 + server}]
            });
            let reply: serde_json::Value = client
                .post(format!("http://{addr}/api/deploy_server?ticket={ticket}"))
                .json(&body)
                .send()
                .await
                .expect("deploy")
                .json()
                .await
                .expect("deploy answer");
            last_id = reply["data"]["server_conf"]["id"]
                .as_i64()
                .expect("deployed");
        }
    }
    last_id
}
