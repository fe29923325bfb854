//! What `expand_server_preview` and `expand_server` refuse: unknown sources, missing and
//! malformed fields (400, 404), other content types (415) and methods (405), with
//! nothing created.

use serde_json::json;

use crate::common::expansion::*;
use crate::common::{Backend, Platform};
use crate::fixtures::deploy;
use crate::on_every_backend;

async fn expansion_refusals(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.1", 10001).await;
    let preview_base = json!({"application": "Shop", "server_name": "Cart",
                              "node_name": "10.0.0.1", "expand_nodes": ["10.0.0.2"]});
    let mut unknown = preview_base.clone();
    unknown["node_name"] = json!("10.0.0.9");
    refused(api, PREVIEW, &unknown, 404, "not deployed on node 10.0.0.9").await;
    for field in ["application", "server_name", "node_name", "expand_nodes"] {
        let mut body = preview_base.clone();
        body.as_object_mut().unwrap().remove(field);
        refused(api, PREVIEW, &body, 400, &format!("`{field}`")).await;
    }
    let mut bad_node = preview_base.clone();
    bad_node["expand_nodes"] = json!(["10.0.0.2", "not a node!"]);
    refused(api, PREVIEW, &bad_node, 400, "expand_nodes[1]").await;
    let mut bad_set = preview_base.clone();
    bad_set["enable_set"] = json!(true);
    bad_set["set_name"] = json!("mtt");
    api.post_json(PREVIEW, &bad_set).await.err(400, "set_area");

    let target = json!({"node_name": "10.0.0.2", "set": "", "obj_name": "CartObj",
                        "bind_ip": "10.0.0.2", "port": 15000});
    let expand_base = json!({"application": "Shop", "server_name": "Cart",
                             "node_name": "10.0.0.1", "expand_preview_servers": [target]});
    let mut unknown = expand_base.clone();
    unknown["server_name"] = json!("Nope");
    refused(api, EXPAND, &unknown, 404, "Shop.Nope is not deployed").await;
    let fields = [
        "application",
        "server_name",
        "node_name",
        "expand_preview_servers",
    ];
    for field in fields {
        let mut body = expand_base.clone();
        body.as_object_mut().unwrap().remove(field);
        refused(api, EXPAND, &body, 400, &format!("`{field}`")).await;
    }
    for field in ["node_name", "obj_name", "bind_ip", "port"] {
        let mut body = expand_base.clone();
        body["expand_preview_servers"][0]
            .as_object_mut()
            .unwrap()
            .remove(field);
        api.post_json(EXPAND, &body).await.err(
            400,
            &format!("`expand_preview_servers[0].{field}` is required"),
        );
    }
    for (field, value, needle) in [
        ("bind_ip", json!("999.0.0.1"), "is not an IP address"),
        ("node_name", json!("10.0.0.2 x"), "not an IP address"),
        ("port", json!(0), "is not a port"),
        ("port", json!(70000), "is not a port"),
        ("port", json!("x"), "must be an integer"),
        ("obj_name", json!("NoObj"), "it has CartObj"),
        ("set", json!("mtt.sz"), "name.area.group"),
    ] {
        let mut body = expand_base.clone();
        body["expand_preview_servers"][0][field] = value;
        api.post_json(EXPAND, &body).await.err(400, needle);
    }
    let mut twice = expand_base.clone();
    twice["expand_preview_servers"] = json!([target.clone(), target.clone()]);
    api.post_json(EXPAND, &twice).await.err(400, "listed twice");
    assert_eq!(
        nodes_of(&server_list(api, "1Shop.5Cart").await),
        ["10.0.0.1"]
    );

    for path in [EXPAND, PREVIEW] {
        api.post_raw(
            path,
            "application/x-www-form-urlencoded",
            "application=Shop",
        )
        .await
        .err(415, "application/json");
        api.send(api.client().get(api.url_for(path, &[])))
            .await
            .err(405, "POST");
    }
}

on_every_backend!(expansion_refusals);
