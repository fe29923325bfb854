//! Calls and checks the expansion test modules share (`expand_server_preview`,
//! `expand_server`, `auto_port`).

use serde_json::{json, Value};

use super::Api;

pub const PREVIEW: &str = "/api/expand_server_preview";
pub const EXPAND: &str = "/api/expand_server";

/// Ports `auto_port` and the preview hand out (TarsWeb's range).
pub const PORT_RANGE: std::ops::RangeInclusive<i64> = 10_000..=29_999;

/// Adds a second servant to `Shop.Cart` on `node`, with values that differ from the
/// deploy fixture's so copying them is visible.
pub async fn add_admin_obj(api: &Api, node: &str, port: u16) {
    api.post_json(
        "/api/add_adapter_conf",
        &json!({
            "application": "Shop", "server_name": "Cart", "node_name": node,
            "thread_num": 7, "endpoint": format!("udp -h {node} -t 3000 -p {port} -e 1"),
            "max_connections": 77, "allow_ip": "10.0.0.0/8", "servant": "Shop.Cart.AdminObj",
            "queuecap": 70, "queuetimeout": 700, "protocol": "not_tars", "handlegroup": "g7"
        }),
    )
    .await
    .ok();
}

pub async fn preview(api: &Api, source_node: &str, nodes: &[&str]) -> Vec<Value> {
    api.post_json(
        PREVIEW,
        &json!({"application": "Shop", "server_name": "Cart", "node_name": source_node,
                "set": "", "expand_nodes": nodes, "copy_node_config": false}),
    )
    .await
    .ok()
    .as_array()
    .expect("preview rows")
    .clone()
}

/// The expand_server request for these preview rows.
pub fn expand_body(source_node: &str, rows: &[Value], copy_node_config: bool) -> Value {
    let targets: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"node_name": r["node_name"], "set": r["set"], "obj_name": r["obj_name"],
                   "bind_ip": r["bind_ip"], "port": r["port"]})
        })
        .collect();
    json!({"application": "Shop", "server_name": "Cart", "node_name": source_node,
           "set": "", "copy_node_config": copy_node_config, "expand_preview_servers": targets})
}

pub async fn server_list(api: &Api, tree_node_id: &str) -> Vec<Value> {
    api.get("/api/server_list", &[("tree_node_id", tree_node_id)])
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone()
}

pub async fn adapters_of(api: &Api, server_id: i64) -> Vec<Value> {
    api.get("/api/adapter_conf_list", &[("id", &server_id.to_string())])
        .await
        .ok()
        .as_array()
        .unwrap()
        .clone()
}

pub fn nodes_of(servers: &[Value]) -> Vec<&str> {
    servers
        .iter()
        .map(|s| s["node_name"].as_str().unwrap())
        .collect()
}

pub fn tree_ids(nodes: &Value, out: &mut Vec<String>) {
    for node in nodes.as_array().unwrap() {
        out.push(node["id"].as_str().unwrap().to_string());
        tree_ids(&node["children"], out);
    }
}

/// Asserts that `value` has every field of `expected` with its value.
#[track_caller]
pub fn assert_fields(value: &Value, expected: Value) {
    for (field, want) in expected.as_object().unwrap() {
        assert_eq!(&value[field], want, "{field} of {value}");
    }
}

/// POSTs `body` to `path` and asserts the refusal.
pub async fn refused(api: &Api, path: &str, body: &Value, status: u16, needle: &str) {
    api.post_json(path, body).await.err(status, needle);
}

/// Every port the endpoints of `adapters` use.
pub fn ports_of(adapters: &[Value]) -> Vec<i64> {
    adapters
        .iter()
        .map(|a| {
            let endpoint = a["endpoint"].as_str().unwrap();
            let port = endpoint.split("-p ").nth(1).unwrap();
            port.split_whitespace().next().unwrap().parse().unwrap()
        })
        .collect()
}
