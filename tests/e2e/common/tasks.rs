//! Helpers for task tests: submitting tasks and waiting for them to end.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{binary, Api, Platform, Process};

/// Submits a task and answers its number.
pub async fn add_task(api: &Api, serial: bool, items: Vec<Value>) -> String {
    let answer = api
        .post_json("/api/add_task", &json!({"serial": serial, "items": items}))
        .await;
    answer.ok().as_str().expect("task number").to_string()
}

/// One item.
pub fn item(server_id: i64, command: &str) -> Value {
    json!({"server_id": server_id, "command": command, "parameters": {}})
}

/// Polls /api/task until the task ends (status 3-6) or `limit` passes.
pub async fn wait_task(api: &Api, task_no: &str, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let answer = api.get("/api/task", &[("task_no", task_no)]).await;
        let data = answer.ok().clone();
        if let Some(status) = data["status"].as_i64() {
            if (3..=6).contains(&status) {
                return data;
            }
        }
        assert!(
            started.elapsed() < limit,
            "task {task_no} did not end within {limit:?}: {data}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Item statuses of a task answer.
pub fn item_statuses(task: &Value) -> Vec<i64> {
    task["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_i64().unwrap())
        .collect()
}

/// Starts another task-runner process on the platform's database (and broker, if any)
/// as `id`, with its own gRPC port; its log is `<id>.log` in the platform's directory.
pub fn start_runner(p: &Platform, id: &str) -> Process {
    let mut env: Vec<(String, String)> = p
        .env
        .iter()
        .filter(|(k, _)| k != "TARS_RUNNER_ID" && k != "TARS_TASK_RUNNER_GRPC_ADDR")
        .cloned()
        .collect();
    env.push(("TARS_RUNNER_ID".into(), id.into()));
    env.push((
        "TARS_TASK_RUNNER_GRPC_ADDR".into(),
        "127.0.0.1:0".to_string(),
    ));
    let (process, _) = Process::spawn(
        id,
        &binary("tars-task-runner"),
        &[],
        &env,
        &p.dir.path().join(format!("{id}.log")),
    );
    process
}
