//! `expand_server`: instances created as copies of the source (adapters, set, node-level
//! configuration files with `copy_node_config`), taken ports and existing instances
//! refused all or nothing, and concurrent expansions never sharing a port.

use serde_json::{json, Value};

use crate::common::expansion::*;
use crate::common::{Api, Backend, Platform};
use crate::fixtures::deploy;
use crate::on_every_backend;

async fn preview_then_expand(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    let source = deploy(api, "Shop", "Cart", "10.0.0.1", 10001).await;
    add_admin_obj(api, "10.0.0.1", 10002).await;

    let rows = preview(api, "10.0.0.1", &["10.0.0.2", "10.0.0.3"]).await;
    assert_eq!(rows.len(), 4, "two adapters on two nodes: {rows:?}");
    let keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys.join(","),
        "application,server_name,set,obj_name,node_name,bind_ip,port,template_name,status"
    );
    let summary: Vec<String> = rows
        .iter()
        .map(|r| format!("{}/{}/{}", r["node_name"], r["obj_name"], r["bind_ip"]))
        .collect();
    assert_eq!(
        summary.join(" ").replace('"', ""),
        "10.0.0.2/CartObj/10.0.0.2 10.0.0.2/AdminObj/10.0.0.2 \
         10.0.0.3/CartObj/10.0.0.3 10.0.0.3/AdminObj/10.0.0.3"
    );
    for row in &rows {
        assert_eq!(row["application"], "Shop");
        assert_eq!(row["server_name"], "Cart");
        assert_eq!(row["set"], "");
        assert_eq!(row["template_name"], "tars.cpp.default");
        assert_eq!(row["status"], "未扩容");
    }

    let answer = api
        .post_json(EXPAND, &expand_body("10.0.0.1", &rows, false))
        .await
        .ok()
        .clone();
    assert_eq!(answer["tars_node_rst"], json!([]));
    let created = answer["server_conf"].as_array().unwrap().clone();
    assert_eq!(nodes_of(&created), ["10.0.0.2", "10.0.0.3"]);
    for server in &created {
        assert_fields(
            server,
            json!({"server_type": source["server_type"], "template_name": source["template_name"],
                   "bak_flag": source["bak_flag"], "async_thread_num": source["async_thread_num"],
                   "enable_set": false, "setting_state": "inactive", "present_state": "inactive"}),
        );
    }

    let listed = server_list(api, "1Shop.5Cart").await;
    assert_eq!(nodes_of(&listed), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    assert_eq!(
        &listed[1..],
        &created[..],
        "the answer is what server_list shows"
    );
    let mut ids = Vec::new();
    tree_ids(api.get("/api/tree", &[]).await.ok(), &mut ids);
    assert!(ids.contains(&"1Shop.5Cart".to_string()), "{ids:?}");

    for (server, node_rows) in created.iter().zip(rows.chunks(2)) {
        let node = server["node_name"].as_str().unwrap();
        let adapters = adapters_of(api, server["id"].as_i64().unwrap()).await;
        assert_eq!(adapters.len(), 2, "{adapters:?}");
        let (cart, admin) = (&adapters[0], &adapters[1]);
        assert_eq!(cart["servant"], "Shop.Cart.CartObj");
        assert_eq!(cart["adapter_name"], "Shop.Cart.CartObjAdapter");
        assert_eq!(
            cart["endpoint"],
            format!("tcp -h {node} -t 60000 -p {} -e 0", node_rows[0]["port"])
        );
        assert_fields(
            cart,
            json!({"thread_num": 2, "max_connections": 1000, "queuecap": 100, "queuetimeout": 5000,
                   "protocol": "tars", "allow_ip": "", "handlegroup": ""}),
        );
        assert_eq!(admin["servant"], "Shop.Cart.AdminObj");
        assert_eq!(
            admin["endpoint"],
            format!("udp -h {node} -t 3000 -p {} -e 1", node_rows[1]["port"]),
            "the source's transport, timeout and options are kept"
        );
        assert_fields(
            admin,
            json!({"thread_num": 7, "max_connections": 77, "allow_ip": "10.0.0.0/8", "queuecap": 70,
                   "queuetimeout": 700, "protocol": "not_tars", "handlegroup": "g7"}),
        );
    }
}

