//! Server-level configuration files and their node files (`add_config_file` at level 5,
//! `node_config_file_list`): a node file per instance on add, one for each instance
//! deployed later when asked, the server-level list newest change first, and deleting
//! a server file with its node files.

use serde_json::{json, Value};

use crate::common::config_api::*;
use crate::common::{Backend, Platform};
use crate::fixtures::{deploy, deploy_in_set};
use crate::on_every_backend;

async fn server_file_creates_node_files_per_instance(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.5", 10001).await;
    deploy(api, "Shop", "Cart", "10.0.0.6", 10001).await;
    deploy_in_set(api, "Shop", "Cart", "10.0.0.7", ("sh", "a", "1")).await;
    deploy(api, "Shop", "Other", "10.0.0.8", 10001).await;

    let server = add(api, server_file("Shop", "Cart", "cart.conf", "x=1")).await;
    assert_eq!(keys(&server), FILE_KEYS);
    assert_eq!(server["server_name"], "Shop.Cart");
    assert_eq!(server["level"], 2);
    assert_eq!(server["node_name"], "");
    assert_eq!(server["set_name"], "");
    assert_eq!(file(api, id_of(&server)).await.ok(), &server);
    // A file added afterwards has a higher id than every file the add created.
    let later = add(api, app_file("Shop", "later.conf", "")).await;

    let nodes = node_files(api, id_of(&server)).await;
    let rows = nodes.as_array().unwrap();
    assert_eq!(rows.len(), 2, "the instances without a set: {nodes}");
    let mut hosts: Vec<&str> = rows
        .iter()
        .map(|f| f["node_name"].as_str().unwrap())
        .collect();
    hosts.sort();
    assert_eq!(hosts, ["10.0.0.5", "10.0.0.6"]);
    let node_ids = ids(&nodes);
    assert!(node_ids[0] > node_ids[1], "newest first: {node_ids:?}");
    for row in rows {
        assert_eq!(keys(row), FILE_KEYS);
        assert_eq!(row["server_name"], "Shop.Cart");
        assert_eq!(row["filename"], "cart.conf");
        assert_eq!(row["level"], 3);
        assert_eq!(row["config"], "");
        assert_eq!(row["set_name"], "");
        assert_eq!(row["lastuser"], "e2e");
        assert!(id_of(row) < id_of(&later), "made by the add itself: {row}");
        assert_eq!(file(api, id_of(row)).await.ok(), row);
        let records = history(api, id_of(row), None).await;
        assert_eq!(records["count"], 1);
        assert_eq!(records["rows"][0]["reason"], "add config");
        assert_eq!(records["rows"][0]["content"], "");
    }
    let records = history(api, id_of(&server), None).await;
    assert_eq!(records["count"], 1);
    assert_eq!(records["rows"][0]["reason"], "add config");
    assert_eq!(records["rows"][0]["content"], "x=1");

    // A file for the set: node files only for the instance in that set.
    let mut in_set = server_file("Shop", "Cart", "cart.conf", "set=1");
    in_set["set_name"] = json!("sh");
    in_set["set_area"] = json!("a");
    in_set["set_group"] = json!("1");
    let set_file = add(api, in_set).await;
    assert_eq!(set_file["level"], 2);
    let set = [
        &set_file["set_name"],
        &set_file["set_area"],
        &set_file["set_group"],
    ];
    assert_eq!(set, ["sh", "a", "1"]);
    let set_nodes = node_files(api, id_of(&set_file)).await;
    assert_eq!(set_nodes.as_array().unwrap().len(), 1, "{set_nodes}");
    assert_eq!(set_nodes[0]["node_name"], "10.0.0.7");
    assert_eq!(set_nodes[0]["set_group"], "1");

    let again = server_file("Shop", "Cart", "cart.conf", "again");
    post(api, "add_config_file", &again)
        .await
        .err(409, "Shop.Cart");

    // Server-level lists: newest change first, set fields filter only when given.
    backdate(&p, id_of(&server), "2001-01-01 00:00:00").await;
    backdate(&p, id_of(&set_file), "2002-01-01 00:00:00").await;
    assert_eq!(
        ids(&list(api, CART).await),
        [id_of(&set_file), id_of(&server)]
    );
    update(api, id_of(&server), "x=2", "bump").await.ok();
    assert_eq!(
        ids(&list(api, CART).await),
        [id_of(&server), id_of(&set_file)]
    );
    let mut in_set_query = CART.to_vec();
    in_set_query.extend([("set_name", "sh"), ("set_area", "a"), ("set_group", "1")]);
    assert_eq!(ids(&list(api, &in_set_query).await), [id_of(&set_file)]);
    let other = [
        ("level", "5"),
        ("application", "Shop"),
        ("server_name", "Other"),
    ];
    assert_eq!(list(api, &other).await, json!([]));

    // Deleting the server file takes its node files along, not the set's.
    let deleted = by(api, "delete_config_file", "id", id_of(&server)).await;
    assert_eq!(deleted.ok(), &json!([id_of(&server)]));
    for id in node_ids {
        file(api, id).await.err(404, &id.to_string());
    }
    file(api, id_of(&set_nodes[0])).await.ok();
    assert_eq!(ids(&list(api, CART).await), [id_of(&set_file)]);
}

