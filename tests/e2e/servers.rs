//! Tree and server management: deploy, read back, list under tree nodes, update,
//! inactive list, notifications.

use serde_json::{json, Value};

use crate::common::db::Notify;
use crate::common::{Backend, Platform};
use crate::fixtures::{deploy, deploy_body, deploy_in_set};
use crate::on_every_backend;

fn ids(list: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

async fn deployed_server_reads_back_with_the_seed_shape(backend: Backend) {
    let p = Platform::start(backend).await;
    let conf = deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let id = conf["id"].as_i64().expect("integer id");
    let expected_keys = [
        "id",
        "application",
        "server_name",
        "node_name",
        "server_type",
        "enable_set",
        "set_name",
        "set_area",
        "set_group",
        "setting_state",
        "present_state",
        "bak_flag",
        "template_name",
        "profile",
        "async_thread_num",
        "base_path",
        "exe_path",
        "start_script_path",
        "stop_script_path",
        "monitor_script_path",
        "patch_time",
        "patch_version",
        "process_id",
        "posttime",
    ];
    let keys: Vec<&str> = conf
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, expected_keys);
    assert_eq!(conf["application"], "Shop");
    assert_eq!(conf["enable_set"], false);
    assert_eq!(conf["bak_flag"], false);
    assert_eq!(conf["setting_state"], "inactive");
    assert_eq!(conf["template_name"], "tars.cpp.default");
    let posttime = conf["posttime"].as_str().unwrap();
    assert!(
        chrono_like(posttime),
        "posttime {posttime:?} must be YYYY-MM-DD HH:MM:SS"
    );

    let by_id = p.api.get("/api/server", &[("id", &id.to_string())]).await;
    assert_eq!(
        by_id.ok(),
        &conf,
        "what deploy answered is what server answers"
    );
    let same = p
        .api
        .get("/server/api/server", &[("id", &id.to_string())])
        .await;
    assert_eq!(same.ok(), &conf);

    let adapters = p
        .api
        .get("/api/adapter_conf_list", &[("id", &id.to_string())])
        .await;
    let adapters = adapters.ok().as_array().unwrap().clone();
    assert_eq!(adapters.len(), 1);
    let a = &adapters[0];
    assert_eq!(a["servant"], "Shop.Cart.CartObj");
    assert_eq!(a["adapter_name"], "Shop.Cart.CartObjAdapter");
    assert_eq!(a["endpoint"], "tcp -h 10.0.0.5 -t 60000 -p 10001 -e 0");
    assert_eq!(a["thread_num"], 2);
    assert_eq!(a["max_connections"], 1000);
    assert_eq!(a["queuecap"], 100);
    assert_eq!(a["queuetimeout"], 5000);
    assert_eq!(a["node_name"], "10.0.0.5");
}

fn chrono_like(s: &str) -> bool {
    s.len() == 19 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b' ' && s.as_bytes()[13] == b':'
}