async fn expanding_into_a_set(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.1", 10001).await;
    let rows = api
        .post_json(
            PREVIEW,
            &json!({"application": "Shop", "server_name": "Cart", "node_name": "10.0.0.1",
                    "expand_nodes": ["10.0.0.2"], "enable_set": true, "set_name": "mtt",
                    "set_area": "sz", "set_group": "1"}),
        )
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["set"], "mtt.sz.1");
    let created = api
        .post_json(EXPAND, &expand_body("10.0.0.1", &rows, false))
        .await
        .ok()["server_conf"]
        .clone();
    let mut ids = Vec::new();
    tree_ids(api.get("/api/tree", &[]).await.ok(), &mut ids);
    assert!(
        ids.contains(&"1Shop.2mtt.3sz.41.5Cart".to_string()),
        "{ids:?}"
    );
    let in_set = server_list(api, "1Shop.2mtt.3sz.41.5Cart").await;
    assert_eq!(json!(in_set), created);
    assert_eq!(in_set[0]["enable_set"], true);
    assert_eq!(
        (
            &in_set[0]["set_name"],
            &in_set[0]["set_area"],
            &in_set[0]["set_group"]
        ),
        (&json!("mtt"), &json!("sz"), &json!("1"))
    );
    assert_eq!(
        nodes_of(&server_list(api, "1Shop.5Cart").await),
        ["10.0.0.1"]
    );
}

async fn expand_refuses_taken_ports_and_existing_instances(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.1", 10001).await;
    deploy(api, "Shop", "Billing", "10.0.0.2", 12000).await;
    let target = |node: &str, port: i64| {
        json!({"node_name": node, "set": "", "obj_name": "CartObj", "bind_ip": node,
               "port": port})
    };
    let body = |targets: Vec<Value>| {
        json!({"application": "Shop", "server_name": "Cart", "node_name": "10.0.0.1",
               "expand_preview_servers": targets})
    };
    let before = server_list(api, "1Shop").await;

    let taken = body(vec![target("10.0.0.2", 12000)]);
    let needle = "port 12000 is already used on node 10.0.0.2";
    refused(api, EXPAND, &taken, 409, needle).await;
    // All or nothing: the free node of the same request is not created either.
    let half_free = body(vec![target("10.0.0.3", 15000), target("10.0.0.2", 12000)]);
    refused(api, EXPAND, &half_free, 409, "12000").await;
    assert_eq!(server_list(api, "1Shop").await, before);
    assert_eq!(
        nodes_of(&server_list(api, "1Shop.5Cart").await),
        ["10.0.0.1"]
    );

    let source_node = body(vec![target("10.0.0.1", 15000)]);
    let needle = "already has an instance on node 10.0.0.1";
    refused(api, EXPAND, &source_node, 409, needle).await;
    let first = body(vec![target("10.0.0.3", 15000)]);
    api.post_json(EXPAND, &first).await.ok();
    let again = body(vec![target("10.0.0.3", 15001)]);
    let needle = "already has an instance on node 10.0.0.3";
    refused(api, EXPAND, &again, 409, needle).await;
    // The port just taken on 10.0.0.3 is refused for another server too.
    let mut billing = body(vec![target("10.0.0.3", 15000)]);
    billing["server_name"] = json!("Billing");
    billing["node_name"] = json!("10.0.0.2");
    billing["expand_preview_servers"][0]["obj_name"] = json!("BillingObj");
    let needle = "port 15000 is already used on node 10.0.0.3";
    refused(api, EXPAND, &billing, 409, needle).await;
    assert_eq!(
        nodes_of(&server_list(api, "1Shop.5Cart").await),
        ["10.0.0.1", "10.0.0.3"]
    );
    assert_eq!(
        nodes_of(&server_list(api, "1Shop.5Billing").await),
        ["10.0.0.2"]
    );
}

