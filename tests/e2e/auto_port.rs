//! `auto_port`: one free port per listed node, in TarsWeb's range, avoiding ports in use.

use serde_json::json;

use crate::common::expansion::*;
use crate::common::{Backend, Platform};
use crate::fixtures::deploy;
use crate::on_every_backend;

async fn auto_port_avoids_used_ports(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    // The lowest ports of the range are taken on 10.0.0.1.
    deploy(api, "Shop", "Cart", "10.0.0.1", 10000).await;
    add_admin_obj(api, "10.0.0.1", 10001).await;
    let used = [10000, 10001];

    let rows = api
        .get("/api/auto_port", &[("node_name", "10.0.0.1;10.0.0.2")])
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["node_name"], "10.0.0.1");
    assert_eq!(rows[1]["node_name"], "10.0.0.2");
    for row in &rows {
        let port = row["port"].as_i64().expect("port is a number");
        assert!(PORT_RANGE.contains(&port), "{row}");
    }
    assert!(
        !used.contains(&rows[0]["port"].as_i64().unwrap()),
        "{rows:?}"
    );

    // POST works too, and a node listed twice gets two ports.
    let twice = api
        .post_json("/api/auto_port", &json!({"node_name": "10.0.0.1;10.0.0.1"}))
        .await
        .ok()
        .clone();
    let (a, b) = (
        twice[0]["port"].as_i64().unwrap(),
        twice[1]["port"].as_i64().unwrap(),
    );
    assert_ne!(a, b);
    assert!(!used.contains(&a) && !used.contains(&b), "{twice}");

    api.get("/api/auto_port", &[])
        .await
        .err(400, "`node_name` is required");
    api.get("/api/auto_port", &[("node_name", " ; ")])
        .await
        .err(400, "`node_name` is required");
    api.get("/api/auto_port", &[("node_name", "10.0.0.1;bad node!")])
        .await
        .err(400, "`node_name`");
}

on_every_backend!(auto_port_avoids_used_ports);
