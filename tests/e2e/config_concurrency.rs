//! Configuration files under concurrent writers, as several operators (or gateways) make
//! them: no write is refused for being concurrent, every update leaves its history
//! record, and a reference racing the deletion of its target never dangles.

use futures::future::join_all;
use serde_json::json;

use crate::common::{Backend, Platform};
use crate::on_every_backend;

async fn concurrent_updates_all_land_in_the_history(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    let id = api
        .post_json(
            "/api/add_config_file",
            &json!({"level": 1, "application": "Shop", "filename": "a.conf", "config": "v0"}),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    let updates = (1..=16).map(|i| {
        let body = json!({"id": id, "config": format!("v{i}"), "reason": format!("r{i}")});
        async move { api.post_json("/api/update_config_file", &body).await }
    });
    for answer in join_all(updates).await {
        answer.ok();
    }
    let history = api
        .get(
            "/api/config_file_history_list",
            &[("config_id", &id.to_string())],
        )
        .await;
    assert_eq!(history.ok()["count"], 17, "{:?}", history.ok());
    let latest = history.ok()["rows"][0]["content"].clone();
    let file = api
        .get("/api/config_file", &[("id", &id.to_string())])
        .await;
    assert_eq!(
        file.ok()["config"],
        latest,
        "the file holds the last recorded change"
    );
}

async fn a_reference_racing_a_delete_never_dangles(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    let server = api
        .post_json(
            "/api/add_config_file",
            &json!({"level": 5, "application": "Shop", "server_name": "Cart",
                    "filename": "Cart.conf", "config": "s"}),
        )
        .await
        .ok()["id"]
        .as_i64()
        .unwrap();
    for round in 0..8 {
        let app = api
            .post_json(
                "/api/add_config_file",
                &json!({"level": 1, "application": "Shop",
                        "filename": format!("common{round}.conf"), "config": "c"}),
            )
            .await
            .ok()["id"]
            .as_i64()
            .unwrap();
        let (server_s, app_s) = (server.to_string(), app.to_string());
        let reference_query = [
            ("config_id", server_s.as_str()),
            ("reference_id", app_s.as_str()),
        ];
        let delete_query = [("id", app_s.as_str())];
        let (reference, delete) = tokio::join!(
            api.get("/api/add_config_ref", &reference_query),
            api.get("/api/delete_config_file", &delete_query)
        );
        // One of two orders happened, and each answer says which.
        match (reference.status, delete.status) {
            (200, 409) => {}
            (404, 200) => {}
            other => panic!("round {round}: unexpected pair {other:?}: {reference:?} {delete:?}"),
        }
    }
    let dangling = p
        .db()
        .await
        .fetch_text(
            "SELECT 'dangling' FROM t_config_references r LEFT JOIN t_config_files f \
             ON f.id = r.reference_id WHERE f.id IS NULL LIMIT 1",
        )
        .await;
    assert_eq!(dangling, None, "a reference points at a deleted file");
}

on_every_backend!(
    concurrent_updates_all_land_in_the_history,
    a_reference_racing_a_delete_never_dangles,
);
