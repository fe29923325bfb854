//! One trace per task: a caller's W3C `traceparent` on the HTTP request continues through
//! the gateway, the task-runner's acceptance, the queue (the task's row, and the Kafka
//! message's headers), the runner that executes it, each item and each node call. The
//! platform exports to an in-process OTLP collector; the tests read the trees it got.

use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::ClientConfig;
use serde_json::json;

use crate::common::broker::Broker;
use crate::common::otlp::{render, Collector, Span};
use crate::common::packages::{make_package, node_env};
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::tasks::{item, wait_task};
use crate::common::{Backend, Platform, PlatformOptions};
use crate::fixtures::deploy;

const LIMIT: Duration = Duration::from_secs(60);

/// A caller's trace: 32 hex digits of trace id, 16 of span id.
fn caller_trace() -> (String, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let trace_id = format!("{:032x}", nanos ^ (u128::from(std::process::id()) << 64));
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    (trace_id, traceparent)
}

/// The node calls of `method` in trace `trace_id`.
fn node_calls<'a>(spans: &'a [Span], trace_id: &str, method: &str) -> Vec<&'a Span> {
    spans
        .iter()
        .filter(|s| s.trace_id == trace_id && s.name == "node_call")
        .filter(|s| s.attributes.get("method").map(String::as_str) == Some(method))
        .collect()
}

/// Whether `span` descends from a span named `ancestor` in the same trace.
fn descends_from(spans: &[Span], span: &Span, ancestor: &str) -> bool {
    let mut parent = span.parent_span_id.clone();
    while let Some(p) = spans
        .iter()
        .find(|s| s.span_id == parent && s.trace_id == span.trace_id)
    {
        if p.name == ancestor {
            return true;
        }
        parent = p.parent_span_id.clone();
    }
    false
}

/// A server on each of `ips`; answers their ids.
async fn deploy_one_each(p: &Platform, ips: &[String]) -> Vec<i64> {
    let mut ids = Vec::new();
    for (i, ip) in ips.iter().enumerate() {
        let server = deploy(&p.api, "Trace", &format!("Svc{i}"), ip, 20000).await;
        ids.push(server["id"].as_i64().unwrap());
    }
    ids
}

/// add_task with `traceparent`; answers the task number once it succeeded.
async fn restart_traced(p: &Platform, ids: &[i64], traceparent: &str) -> String {
    let body = json!({"serial": false, "items": ids.iter().map(|id| item(*id, "restart")).collect::<Vec<_>>()});
    let response = p
        .api
        .client()
        .post(p.api.url_for("/api/add_task", &[]))
        .header("traceparent", traceparent)
        .json(&body)
        .send()
        .await
        .unwrap();
    let answer: serde_json::Value = response.json().await.unwrap();
    let task_no = answer["data"].as_str().expect("a task number").to_string();
    let task = wait_task(&p.api, &task_no, LIMIT).await;
    assert_eq!(task["status"], 3, "{task}");
    task_no
}