async fn concurrent_expansions_never_share_a_port(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.1", 10001).await;
    deploy(api, "Shop", "Billing", "10.0.0.2", 10001).await;
    let body = |server: &str, source: &str, node: &str| {
        json!({"application": "Shop", "server_name": server, "node_name": source,
               "expand_preview_servers": [{"node_name": node, "obj_name": format!("{server}Obj"),
                                           "bind_ip": node, "port": 15000}]})
    };
    for round in 3..9 {
        let node = format!("10.0.0.{round}");
        let cart = body("Cart", "10.0.0.1", &node);
        let billing = body("Billing", "10.0.0.2", &node);
        let (a, b) = tokio::join!(
            api.post_json(EXPAND, &cart),
            api.post_json(EXPAND, &billing)
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "one wins the port: {a:?} {b:?}");
        let everywhere = server_list(api, "1Shop").await;
        assert_eq!(
            nodes_of(&everywhere).iter().filter(|n| **n == node).count(),
            1
        );
    }
}

/// The node-level file of server-level file `config_id` on `node`.
async fn node_file(api: &Api, config_id: i64, node: &str) -> Value {
    let files = api
        .post_json(
            "/api/node_config_file_list",
            &json!({"config_id": config_id, "application": "Shop", "server_name": "Cart"}),
        )
        .await;
    files
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["node_name"] == node)
        .unwrap_or_else(|| panic!("no node file on {node}: {files:?}"))
        .clone()
}

async fn copy_node_config_copies_the_source_nodes_files(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.1", 10001).await;
    let server_file = api
        .post_json(
            "/api/add_config_file",
            &json!({"level": 5, "application": "Shop", "server_name": "Cart",
                    "filename": "Cart.conf", "config": "<server>\n</server>"}),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let source_file = node_file(api, server_file, "10.0.0.1").await;
    let text = "<node>\n  weight=3\n</node>";
    api.post_json(
        "/api/update_config_file",
        &json!({"id": source_file["id"], "config": text, "reason": "tune"}),
    )
    .await
    .ok();

    let rows = preview(api, "10.0.0.1", &["10.0.0.2"]).await;
    api.post_json(EXPAND, &expand_body("10.0.0.1", &rows, true))
        .await
        .ok();
    let rows = preview(api, "10.0.0.1", &["10.0.0.3"]).await;
    api.post_json(EXPAND, &expand_body("10.0.0.1", &rows, false))
        .await
        .ok();

    let copied = node_file(api, server_file, "10.0.0.2").await;
    assert_eq!(copied["config"], text);
    assert_eq!(copied["filename"], "Cart.conf");
    assert_eq!(copied["server_name"], "Shop.Cart");
    assert_eq!(copied["level"], 3);
    let history = api
        .get(
            "/api/config_file_history_list",
            &[("config_id", &copied["id"].to_string())],
        )
        .await
        .ok()
        .clone();
    assert_eq!(history["count"], 1, "{history}");
    assert_eq!(history["rows"][0]["content"], text);
    assert!(history["rows"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("copied from node 10.0.0.1"));
    // Without copy_node_config the new node's file is the empty one node_config_file_list
    // creates for every deployed node.
    assert_eq!(node_file(api, server_file, "10.0.0.3").await["config"], "");
    assert_eq!(
        node_file(api, server_file, "10.0.0.1").await["config"],
        text,
        "the source file is untouched"
    );
}

on_every_backend!(
    preview_then_expand,
    expanding_into_a_set,
    expand_refuses_taken_ports_and_existing_instances,
    concurrent_expansions_never_share_a_port,
    copy_node_config_copies_the_source_nodes_files,
);
