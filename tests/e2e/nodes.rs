//! Endpoints that talk to tarsnode synchronously: load_server, send_command,
//! get_realtime_state — against tarsnode-sim, including nodes that refuse, hang or fail.

use std::time::Instant;

use serde_json::json;

use crate::common::ports::ReservedPort;
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::{Backend, Platform, PlatformOptions};
use crate::fixtures::deploy;
use crate::on_every_backend;

fn node_env(port: u16, timeout_ms: u64) -> PlatformOptions {
    PlatformOptions {
        env: vec![
            ("TARS_NODE_PORT".into(), port.to_string()),
            ("TARS_NODE_TIMEOUT_MS".into(), timeout_ms.to_string()),
            ("TARS_NODE_CONNECT_TIMEOUT_MS".into(), "500".into()),
        ],
        ..PlatformOptions::default()
    }
}

async fn load_server_and_realtime_state(backend: Backend) {
    let ips = fresh_ips(2);
    let sim = Simulator::on_free_port(&ips[..1], &[]);
    let port = sim.port;
    let p = Platform::start_with(backend, node_env(port, 1000)).await;
    let conf = deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await;
    let id = conf["id"].as_i64().unwrap().to_string();

    // Before the node knows the server it has no state for it: the node's failure is a 502.
    p.api
        .get("/api/get_realtime_state", &[("id", &id)])
        .await
        .err(502, &ips[0]);

    let loaded = p
        .api
        .get(
            "/api/load_server",
            &[
                ("application", "Shop"),
                ("server_name", "Cart"),
                ("node_name", &ips[0]),
            ],
        )
        .await;
    assert_eq!(
        loaded.ok(),
        &json!(format!("Shop.Cart loaded on {}", ips[0]))
    );
    let calls = sim.calls_of("loadServer");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["node"], ips[0].as_str());
    assert_eq!(calls[0]["application"], "Shop");
    assert_eq!(calls[0]["server_name"], "Cart");

    let state = p.api.get("/api/get_realtime_state", &[("id", &id)]).await;
    assert_eq!(state.ok(), &json!({"realtime_state": "inactive"}));
    assert_eq!(sim.calls_of("getStateInfo").len(), 2);

    p.api
        .get("/api/get_realtime_state", &[("id", "987654")])
        .await
        .err(404, "987654");
    p.api
        .get(
            "/api/load_server",
            &[
                ("application", "Shop"),
                ("server_name", "Nope"),
                ("node_name", &ips[0]),
            ],
        )
        .await
        .err(404, "not deployed");
    p.api
        .get(
            "/api/load_server",
            &[("application", "Shop"), ("server_name", "Cart")],
        )
        .await
        .err(400, "`node_name` is required");

    // A deployed instance whose node runs no tarsnode: 503 naming the node.
    let orphan = deploy(&p.api, "Shop", "Cart", &ips[1], 10001).await;
    let message = p
        .api
        .get(
            "/api/get_realtime_state",
            &[("id", &orphan["id"].as_i64().unwrap().to_string())],
        )
        .await
        .err(503, &ips[1]);
    assert!(message.contains("unreachable"), "{message}");
}

