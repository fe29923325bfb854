//! Metrics: after a scripted workload the scraped figures are exactly what was done
//! (tasks by status, node calls against the simulator's own call log, HTTP requests,
//! RPCs, upload and download bytes); `/metrics` answers only TCP peers in
//! `TARS_METRICS_ALLOW`, whatever `X-Forwarded-For` says; a backend's
//! `TARS_METRICS_ADDR` listener (split layout) answers with that backend's RPCs.
//!
//! The test itself talks to the API from 127.0.0.1 and scrapes from 127.0.0.2 (all of
//! 127.0.0.0/8 is local on Linux), so one platform shows both the refusal and the figures.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::broker::Broker;
use crate::common::packages::{node_env, upload_package};
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::tasks::{add_task, item, wait_task};
use crate::common::{Backend, Platform, PlatformOptions};
use crate::fixtures::deploy;
use crate::on_every_backend;

const LIMIT: Duration = Duration::from_secs(30);
/// The only peer allowed to read the metrics in these tests.
const SCRAPER: &str = "127.0.0.2";

/// A client whose connections come from `from`.
fn client_from(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// GETs `url` from `from` with extra headers: status and body.
async fn fetch(from: &str, url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = client_from(from).get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("scrape");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The scraped samples: (name, sorted labels) → value.
type Samples = BTreeMap<(String, Vec<(String, String)>), f64>;

fn parse(text: &str) -> Samples {
    let mut samples = Samples::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("name value");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let inner = rest.strip_suffix('}').expect("closing brace");
                let mut labels: Vec<(String, String)> = inner
                    .split("\",")
                    .filter(|l| !l.is_empty())
                    .map(|l| {
                        let (k, v) = l.split_once("=\"").expect("label");
                        (k.to_string(), v.trim_end_matches('"').to_string())
                    })
                    .collect();
                labels.sort();
                (name.to_string(), labels)
            }
            None => (series.to_string(), Vec::new()),
        };
        samples.insert((name, labels), value.parse().expect("a number"));
    }
    samples
}

/// Whether `name` has a sample (a gauge once sampled).
fn has(samples: &Samples, name: &str) -> bool {
    samples.keys().any(|(n, _)| n == name)
}

/// The sum of `name`'s samples whose labels include every one of `labels`.
fn sum(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|((n, ls), _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| ls.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, v)| *v)
        .sum()
}

