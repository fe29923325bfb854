//! merged_node_config against tarsconfig's merge rules (ConfigServer's loadConfigByHost
//! and loadAppConfigByInfo): the server-level file's references (each an application
//! file overlaid by its set variant) in reference-id order, the server-level file, the
//! node-level file's references, the node-level file; empty parts skipped, the rest
//! joined by "\r\n\r\n". Every expected text below was worked out by hand from those
//! rules, not produced by the code under test.

use serde_json::{json, Value};

use crate::common::{Api, Backend, Platform};
use crate::fixtures::{deploy, deploy_in_set};
use crate::on_every_backend;

const SEP: &str = "\r\n\r\n";

async fn add_file(api: &Api, body: Value) -> i64 {
    api.post_json("/api/add_config_file", &body).await.ok()["id"]
        .as_i64()
        .unwrap()
}

async fn app_file(api: &Api, filename: &str, config: &str) -> i64 {
    add_file(
        api,
        json!({"level": 1, "application": "Shop", "filename": filename, "config": config}),
    )
    .await
}

async fn set_file(api: &Api, filename: &str, config: &str, set: (&str, &str, &str)) -> i64 {
    add_file(
        api,
        json!({"level": 4, "application": "Shop", "filename": filename, "config": config,
               "set_name": set.0, "set_area": set.1, "set_group": set.2}),
    )
    .await
}

async fn reference(api: &Api, config_id: i64, reference_id: i64) {
    api.get(
        "/api/add_config_ref",
        &[
            ("config_id", &config_id.to_string()),
            ("reference_id", &reference_id.to_string()),
        ],
    )
    .await
    .ok();
}

async fn merged(api: &Api, id: i64) -> String {
    api.get("/api/merged_node_config", &[("id", &id.to_string())])
        .await
        .ok()
        .as_str()
        .expect("merged config is a string")
        .to_string()
}

async fn update(api: &Api, id: i64, config: &str) {
    api.post_json(
        "/api/update_config_file",
        &json!({"id": id, "config": config, "reason": "test"}),
    )
    .await
    .ok();
}

/// The node-level file of server-level file `server_file` on `node`.
async fn node_file(api: &Api, server_file: i64, node: &str) -> i64 {
    let files = api
        .post_json(
            "/api/node_config_file_list",
            &json!({"config_id": server_file, "application": "Shop", "server_name": "Cart"}),
        )
        .await;
    files
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["node_name"] == node)
        .unwrap_or_else(|| panic!("no node file on {node}: {files:?}"))["id"]
        .as_i64()
        .unwrap()
}

async fn layers_and_references_merge_in_tars_order(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.1", 10001).await;
    deploy(api, "Shop", "Cart", "10.0.0.2", 10001).await;

    let common = app_file(api, "common.conf", "<common>\n  a=1\n</common>").await;
    let db = app_file(api, "db.conf", "<db>\n  host=db1\n</db>").await;
    let empty = app_file(api, "empty.conf", "").await;
    let server = add_file(
        api,
        json!({"level": 5, "application": "Shop", "server_name": "Cart",
               "filename": "Cart.conf", "config": "<server>\n  port=1\n</server>"}),
    )
    .await;
    // Referenced in the opposite order of their ids: tarsconfig reads them by id.
    reference(api, server, db).await;
    reference(api, server, empty).await;
    reference(api, server, common).await;

    let server_layer = format!(
        "<common>\n  a=1\n</common>{SEP}<db>\n  host=db1\n</db>{SEP}<server>\n  port=1\n</server>"
    );
    assert_eq!(merged(api, server).await, server_layer);

    // Node 1: its own content and a reference of its own come after the server layer.
    let node1 = node_file(api, server, "10.0.0.1").await;
    update(api, node1, "<server>\n  port=2\n</server>").await;
    reference(api, node1, db).await;
    assert_eq!(
        merged(api, node1).await,
        format!("{server_layer}{SEP}<db>\n  host=db1\n</db>{SEP}<server>\n  port=2\n</server>")
    );
    // Node 2: its node file is empty and references nothing, so it gets the server layer.
    let node2 = node_file(api, server, "10.0.0.2").await;
    assert_eq!(merged(api, node2).await, server_layer);

    // A node file may also reference the server-level file itself.
    reference(api, node1, server).await;
    assert_eq!(
        merged(api, node1).await,
        format!(
            "{server_layer}{SEP}<db>\n  host=db1\n</db>{SEP}<server>\n  port=1\n</server>\
             {SEP}<server>\n  port=2\n</server>"
        )
    );

    // Merging reads the current contents: a change to a referenced file shows at once.
    update(api, common, "<common>\n  a=9\n</common>").await;
    assert!(merged(api, node2)
        .await
        .starts_with("<common>\n  a=9\n</common>\r\n\r\n"));

    // An application file on its own merges to itself.
    assert_eq!(merged(api, db).await, "<db>\n  host=db1\n</db>");
    assert_eq!(merged(api, empty).await, "");
}

