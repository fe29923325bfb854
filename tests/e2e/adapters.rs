//! Adapters: add, read, list, update, delete, and their refusals.

use serde_json::json;

use crate::common::{Backend, Platform};
use crate::fixtures::deploy;
use crate::on_every_backend;

async fn adapter_lifecycle(backend: Backend) {
    let p = Platform::start(backend).await;
    let server = deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let server_id = server["id"].as_i64().unwrap().to_string();
    let added = p
        .api
        .post_json(
            "/api/add_adapter_conf",
            &json!({
                "application": "Shop", "server_name": "Cart", "node_name": "10.0.0.5",
                "thread_num": 4, "endpoint": "tcp -h 10.0.0.5 -t 60000 -p 10005",
                "max_connections": 200, "allow_ip": "10.0.0.0/8", "servant": "Shop.Cart.AdminObj",
                "queuecap": 10, "queuetimeout": 3000, "protocol": "not_tars", "handlegroup": "g1"
            }),
        )
        .await
        .ok()
        .clone();
    let expected_keys = [
        "id",
        "application",
        "server_name",
        "node_name",
        "adapter_name",
        "thread_num",
        "endpoint",
        "max_connections",
        "allow_ip",
        "servant",
        "queuecap",
        "queuetimeout",
        "posttime",
        "protocol",
        "handlegroup",
    ];
    let keys: Vec<&str> = added
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, expected_keys);
    assert_eq!(added["adapter_name"], "Shop.Cart.AdminObjAdapter");
    assert_eq!(added["thread_num"], 4);
    assert_eq!(added["allow_ip"], "10.0.0.0/8");
    assert_eq!(added["protocol"], "not_tars");
    let id = added["id"].as_i64().unwrap().to_string();

    assert_eq!(
        p.api.get("/api/adapter_conf", &[("id", &id)]).await.ok(),
        &added
    );
    let list = p
        .api
        .get("/api/adapter_conf_list", &[("id", &server_id)])
        .await;
    assert_eq!(list.ok().as_array().unwrap().len(), 2);

    let updated = p
        .api
        .post_json(
            "/api/update_adapter_conf",
            &json!({"id": id, "thread_num": "8", "endpoint": "tcp -h 10.0.0.5 -t 60000 -p 10006", "servant": "Shop.Cart.OpsObj"}),
        )
        .await
        .ok()
        .clone();
    assert_eq!(updated["thread_num"], 8);
    assert_eq!(updated["servant"], "Shop.Cart.OpsObj");
    assert_eq!(updated["adapter_name"], "Shop.Cart.OpsObjAdapter");
    assert_eq!(
        updated["allow_ip"], "10.0.0.0/8",
        "fields not sent are kept"
    );
    assert_eq!(
        p.api.get("/api/adapter_conf", &[("id", &id)]).await.ok(),
        &updated
    );

    let deleted = p.api.get("/api/delete_adapter_conf", &[("id", &id)]).await;
    assert_eq!(deleted.ok(), &json!([id.parse::<i64>().unwrap()]));
    p.api
        .get("/api/adapter_conf", &[("id", &id)])
        .await
        .err(404, "no adapter");
    p.api
        .get("/api/delete_adapter_conf", &[("id", &id)])
        .await
        .err(404, "no adapter");
    let list = p
        .api
        .get("/api/adapter_conf_list", &[("id", &server_id)])
        .await;
    assert_eq!(list.ok().as_array().unwrap().len(), 1);
}

async fn adapter_refusals(backend: Backend) {
    let p = Platform::start(backend).await;
    deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let base = json!({
        "application": "Shop", "server_name": "Cart", "node_name": "10.0.0.5",
        "endpoint": "tcp -h 10.0.0.5 -t 60000 -p 10005", "servant": "Shop.Cart.AdminObj"
    });
    let mut elsewhere = base.clone();
    elsewhere["node_name"] = json!("10.9.9.9");
    p.api
        .post_json("/api/add_adapter_conf", &elsewhere)
        .await
        .err(404, "not deployed on node 10.9.9.9");
    let mut duplicate = base.clone();
    duplicate["servant"] = json!("Shop.Cart.CartObj");
    p.api
        .post_json("/api/add_adapter_conf", &duplicate)
        .await
        .err(409, "Shop.Cart.CartObj");
    for field in [
        "application",
        "server_name",
        "node_name",
        "endpoint",
        "servant",
    ] {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(field);
        p.api
            .post_json("/api/add_adapter_conf", &body)
            .await
            .err(400, &format!("`{field}`"));
    }
    let mut bad_endpoint = base.clone();
    bad_endpoint["endpoint"] = json!("tcp -h 10.0.0.5");
    p.api
        .post_json("/api/add_adapter_conf", &bad_endpoint)
        .await
        .err(400, "-p <port>");
    let mut foreign = base.clone();
    foreign["servant"] = json!("Other.Server.Obj");
    p.api
        .post_json("/api/add_adapter_conf", &foreign)
        .await
        .err(400, "Shop.Cart.<ObjName>");
    let mut negative = base.clone();
    negative["thread_num"] = json!(-1);
    p.api
        .post_json("/api/add_adapter_conf", &negative)
        .await
        .err(400, "thread_num");
    p.api
        .post_json("/api/update_adapter_conf", &json!({"id": 987654}))
        .await
        .err(404, "987654");
    p.api
        .post_json("/api/update_adapter_conf", &json!({"thread_num": 3}))
        .await
        .err(400, "`id` is required");
    p.api
        .get("/api/adapter_conf", &[("id", "x")])
        .await
        .err(400, "`id` must be an integer");
    p.api
        .get("/api/delete_adapter_conf", &[])
        .await
        .err(400, "`id` is required");
    p.api
        .send(
            p.api
                .client()
                .get(p.api.url_for("/api/add_adapter_conf", &[])),
        )
        .await
        .err(405, "POST");
}

on_every_backend!(adapter_lifecycle, adapter_refusals);
