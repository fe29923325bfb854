//! API load benchmark (not a test): starts the standalone platform built with the bench
//! profile on a fresh database, deploys 1,000 servers (20 applications × 50 servers, over
//! the API), then drives `tree`, `server_list` (one 50-server application), `server?id=`
//! and `adapter_conf_list` with an in-process load generator (64 keep-alive connections,
//! `BENCH_SECONDS` each, default 10) and prints one table: req/s, p50, p99 and the
//! platform's resident memory. Then, on a second fresh platform, 100,000 servers written
//! straight into `t_server_conf` and the time of single `tree` calls.
//!
//! Run: `cargo bench --bench api_load` (SQLite). With `TARS_DATABASE_URL=mysql://root@127.0.0.1:3306`
//! it runs on MariaDB, in throw-away databases created on that server and dropped at the
//! end (any database named in the URL is not touched). `BENCH_LARGE=0` skips the
//! 100,000-server part; `BENCH_ONLY=tree` runs only the endpoints whose name contains it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use sqlx::{Connection, Executor};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;

const APPLICATIONS: usize = 20;
const SERVERS_PER_APPLICATION: usize = 50;
const CONNECTIONS: usize = 64;
/// The large fixture: 200 applications × 500 servers, each on one of 2,000 nodes, every
/// 10th server in a set: 100,000 instances, each its own leaf of the tree (the worst
/// case for its size).
const LARGE_APPLICATIONS: usize = 200;
const LARGE_SERVERS_PER_APPLICATION: usize = 500;
const LARGE_NODES: usize = 2_000;

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let only = std::env::var("BENCH_ONLY").ok();
    let large = std::env::var("BENCH_LARGE").map_or(true, |v| v != "0");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let db = Database::from_env("load");
    runtime.block_on(db.create());
    let platform = support::Platform::start(&db.env());
    let addr: SocketAddr = platform.addr.parse().expect("platform address");
    println!("platform (bench profile, {}) at {addr}", db.label());
    let started = Instant::now();
    let ids = runtime.block_on(deploy_servers(&platform.addr, &platform.ticket));
    println!(
        "deployed {} servers in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    let some_id = ids[ids.len() / 2];
    let ticket = &platform.ticket;
    let targets = [
        ("tree (1,000 servers)", format!("/api/tree?ticket={ticket}")),
        (
            "server_list (50 servers)",
            format!("/api/server_list?tree_node_id=1App7&ticket={ticket}"),
        ),
        (
            "server?id=",
            format!("/api/server?id={some_id}&ticket={ticket}"),
        ),
        (
            "adapter_conf_list",
            format!("/api/adapter_conf_list?id={some_id}&ticket={ticket}"),
        ),
    ];
    let duration = Duration::from_secs(seconds);
    let mut rows = Vec::new();
    for (name, path) in &targets {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        // Warm up (connections, caches, the allocator) before measuring.
        runtime.block_on(drive(addr, path, Duration::from_secs(1), CONNECTIONS));
        let result = runtime.block_on(drive(addr, path, duration, CONNECTIONS));
        rows.push((name.to_string(), result, Memory::of(platform.pid())));
    }
    println!(
        "\n{}, {} servers ({APPLICATIONS} applications × {SERVERS_PER_APPLICATION}), \
         {CONNECTIONS} connections, {seconds} s per endpoint:\n",
        db.label(),
        ids.len()
    );
    println!("| endpoint | req/s | p50 ms | p99 ms | answer | errors | RSS MiB (peak) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, r, memory) in &rows {
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {} | {} | {:.0} ({:.0}) |",
            r.requests as f64 / r.elapsed.as_secs_f64(),
            r.quantile_ms(0.50),
            r.quantile_ms(0.99),
            size(r.answer_bytes),
            r.errors,
            memory.rss_mib,
            memory.peak_mib,
        );
    }
    drop(platform);
    runtime.block_on(db.drop());

    if large {
        runtime.block_on(large_tree());
    }
}

