//! Requests that many tests need: deploying servers with known shapes.

use serde_json::{json, Value};

use crate::common::Api;

/// A deploy request for `app.server` on `node` with one servant on `port`.
pub fn deploy_body(app: &str, server: &str, node: &str, port: u16) -> Value {
    json!({
        "application": app,
        "server_name": server,
        "node_name": node,
        "server_type": "tars_cpp",
        "template_name": "tars.cpp.default",
        "enable_set": false,
        "set_name": "",
        "set_area": "",
        "set_group": "",
        "adapters": [{
            "obj_name": format!("{server}Obj"),
            "bind_ip": node,
            "port": port.to_string(),
            "port_type": "tcp",
            "protocol": "tars",
            "thread_num": 2,
            "max_connections": 1000,
            "queuecap": 100,
            "queuetimeout": 5000
        }]
    })
}

/// Deploys and returns the new `server_conf`.
pub async fn deploy(api: &Api, app: &str, server: &str, node: &str, port: u16) -> Value {
    let answer = api
        .post_json("/api/deploy_server", &deploy_body(app, server, node, port))
        .await;
    answer.ok()["server_conf"].clone()
}

/// Deploys a set-enabled instance (set `name.area.group`).
pub async fn deploy_in_set(
    api: &Api,
    app: &str,
    server: &str,
    node: &str,
    set: (&str, &str, &str),
) -> Value {
    let mut body = deploy_body(app, server, node, 20000);
    body["enable_set"] = json!(true);
    body["set_name"] = json!(set.0);
    body["set_area"] = json!(set.1);
    body["set_group"] = json!(set.2);
    api.post_json("/api/deploy_server", &body).await.ok()["server_conf"].clone()
}
