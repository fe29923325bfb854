//! The compose topology as plain processes on this machine: nginx (Debian's, started
//! here on a loopback port) balancing two gateways, the deployer, two task-runners on
//! Tansu, MariaDB, 20 simulated nodes, an OTLP collector. Through nginx: deploy to the 20
//! nodes, publish a package with a caller's trace, kill -9 one gateway and one runner
//! while it runs. The publish completes, each node is patched exactly once, and every
//! node call of it is in the caller's one trace.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::broker::Broker;
use crate::common::db;
use crate::common::otlp::{render, Collector};
use crate::common::packages::make_package;
use crate::common::ports::ReservedPort;
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::{binary, grant, Api, Process};

const LIMIT: Duration = Duration::from_secs(120);
const NODES: usize = 20;

/// nginx in front of `gateways`, on a port of its own; stopped when dropped.
struct Nginx {
    _process: Process,
    addr: String,
    _port: ReservedPort,
}

impl Nginx {
    fn start(dir: &Path, gateways: &[String]) -> Nginx {
        let nginx = Path::new("/usr/sbin/nginx");
        assert!(
            nginx.exists(),
            "/usr/sbin/nginx is missing: install nginx (scripts/test.sh does)"
        );
        let port = ReservedPort::localhost();
        let prefix = dir.join("nginx");
        for sub in ["logs", "tmp"] {
            std::fs::create_dir_all(prefix.join(sub)).unwrap();
        }
        let upstreams: String = gateways
            .iter()
            .map(|g| format!("    server {g} max_fails=1 fail_timeout=30s;\n"))
            .collect();
        let conf = format!(
            "master_process off;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log {p}/logs/access.log;\n\
               client_body_temp_path {p}/tmp/body;\n  proxy_temp_path {p}/tmp/proxy;\n\
               fastcgi_temp_path {p}/tmp/fastcgi;\n  uwsgi_temp_path {p}/tmp/uwsgi;\n\
               scgi_temp_path {p}/tmp/scgi;\n\
               upstream gateways {{\n{upstreams}  }}\n\
               server {{\n    listen 127.0.0.1:{port};\n    client_max_body_size 0;\n\
                 location / {{\n      proxy_pass http://gateways;\n\
                   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                   proxy_read_timeout 300s;\n      proxy_next_upstream error timeout;\n\
                   proxy_connect_timeout 2s;\n    }}\n  }}\n}}\n",
            p = prefix.display(),
            port = port.port,
        );
        let conf_path = prefix.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let conf_arg = conf_path.display().to_string();
        let prefix_arg = prefix.display().to_string();
        let process = Process::spawn_plain(
            "nginx",
            nginx,
            &[
                "-e",
                "stderr",
                "-p",
                &prefix_arg,
                "-c",
                &conf_arg,
                "-g",
                "daemon off;",
            ],
            dir,
            &dir.join("nginx.log"),
        );
        let addr = format!("127.0.0.1:{}", port.port);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on {addr}: {}",
                std::fs::read_to_string(dir.join("nginx.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx {
            _process: process,
            addr,
            _port: port,
        }
    }
}

fn spawn(name: &str, bin: &str, env: &[(String, String)], dir: &Path) -> (Process, String) {
    Process::spawn(
        name,
        &binary(bin),
        &[],
        env,
        &dir.join(format!("{name}.log")),
    )
}

fn with(env: &[(String, String)], extra: &[(&str, String)]) -> Vec<(String, String)> {
    let mut all = env.to_vec();
    for (k, v) in extra {
        all.retain(|(key, _)| key != k);
        all.push((k.to_string(), v.clone()));
    }
    all
}

/// The task `upload_and_publish` created for `App.Server`, once it exists.
async fn publish_task(api: &Api) -> Option<Value> {
    let answer = api.get("/api/task_list", &[("application", "Fleet")]).await;
    if answer.status != 200 {
        return None;
    }
    answer.body["data"].as_array()?.first().cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_publish_through_nginx_survives_a_gateway_and_a_runner_killed() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start().await;
    let broker = Broker::started();
    let database = db::create_database().await;
    let ips = fresh_ips(NODES);
    let sim = Simulator::on_free_port(&ips, &["--latency-ms", "150"]);
    let patch_port = ReservedPort::localhost();
    let topic = format!("tasks-fleet-{}", std::process::id());
    let mut env: Vec<(String, String)> = vec![
        (
            "TARS_DATA_DIR".into(),
            dir.path().join("data").display().to_string(),
        ),
        ("TARS_DATABASE_URL".into(), database.url.clone()),
        ("TARS_TOKEN_REFRESH_SECS".into(), "1".into()),
        ("TARS_KAFKA_BROKERS".into(), broker.addr()),
        ("TARS_KAFKA_TOPIC".into(), topic.clone()),
        ("TARS_KAFKA_DLQ_TOPIC".into(), format!("{topic}-dlq")),
        ("TARS_KAFKA_GROUP".into(), format!("{topic}-runners")),
        ("TARS_NODE_PORT".into(), sim.port.to_string()),
        ("TARS_NODE_TIMEOUT_MS".into(), "3000".into()),
        ("TARS_TASK_LEASE_MS".into(), "1500".into()),
        ("TARS_TASK_UNCLAIMED_GRACE_MS".into(), "4000".into()),
        ("TARS_PATCH_TIMEOUT_MS".into(), "30000".into()),
        (
            "TARS_PATCH_OBJ".into(),
            format!(
                "tars.tarspatch.PatchObj@tcp -h 127.0.0.1 -p {}",
                patch_port.port
            ),
        ),
        ("TARS_TRUSTED_PROXIES".into(), "127.0.0.1".into()),
    ];
    env.extend(collector.env());
    let ticket = {
        let output = std::process::Command::new(binary("tars-platform"))
            .args(["token", "create", "--user", "fleet"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().cloned())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    };
    grant(&env, "fleet", "operator", Some("Fleet"));

    fn local(var: &'static str) -> (&'static str, String) {
        (var, "127.0.0.1:0".to_string())
    }
    let (_deployer, deployer) = spawn(
        "deployer",
        "tars-deployer",
        &with(&env, &[local("TARS_DEPLOYER_GRPC_ADDR")]),
        dir.path(),
    );
    let (_monitor, monitor) = spawn(
        "monitor",
        "tars-monitor",
        &with(&env, &[local("TARS_MONITOR_GRPC_ADDR")]),
        dir.path(),
    );
    let mut runners = Vec::new();
    for id in ["runner-a", "runner-b"] {
        let own = with(
            &env,
            &[
                local("TARS_TASK_RUNNER_GRPC_ADDR"),
                ("TARS_RUNNER_ID", id.to_string()),
            ],
        );
        runners.push(spawn(id, "tars-task-runner", &own, dir.path()));
    }
    let backends = |runner: &str| {
        with(
            &env,
            &[
                ("TARS_DEPLOYER_URL", format!("http://{deployer}")),
                ("TARS_MONITOR_URL", format!("http://{monitor}")),
                ("TARS_TASK_RUNNER_URL", format!("http://{runner}")),
                ("TARS_HTTP_ADDR", "127.0.0.1:0".to_string()),
            ],
        )
    };
    // Gateway a talks to runner a, gateway b to runner b; b also serves Patch to the nodes.
    let (mut gateway_a, addr_a) = spawn(
        "gateway-a",
        "tars-gateway",
        &backends(&runners[0].1),
        dir.path(),
    );
    let mut env_b = backends(&runners[1].1);
    env_b.push((
        "TARS_PATCH_ADDR".into(),
        format!("127.0.0.1:{}", patch_port.port),
    ));
    let (_gateway_b, addr_b) = spawn("gateway-b", "tars-gateway", &env_b, dir.path());
    let nginx = Nginx::start(dir.path(), &[addr_a, addr_b]);
    let api = Api::new(&nginx.addr, Some(ticket));

    // One server on the 20 nodes.
    let mut body = json!({"application": "Fleet", "server_name": "Api", "node_name": ips[0],
        "server_type": "tars_cpp", "template_name": "tars.cpp.default",
        "adapters": [{"obj_name": "ApiObj", "bind_ip": ips[0], "port": 20000}]});
    api.post_json("/api/deploy_server", &body).await.ok();
    let preview = api
        .post_json(
            "/api/expand_server_preview",
            &json!({"application": "Fleet", "server_name": "Api", "node_name": ips[0],
                    "expand_nodes": ips[1..].to_vec()}),
        )
        .await
        .ok()
        .clone();
    let targets: Vec<Value> = preview
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            json!({"node_name": r["node_name"], "set": r["set"], "obj_name": r["obj_name"],
                        "bind_ip": r["bind_ip"], "port": r["port"]})
        })
        .collect();
    body = json!({"application": "Fleet", "server_name": "Api", "node_name": ips[0],
                  "expand_preview_servers": targets});
    api.post_json("/api/expand_server", &body).await.ok();