async fn empty_server_file_with_references_gives_the_references(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.1", 10001).await;
    let common = app_file(api, "common.conf", "x=1").await;
    let server = add_file(
        api,
        json!({"level": 5, "application": "Shop", "server_name": "Cart",
               "filename": "only-refs.conf", "config": ""}),
    )
    .await;
    assert_eq!(merged(api, server).await, "");
    reference(api, server, common).await;
    assert_eq!(merged(api, server).await, "x=1");
    let node = node_file(api, server, "10.0.0.1").await;
    update(api, node, "y=2").await;
    assert_eq!(merged(api, node).await, format!("x=1{SEP}y=2"));
    // Content with its own CRLFs and surrounding blanks is kept byte for byte.
    update(api, node, "\r\n y=2 \r\n").await;
    assert_eq!(merged(api, node).await, format!("x=1{SEP}\r\n y=2 \r\n"));
}

async fn set_servers_get_the_set_variant_of_referenced_files(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    let set = ("sz", "north", "1");
    deploy_in_set(api, "Shop", "Cart", "10.0.0.3", set).await;
    deploy(api, "Shop", "Cart", "10.0.0.4", 10001).await;

    let common = app_file(api, "common.conf", "region=any").await;
    let common_sz = set_file(api, "common.conf", "region=sz", set).await;
    // A set variant of another set does not apply.
    set_file(api, "common.conf", "region=sh", ("sh", "south", "2")).await;

    let in_set = add_file(
        api,
        json!({"level": 5, "application": "Shop", "server_name": "Cart",
               "set_name": set.0, "set_area": set.1, "set_group": set.2,
               "filename": "Cart.conf", "config": "role=set"}),
    )
    .await;
    let no_set = add_file(
        api,
        json!({"level": 5, "application": "Shop", "server_name": "Cart",
               "filename": "Cart.conf", "config": "role=plain"}),
    )
    .await;
    reference(api, in_set, common).await;
    reference(api, no_set, common).await;

    assert_eq!(
        merged(api, in_set).await,
        format!("region=any{SEP}region=sz{SEP}role=set")
    );
    assert_eq!(
        merged(api, no_set).await,
        format!("region=any{SEP}role=plain")
    );

    // The set server's node file sits in the set and merges with the set's server file.
    let files = api
        .post_json(
            "/api/node_config_file_list",
            &json!({"config_id": in_set, "application": "Shop", "server_name": "Cart"}),
        )
        .await;
    let rows = files.ok().as_array().unwrap().clone();
    assert_eq!(rows.len(), 1, "only the set instance: {rows:?}");
    assert_eq!(rows[0]["node_name"], "10.0.0.3");
    assert_eq!(rows[0]["set_name"], "sz");
    let node = rows[0]["id"].as_i64().unwrap();
    update(api, node, "node=3").await;
    assert_eq!(
        merged(api, node).await,
        format!("region=any{SEP}region=sz{SEP}role=set{SEP}node=3")
    );

    // An application file seen from a set: the application text, then the set's.
    assert_eq!(
        merged(api, common_sz).await,
        format!("region=any{SEP}region=sz")
    );
    assert_eq!(merged(api, common).await, "region=any");
}

async fn merged_config_refusals(backend: Backend) {
    let p = Platform::start(backend).await;
    p.api
        .get("/api/merged_node_config", &[("id", "987654")])
        .await
        .err(404, "987654");
    p.api
        .get("/api/merged_node_config", &[])
        .await
        .err(400, "`id` is required");
    p.api
        .get("/api/merged_node_config", &[("id", "seven")])
        .await
        .err(400, "`id`");
}

on_every_backend!(
    layers_and_references_merge_in_tars_order,
    empty_server_file_with_references_gives_the_references,
    set_servers_get_the_set_variant_of_referenced_files,
    merged_config_refusals,
);
