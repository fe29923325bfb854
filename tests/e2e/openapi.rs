//! The OpenAPI document against a running platform: it is served without a ticket (and
//! so is its page), and every documented example request, run in the document's order
//! on a fresh platform with simulated nodes, answers as documented: the success status,
//! with a body the operation's response schema accepts.
//!
//! The examples name nodes 10.0.0.5 and 10.0.0.6 and a made-up task number; the test
//! stands loopback nodes of its own and the task `add_task` answered in for them, and
//! the query-server double for the monitoring examples, and a machine behind a real sshd
//! (10.0.0.8 in the examples) for install_tars_node and uninstall_tars_node.
//! Before the examples, it adds the application-level file `add_config_ref`'s example
//! refers to (file 1), which no other example creates.

use serde_json::{json, Value};

use crate::common::packages::{curl, make_package, node_env};
use crate::common::query_sim::QuerySim;
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::sshd::{resource_env, Machines, Sshd};
use crate::common::tasks::wait_task;
use crate::common::{Backend, Platform};

const EXAMPLE_NODES: [&str; 2] = ["10.0.0.5", "10.0.0.6"];
const EXAMPLE_TASK: &str = "019a1b2c3d4e5f60a1b2";
/// The machine the 资源 examples install tarsnode on and remove it from.
const EXAMPLE_MACHINE: &str = "10.0.0.8";

/// An example value as query-string or form text.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The schema of an operation's success answer, with the document's components so
/// that its references resolve.
fn success_schema(doc: &Value, op: &Value, content_type: &str) -> Value {
    let mut schema = op["responses"]["200"]["content"][content_type]["schema"].clone();
    assert!(schema.is_object(), "no {content_type} success schema: {op}");
    schema["components"] = doc["components"].clone();
    schema
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_example_answers_as_documented() {
    let ips = fresh_ips(3);
    let sim = Simulator::on_free_port(&ips[..2], &[]);
    let queries = QuerySim::start(&[]);
    // The 资源 examples install onto a machine of their own, over a real sshd.
    let machine = ips[2].clone();
    let sshd = Sshd::start(std::slice::from_ref(&machine));
    let machines = Machines::new(vec![machine.clone()]);
    let known_hosts = sshd.known_hosts("known_hosts", std::slice::from_ref(&machine));
    let mut options = node_env(sim.port, &queries.env());
    options
        .env
        .extend(resource_env(&machines, &sshd, &sshd.user_key, &known_hosts));
    options.env.push((
        "TARS_REGISTRY_LOCATOR".into(),
        "tcp -h 127.0.0.1 -p 17890".into(),
    ));
    let p = Platform::start_with(Backend::Sqlite, options).await;
    let client = p.api.client().clone();

    let doc: Value = client
        .get(format!("{}/api/openapi.json", p.api.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .expect("the document, without a ticket");
    assert_eq!(doc["openapi"], "3.1.0");
    let page = client
        .get(format!("{}/api/docs/", p.api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger"));

    p.api
        .post_json(
            "/api/add_config_file",
            &json!({"level": 1, "application": "Shop", "filename": "shop.conf", "config": "a=1"}),
        )
        .await
        .ok();

    let work = tempfile::tempdir().unwrap();
    let (package, _) = make_package(work.path(), "Cart.tgz", 4096);
    let mut task_no = String::new();
    let mut ran = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let substitute = |text: &str| {
            let mut text = text
                .replace(EXAMPLE_NODES[0], &ips[0])
                .replace(EXAMPLE_NODES[1], &ips[1])
                .replace(EXAMPLE_MACHINE, &machine);
            if !task_no.is_empty() {
                text = text.replace(EXAMPLE_TASK, &task_no);
            }
            text
        };
        // One method per endpoint: its GET when it has one, so that no example runs twice.
        let (method, op) = match item.get("get") {
            Some(op) => ("get", op),
            None => ("post", &item["post"]),
        };
        let url = p.api.url_for(path, &[]);
        let (status, body, content_type) = if method == "get" {
            let query: Vec<(String, String)> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|parameter| {
                    let example = parameter.get("example")?;
                    let name = parameter["name"].as_str().unwrap().to_string();
                    Some((name, substitute(&as_text(example))))
                })
                .collect();
            let r = client.get(&url).query(&query).send().await.unwrap();
            (
                r.status().as_u16(),
                r.text().await.unwrap(),
                "application/json",
            )
        } else if let Some(form) = op["requestBody"]["content"].get("multipart/form-data") {
            let fields: Vec<(&str, String)> = form["example"]
                .as_object()
                .unwrap_or_else(|| panic!("{path}: no example"))
                .iter()
                .map(|(name, value)| match name.as_str() {
                    "suse" => ("suse", format!("@{}", package.display())),
                    _ => (name.as_str(), substitute(&as_text(value))),
                })
                .collect();
            let (status, body) = curl(&url, &fields);
            let text = op["responses"]["200"]["content"]
                .get("text/plain")
                .is_some();
            let content_type = if text {
                "text/plain"
            } else {
                "application/json"
            };
            (status, body, content_type)
        } else {
            let example = &op["requestBody"]["content"]["application/json"]["example"];
            let body = match example {
                Value::Null => json!({}),
                example => serde_json::from_str(&substitute(&example.to_string())).unwrap(),
            };
            let r = client.post(&url).json(&body).send().await.unwrap();
            (
                r.status().as_u16(),
                r.text().await.unwrap(),
                "application/json",
            )
        };
        assert_eq!(status, 200, "{method} {path}: {body}");
        let schema = success_schema(&doc, op, content_type);
        let answer = match content_type {
            "text/plain" => Value::String(body.clone()),
            _ => serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}")),
        };
        if let Err(fault) = jsonschema::validate(&schema, &answer) {
            panic!("{method} {path} answered {answer}, which its schema refuses: {fault}");
        }
        if path == "/api/add_task" {
            task_no = answer["data"].as_str().unwrap().to_string();
            // The examples after it (publish) need the instance it starts to be active.
            wait_task(&p.api, &task_no, std::time::Duration::from_secs(30)).await;
        }
        ran += 1;
    }
    assert_eq!(ran, doc["paths"].as_object().unwrap().len());
}