async fn node_files_are_created_lazily_for_later_instances(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let server = add(api, server_file("Shop", "Cart", "cart.conf", "x=1")).await;
    let s = id_of(&server);
    let first = node_files(api, s).await;
    assert_eq!(first.as_array().unwrap().len(), 1);
    assert_eq!(first[0]["node_name"], "10.0.0.5");

    deploy(api, "Shop", "Cart", "10.0.0.6", 10001).await;
    let both = node_files(api, s).await;
    assert_eq!(both.as_array().unwrap().len(), 2, "{both}");
    assert_eq!(both[0]["node_name"], "10.0.0.6", "newest first: {both}");
    assert_eq!(both[1], first[0], "the existing file is unchanged");
    let created = &both[0];
    assert_eq!(created["config"], "");
    assert_eq!(created["level"], 3);
    assert_eq!(created["server_name"], "Shop.Cart");
    assert_eq!(created["filename"], "cart.conf");
    assert_eq!(file(api, id_of(created)).await.ok(), created);
    let records = history(api, id_of(created), None).await;
    assert_eq!(records["count"], 1);
    assert_eq!(records["rows"][0]["reason"], "add config");
    assert_eq!(
        node_files(api, s).await,
        both,
        "asking again creates nothing"
    );
    let same = api
        .post_json(
            "/server/api/node_config_file_list",
            &json!({"config_id": s.to_string(), "application": "Shop", "server_name": "Cart"}),
        )
        .await;
    assert_eq!(same.ok(), &both);

    // Refusals.
    let app = add(api, app_file("Shop", "app.conf", "")).await;
    for (config_id, application, server_name, status, needle) in [
        (json!(id_of(&app)), "Shop", "Cart", 400, "`config_id`"),
        (json!(id_of(created)), "Shop", "Cart", 400, "`config_id`"),
        (json!(987654), "Shop", "Cart", 404, "987654"),
        (json!(s), "Bank", "Cart", 400, "`application`"),
        (json!(s), "Shop", "Other", 400, "`server_name`"),
        (Value::Null, "Shop", "Cart", 400, "`config_id`"),
        // Required, as in TarsWeb.
        (json!(s), "", "Cart", 400, "`application`"),
        (json!(s), "Shop", " ", 400, "`server_name`"),
    ] {
        let body = json!({
            "config_id": config_id, "application": application, "server_name": server_name
        });
        post(api, "node_config_file_list", &body)
            .await
            .err(status, needle);
    }
    for (body, needle) in [
        (
            json!({"config_id": s, "server_name": "Cart"}),
            "`application` is required",
        ),
        (
            json!({"config_id": s, "application": "Shop"}),
            "`server_name` is required",
        ),
    ] {
        post(api, "node_config_file_list", &body)
            .await
            .err(400, needle);
    }
    let form = post_form(api, "node_config_file_list", format!("config_id={s}")).await;
    form.err(415, "application/json");
    get_post_only(api, "node_config_file_list")
        .await
        .err(405, "POST");
}

on_every_backend!(
    server_file_creates_node_files_per_instance,
    node_files_are_created_lazily_for_later_instances,
);