async fn tree_and_server_list_agree(backend: Backend) {
    let p = Platform::start(backend).await;
    let a1 = deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let a2 = deploy(&p.api, "Shop", "Cart", "10.0.0.6", 10001).await;
    let b = deploy(&p.api, "Shop", "Billing", "10.0.0.5", 10002).await;
    let s = deploy_in_set(&p.api, "Shop", "Cart", "10.0.0.7", ("mtt", "sz", "1")).await;
    let other = deploy(&p.api, "Blog", "Posts", "10.0.0.9", 10003).await;

    let tree = p.api.get("/api/tree", &[]).await.ok().clone();
    let roots: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(roots, vec!["1Blog", "1Shop"]);
    let shop = &tree[1];
    assert_eq!(shop["pid"], "root");
    assert_eq!(shop["is_parent"], true);
    assert_eq!(shop["open"], false);
    let children: Vec<&str> = shop["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        children,
        vec!["1Shop.5Billing", "1Shop.5Cart", "1Shop.2mtt"]
    );
    let set_leaf = &shop["children"][2]["children"][0]["children"][0]["children"][0];
    assert_eq!(set_leaf["id"], "1Shop.2mtt.3sz.41.5Cart");
    assert_eq!(set_leaf["name"], "Cart");
    assert_eq!(set_leaf["pid"], "1Shop.2mtt.3sz.41");
    assert_eq!(set_leaf["is_parent"], false);

    let list = |id: &'static str| {
        let api = p.api.clone();
        async move {
            api.get("/api/server_list", &[("tree_node_id", id)])
                .await
                .ok()
                .clone()
        }
    };
    let id = |v: &Value| v["id"].as_i64().unwrap();
    let mut all_shop = vec![id(&a1), id(&a2), id(&b), id(&s)];
    all_shop.sort();
    assert_eq!(
        ids(&list("1Shop").await),
        all_shop,
        "an application node lists every instance under it"
    );
    assert_eq!(
        ids(&list("1Shop.5Cart").await),
        vec![id(&a1), id(&a2)],
        "the plain node excludes set instances"
    );
    assert_eq!(ids(&list("1Shop.2mtt.3sz.41.5Cart").await), vec![id(&s)]);
    assert_eq!(ids(&list("1Shop.2mtt").await), vec![id(&s)]);
    assert_eq!(ids(&list("1Blog").await), vec![id(&other)]);
    assert_eq!(list("1Nothing").await, json!([]));
    // Every leaf of the tree lists at least one server.
    for leaf in ["1Shop.5Billing", "1Shop.5Cart", "1Blog.5Posts"] {
        assert!(!list(leaf).await.as_array().unwrap().is_empty(), "{leaf}");
    }
    p.api
        .get("/api/server_list", &[("tree_node_id", "Shop")])
        .await
        .err(400, "tree_node_id");
    p.api
        .get("/api/server_list", &[])
        .await
        .err(400, "`tree_node_id` is required");
}

async fn duplicate_and_invalid_deploys_are_refused(backend: Backend) {
    let p = Platform::start(backend).await;
    deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let again = p
        .api
        .post_json(
            "/api/deploy_server",
            &deploy_body("Shop", "Cart", "10.0.0.5", 10009),
        )
        .await;
    again.err(409, "already deployed on node 10.0.0.5");

    let mut unknown_template = deploy_body("Shop", "Other", "10.0.0.5", 10002);
    unknown_template["template_name"] = json!("no.such.template");
    p.api
        .post_json("/api/deploy_server", &unknown_template)
        .await
        .err(400, "no.such.template");

    for field in [
        "application",
        "server_name",
        "server_type",
        "template_name",
        "adapters",
    ] {
        let mut body = deploy_body("Shop", "Other", "10.0.0.5", 10002);
        body.as_object_mut().unwrap().remove(field);
        p.api
            .post_json("/api/deploy_server", &body)
            .await
            .err(400, &format!("`{field}`"));
    }
    let mut no_node = deploy_body("Shop", "Other", "10.0.0.5", 10002);
    no_node["node_name"] = json!("");
    p.api
        .post_json("/api/deploy_server", &no_node)
        .await
        .err(400, "node_name");
    for (field, value, needle) in [
        (
            "port",
            json!("eighty"),
            "`adapters[0].port` must be an integer",
        ),
        ("port", json!(70000), "not a port"),
        ("obj_name", json!(""), "`adapters[0].obj_name` is required"),
        ("bind_ip", json!("10.0.0.5; rm -rf"), "bind_ip"),
        ("port_type", json!("sctp"), "port_type"),
    ] {
        let mut body = deploy_body("Shop", "Other", "10.0.0.5", 10002);
        body["adapters"][0][field] = value;
        p.api
            .post_json("/api/deploy_server", &body)
            .await
            .err(400, needle);
    }
    let mut bad_type = deploy_body("Shop", "Other", "10.0.0.5", 10002);
    bad_type["server_type"] = json!("tars_cobol");
    p.api
        .post_json("/api/deploy_server", &bad_type)
        .await
        .err(400, "server_type");
    let mut bad_name = deploy_body("Shop", "Oth.er", "10.0.0.5", 10002);
    bad_name["server_name"] = json!("Oth.er");
    p.api
        .post_json("/api/deploy_server", &bad_name)
        .await
        .err(400, "server_name");
    let mut bad_set = deploy_body("Shop", "Other", "10.0.0.5", 10002);
    bad_set["enable_set"] = json!(true);
    bad_set["set_name"] = json!("mtt");
    bad_set["set_area"] = json!("sz");
    bad_set["set_group"] = json!("x");
    p.api
        .post_json("/api/deploy_server", &bad_set)
        .await
        .err(400, "set_group");
    p.api
        .post_json(
            "/api/deploy_server",
            &json!({"application": "Shop", "server_name": "X", "node_name": "10.0.0.5",
            "server_type": "tars_cpp", "template_name": "tars.default", "adapters": "not-a-list"}),
        )
        .await
        .err(400, "`adapters` must be an array");
    p.api
        .post_raw(
            "/api/deploy_server",
            "application/json",
            "{\"application\": ",
        )
        .await
        .err(400, "malformed JSON");
    p.api
        .post_raw(
            "/api/deploy_server",
            "application/x-www-form-urlencoded",
            "application=Shop",
        )
        .await
        .err(415, "application/json");
    // Nothing of the refused requests was written.
    let servers = p
        .api
        .get("/api/server_list", &[("tree_node_id", "1Shop")])
        .await;
    assert_eq!(servers.ok().as_array().unwrap().len(), 1);
}

