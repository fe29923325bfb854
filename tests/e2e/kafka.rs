//! The task queue through a real Kafka-protocol broker (Tansu): tasks wait for the
//! broker, two runners execute each task once, a runner killed mid-task is taken over
//! without repeating finished items, a poison message is parked, and a broker restart
//! loses nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::json;

use crate::common::broker::Broker;
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::tasks::{add_task, item, start_runner, wait_task};
use crate::common::{
    binary, log_line, wait_for_log_line, Backend, Platform, PlatformOptions, Process,
};
use crate::fixtures::deploy;

const LIMIT: Duration = Duration::from_secs(60);

/// What the relay logs (with the task number) when the broker did not take a task.
const FAILED_PUBLISH: &str = "cannot publish task";

fn kafka_env(broker: &Broker, node_port: u16, topic: &str) -> Vec<(String, String)> {
    vec![
        ("TARS_KAFKA_BROKERS".into(), broker.addr()),
        ("TARS_KAFKA_TOPIC".into(), topic.into()),
        ("TARS_KAFKA_DLQ_TOPIC".into(), format!("{topic}-dlq")),
        ("TARS_KAFKA_GROUP".into(), format!("{topic}-runners")),
        ("TARS_NODE_PORT".into(), node_port.to_string()),
        ("TARS_NODE_TIMEOUT_MS".into(), "3000".into()),
        ("TARS_TASK_LEASE_MS".into(), "1500".into()),
        ("TARS_TASK_UNCLAIMED_GRACE_MS".into(), "4000".into()),
        ("TARS_RUNNER_ID".into(), "runner-a".into()),
    ]
}