    // Publish with a caller's trace, in the background: the gateway that serves it may die.
    let trace_id = format!("{:032x}", u128::from(std::process::id()) << 32 | 0xf1ee7);
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let (package, _) = make_package(dir.path(), "Fleet.Api.tgz", 64 * 1024);
    let url = api.url_for("/api/upload_and_publish", &[]);
    let publish = std::thread::spawn(move || {
        std::process::Command::new("curl")
            .args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-H"])
            .arg(format!("traceparent: {traceparent}"))
            .arg(url)
            .args(["-F", &format!("suse=@{}", package.display())])
            .args([
                "-F",
                "application=Fleet",
                "-F",
                "module_name=Api",
                "-F",
                "restart=1",
            ])
            .output()
            .unwrap()
    });
    // Mid-publish: once three nodes were told to patch, kill gateway a and runner a.
    let deadline = Instant::now() + LIMIT;
    while sim.calls_of("patchPro").len() < 3 {
        assert!(Instant::now() < deadline, "the publish did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    gateway_a.kill();
    runners[0].0.kill();
    let answered = publish.join().unwrap();
    let answered = String::from_utf8_lossy(&answered.stdout).to_string();
    println!("the publish call answered: {answered}");
    // Served by gateway b, the call waited for the task (200); by gateway a, nginx
    // answers 502 once a dies and the task goes on without its caller.
    let served_by_survivor = answered.trim_end().ends_with("200");

    // The publish completes (through nginx, which now reaches gateway b only).
    let deadline = Instant::now() + LIMIT;
    let task = loop {
        if let Some(task) = publish_task(&api).await {
            if (3..=6).contains(&task["status"].as_i64().unwrap_or(0)) {
                break task;
            }
        }
        assert!(Instant::now() < deadline, "the publish did not end");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(task["status"], 3, "{task}");

    // Each node patched exactly once.
    let patches = sim.calls_of("patchPro");
    let mut nodes: Vec<String> = patches
        .iter()
        .map(|c| c["node"].as_str().unwrap_or_default().to_string())
        .collect();
    nodes.sort();
    let before = nodes.len();
    nodes.dedup();
    assert_eq!(nodes.len(), NODES, "every node patched: {patches:?}");
    assert_eq!(before, NODES, "no node patched twice: {patches:?}");

    // One trace: the surviving runner's run of the task, its items and every node call
    // the publish made are in the caller's trace. (Spans runner a had not exported yet
    // died with it: an exporter batches.)
    let task_no = task["task_no"].as_str().unwrap().to_string();
    let spans = collector
        .wait_for(LIMIT, |spans| {
            spans.iter().any(|s| {
                s.name == "task"
                    && s.attributes.get("task_no") == Some(&task_no)
                    && s.attributes.get("runner").map(String::as_str) == Some("runner-b")
            }) && (!served_by_survivor
                || spans
                    .iter()
                    .any(|s| s.name == "http" && s.trace_id == trace_id))
        })
        .await;
    let ours: Vec<_> = spans
        .iter()
        .filter(|s| s.trace_id == trace_id)
        .cloned()
        .collect();
    let tree = render(&ours);
    let of_publish = |s: &&crate::common::otlp::Span| {
        s.attributes.get("task_no") == Some(&task_no)
            || s.attributes
                .get("item_no")
                .is_some_and(|i| i.starts_with(&task_no))
            || (s.name == "node_call"
                && s.attributes
                    .get("node")
                    .is_some_and(|n| ips.iter().any(|ip| n.starts_with(&format!("{ip}:")))))
    };
    let stray: Vec<_> = spans
        .iter()
        .filter(of_publish)
        .filter(|s| s.trace_id != trace_id)
        .collect();
    assert!(
        stray.is_empty(),
        "spans of the publish outside the caller's trace: {stray:?}\n{tree}"
    );
    let items: std::collections::BTreeSet<&String> = ours
        .iter()
        .filter(|s| s.name == "item")
        .filter_map(|s| s.attributes.get("item_no"))
        .collect();
    assert!(
        items.len() >= NODES - 3,
        "the survivor's items are in the trace:\n{tree}"
    );
    if served_by_survivor {
        assert!(
            ours.iter()
                .any(|s| s.name == "http" && s.parent_span_id == "00f067aa0ba902b7"),
            "the HTTP request continues the caller's span:\n{tree}"
        );
    }
    println!("{tree}");
}