/// 100,000 servers written straight into `t_server_conf`, then single `tree` calls.
async fn large_tree() {
    let db = Database::from_env("large");
    db.create().await;
    let platform = support::Platform::start(&db.env());
    let addr: SocketAddr = platform.addr.parse().expect("platform address");
    let started = Instant::now();
    let rows = db.insert_large(&platform).await;
    println!(
        "\n{}: wrote {rows} servers on {LARGE_NODES} nodes straight into t_server_conf in {:.1} s",
        db.label(),
        started.elapsed().as_secs_f64()
    );
    let path = format!("/api/tree?ticket={}", platform.ticket);
    let mut conn = Client::connect(addr).await;
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..6 {
        let t = Instant::now();
        let answer = conn.get(&path).await.expect("tree answered");
        times.push(t.elapsed());
        bytes = answer;
    }
    let memory = Memory::of(platform.pid());
    let first = times.remove(0);
    times.sort();
    println!(
        "tree with {rows} servers ({}): first call {:.1} ms, then {} calls min {:.1} / median {:.1} / max {:.1} ms; RSS {:.0} MiB (peak {:.0})",
        size(bytes),
        ms(first),
        times.len(),
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(*times.last().unwrap()),
        memory.rss_mib,
        memory.peak_mib,
    );
    // A change by another writer (one more server): the next call rebuilds.
    db.execute(
        &platform,
        "INSERT INTO t_server_conf (application, server_name, node_name, server_type, \
         template_name, enable_set, setting_state, present_state) \
         VALUES ('Zz', 'Late', '10.9.9.9', 'tars_cpp', 'tars.cpp.default', 'N', 'active', 'active')",
    )
    .await;
    let t = Instant::now();
    conn.get(&path).await.expect("tree answered");
    println!(
        "tree after one more server written by another writer: {:.1} ms",
        ms(t.elapsed())
    );
    drop(platform);
    db.drop().await;
}

/// Deploys the 1,000 servers over the API, 8 at a time; answers their ids in order.
async fn deploy_servers(addr: &str, ticket: &str) -> Vec<i64> {
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/deploy_server?ticket={ticket}");
    let jobs = (0..APPLICATIONS)
        .flat_map(|app| (0..SERVERS_PER_APPLICATION).map(move |server| (app, server)));
    let mut ids: Vec<i64> = stream::iter(jobs)
        .map(|(app, server)| {
            let (client, url) = (client.clone(), url.clone());
            async move {
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
                    .post(&url)
                    .json(&body)
                    .send()
                    .await
                    .expect("deploy")
                    .json()
                    .await
                    .expect("deploy answer");
                reply["data"]["server_conf"]["id"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("deploy failed: {reply}"))
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    ids.sort_unstable();
    ids
}

/// SQLite in the platform's data directory, or a throw-away MariaDB database.
enum Database {
    Sqlite,
    MariaDb { server: String, name: String },
}

impl Database {
    /// MariaDB when `TARS_DATABASE_URL` is set (its server part is used), else SQLite.
    fn from_env(tag: &str) -> Database {
        match std::env::var("TARS_DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                let scheme_end = url.find("://").map_or(0, |i| i + 3);
                let server = match url[scheme_end..].find('/') {
                    Some(i) => url[..scheme_end + i].to_string(),
                    None => url.clone(),
                };
                let name = format!("tars_bench_api_{tag}_{}", std::process::id());
                Database::MariaDb { server, name }
            }
            _ => Database::Sqlite,
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Database::Sqlite => "SQLite",
            Database::MariaDb { .. } => "MariaDB",
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Database::Sqlite => vec![("TARS_DATABASE_URL", String::new())],
            Database::MariaDb { server, name } => {
                vec![("TARS_DATABASE_URL", format!("{server}/{name}"))]
            }
        }
    }

    async fn create(&self) {
        if let Database::MariaDb { server, name } = self {
            let mut conn = sqlx::MySqlConnection::connect(server)
                .await
                .unwrap_or_else(|e| panic!("MariaDB at {server}: {e}"));
            conn.execute(format!("DROP DATABASE IF EXISTS `{name}`").as_str())
                .await
                .unwrap();
            conn.execute(
                format!("CREATE DATABASE `{name}` DEFAULT CHARACTER SET utf8mb4").as_str(),
            )
            .await
            .unwrap();
            let _ = conn.close().await;
        }
    }

    async fn drop(&self) {
        if let Database::MariaDb { server, name } = self {
            tars_test_db::drop_database(server, name).await;
        }
    }

    async fn execute(&self, platform: &support::Platform, sql: &str) {
        self.execute_all(platform, &[sql.to_string()]).await;
    }

    async fn execute_all(&self, platform: &support::Platform, statements: &[String]) {
        match self {
            Database::Sqlite => {
                let url = format!("sqlite://{}", platform.data_dir().join("tars.db").display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                for s in statements {
                    conn.execute(s.as_str()).await.unwrap();
                }
                let _ = conn.close().await;
            }
            Database::MariaDb { server, name } => {
                let mut conn = sqlx::MySqlConnection::connect(&format!("{server}/{name}"))
                    .await
                    .unwrap();
                for s in statements {
                    conn.execute(s.as_str()).await.unwrap();
                }
                let _ = conn.close().await;
            }
        }
    }

    /// The large fixture, 1,000 rows per statement; answers the number of rows.
    async fn insert_large(&self, platform: &support::Platform) -> usize {
        let mut statements = Vec::new();
        let mut values = Vec::with_capacity(1000);
        let mut rows = 0;
        for app in 0..LARGE_APPLICATIONS {
            for server in 0..LARGE_SERVERS_PER_APPLICATION {
                let node = rows % LARGE_NODES;
                let node = format!("10.{}.{}.{}", 100 + node / 250, node % 250, app % 200);
                let set = if server % 10 == 9 {
                    format!("'Y', 'mtt', 'sz', '{}'", server % 3)
                } else {
                    "'N', NULL, NULL, NULL".to_string()
                };
                values.push(format!(
                    "('Big{app}', 'Server{server}', '{node}', 'tars_cpp', 'tars.cpp.default', {set}, \
                     'active', 'active', '2026-12-01 00:00:00')"
                ));
                rows += 1;
                if values.len() == 1000 {
                    statements.push(insert_servers_sql(&values));
                    values.clear();
                }
            }
        }
        if !values.is_empty() {
            statements.push(insert_servers_sql(&values));
        }
        self.execute_all(platform, &statements).await;
        rows
    }
}

fn insert_servers_sql(values: &[String]) -> String {
    format!(
        "INSERT INTO t_server_conf (application, server_name, node_name, server_type, \
         template_name, enable_set, set_name, set_area, set_group, setting_state, \
         present_state, posttime) VALUES {}",
        values.join(", ")
    )
}

/// What one endpoint's run measured.
struct Run {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    /// Latencies in microseconds, sorted.
    latencies: Vec<u32>,
    answer_bytes: usize,
}

impl Run {
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies[i]) / 1000.0
    }
}

/// `connections` keep-alive connections, each sending `GET path` again as soon as the
/// previous answer is read, for `duration`.
async fn drive(addr: SocketAddr, path: &str, duration: Duration, connections: usize) -> Run {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let path = path.to_string();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut answer_bytes = 0;
                let mut client = Client::connect(addr).await;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match client.get(&path).await {
                        Ok(bytes) => {
                            latencies.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                            answer_bytes = bytes;
                        }
                        Err(e) => {
                            errors += 1;
                            if errors == 1 {
                                eprintln!("request failed: {e}");
                            }
                            client = Client::connect(addr).await;
                        }
                    }
                }
                (latencies, errors, answer_bytes)
            })
        })
        .collect();
    let mut run = Run {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        answer_bytes: 0,
    };
    for task in tasks {
        let (latencies, errors, bytes) = task.await.expect("load task");
        run.requests += latencies.len() as u64;
        run.latencies.extend(latencies);
        run.errors += errors;
        run.answer_bytes = run.answer_bytes.max(bytes);
    }
    run.elapsed = started.elapsed();
    run.latencies.sort_unstable();
    run
}

