//! Tasks in the embedded (no-Kafka) queue: every command against simulated nodes,
//! serial stop-on-failure, parallel partial results, one task at a time per instance,
//! validation and listing.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::bulk::finished_task_batches;
use crate::common::packages::upload_package;
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::tasks::{add_task, item, item_statuses, wait_task};
use crate::common::{Backend, Platform, PlatformOptions};
use crate::fixtures::deploy;
use crate::on_every_backend;

const LIMIT: Duration = Duration::from_secs(20);

fn node_env(port: u16) -> PlatformOptions {
    PlatformOptions {
        env: vec![
            ("TARS_NODE_PORT".into(), port.to_string()),
            ("TARS_NODE_TIMEOUT_MS".into(), "2000".into()),
            ("TARS_NODE_CONNECT_TIMEOUT_MS".into(), "500".into()),
            ("TARS_PATCH_TIMEOUT_MS".into(), "3000".into()),
        ],
        ..PlatformOptions::default()
    }
}

async fn every_command_reaches_the_node(backend: Backend) {
    let ips = fresh_ips(1);
    let sim = Simulator::on_free_port(&ips, &[]);
    let port = sim.port;
    let p = Platform::start_with(backend, node_env(port)).await;
    let conf = deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await;
    let id = conf["id"].as_i64().unwrap();
    let sid = id.to_string();
    let setting = |p: &Platform| {
        let api = p.api.clone();
        let sid = sid.clone();
        async move { api.get("/api/server", &[("id", &sid)]).await.ok()["setting_state"].clone() }
    };

    let t = wait_task(
        &p.api,
        &add_task(&p.api, true, vec![item(id, "start")]).await,
        LIMIT,
    )
    .await;
    assert_eq!(t["status"], 3, "{t}");
    assert_eq!(t["serial"], true);
    let it = &t["items"][0];
    assert_eq!(
        (it["status"].as_i64(), it["status_info"].as_str()),
        (Some(3), Some("EM_I_SUCCESS"))
    );
    assert_eq!(it["application"], "Shop");
    assert_eq!(it["node_name"], ips[0].as_str());
    assert_eq!(it["command"], "start");
    assert!(
        it["execute_info"].as_str().unwrap().contains("started"),
        "{it}"
    );
    assert!(
        !it["start_time"].as_str().unwrap().is_empty()
            && !it["end_time"].as_str().unwrap().is_empty()
    );
    assert_eq!(setting(&p).await, "active");
    let state = p.api.get("/api/get_realtime_state", &[("id", &sid)]).await;
    assert_eq!(state.ok()["realtime_state"], "active");

    let t = wait_task(
        &p.api,
        &add_task(&p.api, true, vec![item(id, "stop")]).await,
        LIMIT,
    )
    .await;
    assert_eq!(t["status"], 3);
    assert_eq!(setting(&p).await, "inactive");

    let t = wait_task(
        &p.api,
        &add_task(&p.api, true, vec![item(id, "restart")]).await,
        LIMIT,
    )
    .await;
    assert_eq!(t["status"], 3);
    let t = wait_task(
        &p.api,
        &add_task(&p.api, true, vec![item(id, "grace_restart")]).await,
        LIMIT,
    )
    .await;
    assert_eq!(t["status"], 3);

    let work = tempfile::tempdir().unwrap();
    let (patch_id, md5) = upload_package(&p.api, work.path(), "Shop", "Cart", 100_000);
    let patch = json!({"server_id": id, "command": "patch_tars",
        "parameters": {"patch_id": patch_id.to_string(), "bak_flag": false, "update_text": "release 1"}});
    let t = wait_task(&p.api, &add_task(&p.api, true, vec![patch]).await, LIMIT).await;
    assert_eq!(t["status"], 3, "{t}");
    assert_eq!(t["items"][0]["parameters"]["update_text"], "release 1");
    let server = p.api.get("/api/server", &[("id", &sid)]).await.ok().clone();
    assert_eq!(server["patch_version"], patch_id.to_string());
    assert!(!server["patch_time"].as_str().unwrap().is_empty());
    let patch_calls = sim.calls_of("patchPro");
    assert_eq!(patch_calls.len(), 1);
    let downloads = sim.calls_of("download");
    assert_eq!(downloads.len(), 1, "the node fetched the package");
    assert_eq!(downloads[0]["md5"], md5.as_str());
    assert_eq!(
        patch_calls[0]["command"],
        patch_id.to_string(),
        "the node was asked for that version"
    );

    // A backup instance is patched but not restarted.
    let starts_before = sim.calls_of("startServer").len();
    let backup = json!({"server_id": id, "command": "patch_tars",
        "parameters": {"patch_id": patch_id, "bak_flag": true, "update_text": "backup"}});
    assert_eq!(
        wait_task(&p.api, &add_task(&p.api, true, vec![backup]).await, LIMIT).await["status"],
        3
    );
    assert_eq!(sim.calls_of("startServer").len(), starts_before);

    // Undeploy refuses a running server, then removes a stopped one.
    let t = wait_task(
        &p.api,
        &add_task(&p.api, true, vec![item(id, "undeploy_tars")]).await,
        LIMIT,
    )
    .await;
    assert_eq!(t["status"], 4, "a running server is not undeployed: {t}");
    assert!(t["items"][0]["execute_info"]
        .as_str()
        .unwrap()
        .contains("stop it before undeploying"));
    wait_task(
        &p.api,
        &add_task(&p.api, true, vec![item(id, "stop")]).await,
        LIMIT,
    )
    .await;
    let t = wait_task(
        &p.api,
        &add_task(&p.api, true, vec![item(id, "undeploy_tars")]).await,
        LIMIT,
    )
    .await;
    assert_eq!(t["status"], 3, "{t}");
    p.api
        .get("/api/server", &[("id", &sid)])
        .await
        .err(404, "no server");
    assert_eq!(sim.calls_of("destroyServer").len(), 1);
    // Progress polls and the node's own download happen as often as timing makes them;
    // the commands around them are what this checks.
    let mut methods: Vec<String> = sim
        .calls()
        .iter()
        .map(|c| c["method"].as_str().unwrap().to_string())
        .filter(|m| m != "download")
        .collect();
    methods.dedup_by(|a, b| a == "getPatchPercent" && b == "getPatchPercent");
    assert_eq!(
        methods,
        [
            "startServer",
            "getStateInfo",
            "stopServer",
            "stopServer",
            "startServer",
            "notifyServer",
            "patchPro",
            "getPatchPercent",
            "stopServer",
            "startServer",
            "patchPro",
            "getPatchPercent",
            "getStateInfo",
            "stopServer",
            "getStateInfo",
            "destroyServer"
        ]
    );
}

