//! The HTTP contract around the endpoints: unknown routes, methods, body limits, the
//! envelope, and a clean exit on SIGTERM.

use serde_json::json;

use crate::common::{Backend, Platform, PlatformOptions};
use crate::on_every_backend;

async fn unknown_routes_and_methods_answer_in_the_envelope(backend: Backend) {
    let p = Platform::start(backend).await;
    p.api
        .get("/api/no_such_endpoint", &[])
        .await
        .err(404, "/api/no_such_endpoint");
    p.api
        .get("/server/api/no_such_endpoint", &[])
        .await
        .err(404, "no endpoint");
    p.api.get("/elsewhere", &[]).await.err(404, "no endpoint");
    let url = p.api.url_for("/api/deploy_server", &[]);
    p.api.send(p.api.client().get(&url)).await.err(405, "POST");
    p.api
        .send(
            p.api
                .client()
                .put(p.api.url_for("/api/server", &[("id", "1")])),
        )
        .await
        .err(405, "not allowed");
}

async fn oversize_bodies_are_413(backend: Backend) {
    let options = PlatformOptions {
        env: vec![("TARS_MAX_BODY_BYTES".into(), "4096".into())],
        ..PlatformOptions::default()
    };
    let p = Platform::start_with(backend, options).await;
    let big = json!({"template_name": "big", "parents_name": "tars.default", "profile": "x".repeat(5000)});
    p.api
        .post_json("/api/add_profile_template", &big)
        .await
        .err(413, "4096-byte limit");
    let small = json!({"template_name": "small", "parents_name": "tars.default", "profile": "x".repeat(1000)});
    p.api
        .post_json("/api/add_profile_template", &small)
        .await
        .ok();
}

async fn sigterm_drains_and_exits_cleanly(backend: Backend) {
    let mut p = Platform::start(backend).await;
    p.api.get("/api/tree", &[]).await.ok();
    let status = p.processes[0].terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

on_every_backend!(
    unknown_routes_and_methods_answer_in_the_envelope,
    oversize_bodies_are_413,
    sigterm_drains_and_exits_cleanly,
);
