//! Recorded responses: a fixed script of requests covering every endpoint (successes and
//! the usual refusals) runs against a fresh standalone platform, and each answer's status
//! and body bytes must equal the recording in `tests/e2e/golden/responses.txt`, after
//! masking what differs from run to run (times, task numbers, generated package names).
//! A change to the answers of the API shows up here as a diff.
//!
//! To re-record after a deliberate change: `TARS_RECORD=1 cargo test --test e2e recorded`,
//! then review the diff of the golden file.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::packages::{curl, make_package};
use crate::common::sim::Simulator;
use crate::common::{free_port, Backend, Platform, PlatformOptions};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/e2e/golden/responses.txt"
);

/// Loopback "machines" of this test only (the other tests use 127.100-199.*.*).
const NODES: [&str; 3] = ["127.250.0.2", "127.250.0.3", "127.250.0.4"];

/// One request of the script.
enum Step {
    Get(&'static str, &'static str),
    Post(&'static str, Value),
    Form(&'static str, &'static str),
    NoTicket(&'static str),
    Upload(&'static str, &'static str),
    WaitTask(&'static str),
}

fn script() -> Vec<Step> {
    use Step::*;
    let n = NODES;
    let adapters = |node: &str, port: u32| {
        json!([{"obj_name": "CartObj", "bind_ip": node, "port": port, "port_type": "tcp",
                "protocol": "tars", "thread_num": 2, "max_connections": 1000,
                "queuecap": 100, "queuetimeout": 5000}])
    };
    vec![
        Get("/api/server_type_list", ""),
        Get("/api/template_name_list", ""),
        Get("/api/tree", ""),
        Post(
            "/api/deploy_server",
            json!({"application": "Shop", "server_name": "Cart",
            "node_name": n[0], "server_type": "tars_cpp", "template_name": "tars.cpp.default",
            "adapters": adapters(n[0], 10001)}),
        ),
        Post(
            "/api/deploy_server",
            json!({"application": "Shop", "server_name": "Cart",
            "node_name": n[1], "server_type": "tars_cpp", "template_name": "tars.cpp.default",
            "enable_set": true, "set_name": "mtt", "set_area": "sz", "set_group": "1",
            "adapters": adapters(n[1], 10001)}),
        ),
        Post(
            "/api/deploy_server",
            json!({"application": "Shop", "server_name": "Cart",
            "node_name": n[0], "server_type": "tars_cpp", "template_name": "tars.cpp.default",
            "adapters": adapters(n[0], 10001)}),
        ),
        Post("/api/deploy_server", json!({"application": "Shop"})),
        Get("/api/tree", ""),
        Get("/api/server", "id=1"),
        Get("/api/server", "id=99"),
        Get("/api/server", "id=x"),
        Get("/api/server_list", "tree_node_id=1Shop"),
        Get("/api/server_list", "tree_node_id=1Shop.5Cart"),
        Get("/api/inactive_server_list", "application=Shop"),
        Get("/api/server_notify_list", "tree_node_id=1Shop"),
        Post(
            "/api/update_server",
            json!({"id": 1, "async_thread_num": 5, "base_path": "/usr/local/app"}),
        ),
        Get("/api/cascade_select_server", "level=1"),
        Get("/api/cascade_select_server", "level=2&application=Shop"),
        Get("/api/adapter_conf_list", "id=1"),
        Get("/api/adapter_conf", "id=1"),
        Post(
            "/api/add_adapter_conf",
            json!({"application": "Shop", "server_name": "Cart",
            "node_name": n[0], "servant": "Shop.Cart.AdminObj",
            "endpoint": format!("tcp -h {} -t 60000 -p 10002", n[0]), "thread_num": 1,
            "max_connections": 100, "queuecap": 10, "queuetimeout": 100, "protocol": "tars"}),
        ),
        Post(
            "/api/update_adapter_conf",
            json!({"id": 3, "thread_num": 4}),
        ),
        Get("/api/delete_adapter_conf", "id=3"),
        Post(
            "/api/expand_server_preview",
            json!({"application": "Shop", "server_name": "Cart",
            "node_name": n[0], "expand_nodes": [n[2]], "copy_node_config": true}),
        ),
        Get("/api/auto_port", "node_name=127.250.0.4"),
        Post(
            "/api/add_profile_template",
            json!({"template_name": "shop.base",
            "parents_name": "tars.default", "profile": "<tars>\n</tars>"}),
        ),
        Get("/api/profile_template", "template_name=shop.base"),
        Get("/api/query_profile_template", "template_name=shop.base"),
        Post(
            "/api/update_profile_template",
            json!({"id": 7, "template_name": "shop.base",
            "parents_name": "tars.default", "profile": "<tars>\n<x>1</x>\n</tars>"}),
        ),
        Get("/api/delete_profile_template", "id=7"),
        Post(
            "/api/add_config_file",
            json!({"level": 1, "application": "Shop",
            "filename": "shop.conf", "config": "a=1"}),
        ),
        Post(
            "/api/add_config_file",
            json!({"level": 5, "application": "Shop",
            "server_name": "Cart", "filename": "cart.conf", "config": "b=2"}),
        ),
        Get(
            "/api/config_file_list",
            "level=5&application=Shop&server_name=Cart",
        ),
        Post(
            "/api/node_config_file_list",
            json!({"config_id": 2, "application": "Shop",
            "server_name": "Cart"}),
        ),
        Post(
            "/api/update_config_file",
            json!({"id": 2, "config": "b=3", "reason": "tune"}),
        ),
        Get("/api/config_file", "id=2"),
        Get("/api/config_file_history_list", "config_id=2"),
        Get("/api/config_file_history", "id=2"),
        Post(
            "/api/add_config_ref",
            json!({"config_id": 2, "reference_id": 1}),
        ),
        Get("/api/config_ref_list", "config_id=2"),
        Get("/api/merged_node_config", "id=3"),
        Get("/api/push_config_file", "ids=2"),
        Get("/api/delete_config_ref", "id=1"),
        Get("/api/delete_config_file", "id=1"),
        Get(
            "/api/load_server",
            "application=Shop&server_name=Cart&node_name=127.250.0.2",
        ),
        Get("/api/get_realtime_state", "id=1"),
        Get("/api/send_command", "server_ids=1&command=tars.viewstatus"),
        Post(
            "/api/add_task",
            json!({"serial": true, "items": [
            {"server_id": 1, "command": "start", "parameters": {}},
            {"server_id": 2, "command": "restart", "parameters": {}}]}),
        ),
        WaitTask("first"),
        Upload("/api/upload_patch_package", "Cart"),
        Get(
            "/api/server_patch_list",
            "application=Shop&module_name=Cart",
        ),
        Upload("/api/upload_and_publish", "Cart"),
        Post(
            "/api/expand_server",
            json!({"application": "Shop", "server_name": "Cart",
            "node_name": n[0], "copy_node_config": true, "expand_preview_servers": [{"node_name": n[2],
            "set": "", "obj_name": "CartObj", "bind_ip": n[2], "port": 10001}]}),
        ),
        Get("/api/task_list", "application=Shop&page_size=5"),
        Post(
            "/api/add_task",
            json!({"items": [{"server_id": 1, "command": "explode"}]}),
        ),
        Form("/api/add_task", "serial=true"),
        Get("/api/add_task", ""),
        Get("/api/task", "task_no=nope"),
        Get("/api/nope", ""),
        NoTicket("/api/tree"),
        Get("/server/api/server", "id=1"),
    ]
}

/// Masks what legitimately differs between runs.
fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let after_hex = i > 0 && bytes[i - 1].is_ascii_hexdigit();
        if let Some(len) = time_at(rest) {
            out.push_str("<time>");
            i += len;
        } else if let Some(len) = hex_run(rest, 20).filter(|_| !after_hex) {
            out.push_str("<task>");
            i += len;
        } else if let Some(len) = package_stamp(rest) {
            out.push_str("_<stamp>.tgz");
            i += len;
        } else {
            let c = rest.chars().next().expect("not empty");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `YYYY-MM-DD HH:MM:SS` at the start of `s`.
fn time_at(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let shape = b"0000-00-00 00:00:00";
    (b.len() >= shape.len()
        && shape.iter().zip(b).all(|(p, c)| {
            if *p == b'0' {
                c.is_ascii_digit()
            } else {
                p == c
            }
        }))
    .then_some(shape.len())
}

/// Exactly `n` lowercase hex digits (not part of a longer run) at the start of `s`.
fn hex_run(s: &str, n: usize) -> Option<usize> {
    let b = s.as_bytes();
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    let run = b.iter().take_while(|c| hex(c)).count();
    (run == n).then_some(n)
}

/// `_<13 digits>_<hex>.tgz` (a generated package name) at the start of `s`.
fn package_stamp(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'_') {
        return None;
    }
    let digits = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits != 13 || b.get(1 + digits) != Some(&b'_') {
        return None;
    }
    let start = 2 + digits;
    let hex = b[start..]
        .iter()
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    s[start + hex..]
        .starts_with(".tgz")
        .then_some(start + hex + 4)
}

async fn wait_for_last_task(p: &Platform, last_task: &str) {
    let started = Instant::now();
    loop {
        let answer = p.api.get("/api/task", &[("task_no", last_task)]).await;
        let status = answer.body["data"]["status"].as_i64().unwrap_or(0);
        if (3..=6).contains(&status) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "task never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_as_recorded() {
    let port = free_port();
    let nodes: Vec<String> = NODES.iter().map(|s| s.to_string()).collect();
    let _sim = Simulator::start(&nodes, port, &[]);
    let options = PlatformOptions::with_env(&[
        ("TARS_NODE_PORT", &port.to_string()),
        ("TARS_NODE_TIMEOUT_MS", "3000"),
        ("TARS_PATCH_TIMEOUT_MS", "5000"),
    ]);
    let p = Platform::start_with(Backend::Sqlite, options).await;
    let work = tempfile::tempdir().unwrap();
    let (package, md5) = make_package(work.path(), "Shop.Cart.tgz", 4096);
    let client = p.api.client().clone();
    let mut record = String::new();
    let mut last_task = String::new();
    for step in script() {
        let (label, status, body) = match step {
            Step::Get(path, query) => {
                let mut url = p.api.url_for(path, &[]);
                if !query.is_empty() {
                    url = format!("{url}&{query}");
                }
                let r = client.get(&url).send().await.unwrap();
                (
                    format!("GET {path}?{query}"),
                    r.status().as_u16(),
                    r.text().await.unwrap(),
                )
            }
            Step::Post(path, body) => {
                let r = client
                    .post(p.api.url_for(path, &[]))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                (
                    format!("POST {path} {body}"),
                    r.status().as_u16(),
                    r.text().await.unwrap(),
                )
            }
            Step::Form(path, body) => {
                let r = client
                    .post(p.api.url_for(path, &[]))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (
                    format!("FORM {path} {body}"),
                    r.status().as_u16(),
                    r.text().await.unwrap(),
                )
            }
            Step::NoTicket(path) => {
                let r = client
                    .get(format!("{}{path}", p.api.base))
                    .send()
                    .await
                    .unwrap();
                (
                    format!("GET {path} (no ticket)"),
                    r.status().as_u16(),
                    r.text().await.unwrap(),
                )
            }
            Step::Upload(path, module) => {
                let fields = [
                    ("suse", format!("@{}", package.display())),
                    ("application", "Shop".to_string()),
                    ("module_name", module.to_string()),
                    ("comment", "recorded".to_string()),
                    ("md5", md5.clone()),
                ];
                let (status, body) = curl(&p.api.url_for(path, &[]), &fields);
                (format!("UPLOAD {path} {module}"), status, body)
            }
            Step::WaitTask(label) => {
                wait_for_last_task(&p, &last_task).await;
                let r = client
                    .get(p.api.url_for("/api/task", &[("task_no", &last_task)]))
                    .send()
                    .await
                    .unwrap();
                (
                    format!("TASK {label}"),
                    r.status().as_u16(),
                    r.text().await.unwrap(),
                )
            }
        };
        if label.starts_with("POST /api/add_task") && status == 200 {
            let v: Value = serde_json::from_str(&body).unwrap();
            last_task = v["data"].as_str().unwrap_or_default().to_string();
        }
        writeln!(record, "== {label}\n{status} {}", mask(&body)).unwrap();
    }
    if std::env::var("TARS_RECORD").is_ok() {
        std::fs::create_dir_all(std::path::Path::new(GOLDEN).parent().unwrap()).unwrap();
        std::fs::write(GOLDEN, &record).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(GOLDEN).expect("golden file (TARS_RECORD=1 writes it)");
    if golden != record {
        let first = golden
            .lines()
            .zip(record.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let context: Vec<String> = golden
            .lines()
            .zip(record.lines())
            .skip(first.saturating_sub(2))
            .take(5)
            .map(|(a, b)| format!("- {a}\n+ {b}"))
            .collect();
        panic!(
            "answers differ from {GOLDEN} at line {}:\n{}",
            first + 1,
            context.join("\n")
        );
    }
}

#[test]
fn masks_only_what_varies() {
    assert_eq!(
        mask(
            r#"{"t":"2026-12-01 10:00:00","n":"01a2b3c4d5e6f708090a","tgz":"Shop.Cart_1764583200123_9f3a.tgz","id":12}"#
        ),
        r#"{"t":"<time>","n":"<task>","tgz":"Shop.Cart_<stamp>.tgz","id":12}"#
    );
    assert_eq!(
        mask("md5 0123456789abcdef0123456789abcdef"),
        "md5 0123456789abcdef0123456789abcdef"
    );
}