async fn serial_stops_at_the_first_failure(backend: Backend) {
    let ips = fresh_ips(3);
    let sim = Simulator::on_free_port(&ips, &["--fail", &format!("{}:startServer", ips[1])]);
    let port = sim.port;
    let p = Platform::start_with(backend, node_env(port)).await;
    let mut items = Vec::new();
    for ip in &ips {
        items.push(item(
            deploy(&p.api, "Shop", "Cart", ip, 10001).await["id"]
                .as_i64()
                .unwrap(),
            "start",
        ));
    }
    let t = wait_task(&p.api, &add_task(&p.api, true, items).await, LIMIT).await;
    assert_eq!(item_statuses(&t), vec![3, 4, 5]);
    assert_eq!(
        t["status"], 6,
        "success, failure and cancellation mixed is partial"
    );
    assert_eq!(t["items"][2]["status_info"], "EM_I_CANCEL");
    assert!(t["items"][1]["execute_info"]
        .as_str()
        .unwrap()
        .contains("injected failure"));
    let started: Vec<Value> = sim.calls_of("startServer");
    assert_eq!(started.len(), 2, "the item after the failure never ran");
    assert!(started.iter().all(|c| c["node"] != ips[2].as_str()));
}

async fn parallel_runs_every_item_and_reports_partial(backend: Backend) {
    let ips = fresh_ips(4);
    // The first node never answers startServer (its item fails at the node timeout), the
    // last one fails it at once.
    let sim = Simulator::on_free_port(
        &ips,
        &[
            "--hang",
            &format!("{}:startServer", ips[0]),
            "--fail",
            &format!("{}:startServer", ips[3]),
        ],
    );
    let port = sim.port;
    let p = Platform::start_with(backend, node_env(port)).await;
    let mut items = Vec::new();
    for ip in &ips {
        items.push(item(
            deploy(&p.api, "Shop", "Cart", ip, 10001).await["id"]
                .as_i64()
                .unwrap(),
            "start",
        ));
    }
    let task_no = add_task(&p.api, false, items).await;
    // In parallel, the other items finish while the first is still waiting for its node;
    // run one after another they could not.
    let started = std::time::Instant::now();
    loop {
        let t = p
            .api
            .get("/api/task", &[("task_no", &task_no)])
            .await
            .ok()
            .clone();
        if t["items"].is_array() {
            let statuses = item_statuses(&t);
            if statuses[1..] == [3, 3, 4] {
                assert_eq!(statuses[0], 2, "the hung item is still running: {t}");
                break;
            }
        }
        assert!(
            started.elapsed() < LIMIT,
            "the other items never finished: {t}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t = wait_task(&p.api, &task_no, LIMIT).await;
    assert_eq!(item_statuses(&t), vec![4, 3, 3, 4]);
    assert_eq!(t["status"], 6);
    assert_eq!(t["serial"], false);
    assert_eq!(
        sim.calls_of("startServer").len(),
        3,
        "the hung call is never logged"
    );
}

async fn one_task_at_a_time_per_instance(backend: Backend) {
    let ips = fresh_ips(1);
    let sim = Simulator::on_free_port(&ips, &["--latency-ms", "150"]);
    let port = sim.port;
    let p = Platform::start_with(backend, node_env(port)).await;
    let id = deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await["id"]
        .as_i64()
        .unwrap();
    let (a, b) = tokio::join!(
        add_task(&p.api, false, vec![item(id, "restart")]),
        add_task(&p.api, false, vec![item(id, "restart")])
    );
    wait_task(&p.api, &a, LIMIT).await;
    wait_task(&p.api, &b, LIMIT).await;
    let methods: Vec<String> = sim
        .calls()
        .iter()
        .map(|c| c["method"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        methods,
        ["stopServer", "startServer", "stopServer", "startServer"],
        "the second task waited"
    );
}

async fn add_task_validates_before_accepting(backend: Backend) {
    let p = Platform::start(backend).await;
    let id = deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await["id"]
        .as_i64()
        .unwrap();
    let post = |body: Value| {
        let api = p.api.clone();
        async move { api.post_json("/api/add_task", &body).await }
    };
    post(json!({"serial": true, "items": []}))
        .await
        .err(400, "items");
    post(json!({"serial": true}))
        .await
        .err(400, "`items` is required");
    post(json!({"items": [{"server_id": 424242, "command": "start"}]}))
        .await
        .err(404, "424242");
    post(json!({"items": [{"server_id": id, "command": "explode"}]}))
        .await
        .err(400, "explode");
    post(json!({"items": [{"command": "start"}]}))
        .await
        .err(400, "`items[0].server_id` is required");
    post(json!({"items": [{"server_id": "x1", "command": "start"}]}))
        .await
        .err(400, "items[0].server_id");
    post(json!({"items": [{"server_id": id, "command": "patch_tars", "parameters": {"bak_flag": false, "update_text": ""}}]}))
        .await
        .err(400, "patch_id");
    post(json!({"items": [{"server_id": id, "command": "patch_tars", "parameters": {"patch_id": "77", "bak_flag": false, "update_text": ""}}]}))
        .await
        .err(404, "no package with id 77");
    // TARS's t_task_item holds 30 characters of application: such a server is refused
    // the same way on both databases.
    let long_app = "A".repeat(31);
    let long_id = deploy(&p.api, &long_app, "Cart", "10.0.0.5", 10002).await["id"]
        .as_i64()
        .unwrap();
    let too_long = post(json!({"items": [{"server_id": long_id, "command": "start"}]}))
        .await
        .err(400, "t_task_item.application holds 30");
    assert!(too_long.contains(&long_app), "{too_long}");
    // One instance twice would run concurrently (parallel) or contend for its lock.
    let twice = post(json!({"items": [
        {"server_id": id, "command": "start"},
        {"server_id": id, "command": "stop"}
    ]}))
    .await
    .err(400, "same server instance more than once");
    assert!(twice.contains(&format!("server ids {id}, {id}")), "{twice}");
    // A package built for another server is refused before anything reaches a node.
    let work = tempfile::tempdir().unwrap();
    let (other_package, _) = upload_package(&p.api, work.path(), "Shop", "Other", 1000);
    let refused = post(json!({"items": [{"server_id": id, "command": "patch_tars",
        "parameters": {"patch_id": other_package, "bak_flag": false, "update_text": ""}}]}))
    .await
    .err(400, "items[0].parameters.patch_id");
    assert!(
        refused.contains(&format!("package {other_package}"))
            && refused.contains("Shop.Other")
            && refused.contains("Shop.Cart"),
        "{refused}"
    );
    p.api
        .post_raw(
            "/api/add_task",
            "application/x-www-form-urlencoded",
            "serial=true",
        )
        .await
        .err(415, "application/json");
    p.api
        .send(p.api.client().get(p.api.url_for("/api/add_task", &[])))
        .await
        .err(405, "POST");
    p.api
        .get("/api/task", &[("task_no", "nope")])
        .await
        .err(404, "no task nope");
    p.api
        .get("/api/task", &[])
        .await
        .err(400, "`task_no` is required");
    assert_eq!(
        p.api.get("/api/task_list", &[]).await.ok(),
        &json!([]),
        "nothing refused was written"
    );
}

async fn task_list_filters_and_pages(backend: Backend) {
    let ips = fresh_ips(2);
    let sim = Simulator::on_free_port(&ips, &[]);
    let port = sim.port;
    let p = Platform::start_with(backend, node_env(port)).await;
    let cart = deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await["id"]
        .as_i64()
        .unwrap();
    let blog = deploy(&p.api, "Blog", "Posts", &ips[1], 10002).await["id"]
        .as_i64()
        .unwrap();
    let t1 = add_task(&p.api, true, vec![item(cart, "start")]).await;
    let t2 = add_task(&p.api, true, vec![item(blog, "start")]).await;
    let t3 = add_task(&p.api, true, vec![item(cart, "stop")]).await;
    for t in [&t1, &t2, &t3] {
        wait_task(&p.api, t, LIMIT).await;
    }
    let list = |q: Vec<(&'static str, String)>| {
        let api = p.api.clone();
        async move {
            let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let data = api.get("/api/task_list", &q).await.ok().clone();
            data.as_array()
                .unwrap()
                .iter()
                .map(|t| t["task_no"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(vec![]).await,
        vec![t3.clone(), t2.clone(), t1.clone()],
        "newest first"
    );
    assert_eq!(
        list(vec![("application", "Shop".into())]).await,
        vec![t3.clone(), t1.clone()]
    );
    assert_eq!(
        list(vec![("command", "stop".into())]).await,
        vec![t3.clone()]
    );
    assert_eq!(
        list(vec![("server_name", "Posts".into())]).await,
        vec![t2.clone()]
    );
    assert_eq!(
        list(vec![("curr_page", "2".into()), ("page_size", "2".into())]).await,
        vec![t1.clone()]
    );
    assert_eq!(
        list(vec![
            ("from", "2000-01-01".into()),
            ("to", "2000-12-31".into())
        ])
        .await,
        Vec::<String>::new()
    );
    assert_eq!(list(vec![("from", "2000-01-01".into())]).await.len(), 3);
    p.api
        .get("/api/task_list", &[("from", "yesterday")])
        .await
        .err(400, "`from`");
    let full = p
        .api
        .get("/api/task_list", &[("command", "stop")])
        .await
        .ok()
        .clone();
    assert_eq!(full[0]["items"][0]["command"], "stop");
    assert_eq!(full[0]["status"], 3);
}

/// Writes `n` finished one-item tasks straight into the tables, in batches.
async fn insert_finished_tasks(p: &Platform, n: usize) {
    let db = p.db().await;
    for statement in finished_task_batches(n) {
        db.execute(&statement).await;
    }
}

async fn task_list_pages_through_twenty_thousand_tasks(backend: Backend) {
    let p = Platform::start(backend).await;
    const N: usize = 20_000;
    insert_finished_tasks(&p, N).await;
    let page = |q: Vec<(&'static str, String)>| {
        let api = p.api.clone();
        async move {
            let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
            api.get("/api/task_list", &q).await
        }
    };
    let first = page(vec![]).await;
    let first = first.ok().as_array().unwrap().clone();
    assert_eq!(first.len(), 20, "no paging asked: the first page of 20");
    assert_eq!(first[0]["task_no"], "bulk019999", "newest first");
    assert_eq!(first[0]["status"], 3);
    assert_eq!(first[0]["items"][0]["status_info"], "EM_I_SUCCESS");
    page(vec![("page_size", "1001".into())])
        .await
        .err(400, "`page_size` must be between 1 and 1000");
    page(vec![("curr_page", "-1".into())])
        .await
        .err(400, "`curr_page`");
    let mut seen = std::collections::HashSet::new();
    let mut previous: Option<String> = None;
    for n in 1..=21 {
        let answer = page(vec![
            ("curr_page", n.to_string()),
            ("page_size", "1000".into()),
        ])
        .await;
        let rows = answer.ok().as_array().unwrap().clone();
        if n == 21 {
            assert!(rows.is_empty(), "past the end: an empty page");
            break;
        }
        assert_eq!(rows.len(), 1000, "page {n}");
        for row in rows {
            let task_no = row["task_no"].as_str().unwrap().to_string();
            assert_eq!(row["items"].as_array().unwrap().len(), 1);
            if let Some(prev) = &previous {
                assert!(task_no < *prev, "newest first across pages");
            }
            previous = Some(task_no.clone());
            assert!(seen.insert(task_no), "a task on two pages");
        }
    }
    assert_eq!(seen.len(), N, "paging walks every task");
    let filtered = page(vec![
        ("server_name", "S3".into()),
        ("page_size", "1000".into()),
        ("curr_page", "3".into()),
    ])
    .await;
    let filtered = filtered.ok().as_array().unwrap().clone();
    let matching = (0..N).filter(|k| k % 7 == 3).count();
    assert_eq!(filtered.len(), matching - 2000, "filters page too");
    assert!(filtered
        .iter()
        .all(|t| t["items"][0]["server_name"] == "S3"));
}

on_every_backend!(
    every_command_reaches_the_node,
    serial_stops_at_the_first_failure,
    parallel_runs_every_item_and_reports_partial,
    one_task_at_a_time_per_instance,
    add_task_validates_before_accepting,
    task_list_filters_and_pages,
    task_list_pages_through_twenty_thousand_tasks,
);
