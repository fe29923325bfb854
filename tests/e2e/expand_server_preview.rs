//! `expand_server_preview`: every adapter of the source instance on a free port of each
//! node, its status per node, and nothing written.

use serde_json::json;

use crate::common::expansion::*;
use crate::common::{Backend, Platform};
use crate::fixtures::deploy;
use crate::on_every_backend;

async fn preview_writes_nothing_and_picks_free_ports(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.1", 10001).await;
    add_admin_obj(api, "10.0.0.1", 10002).await;
    deploy(api, "Shop", "Cart", "10.0.0.2", 10000).await;
    // Another server on the third node holds the lowest ports of the range.
    let other = deploy(api, "Shop", "Billing", "10.0.0.3", 10000).await;
    for port in [10001, 10003] {
        api.post_json(
            "/api/add_adapter_conf",
            &json!({"application": "Shop", "server_name": "Billing", "node_name": "10.0.0.3",
                    "endpoint": format!("tcp -h 10.0.0.3 -t 60000 -p {port}"),
                    "servant": format!("Shop.Billing.Obj{port}")}),
        )
        .await
        .ok();
    }
    let used_on_3 = ports_of(&adapters_of(api, other["id"].as_i64().unwrap()).await);
    assert_eq!(used_on_3, [10000, 10001, 10003]);
    let before = server_list(api, "1Shop").await;

    let rows = preview(api, "10.0.0.1", &["10.0.0.2", "10.0.0.3", "10.0.0.1"]).await;
    let status: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {}", r["node_name"], r["status"]).replace('"', ""))
        .collect();
    assert_eq!(
        status,
        [
            "10.0.0.2 已存在",
            "10.0.0.2 已存在",
            "10.0.0.3 未扩容",
            "10.0.0.3 未扩容",
            "10.0.0.1 已存在",
            "10.0.0.1 已存在",
        ]
    );
    for node_rows in rows.chunks(2) {
        let node = node_rows[0]["node_name"].as_str().unwrap();
        let ports: Vec<i64> = node_rows
            .iter()
            .map(|r| r["port"].as_i64().unwrap())
            .collect();
        assert_ne!(ports[0], ports[1], "ports of one node are distinct");
        for port in &ports {
            assert!(PORT_RANGE.contains(port), "{port}");
        }
        let used: Vec<i64> = match node {
            "10.0.0.1" => vec![10001, 10002],
            "10.0.0.2" => vec![10000],
            _ => used_on_3.clone(),
        };
        for port in &ports {
            assert!(!used.contains(port), "{port} is used on {node}");
        }
    }
    assert_eq!(
        server_list(api, "1Shop").await,
        before,
        "preview writes nothing"
    );
    assert_eq!(
        used_on_3,
        ports_of(&adapters_of(api, other["id"].as_i64().unwrap()).await)
    );
}

on_every_backend!(preview_writes_nothing_and_picks_free_ports);