async fn update_server_changes_what_reads_return(backend: Backend) {
    let p = Platform::start(backend).await;
    let conf = deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let id = conf["id"].as_i64().unwrap();
    let changes = json!({
        "id": id.to_string(),
        "isBak": true,
        "template_name": "tars.default",
        "server_type": "tars_go",
        "enable_set": true,
        "set_name": "mtt",
        "set_area": "sh",
        "set_group": "2",
        "async_thread_num": "7",
        "base_path": "/usr/local/app/tars/Shop.Cart",
        "exe_path": "/usr/local/app/tars/Shop.Cart/bin/Cart",
        "start_script_path": "start.sh",
        "stop_script_path": "stop.sh",
        "monitor_script_path": "monitor.sh",
        "profile": "<tars>\n  <application>\n  </application>\n</tars>"
    });
    let updated = p
        .api
        .post_json("/api/update_server", &changes)
        .await
        .ok()
        .clone();
    assert_eq!(updated["bak_flag"], true);
    assert_eq!(updated["server_type"], "tars_go");
    assert_eq!(updated["enable_set"], true);
    assert_eq!(updated["set_area"], "sh");
    assert_eq!(updated["async_thread_num"], 7);
    assert_eq!(updated["profile"], changes["profile"]);
    let read = p.api.get("/api/server", &[("id", &id.to_string())]).await;
    assert_eq!(read.ok(), &updated);
    // Moving into a set moves the server in the tree.
    let set_list = p
        .api
        .get(
            "/api/server_list",
            &[("tree_node_id", "1Shop.2mtt.3sh.42.5Cart")],
        )
        .await;
    assert_eq!(ids(set_list.ok()), vec![id]);

    // Fields not sent are kept.
    let partial = p
        .api
        .post_json(
            "/api/update_server",
            &json!({"id": id, "exe_path": "/bin/other"}),
        )
        .await;
    assert_eq!(partial.ok()["template_name"], "tars.default");
    assert_eq!(partial.ok()["exe_path"], "/bin/other");

    p.api
        .post_json("/api/update_server", &json!({"id": 999999}))
        .await
        .err(404, "no server with id 999999");
    p.api
        .post_json("/api/update_server", &json!({"exe_path": "/x"}))
        .await
        .err(400, "`id` is required");
    p.api
        .post_json("/api/update_server", &json!({"id": "abc"}))
        .await
        .err(400, "`id` must be an integer");
    p.api
        .post_json("/api/update_server", &json!({"id": id, "set_group": "x"}))
        .await
        .err(400, "set_group");
    p.api
        .post_json(
            "/api/update_server",
            &json!({"id": id, "template_name": "missing.tpl"}),
        )
        .await
        .err(400, "missing.tpl");
    p.api
        .post_json(
            "/api/update_server",
            &json!({"id": id, "enable_set": "maybe"}),
        )
        .await
        .err(400, "`enable_set` must be true or false");
}

async fn server_reads_validate_ids(backend: Backend) {
    let p = Platform::start(backend).await;
    p.api
        .get("/api/server", &[])
        .await
        .err(400, "`id` is required");
    p.api
        .get("/api/server", &[("id", "12abc")])
        .await
        .err(400, "`id` must be an integer");
    p.api
        .get("/api/server", &[("id", "424242")])
        .await
        .err(404, "424242");
    p.api
        .get("/api/adapter_conf_list", &[("id", "424242")])
        .await
        .err(404, "424242");
}