async fn send_command_reports_each_node_on_its_own(backend: Backend) {
    let ips = fresh_ips(4);
    let (ok_ip, refused_ip, hang_ip, fail_ip) = (&ips[0], &ips[1], &ips[2], &ips[3]);
    let served = vec![ok_ip.clone(), hang_ip.clone(), fail_ip.clone()];
    let sim = Simulator::on_free_port(
        &served,
        &[
            "--hang",
            hang_ip,
            "--fail",
            &format!("{fail_ip}:notifyServer"),
        ],
    );
    let port = sim.port;
    let p = Platform::start_with(backend, node_env(port, 800)).await;
    let mut ids = Vec::new();
    for ip in [ok_ip, refused_ip, hang_ip, fail_ip] {
        ids.push(
            deploy(&p.api, "Shop", "Cart", ip, 10001).await["id"]
                .as_i64()
                .unwrap()
                .to_string(),
        );
    }
    let started = Instant::now();
    let answer = p
        .api
        .get(
            "/api/send_command",
            &[
                ("server_ids", &ids.join(";")),
                ("command", "tars.setloglevel DEBUG"),
            ],
        )
        .await;
    let rows = answer.ok().as_array().unwrap().clone();
    assert!(
        started.elapsed().as_secs() < 4,
        "a hanging node costs its timeout, not more"
    );
    assert_eq!(rows.len(), 4);
    let nodes: Vec<&str> = rows
        .iter()
        .map(|r| r["node_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        nodes,
        vec![ok_ip.as_str(), refused_ip, hang_ip, fail_ip],
        "rows keep the order of server_ids"
    );
    for row in &rows {
        assert_eq!(row["application"], "Shop");
        assert_eq!(row["server_name"], "Cart");
    }
    assert_eq!(rows[0]["ret_code"], 0);
    assert_eq!(rows[0]["err_msg"], "[notify] tars.setloglevel DEBUG: done");
    assert_eq!(rows[1]["ret_code"], -1);
    assert!(
        rows[1]["err_msg"].as_str().unwrap().contains("refused"),
        "{}",
        rows[1]
    );
    assert_eq!(rows[2]["ret_code"], -1);
    assert!(
        rows[2]["err_msg"]
            .as_str()
            .unwrap()
            .contains("did not answer within 800 ms"),
        "{}",
        rows[2]
    );
    assert_eq!(rows[3]["ret_code"], -1);
    assert!(
        rows[3]["err_msg"]
            .as_str()
            .unwrap()
            .contains("injected failure"),
        "{}",
        rows[3]
    );

    let notified = sim.calls_of("notifyServer");
    let mut notified_nodes: Vec<&str> = notified
        .iter()
        .map(|c| c["node"].as_str().unwrap())
        .collect();
    notified_nodes.sort();
    let mut expected = vec![ok_ip.as_str(), fail_ip.as_str()];
    expected.sort();
    assert_eq!(
        notified_nodes, expected,
        "the hanging node never finished its call"
    );
    assert!(notified
        .iter()
        .all(|c| c["command"] == "tars.setloglevel DEBUG"));

    // As a JSON body too, with an array of ids.
    let again = p
        .api
        .post_json(
            "/api/send_command",
            &json!({"server_ids": [ids[0].parse::<i64>().unwrap()], "command": "tars.viewstatus"}),
        )
        .await;
    assert_eq!(again.ok()[0]["ret_code"], 0);

    p.api
        .get(
            "/api/send_command",
            &[("server_ids", "1;x"), ("command", "c")],
        )
        .await
        .err(400, "server_ids");
    p.api
        .get("/api/send_command", &[("server_ids", &ids[0])])
        .await
        .err(400, "`command` is required");
    p.api
        .get("/api/send_command", &[("command", "c")])
        .await
        .err(400, "`server_ids` is required");
    p.api
        .get(
            "/api/send_command",
            &[
                ("server_ids", &format!("{};999999", ids[0])),
                ("command", "c"),
            ],
        )
        .await
        .err(404, "999999");
    assert_eq!(
        sim.calls_of("notifyServer").len(),
        notified.len() + 1,
        "nothing is sent when an id is unknown"
    );
}

async fn node_address_comes_from_t_node_info(backend: Backend) {
    let ips = fresh_ips(1);
    let sim = Simulator::on_free_port(&ips, &[]);
    let registered_port = sim.port;
    // The platform's default port points nowhere (held, refusing connections); only
    // t_node_info leads to the node.
    let nowhere = ReservedPort::on(ips[0].parse().unwrap());
    let p = Platform::start_with(backend, node_env(nowhere.port, 1000)).await;
    deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await;
    let db = p.db().await;
    db.execute(&format!(
        "INSERT INTO t_node_info (node_name, node_obj, endpoint_ip, endpoint_port) VALUES ('{ip}', 'tars.tarsnode.NodeObj@tcp -h {ip} -p {registered_port} -t 60000', '{ip}', {registered_port})",
        ip = ips[0]
    ))
    .await;
    p.api
        .get(
            "/api/load_server",
            &[
                ("application", "Shop"),
                ("server_name", "Cart"),
                ("node_name", &ips[0]),
            ],
        )
        .await
        .ok();
    assert_eq!(sim.calls_of("loadServer").len(), 1);
}

on_every_backend!(
    load_server_and_realtime_state,
    send_command_reports_each_node_on_its_own,
    node_address_comes_from_t_node_info,
);
