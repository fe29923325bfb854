//! Dictionaries: server types, template names, and the cascade selector.

use serde_json::json;

use crate::common::{Backend, Platform};
use crate::fixtures::{deploy, deploy_in_set};
use crate::on_every_backend;

async fn server_types_and_cascade(backend: Backend) {
    let p = Platform::start(backend).await;
    let types = p.api.get("/api/server_type_list", &[]).await.ok().clone();
    for t in [
        "tars_cpp",
        "tars_java",
        "tars_nodejs",
        "tars_php",
        "tars_go",
    ] {
        assert!(types.as_array().unwrap().contains(&json!(t)), "{t}");
    }
    deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    deploy(&p.api, "Shop", "Cart", "10.0.0.6", 10001).await;
    deploy_in_set(&p.api, "Shop", "Cart", "10.0.0.7", ("mtt", "sz", "1")).await;
    deploy(&p.api, "Shop", "Billing", "10.0.0.5", 10002).await;
    deploy(&p.api, "Blog", "Posts", "10.0.0.5", 10003).await;

    let level = |q: Vec<(&'static str, &'static str)>| {
        let api = p.api.clone();
        async move { api.get("/api/cascade_select_server", &q).await.ok().clone() }
    };
    assert_eq!(level(vec![("level", "1")]).await, json!(["Blog", "Shop"]));
    assert_eq!(
        level(vec![("level", "2"), ("application", "Shop")]).await,
        json!(["Billing", "Cart"])
    );
    assert_eq!(
        level(vec![
            ("level", "3"),
            ("application", "Shop"),
            ("server_name", "Cart")
        ])
        .await,
        json!(["", "mtt.sz.1"])
    );
    assert_eq!(
        level(vec![
            ("level", "4"),
            ("application", "Shop"),
            ("server_name", "Cart"),
            ("set", "")
        ])
        .await,
        json!(["10.0.0.5", "10.0.0.6"])
    );
    assert_eq!(
        level(vec![
            ("level", "4"),
            ("application", "Shop"),
            ("server_name", "Cart"),
            ("set", "mtt.sz.1")
        ])
        .await,
        json!(["10.0.0.7"])
    );
    assert_eq!(
        level(vec![
            ("level", "5"),
            ("application", "Shop"),
            ("server_name", "Cart")
        ])
        .await,
        json!(["Shop.Cart.CartObj"])
    );
    p.api
        .get("/api/cascade_select_server", &[("level", "2")])
        .await
        .err(400, "`application` is required");
    p.api
        .get(
            "/api/cascade_select_server",
            &[("level", "3"), ("application", "Shop")],
        )
        .await
        .err(400, "`server_name` is required");
    p.api
        .get("/api/cascade_select_server", &[("level", "9")])
        .await
        .err(400, "level");
    p.api
        .get("/api/cascade_select_server", &[])
        .await
        .err(400, "`level` is required");
    p.api
        .get(
            "/api/cascade_select_server",
            &[
                ("level", "4"),
                ("application", "Shop"),
                ("server_name", "Cart"),
                ("set", "mtt.sz"),
            ],
        )
        .await
        .err(400, "`set`");
}

on_every_backend!(server_types_and_cascade);
