//! Lists never grow without bound: histories (notifications, packages, configuration
//! history) answer a page of 20 with their total when no page is asked for; fleet lists
//! (server_list, inactive_server_list) answer everything up to 1,000 rows and ask to be
//! paged beyond; no page may be larger than 1,000 rows. (task_list: tests/e2e/tasks.rs.)

use serde_json::Value;

use crate::common::{Backend, Platform};
use crate::fixtures::deploy;
use crate::on_every_backend;

async fn rows_of(p: &Platform, path: &str, query: &[(&str, &str)]) -> Value {
    p.api.get(path, query).await.ok().clone()
}

async fn histories_answer_a_default_page_with_their_count(backend: Backend) {
    let p = Platform::start(backend).await;
    let db = p.db().await;
    let notifys: Vec<String> = (0..25)
        .map(|k| {
            format!(
                "('Shop', 'Cart', '10.0.0.1', 'Shop.Cart_10.0.0.1', '1', 'restart', 'ok {k}', \
                 '2026-01-01 00:00:{k:02}')"
            )
        })
        .collect();
    db.execute(&format!(
        "INSERT INTO t_server_notifys (application, server_name, node_name, server_id, thread_id, \
         command, result, notifytime) VALUES {}",
        notifys.join(",")
    ))
    .await;
    db.execute(
        "INSERT INTO t_server_conf (application, server_name, node_name, server_type, template_name) \
         VALUES ('Shop', 'Cart', '10.0.0.1', 'tars_cpp', 'tars.default')",
    )
    .await;
    let packages: Vec<String> = (0..25)
        .map(|k| {
            format!("('Shop.Cart', 'Shop.Cart_{k}.tgz', 'release {k}', '2026-01-01 00:00:{k:02}')")
        })
        .collect();
    db.execute(&format!(
        "INSERT INTO t_server_patchs (server, tgz, update_text, posttime) VALUES {}",
        packages.join(",")
    ))
    .await;

    let notify = rows_of(&p, "/api/server_notify_list", &[("tree_node_id", "1Shop")]).await;
    assert_eq!(notify["count"], 25);
    assert_eq!(notify["rows"].as_array().unwrap().len(), 20, "{notify}");
    let last = rows_of(
        &p,
        "/api/server_notify_list",
        &[("tree_node_id", "1Shop"), ("curr_page", "2")],
    )
    .await;
    assert_eq!(last["rows"].as_array().unwrap().len(), 5);

    let patches = rows_of(
        &p,
        "/api/server_patch_list",
        &[("application", "Shop"), ("module_name", "Cart")],
    )
    .await;
    assert_eq!(patches["count"], 25);
    assert_eq!(patches["rows"].as_array().unwrap().len(), 20);
    let all = rows_of(
        &p,
        "/api/server_patch_list",
        &[
            ("application", "Shop"),
            ("module_name", "Cart"),
            ("page_size", "1000"),
        ],
    )
    .await;
    assert_eq!(all["rows"].as_array().unwrap().len(), 25);

    for (path, query) in [
        ("/api/server_notify_list", ("tree_node_id", "1Shop")),
        ("/api/server_patch_list", ("application", "Shop")),
        ("/api/config_file_history_list", ("config_id", "1")),
        ("/api/task_list", ("application", "Shop")),
        ("/api/server_list", ("tree_node_id", "1Shop")),
        ("/api/inactive_server_list", ("application", "Shop")),
    ] {
        p.api
            .get(
                path,
                &[query, ("module_name", "Cart"), ("page_size", "5000")],
            )
            .await
            .err(400, "`page_size` must be between 1 and 1000");
    }
}

async fn fleet_lists_answer_everything_up_to_a_thousand_then_ask_to_page(backend: Backend) {
    let p = Platform::start(backend).await;
    let db = p.db().await;
    let servers: Vec<String> = (0..1000)
        .map(|k| {
            format!(
                "('Bulk', 'S', '10.1.{}.{}', 'tars_cpp', 'tars.default')",
                k / 250,
                k % 250
            )
        })
        .collect();
    db.execute(&format!(
        "INSERT INTO t_server_conf (application, server_name, node_name, server_type, template_name) VALUES {}",
        servers.join(",")
    ))
    .await;
    let all = rows_of(&p, "/api/server_list", &[("tree_node_id", "1Bulk")]).await;
    assert_eq!(
        all.as_array().unwrap().len(),
        1000,
        "a thousand is still one answer"
    );
    // The 1,001st through the API (which also refreshes the server cache).
    deploy(&p.api, "Bulk", "S", "10.1.4.0", 10001).await;
    let refused = p
        .api
        .get("/api/server_list", &[("tree_node_id", "1Bulk")])
        .await
        .err(400, "1001 servers match");
    assert!(refused.contains("curr_page and page_size"), "{refused}");
    p.api
        .get("/api/inactive_server_list", &[("application", "Bulk")])
        .await
        .err(400, "1001 inactive servers match");
    let first = rows_of(
        &p,
        "/api/server_list",
        &[
            ("tree_node_id", "1Bulk"),
            ("curr_page", "1"),
            ("page_size", "1000"),
        ],
    )
    .await;
    let second = rows_of(
        &p,
        "/api/server_list",
        &[
            ("tree_node_id", "1Bulk"),
            ("curr_page", "2"),
            ("page_size", "1000"),
        ],
    )
    .await;
    assert_eq!(first.as_array().unwrap().len(), 1000);
    assert_eq!(second.as_array().unwrap().len(), 1);
    let mut nodes: Vec<&str> = first
        .as_array()
        .unwrap()
        .iter()
        .chain(second.as_array().unwrap())
        .map(|s| s["node_name"].as_str().unwrap())
        .collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 1001, "the pages hold every server once");
    let inactive = rows_of(
        &p,
        "/api/inactive_server_list",
        &[
            ("application", "Bulk"),
            ("curr_page", "11"),
            ("page_size", "100"),
        ],
    )
    .await;
    assert_eq!(inactive.as_array().unwrap().len(), 1);
}

on_every_backend!(
    histories_answer_a_default_page_with_their_count,
    fleet_lists_answer_everything_up_to_a_thousand_then_ask_to_page,
);