/// A minimal HTTP/1.1 keep-alive client: a `GET`, the answer read by its
/// `Content-Length` and checked for status 200 and `"ret_code":200`.
struct Client {
    addr: SocketAddr,
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        Client {
            addr,
            stream,
            buffer: Vec::with_capacity(64 * 1024),
        }
    }

    /// Sends `GET path`; answers the body's length.
    async fn get(&mut self, path: &str) -> Result<usize, String> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: api_load\r\n\r\n",
            self.addr
        );
        self.stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        self.buffer.clear();
        let head_end = loop {
            if let Some(i) = find(&self.buffer, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end]).map_err(|e| e.to_string())?;
        if !head.starts_with("HTTP/1.1 200") {
            return Err(format!(
                "answer: {}",
                head.lines().next().unwrap_or_default()
            ));
        }
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .ok_or("answer without Content-Length")?;
        while self.buffer.len() < head_end + length {
            self.fill().await?;
        }
        let body = &self.buffer[head_end..head_end + length];
        if !body.starts_with(br#"{"ret_code":200"#) {
            return Err(format!(
                "unexpected answer: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ));
        }
        Ok(length)
    }

    async fn fill(&mut self) -> Result<(), String> {
        self.buffer.reserve(64 * 1024);
        let n = self
            .stream
            .read_buf(&mut self.buffer)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The platform's resident memory now and at its peak (`/proc/<pid>/status`).
struct Memory {
    rss_mib: f64,
    peak_mib: f64,
}

impl Memory {
    fn of(pid: u32) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| -> f64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .map_or(f64::NAN, |kb| kb / 1024.0)
        };
        Memory {
            rss_mib: field("VmRSS:"),
            peak_mib: field("VmHWM:"),
        }
    }
}

fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.0} KB", bytes as f64 / 1e3)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