fn topic_name(test: &str) -> String {
    format!("tasks-{test}-{}", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_stay_queued_while_the_broker_is_down_then_run() {
    let ips = fresh_ips(1);
    let sim = Simulator::on_free_port(&ips, &[]);
    let node_port = sim.port;
    let mut broker = Broker::reserved();
    let options = PlatformOptions {
        env: kafka_env(&broker, node_port, &topic_name("down")),
        ..PlatformOptions::default()
    };
    let p = Platform::start_with(Backend::Sqlite, options).await;
    let id = deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await["id"]
        .as_i64()
        .unwrap();
    let task_no = add_task(&p.api, true, vec![item(id, "start")]).await;
    // Until the relay has tried to publish the task and failed (the broker refuses
    // connections), and after, the task answers exactly {"status": 0}.
    let log = p.dir.path().join("platform.log");
    let publish_failed = [FAILED_PUBLISH, task_no.as_str()];
    let started = Instant::now();
    loop {
        let answer = p.api.get("/api/task", &[("task_no", &task_no)]).await;
        assert_eq!(
            answer.ok(),
            &json!({"status": 0}),
            "a task waiting for the broker answers exactly {{status: 0}}"
        );
        if log_line(&log, &publish_failed).is_some() {
            break;
        }
        assert!(
            started.elapsed() < LIMIT,
            "the relay never tried to publish {task_no}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = p.api.get("/api/task", &[("task_no", &task_no)]).await;
    assert_eq!(answer.ok(), &json!({"status": 0}));
    assert!(sim.calls_of("startServer").is_empty());
    broker.start();
    let t = wait_task(&p.api, &task_no, LIMIT).await;
    assert_eq!(t["status"], 3, "{t}");
    assert_eq!(sim.calls_of("startServer").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_execute_each_of_200_tasks_once() {
    let ips = fresh_ips(5);
    let sim = Simulator::on_free_port(&ips, &[]);
    let node_port = sim.port;
    let broker = Broker::started();
    let options = PlatformOptions {
        env: kafka_env(&broker, node_port, &topic_name("two")),
        ..PlatformOptions::default()
    };
    let p = Platform::start_split(Backend::MariaDb, options).await;
    let _runner_b = start_runner(&p, "runner-b");
    let mut servers = Vec::new();
    for i in 0..50 {
        servers.push(
            deploy(&p.api, "Shop", &format!("S{i}"), &ips[i % 5], 10001).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut tasks = Vec::new();
    for k in 0..200 {
        tasks.push(add_task(&p.api, false, vec![item(servers[k % 50], "start")]).await);
    }
    for t in &tasks {
        let done = wait_task(&p.api, t, LIMIT).await;
        assert_eq!(done["status"], 3, "{done}");
    }
    let starts = sim.calls_of("startServer");
    assert_eq!(starts.len(), 200, "each task ran exactly once");
    let mut per_server: HashMap<String, usize> = HashMap::new();
    for c in &starts {
        *per_server
            .entry(format!("{}@{}", c["server_name"], c["node"]))
            .or_default() += 1;
    }
    assert!(per_server.values().all(|n| *n == 4), "{per_server:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_killed_mid_task_is_taken_over_without_repeating_items() {
    let ips = fresh_ips(6);
    let sim = Simulator::on_free_port(&ips, &["--latency-ms", "400"]);
    let node_port = sim.port;
    let broker = Broker::started();
    let options = PlatformOptions {
        env: kafka_env(&broker, node_port, &topic_name("kill")),
        ..PlatformOptions::default()
    };
    let mut p = Platform::start_split(Backend::MariaDb, options).await;
    let mut items = Vec::new();
    for ip in &ips {
        items.push(item(
            deploy(&p.api, "Shop", "Cart", ip, 10001).await["id"]
                .as_i64()
                .unwrap(),
            "start",
        ));
    }
    let mut runner_b = Some(start_runner(&p, "runner-b"));
    let task_no = add_task(&p.api, true, items).await;
    let started = Instant::now();
    while sim.calls_of("startServer").len() < 2 {
        assert!(started.elapsed() < LIMIT, "the task never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let db = p.db().await;
    let holder = db
        .fetch_text(&format!(
            "SELECT claimed_by FROM t_platform_task_queue WHERE task_no = '{task_no}'"
        ))
        .await
        .expect("the task is claimed");
    // kill -9 the runner that holds the task: the other one takes it over.
    if holder == "runner-a" {
        p.processes[1].kill(); // deployer, task-runner, monitor, gateway
                               // The gateway reads tasks through runner-a's address (in the shared env): put a
                               // runner back there.
        let mut env: Vec<(String, String)> = p
            .env
            .iter()
            .filter(|(k, _)| k != "TARS_RUNNER_ID")
            .cloned()
            .collect();
        env.push(("TARS_RUNNER_ID".into(), "runner-a2".into()));
        let (replacement, _) = Process::spawn(
            "runner-a2",
            &binary("tars-task-runner"),
            &[],
            &env,
            &p.dir.path().join("runner-a2.log"),
        );
        p.processes[1] = replacement;
    } else {
        assert_eq!(holder, "runner-b");
        runner_b.take().unwrap().kill();
    }
    let done_before_kill: Vec<String> = sim
        .calls_of("startServer")
        .iter()
        .map(|c| c["node"].as_str().unwrap().to_string())
        .collect();
    let t = wait_task(&p.api, &task_no, LIMIT).await;
    assert_eq!(t["status"], 3, "the other runner finished the task: {t}");
    let starts: Vec<String> = sim
        .calls_of("startServer")
        .iter()
        .map(|c| c["node"].as_str().unwrap().to_string())
        .collect();
    for node in &done_before_kill {
        assert_eq!(
            starts.iter().filter(|n| *n == node).count(),
            1,
            "{node} had finished and must not run again: {starts:?}"
        );
    }
    for ip in &ips {
        assert!(starts.contains(ip), "{ip} never started: {starts:?}");
    }
    assert!(
        starts.len() <= ips.len() + 1,
        "at most the item in flight ran twice: {starts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_is_parked_and_the_queue_goes_on() {
    let ips = fresh_ips(1);
    let sim = Simulator::on_free_port(&ips, &[]);
    let node_port = sim.port;
    let broker = Broker::started();
    let topic = topic_name("poison");
    let options = PlatformOptions {
        env: kafka_env(&broker, node_port, &topic),
        ..PlatformOptions::default()
    };
    let p = Platform::start_with(Backend::Sqlite, options).await;
    let id = deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await["id"]
        .as_i64()
        .unwrap();
    // The runner creates the topics; a first task proves the queue works.
    assert_eq!(
        wait_task(
            &p.api,
            &add_task(&p.api, true, vec![item(id, "start")]).await,
            LIMIT
        )
        .await["status"],
        3
    );

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.addr())
        .create()
        .unwrap();
    for garbage in [
        &b"not json at all"[..],
        br#"{"task_no": ""}"#,
        br#"{"task_no": "no-such-task"}"#,
    ] {
        producer
            .send(
                FutureRecord::<str, [u8]>::to(&topic)
                    .key("junk")
                    .payload(garbage),
                Duration::from_secs(5),
            )
            .await
            .expect("produce garbage");
    }
    assert_eq!(
        wait_task(
            &p.api,
            &add_task(&p.api, true, vec![item(id, "stop")]).await,
            LIMIT
        )
        .await["status"],
        3
    );

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.addr())
        .set("group.id", "dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&format!("{topic}-dlq")]).unwrap();
    let mut parked = Vec::new();
    let until = Instant::now() + Duration::from_secs(30);
    while parked.len() < 3 && Instant::now() < until {
        if let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(2), consumer.recv()).await {
            let reason = m
                .headers()
                .and_then(|h| h.iter().find(|h| h.key == "reason"))
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).to_string());
            parked.push((
                String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string(),
                reason.unwrap_or_default(),
            ));
        }
    }
    assert_eq!(
        parked.len(),
        3,
        "every bad message reached the dead-letter topic: {parked:?}"
    );
    assert_eq!(parked[0].0, "not json at all");
    assert!(parked[0].1.contains("not a task message"), "{parked:?}");
    assert_eq!(parked[2].1, "no such task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_loses_no_task() {
    let ips = fresh_ips(1);
    let sim = Simulator::on_free_port(&ips, &[]);
    let node_port = sim.port;
    let mut broker = Broker::started();
    let options = PlatformOptions {
        env: kafka_env(&broker, node_port, &topic_name("restart")),
        ..PlatformOptions::default()
    };
    let p = Platform::start_with(Backend::MariaDb, options).await;
    let id = deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        wait_task(
            &p.api,
            &add_task(&p.api, true, vec![item(id, "start")]).await,
            LIMIT
        )
        .await["status"],
        3
    );
    broker.stop();
    let during = add_task(&p.api, true, vec![item(id, "stop")]).await;
    // The relay tried to publish it and failed: the task is still queued.
    let log = p.dir.path().join("platform.log");
    wait_for_log_line(&log, &[FAILED_PUBLISH, &during], LIMIT).await;
    assert_eq!(
        p.api.get("/api/task", &[("task_no", &during)]).await.ok(),
        &json!({"status": 0})
    );
    broker.start();
    assert_eq!(wait_task(&p.api, &during, LIMIT).await["status"], 3);
    let after = add_task(&p.api, true, vec![item(id, "start")]).await;
    assert_eq!(wait_task(&p.api, &after, LIMIT).await["status"], 3);
    assert_eq!(sim.calls_of("stopServer").len(), 1);
    assert_eq!(sim.calls_of("startServer").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_busy_longer_than_the_poll_interval_stays_in_its_group() {
    let ips = fresh_ips(5);
    // The first node never answers startServer: its item takes the whole node timeout,
    // more than twice the consumer's poll interval, while the runner has one slot.
    let sim = Simulator::on_free_port(&ips, &["--hang", &format!("{}:startServer", ips[0])]);
    let node_port = sim.port;
    let broker = Broker::started();
    let mut env = kafka_env(&broker, node_port, &topic_name("longtask"));
    env.retain(|(k, _)| k != "TARS_NODE_TIMEOUT_MS");
    env.extend([
        ("TARS_NODE_TIMEOUT_MS".into(), "8000".into()),
        ("TARS_TASK_MAX_RUNNING".into(), "1".into()),
        ("TARS_KAFKA_MAX_POLL_INTERVAL_MS".into(), "3000".into()),
        ("TARS_KAFKA_SESSION_TIMEOUT_MS".into(), "3000".into()),
    ]);
    let options = PlatformOptions {
        env,
        ..PlatformOptions::default()
    };
    let p = Platform::start_split(Backend::MariaDb, options).await;
    let mut servers = Vec::new();
    for ip in &ips {
        servers.push(
            deploy(&p.api, "Shop", "Cart", ip, 10001).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let log = p.dir.path().join("task-runner.log");
    // The hung task first, and running, so every later message arrives while the
    // runner's only slot is busy.
    let mut tasks = vec![add_task(&p.api, true, vec![item(servers[0], "start")]).await];
    let started = Instant::now();
    loop {
        let t = p.api.get("/api/task", &[("task_no", &tasks[0])]).await;
        if t.ok()["items"][0]["status"] == 2 {
            break;
        }
        assert!(started.elapsed() < LIMIT, "the first task never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for id in &servers[1..] {
        tasks.push(add_task(&p.api, true, vec![item(*id, "start")]).await);
    }
    let mut statuses = Vec::new();
    for t in &tasks {
        statuses.push(
            wait_task(&p.api, t, LIMIT).await["status"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(
        statuses,
        [4, 3, 3, 3, 3],
        "the hung item failed at its timeout, the others ran"
    );
    let mut starts: Vec<String> = sim
        .calls_of("startServer")
        .iter()
        .map(|c| c["node"].as_str().unwrap().to_string())
        .collect();
    starts.sort();
    let mut expected = ips[1..].to_vec();
    expected.sort();
    assert_eq!(starts, expected, "each task ran once");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("kafka: partitions assigned"),
        "the runner joined its group: {text}"
    );
    for evicted in ["maximum poll interval", "partitions revoked"] {
        assert!(
            !text.contains(evicted),
            "the runner must stay in its group while busy, but its log has {evicted:?}:\n{text}"
        );
    }
}
