//! Profile templates: shipped defaults, add/read/query/update/delete and their rules.

use serde_json::json;

use crate::common::{Backend, Platform};
use crate::fixtures::deploy;
use crate::on_every_backend;

async fn defaults_are_installed(backend: Backend) {
    let p = Platform::start(backend).await;
    let names = p.api.get("/api/template_name_list", &[]).await.ok().clone();
    for expected in [
        "tars.default",
        "tars.cpp.default",
        "tars.go.default",
        "tars.java.default",
    ] {
        assert!(
            names.as_array().unwrap().contains(&json!(expected)),
            "{expected} missing from {names}"
        );
    }
    let cpp = p
        .api
        .get(
            "/api/profile_template",
            &[("template_name", "tars.cpp.default")],
        )
        .await
        .ok()
        .clone();
    assert_eq!(cpp["parents_name"], "tars.default");
    assert!(cpp["profile"].as_str().unwrap().contains("<tars>"));
    let keys: Vec<&str> = cpp
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["id", "template_name", "parents_name", "profile", "posttime"]
    );
}

async fn template_lifecycle(backend: Backend) {
    let p = Platform::start(backend).await;
    let profile =
        "<tars>\n  <application>\n    # 中文注释 kept byte for byte\n  </application>\n</tars>\n";
    let added = p
        .api
        .post_json(
            "/server/api/add_profile_template",
            &json!({"template_name": "shop.cart", "parents_name": "tars.cpp.default", "profile": profile}),
        )
        .await
        .ok()
        .clone();
    assert_eq!(added["profile"], profile);
    let id = added["id"].as_i64().unwrap().to_string();
    assert_eq!(
        p.api
            .get("/api/profile_template", &[("template_name", "shop.cart")])
            .await
            .ok(),
        &added
    );
    let query = p
        .api
        .get("/api/query_profile_template", &[("template_name", "shop")])
        .await;
    assert_eq!(query.ok(), &json!([added.clone()]));
    let by_parent = p
        .api
        .get(
            "/api/query_profile_template",
            &[("parents_name", "tars.cpp")],
        )
        .await;
    assert!(by_parent
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["template_name"] == "shop.cart"));
    let everything = p.api.get("/api/query_profile_template", &[]).await;
    assert!(everything.ok().as_array().unwrap().len() >= 7);

    let updated = p
        .api
        .post_json(
            "/server/api/update_profile_template",
            &json!({"id": id, "template_name": "shop.cart2", "parents_name": "tars.default", "profile": "<tars/>"}),
        )
        .await
        .ok()
        .clone();
    assert_eq!(updated["template_name"], "shop.cart2");
    assert_eq!(updated["parents_name"], "tars.default");
    p.api
        .get("/api/profile_template", &[("template_name", "shop.cart")])
        .await
        .err(404, "shop.cart");

    let deleted = p
        .api
        .get("/api/delete_profile_template", &[("id", &id)])
        .await;
    assert_eq!(deleted.ok(), &json!([id.parse::<i64>().unwrap()]));
    p.api
        .get("/api/delete_profile_template", &[("id", &id)])
        .await
        .err(404, "no profile template");
    let names = p.api.get("/api/template_name_list", &[]).await;
    assert!(!names
        .ok()
        .as_array()
        .unwrap()
        .contains(&json!("shop.cart2")));
}

async fn template_rules(backend: Backend) {
    let p = Platform::start(backend).await;
    let add = |name: &str, parent: &str| json!({"template_name": name, "parents_name": parent, "profile": "<tars/>"});
    p.api
        .post_json("/api/add_profile_template", &add("a.b", "tars.default"))
        .await
        .ok();
    p.api
        .post_json("/api/add_profile_template", &add("a.b", "tars.default"))
        .await
        .err(409, "already exists");
    p.api
        .post_json("/api/add_profile_template", &add("x.y", "no.parent"))
        .await
        .err(400, "no.parent");
    for field in ["template_name", "parents_name", "profile"] {
        let mut body = add("c.d", "tars.default");
        body.as_object_mut().unwrap().remove(field);
        p.api
            .post_json("/api/add_profile_template", &body)
            .await
            .err(400, &format!("`{field}` is required"));
    }
    // A template in use by a server can be neither deleted nor renamed.
    let conf = deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let tpl = p
        .api
        .get(
            "/api/profile_template",
            &[("template_name", "tars.cpp.default")],
        )
        .await
        .ok()
        .clone();
    let tpl_id = tpl["id"].as_i64().unwrap().to_string();
    p.api
        .get("/api/delete_profile_template", &[("id", &tpl_id)])
        .await
        .err(409, "used by 1 server");
    let rename = json!({"id": tpl_id, "template_name": "renamed", "parents_name": "tars.default", "profile": "<tars/>"});
    p.api
        .post_json("/api/update_profile_template", &rename)
        .await
        .err(409, "cannot be renamed");
    // A parent of other templates cannot be deleted.
    let base = p
        .api
        .get(
            "/api/profile_template",
            &[("template_name", "tars.default")],
        )
        .await
        .ok()["id"]
        .clone();
    p.api
        .get("/api/delete_profile_template", &[("id", &base.to_string())])
        .await
        .err(409, "parent of");
    // No cycles.
    let ab = p
        .api
        .get("/api/profile_template", &[("template_name", "a.b")])
        .await
        .ok()["id"]
        .clone();
    p.api
        .post_json("/api/add_profile_template", &add("a.b.c", "a.b"))
        .await
        .ok();
    let cyclic =
        json!({"id": ab, "template_name": "a.b", "parents_name": "a.b.c", "profile": "<tars/>"});
    p.api
        .post_json("/api/update_profile_template", &cyclic)
        .await
        .err(400, "cycle");
    p.api
        .post_json("/api/update_profile_template", &json!({"id": 99999, "template_name": "z", "parents_name": "tars.default", "profile": "p"}))
        .await
        .err(404, "99999");
    p.api
        .get("/api/profile_template", &[])
        .await
        .err(400, "`template_name` is required");
    p.api
        .get("/api/profile_template", &[("template_name", "nope")])
        .await
        .err(404, "nope");
    assert_eq!(conf["template_name"], "tars.cpp.default");
}

on_every_backend!(defaults_are_installed, template_lifecycle, template_rules);