/// Checks that the run of a two-server restart is in the caller's trace: the task span,
/// its items, and each node's stop and start calls under them.
async fn assert_one_trace(collector: &Collector, trace_id: &str, nodes: usize) {
    let spans = collector
        .wait_for(LIMIT, |spans| {
            node_calls(spans, trace_id, "startServer").len() >= nodes
                && spans
                    .iter()
                    .any(|s| s.trace_id == trace_id && s.name == "task")
        })
        .await;
    let tree = render(
        &spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect::<Vec<_>>(),
    );
    for method in ["stopServer", "startServer"] {
        let calls = node_calls(&spans, trace_id, method);
        assert_eq!(calls.len(), nodes, "{method} per node:\n{tree}");
        for call in calls {
            assert!(
                descends_from(&spans, call, "item"),
                "under an item:\n{tree}"
            );
            assert!(
                descends_from(&spans, call, "task"),
                "under the task:\n{tree}"
            );
            assert!(call.attributes.contains_key("node"), "{call:?}");
            assert!(call.attributes.contains_key("ms"), "{call:?}");
        }
    }
    let http = spans
        .iter()
        .find(|s| s.trace_id == trace_id && s.name == "http")
        .unwrap_or_else(|| panic!("the HTTP request is in the trace:\n{tree}"));
    assert_eq!(
        http.parent_span_id, "00f067aa0ba902b7",
        "the caller's span is its parent"
    );
    println!("{tree}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_mode_runs_a_task_in_the_callers_trace() {
    let collector = Collector::start().await;
    let ips = fresh_ips(2);
    let sim = Simulator::on_free_port(&ips, &[]);
    let mut options = node_env(sim.port, &[]);
    options.env.extend(collector.env());
    let p = Platform::start_with(Backend::Sqlite, options).await;
    let ids = deploy_one_each(&p, &ips).await;
    let (trace_id, traceparent) = caller_trace();
    restart_traced(&p, &ids, &traceparent).await;
    assert_one_trace(&collector, &trace_id, ids.len()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_mode_carries_the_trace_in_the_message_and_runs_in_it() {
    let collector = Collector::start().await;
    let broker = Broker::started();
    let ips = fresh_ips(2);
    let sim = Simulator::on_free_port(&ips, &[]);
    let topic = format!("tasks-trace-{}", std::process::id());
    let mut env = vec![
        ("TARS_KAFKA_BROKERS".to_string(), broker.addr()),
        ("TARS_KAFKA_TOPIC".to_string(), topic.clone()),
        ("TARS_KAFKA_DLQ_TOPIC".to_string(), format!("{topic}-dlq")),
        ("TARS_KAFKA_GROUP".to_string(), format!("{topic}-runners")),
        ("TARS_NODE_PORT".to_string(), sim.port.to_string()),
        ("TARS_NODE_TIMEOUT_MS".to_string(), "3000".to_string()),
    ];
    env.extend(collector.env());
    let p = Platform::start_split(
        Backend::MariaDb,
        PlatformOptions {
            env,
            ..PlatformOptions::default()
        },
    )
    .await;
    let ids = deploy_one_each(&p, &ips).await;
    let (trace_id, traceparent) = caller_trace();
    let task_no = restart_traced(&p, &ids, &traceparent).await;
    assert_one_trace(&collector, &trace_id, ids.len()).await;
    // The message on the topic carries the trace context in its headers.
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.addr())
        .set("group.id", format!("{topic}-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[&topic]).unwrap();
    let header = tokio::time::timeout(LIMIT, async {
        loop {
            let message = consumer.recv().await.unwrap();
            if message.key() != Some(task_no.as_bytes()) {
                continue;
            }
            let headers = message.headers().expect("the message has headers");
            let found = headers
                .iter()
                .find(|h| h.key == "traceparent")
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).to_string());
            return found;
        }
    })
    .await
    .expect("the task's message is on the topic");
    let header = header.expect("a traceparent header");
    assert!(header.contains(&trace_id), "{header}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_and_publish_runs_in_the_callers_trace() {
    let collector = Collector::start().await;
    let ips = fresh_ips(2);
    let sim = Simulator::on_free_port(&ips, &[]);
    let mut options = node_env(sim.port, &[]);
    options.env.extend(collector.env());
    let p = Platform::start_with(Backend::Sqlite, options).await;
    for ip in &ips {
        deploy(&p.api, "Trace", "Pub", ip, 20000).await;
    }
    let work = tempfile::tempdir().unwrap();
    let (package, _) = make_package(work.path(), "Trace.Pub.tgz", 4096);
    let (trace_id, traceparent) = caller_trace();
    let out = std::process::Command::new("curl")
        .args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-H"])
        .arg(format!("traceparent: {traceparent}"))
        .arg(p.api.url_for("/api/upload_and_publish", &[]))
        .args(["-F", &format!("suse=@{}", package.display())])
        .args([
            "-F",
            "application=Trace",
            "-F",
            "module_name=Pub",
            "-F",
            "restart=1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.trim_end().ends_with("200"), "{text}");
    let publish_rpc = |s: &Span| {
        s.trace_id == trace_id
            && s.name == "rpc"
            && s.attributes.get("rpc").map(String::as_str) == Some("Publish")
    };
    let spans = collector
        .wait_for(LIMIT, |spans| {
            node_calls(spans, &trace_id, "patchPro").len() >= ips.len()
                && spans.iter().any(publish_rpc)
        })
        .await;
    for call in node_calls(&spans, &trace_id, "patchPro") {
        assert!(descends_from(&spans, call, "task"), "{}", render(&spans));
    }
}
