//! The task engine under faults: a database that refuses to start items, and a runner
//! paused past its lease while another takes its task over. Tasks end, instances are
//! never left locked, and no item runs twice.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::db::DirectDb;
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::tasks::{add_task, item, item_statuses, start_runner, wait_task};
use crate::common::{Backend, Platform, PlatformOptions};
use crate::fixtures::deploy;
use crate::on_every_backend;

const LIMIT: Duration = Duration::from_secs(30);

fn env(node_port: u16, extra: &[(&str, &str)]) -> PlatformOptions {
    let mut env: Vec<(String, String)> = vec![
        ("TARS_NODE_PORT".into(), node_port.to_string()),
        ("TARS_NODE_TIMEOUT_MS".into(), "2000".into()),
        ("TARS_NODE_CONNECT_TIMEOUT_MS".into(), "500".into()),
        ("TARS_TASK_LEASE_MS".into(), "1500".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    PlatformOptions {
        env,
        ..PlatformOptions::default()
    }
}

/// Makes the database refuse to mark any item running, as a store that fails on demand.
async fn refuse_item_starts(db: &DirectDb) {
    if db.is_mysql() {
        db.execute_raw(
            "CREATE TRIGGER refuse_item_start BEFORE UPDATE ON t_task_item FOR EACH ROW \
             BEGIN IF NEW.status = 2 THEN SIGNAL SQLSTATE '45000' \
             SET MESSAGE_TEXT = 'injected fault: items cannot start'; END IF; END",
        )
        .await;
    } else {
        db.execute_raw(
            "CREATE TRIGGER refuse_item_start BEFORE UPDATE OF status ON t_task_item \
             WHEN NEW.status = 2 BEGIN SELECT RAISE(ABORT, 'injected fault: items cannot start'); END",
        )
        .await;
    }
}

async fn an_item_that_cannot_start_ends_its_task_and_frees_the_instance(backend: Backend) {
    let ips = fresh_ips(1);
    let sim = Simulator::on_free_port(&ips, &[]);
    let port = sim.port;
    let p = Platform::start_with(backend, env(port, &[("TARS_TASK_MAX_RETRIES", "1")])).await;
    let id = deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await["id"]
        .as_i64()
        .unwrap();
    let db = p.db().await;
    refuse_item_starts(&db).await;

    let doomed = wait_task(
        &p.api,
        &add_task(&p.api, true, vec![item(id, "start")]).await,
        LIMIT,
    )
    .await;
    assert_eq!(doomed["status"], 4, "the task ended failed: {doomed}");
    let info = doomed["items"][0]["execute_info"].as_str().unwrap();
    assert!(
        info.contains("gave up after 2 failed attempts") && info.contains("injected fault"),
        "the reason is in execute_info: {info}"
    );
    assert!(
        sim.calls_of("startServer").is_empty(),
        "the node was never called"
    );
    assert_eq!(
        db.fetch_i64("SELECT COUNT(*) FROM t_platform_instance_lock")
            .await,
        Some(0),
        "no instance lock outlives the task"
    );

    db.execute_raw("DROP TRIGGER refuse_item_start").await;
    let next = wait_task(
        &p.api,
        &add_task(&p.api, true, vec![item(id, "start")]).await,
        LIMIT,
    )
    .await;
    assert_eq!(
        next["status"], 3,
        "the next task on the instance runs: {next}"
    );
    assert_eq!(sim.calls_of("startServer").len(), 1);
}

async fn queue_holder(db: &DirectDb, task_no: &str) -> Option<String> {
    db.fetch_text(&format!(
        "SELECT claimed_by FROM t_platform_task_queue WHERE task_no = '{task_no}'"
    ))
    .await
}

/// Waits (reading the database: the paused runner cannot answer the API) until `check`
/// holds.
async fn wait_db<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < LIMIT, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_runner_paused_past_its_lease_repeats_nothing(backend: Backend) {
    let ips = fresh_ips(3);
    let sim = Simulator::on_free_port(&ips, &[]);
    let port = sim.port;
    let mut p = Platform::start_split(backend, env(port, &[("TARS_RUNNER_ID", "runner-a")])).await;
    let mut items = Vec::new();
    for ip in &ips {
        items.push(item(
            deploy(&p.api, "Shop", "Cart", ip, 10001).await["id"]
                .as_i64()
                .unwrap(),
            "start",
        ));
    }
    // Another tool holds the second instance: the task stops between items, before any
    // node call for item 1, so pausing the runner there is deterministic.
    let db = p.db().await;
    let blocked = format!("Shop.Cart@{}", ips[1]);
    db.execute(&format!(
        "INSERT INTO t_platform_instance_lock (instance, holder, lease_until) \
         VALUES ('{blocked}', 'operator-maintenance', '2100-01-01 00:00:00')"
    ))
    .await;
    let task_no = add_task(&p.api, true, items).await;
    let first_done =
        format!("SELECT COUNT(*) FROM t_task_item WHERE task_no = '{task_no}' AND status = 3");
    wait_db("the first item's end", || async {
        db.fetch_i64(&first_done).await == Some(1)
    })
    .await;
    assert_eq!(
        queue_holder(&db, &task_no).await.as_deref(),
        Some("runner-a")
    );

    let runner_a = p.processes[1].pid().to_string();
    let signal = |sig: &str| {
        let status = std::process::Command::new("kill")
            .args([sig, &runner_a])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig} failed");
    };
    signal("-STOP");
    let _runner_b = start_runner(&p, "runner-b");
    wait_db("runner-b's takeover", || async {
        queue_holder(&db, &task_no).await.as_deref() == Some("runner-b")
    })
    .await;
    db.execute(&format!(
        "DELETE FROM t_platform_instance_lock WHERE instance = '{blocked}'"
    ))
    .await;
    let finished = format!(
        "SELECT COUNT(*) FROM t_platform_task_queue WHERE task_no = '{task_no}' AND finished_at IS NOT NULL"
    );
    wait_db("runner-b finishing the task", || async {
        db.fetch_i64(&finished).await == Some(1)
    })
    .await;

    signal("-CONT");
    // Resumed, runner-a either notices it lost the task or (the defect this guards
    // against) carries on with the items it had read: wait for whichever comes first.
    let log = p.dir.path().join("task-runner.log");
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("another runner holds the task now")
            || sim.calls_of("startServer").len() > 3
        {
            break;
        }
        assert!(started.elapsed() < LIMIT, "runner-a never resumed:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // runner-a answers the gateway again; the task is what runner-b made of it.
    let t: Value = wait_task(&p.api, &task_no, LIMIT).await;
    assert_eq!(item_statuses(&t), vec![3, 3, 3], "{t}");
    assert_eq!(
        queue_holder(&db, &task_no).await.as_deref(),
        Some("runner-b")
    );
    let mut starts: Vec<String> = sim
        .calls_of("startServer")
        .iter()
        .map(|c| c["node"].as_str().unwrap().to_string())
        .collect();
    starts.sort();
    let mut expected = ips.clone();
    expected.sort();
    assert_eq!(starts, expected, "every item ran exactly once");
    p.processes[1].kill();
}

on_every_backend!(
    an_item_that_cannot_start_ends_its_task_and_frees_the_instance,
    a_runner_paused_past_its_lease_repeats_nothing,
);