async fn inactive_list_filters_and_pages(backend: Backend) {
    let p = Platform::start(backend).await;
    for (i, node) in ["10.0.0.1", "10.0.0.2", "10.0.0.3"].iter().enumerate() {
        deploy(&p.api, "Shop", "Cart", node, 10001 + i as u16).await;
    }
    deploy(&p.api, "Blog", "Posts", "10.0.0.1", 10010).await;
    let db = p.db().await;
    db.execute("UPDATE t_server_conf SET setting_state = 'active' WHERE node_name = '10.0.0.3'")
        .await;

    let all = p
        .api
        .get("/api/inactive_server_list", &[])
        .await
        .ok()
        .clone();
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["setting_state"] == "inactive"));
    let shop = p
        .api
        .get("/api/inactive_server_list", &[("application", "Shop")])
        .await;
    assert_eq!(shop.ok().as_array().unwrap().len(), 2);
    let node = p
        .api
        .get("/api/inactive_server_list", &[("node_name", "10.0.0.1")])
        .await;
    assert_eq!(node.ok().as_array().unwrap().len(), 2);
    let page1 = p
        .api
        .get(
            "/api/inactive_server_list",
            &[("curr_page", "1"), ("page_size", "2")],
        )
        .await;
    let page2 = p
        .api
        .get(
            "/api/inactive_server_list",
            &[("curr_page", "2"), ("page_size", "2")],
        )
        .await;
    assert_eq!(page1.ok().as_array().unwrap().len(), 2);
    assert_eq!(page2.ok().as_array().unwrap().len(), 1);
    assert_ne!(page1.ok()[0]["id"], page2.ok()[0]["id"]);
    p.api
        .get("/api/inactive_server_list", &[("page_size", "x")])
        .await
        .err(400, "page_size");
}

async fn notify_list_pages_newest_first(backend: Backend) {
    let p = Platform::start(backend).await;
    deploy(&p.api, "Shop", "Cart", "10.0.0.1", 10001).await;
    deploy(&p.api, "Shop", "Billing", "10.0.0.1", 10002).await;
    let db = p.db().await;
    for (i, server) in ["Cart", "Cart", "Cart", "Billing"].iter().enumerate() {
        db.insert_notify(Notify {
            application: "Shop",
            server_name: server,
            node_name: "10.0.0.1",
            command: "restart",
            result: &format!("event {i}"),
            notifytime: &format!("2024-05-0{} 10:00:00", i + 1),
        })
        .await;
    }
    db.insert_notify(Notify {
        application: "Other",
        server_name: "Cart",
        node_name: "10.0.0.1",
        command: "stop",
        result: "not ours",
        notifytime: "2024-05-09 10:00:00",
    })
    .await;
    let cart = p
        .api
        .get(
            "/api/server_notify_list",
            &[("tree_node_id", "1Shop.5Cart")],
        )
        .await
        .ok()
        .clone();
    assert_eq!(cart["count"], 3);
    let rows = cart["rows"].as_array().unwrap();
    assert_eq!(rows[0]["result"], "event 2");
    assert_eq!(rows[0]["notifytime"], "2024-05-03 10:00:00");
    assert_eq!(rows[0]["server_id"], "Shop.Cart_10.0.0.1");
    assert_eq!(rows[0]["command"], "restart");
    assert_eq!(rows[0]["thread_id"], "1234");
    let app = p
        .api
        .get(
            "/api/server_notify_list",
            &[
                ("tree_node_id", "1Shop"),
                ("curr_page", "2"),
                ("page_size", "3"),
            ],
        )
        .await;
    assert_eq!(app.ok()["count"], 4);
    let rows = app.ok()["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["result"], "event 0", "page 2 holds the oldest");
    p.api
        .get("/api/server_notify_list", &[])
        .await
        .err(400, "tree_node_id");
}

on_every_backend!(
    deployed_server_reads_back_with_the_seed_shape,
    tree_and_server_list_agree,
    duplicate_and_invalid_deploys_are_refused,
    update_server_changes_what_reads_return,
    server_reads_validate_ids,
    inactive_list_filters_and_pages,
    notify_list_pages_newest_first,
);