/// Scrapes `url` as the allowed peer until `ready` holds for the samples (the runner
/// counts a task just after writing its end, the gauges are sampled every few seconds).
async fn scrape_until(url: &str, ready: impl Fn(&Samples) -> bool) -> Samples {
    let started = Instant::now();
    loop {
        let (status, text) = fetch(SCRAPER, url, &[]).await;
        assert_eq!(status, 200, "{text}");
        let samples = parse(&text);
        if ready(&samples) {
            return samples;
        }
        assert!(
            started.elapsed() < LIMIT,
            "metrics did not reach the expected state within {LIMIT:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn figures_match_the_workload(backend: Backend) {
    let ips = fresh_ips(3);
    // Every call to the third node fails.
    let sim = Simulator::on_free_port(&ips, &["--fail", &ips[2]]);
    let options = node_env(
        sim.port,
        &[
            ("TARS_METRICS_ALLOW", SCRAPER),
            // The API caller is a trusted proxy; its X-Forwarded-For must not count.
            ("TARS_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    );
    let p = Platform::start_with(backend, options).await;
    let metrics_url = format!("{}/metrics", p.api.base);

    // Anyone else is refused, a forwarded address naming the allowed peer included.
    let (status, body) = fetch("127.0.0.1", &metrics_url, &[]).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("TARS_METRICS_ALLOW"), "{body}");
    let (status, body) = fetch("127.0.0.1", &metrics_url, &[("X-Forwarded-For", SCRAPER)]).await;
    assert_eq!(status, 403, "only the TCP peer counts: {body}");

    let mut ids = Vec::new();
    for ip in &ips {
        ids.push(
            deploy(&p.api, "Shop", "Cart", ip, 10001).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let work = tempfile::tempdir().unwrap();
    let package_bytes = 150_000;
    let (patch_id, _) = upload_package(&p.api, work.path(), "Shop", "Cart", package_bytes);
    let patch = json!({"server_id": ids[0], "command": "patch_tars",
        "parameters": {"patch_id": patch_id.to_string(), "bak_flag": true, "update_text": "m"}});
    // (serial, items): four succeed, two fail, one is partial.
    let tasks: Vec<(bool, Vec<Value>)> = vec![
        (true, vec![item(ids[0], "start")]),
        (true, vec![item(ids[1], "restart")]),
        (true, vec![patch]),
        (false, vec![item(ids[0], "stop"), item(ids[1], "stop")]),
        (true, vec![item(ids[2], "start")]),
        (true, vec![item(ids[2], "restart")]),
        (false, vec![item(ids[0], "start"), item(ids[2], "start")]),
    ];
    let mut task_statuses: BTreeMap<i64, u64> = BTreeMap::new();
    let mut item_statuses: BTreeMap<i64, u64> = BTreeMap::new();
    for (serial, items) in &tasks {
        let task_no = add_task(&p.api, *serial, items.clone()).await;
        let ended = wait_task(&p.api, &task_no, LIMIT).await;
        *task_statuses
            .entry(ended["status"].as_i64().unwrap())
            .or_default() += 1;
        for it in ended["items"].as_array().unwrap() {
            *item_statuses
                .entry(it["status"].as_i64().unwrap())
                .or_default() += 1;
        }
    }
    assert_eq!(
        task_statuses,
        BTreeMap::from([(3, 4), (4, 2), (6, 1)]),
        "four tasks succeeded, two failed, one was partial"
    );
    // A request the table does not route, and one without a ticket.
    p.api
        .get("/api/no_such_endpoint", &[])
        .await
        .err(404, "no endpoint");
    p.api
        .with_ticket(None)
        .post_json("/api/add_task", &json!({"serial": true, "items": []}))
        .await
        .err(401, "");

    let m = scrape_until(&metrics_url, |m| {
        sum(m, "tars_tasks_finished_total", &[]) == tasks.len() as f64
            && has(m, "tars_tasks_unclaimed")
            && sum(m, "tars_tasks_unclaimed", &[]) == 0.0
    })
    .await;

    // Tasks: accepted, and ended by status, exactly as the API reported them.
    assert_eq!(
        sum(&m, "tars_tasks_accepted_total", &[]),
        tasks.len() as f64
    );
    for (status, label) in [(3, "success"), (4, "failed"), (6, "partial")] {
        let counted = sum(&m, "tars_tasks_finished_total", &[("status", label)]);
        assert_eq!(counted, task_statuses[&status] as f64, "tasks {label}");
    }
    for (status, label) in [(3, "success"), (4, "failed"), (5, "cancel")] {
        let expected = item_statuses.get(&status).copied().unwrap_or(0) as f64;
        let counted = sum(&m, "tars_task_items_finished_total", &[("status", label)]);
        assert_eq!(counted, expected, "items {label}");
    }

    // Node calls: per method and outcome, what the simulator logged receiving (its
    // `download` lines are the nodes' own calls to the Patch servant).
    let mut logged: BTreeMap<(String, &str), u64> = BTreeMap::new();
    for call in sim.calls() {
        let method = call["method"].as_str().unwrap().to_string();
        if method != "download" {
            let result = if call["ret"] == 0 { "ok" } else { "failed" };
            *logged.entry((method, result)).or_default() += 1;
        }
    }
    assert!(logged.len() >= 4, "a varied workload: {logged:?}");
    for ((method, result), count) in &logged {
        let labels = [("method", method.as_str()), ("result", *result)];
        assert_eq!(
            sum(&m, "tars_node_calls_total", &labels),
            *count as f64,
            "node calls {method} {result}"
        );
    }
    let logged_total: u64 = logged.values().sum();
    assert_eq!(sum(&m, "tars_node_calls_total", &[]), logged_total as f64);
    assert_eq!(
        sum(&m, "tars_node_call_duration_seconds_count", &[]),
        logged_total as f64
    );

    // HTTP requests by route and status (route names, never paths).
    let http = |route: &str, status: &str| {
        sum(
            &m,
            "tars_http_requests_total",
            &[("route", route), ("status", status)],
        )
    };
    assert_eq!(http("deploy_server", "200"), 3.0);
    assert_eq!(http("upload_patch_package", "200"), 1.0);
    assert_eq!(http("add_task", "200"), tasks.len() as f64);
    assert_eq!(http("add_task", "401"), 1.0);
    assert_eq!(http("other", "404"), 1.0);
    assert_eq!(http("metrics", "403"), 2.0);
    assert!(
        !m.keys()
            .any(|(_, labels)| labels.iter().any(|(_, v)| v.contains('/'))),
        "no label value is a path"
    );

    // The RPCs behind them, served in-process by the backends.
    let rpc = |service: &str, method: &str| {
        sum(
            &m,
            "tars_grpc_requests_total",
            &[("service", service), ("method", method), ("code", "OK")],
        )
    };
    assert_eq!(rpc("deployer", "DeployServer"), 3.0);
    assert_eq!(rpc("task-runner", "AddTask"), tasks.len() as f64);

    // Bytes: the upload received whole, and what the nodes downloaded for the patch.
    let upload = [("endpoint", "upload_patch_package")];
    assert_eq!(
        sum(&m, "tars_upload_bytes_total", &upload),
        package_bytes as f64
    );
    let received = [("endpoint", "upload_patch_package"), ("result", "received")];
    assert_eq!(sum(&m, "tars_uploads_total", &received), 1.0);
    let downloads = sim.calls_of("download");
    assert_eq!(downloads.len(), 1, "{downloads:?}");
    let downloaded: u64 = downloads.iter().map(|d| d["bytes"].as_u64().unwrap()).sum();
    assert_eq!(downloaded, package_bytes as u64);
    assert_eq!(
        sum(&m, "tars_patch_download_bytes_total", &[]),
        downloaded as f64
    );
    assert_eq!(sum(&m, "tars_patch_downloads_total", &[]), 1.0);

    // The pool, as configured (the defaults: 4 connections on SQLite, 16 on MySQL).
    let max = if backend == Backend::Sqlite {
        4.0
    } else {
        16.0
    };
    assert_eq!(sum(&m, "tars_db_pool_max_connections", &[]), max);
    let open = sum(&m, "tars_db_pool_connections", &[]);
    let in_use = sum(&m, "tars_db_pool_connections_in_use", &[]);
    assert!(
        (1.0..=max).contains(&open) && in_use <= open,
        "{open} {in_use}"
    );
    assert!(sum(&m, "tars_db_pool_acquire_wait_seconds_count", &[]) >= 1.0);
}

on_every_backend!(figures_match_the_workload);

/// Kafka mode: tasks accepted while the broker is away are the outbox's backlog; once it
/// is back they are published, claimed and run, and the backlog, the unclaimed count and
/// the consumer group's lag all come back to zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kafka_gauges_follow_the_outbox_and_the_group() {
    let ips = fresh_ips(1);
    let sim = Simulator::on_free_port(&ips, &[]);
    let mut broker = Broker::reserved();
    let topic = format!("tasks-metrics-{}", std::process::id());
    let (addr, dlq, group) = (
        broker.addr(),
        format!("{topic}-dlq"),
        format!("{topic}-runners"),
    );
    let options = node_env(
        sim.port,
        &[
            ("TARS_KAFKA_BROKERS", &addr),
            ("TARS_KAFKA_TOPIC", &topic),
            ("TARS_KAFKA_DLQ_TOPIC", &dlq),
            ("TARS_KAFKA_GROUP", &group),
            ("TARS_METRICS_ALLOW", SCRAPER),
        ],
    );
    let p = Platform::start_with(Backend::Sqlite, options).await;
    let url = format!("{}/metrics", p.api.base);
    let id = deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await["id"]
        .as_i64()
        .unwrap();
    let mut task_nos = Vec::new();
    for command in ["start", "restart"] {
        task_nos.push(add_task(&p.api, true, vec![item(id, command)]).await);
    }
    scrape_until(&url, |m| sum(m, "tars_task_outbox_backlog", &[]) == 2.0).await;

    broker.start();
    for task_no in &task_nos {
        let ended = wait_task(&p.api, task_no, Duration::from_secs(60)).await;
        assert_eq!(ended["status"], 3, "{ended}");
    }
    let m = scrape_until(&url, |m| {
        has(m, "tars_kafka_consumer_lag")
            && sum(m, "tars_kafka_consumer_lag", &[]) == 0.0
            && sum(m, "tars_task_outbox_backlog", &[]) == 0.0
            && sum(m, "tars_tasks_unclaimed", &[]) == 0.0
            && sum(m, "tars_tasks_finished_total", &[]) == 2.0
    })
    .await;
    let success = [("status", "success")];
    assert_eq!(sum(&m, "tars_tasks_finished_total", &success), 2.0);
    assert_eq!(sum(&m, "tars_tasks_accepted_total", &[]), 2.0);
}

fn rpc_labels<'a>(service: &'a str, method: &'a str, code: &'a str) -> [(&'a str, &'a str); 3] {
    [("service", service), ("method", method), ("code", code)]
}

/// The fleet layout: each backend's own listener serves its RPC counters; the gateway's
/// HTTP port serves the gateway's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_listeners_answer_their_rpcs() {
    let options = PlatformOptions::with_env(&[
        ("TARS_METRICS_ADDR", "127.0.0.1:0"),
        ("TARS_METRICS_ALLOW", SCRAPER),
    ]);
    let p = Platform::start_split(Backend::Sqlite, options).await;
    // deployer, task-runner, monitor, gateway
    let listener = |i: usize| p.processes[i].announced("serving metrics at ");
    let (deployer, runner, monitor) = (listener(0), listener(1), listener(2));

    for _ in 0..3 {
        p.api.get("/api/server_type_list", &[]).await.ok();
    }
    p.api
        .get("/api/task", &[("task_no", "no-such-task")])
        .await
        .err(404, "no task");

    let (status, body) = fetch("127.0.0.1", &deployer, &[]).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("TARS_METRICS_ALLOW"), "{body}");

    let m = scrape_until(&deployer, |m| has(m, "tars_db_pool_max_connections")).await;
    let calls = rpc_labels("deployer", "ServerTypeList", "OK");
    assert_eq!(sum(&m, "tars_grpc_requests_total", &calls), 3.0);
    assert_eq!(
        sum(
            &m,
            "tars_grpc_requests_total",
            &[("service", "task-runner")]
        ),
        0.0,
        "one process, one registry: the deployer shows only its own RPCs"
    );

    let m = scrape_until(&runner, |m| has(m, "tars_tasks_unclaimed")).await;
    let calls = rpc_labels("task-runner", "Task", "NotFound");
    assert_eq!(sum(&m, "tars_grpc_requests_total", &calls), 1.0);
    assert_eq!(sum(&m, "tars_tasks_unclaimed", &[]), 0.0);

    scrape_until(&monitor, |m| has(m, "tars_db_pool_max_connections")).await;

    let gateway = format!("{}/metrics", p.api.base);
    let m = scrape_until(&gateway, |_| true).await;
    let route = [("route", "server_type_list"), ("status", "200")];
    assert_eq!(sum(&m, "tars_http_requests_total", &route), 3.0);
    assert_eq!(
        sum(
            &m,
            "tars_http_requests_total",
            &[("route", "task"), ("status", "404")]
        ),
        1.0
    );
}
