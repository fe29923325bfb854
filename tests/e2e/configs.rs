//! Configuration files over HTTP: adding files at application, set, server and node level,
//! reading and listing them, updating with history, node files made on add and lazily,
//! and the refusals of those endpoints. References and pushes are in `config_refs`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::config_api::*;
use crate::common::{Backend, Platform};
use crate::fixtures::{deploy, deploy_in_set};
use crate::on_every_backend;

async fn app_and_set_files_lifecycle(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;

    let app = add(api, app_file("Shop", "shop.conf", "<shop>\n</shop>")).await;
    assert_eq!(keys(&app), FILE_KEYS);
    assert_eq!(app["server_name"], "Shop");
    assert_eq!(app["node_name"], "");
    assert_eq!(app["level"], 1);
    assert_eq!(app["filename"], "shop.conf");
    assert_eq!(app["config"], "<shop>\n</shop>");
    assert_eq!(app["lastuser"], "e2e");
    for field in ["set_name", "set_area", "set_group"] {
        assert_eq!(app[field], "", "{field}");
    }
    assert_posttime(&app["posttime"]);
    assert_eq!(file(api, id_of(&app)).await.ok(), &app);
    let id = id_of(&app).to_string();
    let same = api.get("/server/api/config_file", &[("id", &id)]).await;
    assert_eq!(same.ok(), &app);

    // Set levels: stored at level 1 under the application with the set fields down to
    // the level's depth; the same file name exists once per place.
    let in_set = |level: i64, set: [&str; 3], config: &str| {
        let mut body = app_file("Shop", "shop.conf", config);
        body["level"] = json!(level);
        for (field, value) in ["set_name", "set_area", "set_group"].into_iter().zip(set) {
            body[field] = json!(value);
        }
        body
    };
    let by_name = add(api, in_set(2, ["sh", "", ""], "name")).await;
    let by_area = add(api, in_set(3, ["sh", "a", ""], "area")).await;
    let by_group = add(api, in_set(4, ["sh", "a", "1"], "group")).await;
    let any_group = add(api, in_set(4, ["sh", "a", "*"], "any group")).await;
    for (row, set) in [
        (&by_name, ["sh", "", ""]),
        (&by_area, ["sh", "a", ""]),
        (&by_group, ["sh", "a", "1"]),
        (&any_group, ["sh", "a", "*"]),
    ] {
        assert_eq!(row["level"], 1, "{row}");
        assert_eq!(row["server_name"], "Shop", "{row}");
        assert_eq!(row["node_name"], "", "{row}");
        assert_eq!([&row["set_name"], &row["set_area"], &row["set_group"]], set);
        assert_eq!(file(api, id_of(row)).await.ok(), row);
    }

    // The filename is trimmed; a form body works as well as JSON.
    let trimmed = add(api, app_file("Shop", "  spaced.conf\t", "")).await;
    assert_eq!(trimmed["filename"], "spaced.conf");
    assert_eq!(trimmed["config"], "");
    let form_body = "level=1&application=Shop&filename=form.conf&config=a%3Db%0Ac%3D%C3%A9";
    let form = post_form(api, "add_config_file", form_body.into()).await;
    let form = form.ok().clone();
    assert_eq!(form["config"], "a=b\nc=é");
    add(api, app_file("Bank", "shop.conf", "other application")).await;

    // Each list shows exactly its place in the tree.
    let mut level1 = ids(&list(api, SHOP).await);
    level1.sort();
    assert_eq!(level1, [id_of(&app), id_of(&trimmed), id_of(&form)]);
    let level2 = [("level", "2"), ("application", "Shop"), ("set_name", "sh")];
    assert_eq!(list(api, &level2).await, json!([by_name]));
    let level3 = [
        ("level", "3"),
        ("application", "Shop"),
        ("set_name", "sh"),
        ("set_area", "a"),
    ];
    assert_eq!(list(api, &level3).await, json!([by_area]));
    for (group, expected) in [("1", &by_group), ("*", &any_group)] {
        let mut level4 = level3.to_vec();
        level4[0].1 = "4";
        level4.push(("set_group", group));
        assert_eq!(list(api, &level4).await, json!([expected]));
    }
    let other_set = [("level", "2"), ("application", "Shop"), ("set_name", "bj")];
    assert_eq!(list(api, &other_set).await, json!([]));

    // The same place twice is a conflict.
    let again = post(
        api,
        "add_config_file",
        &app_file("Shop", "shop.conf", "again"),
    )
    .await;
    again.err(409, "shop.conf");
    let again = post(
        api,
        "add_config_file",
        &app_file("Shop", "spaced.conf", "again"),
    )
    .await;
    again.err(409, "spaced.conf");
    let again = post(api, "add_config_file", &in_set(2, ["sh", "", ""], "again")).await;
    again.err(409, "shop.conf");
    assert_eq!(
        file(api, id_of(&app)).await.ok()["config"],
        "<shop>\n</shop>"
    );
    assert_eq!(file(api, id_of(&by_name)).await.ok()["config"], "name");

    // Delete: answers [id], then the file is gone from reads and lists.
    let deleted = by(api, "delete_config_file", "id", &id).await;
    assert_eq!(deleted.ok(), &json!([id_of(&app)]));
    file(api, id_of(&app)).await.err(404, &id);
    by(api, "delete_config_file", "id", &id).await.err(404, &id);
    assert!(!ids(&list(api, SHOP).await).contains(&id_of(&app)));
    assert_eq!(
        list(api, &level2).await,
        json!([by_name]),
        "deleting the application file leaves its set variants"
    );
}

async fn add_config_file_refusals(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    let base = app_file("Shop", "x.conf", "");
    let refused = |changes: &[(&str, Value)]| {
        let mut body = base.clone();
        for (field, value) in changes {
            match value {
                Value::Null => body.as_object_mut().unwrap().remove(*field),
                other => body
                    .as_object_mut()
                    .unwrap()
                    .insert(field.to_string(), other.clone()),
            };
        }
        body
    };

    for level in [json!(0), json!(6), json!(-1), json!("abc")] {
        let body = refused(&[("level", level)]);
        post(api, "add_config_file", &body)
            .await
            .err(400, "`level`");
    }
    for field in ["application", "filename", "config", "level"] {
        let body = refused(&[(field, Value::Null)]);
        post(api, "add_config_file", &body)
            .await
            .err(400, &format!("`{field}`"));
    }
    for name in [
        "../x.conf",
        "..",
        "a/b.conf",
        "/etc/passwd",
        "a\\b.conf",
        "..\\x.conf",
        "x..conf",
        "a b.conf",
        "a\tb.conf",
        "   ",
    ] {
        let body = refused(&[("filename", json!(name))]);
        post(api, "add_config_file", &body)
            .await
            .err(400, "`filename`");
    }
    let body = refused(&[("application", json!("Sh/op"))]);
    post(api, "add_config_file", &body)
        .await
        .err(400, "`application`");

    // Set fields must match the level's depth exactly.
    for (level, set, field) in [
        (1, ["sh", "", ""], "set_name"),
        (2, ["", "", ""], "set_name"),
        (2, ["sh", "a", ""], "set_area"),
        (3, ["sh", "", ""], "set_area"),
        (3, ["sh", "a", "1"], "set_group"),
        (4, ["sh", "a", ""], "set_group"),
        (4, ["sh", "a", "x"], "set_group"),
        (4, ["s.h", "a", "1"], "set_name"),
    ] {
        let body = refused(&[
            ("level", json!(level)),
            ("set_name", json!(set[0])),
            ("set_area", json!(set[1])),
            ("set_group", json!(set[2])),
        ]);
        post(api, "add_config_file", &body)
            .await
            .err(400, &format!("`{field}`"));
    }

    // Server level: a server name, and the set all or nothing.
    let body = refused(&[("level", json!(5))]);
    post(api, "add_config_file", &body)
        .await
        .err(400, "`server_name`");
    let mut body = server_file("Shop", "Ca rt", "x.conf", "");
    post(api, "add_config_file", &body)
        .await
        .err(400, "`server_name`");
    body["server_name"] = json!("Cart");
    body["set_name"] = json!("sh");
    post(api, "add_config_file", &body)
        .await
        .err(400, "`set_area`");

    // What TARS's columns cannot hold is a 400 on both backends, never a database error:
    // 4-byte UTF-8 in names, set fields over 16 characters, `App.Server` over 128.
    let body = refused(&[("filename", json!("b🔁.conf"))]);
    post(api, "add_config_file", &body)
        .await
        .err(400, "`filename`");
    for (level, set, field) in [
        (
            2,
            ["a".repeat(20), String::new(), String::new()],
            "set_name",
        ),
        (3, ["sh".into(), "b".repeat(17), String::new()], "set_area"),
        (4, ["sh".into(), "a".into(), "1".repeat(20)], "set_group"),
    ] {
        let body = refused(&[
            ("level", json!(level)),
            ("set_name", json!(set[0])),
            ("set_area", json!(set[1])),
            ("set_group", json!(set[2])),
        ]);
        post(api, "add_config_file", &body)
            .await
            .err(400, &format!("`{field}`"));
    }
    let mut long = server_file(&"A".repeat(100), &"B".repeat(100), "x.conf", "");
    post(api, "add_config_file", &long).await.err(400, "128");
    long["application"] = json!("Shop");
    long["server_name"] = json!("Cart");
    long["set_name"] = json!("sh");
    long["set_area"] = json!("a");
    long["set_group"] = json!("1".repeat(20));
    post(api, "add_config_file", &long)
        .await
        .err(400, "`set_group`");

    get_post_only(api, "add_config_file").await.err(405, "POST");

    // Nothing was stored by any refusal; an empty content is fine.
    assert_eq!(list(api, SHOP).await, json!([]));
    assert_eq!(list(api, CART).await, json!([]));
    assert_eq!(add(api, base).await["config"], "");
}

async fn content_is_kept_byte_for_byte_up_to_one_mebibyte(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    let contents = [
        "ünïcødé 配置 😀🚀🎉 \u{1F9D1}\u{200D}\u{1F4BB}\n",
        "line1\r\nline2\r\n\r\n",
        "\tkey\t=\tvalue\t",
        "   leading and trailing   \n\n",
        "<a>\r\n\t💾 = \"quoted\" \\ 'single' %s %% </a>",
    ];
    for (i, content) in contents.iter().enumerate() {
        let row = add(api, app_file("Shop", &format!("f{i}.conf"), content)).await;
        assert_eq!(row["config"], *content);
        assert_eq!(file(api, id_of(&row)).await.ok()["config"], *content);
        let records = history(api, id_of(&row), None).await;
        assert_eq!(records["rows"][0]["content"], *content);
        // Changed content goes through an update and its history the same way.
        let changed = format!("{content}🔁\r\n");
        let updated = update(api, id_of(&row), &changed, "é 配置").await;
        assert_eq!(updated.ok()["config"], changed.as_str());
        let records = history(api, id_of(&row), None).await;
        assert_eq!(records["rows"][0]["content"], changed.as_str());
        assert_eq!(records["rows"][0]["reason"], "é 配置");
    }

    // Exactly 1 MiB is accepted and read back whole; one byte more is refused.
    let biggest = "x".repeat(MAX_CONTENT);
    let big = add(api, app_file("Shop", "big.conf", &biggest)).await;
    assert_eq!(big["config"].as_str().unwrap().len(), MAX_CONTENT);
    assert_eq!(
        file(api, id_of(&big)).await.ok()["config"],
        biggest.as_str()
    );
    let bigger = app_file("Shop", "bigger.conf", &"x".repeat(MAX_CONTENT + 1));
    post(api, "add_config_file", &bigger)
        .await
        .err(413, "1048576");
    // The limit is in bytes, not characters.
    let wide = app_file("Shop", "wide.conf", &"é".repeat(MAX_CONTENT / 2 + 1));
    post(api, "add_config_file", &wide)
        .await
        .err(413, "1048576");
    let stored = list(api, SHOP).await;
    let names: Vec<&Value> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["filename"])
        .collect();
    assert!(!names.contains(&&json!("bigger.conf")), "{names:?}");
    assert!(!names.contains(&&json!("wide.conf")), "{names:?}");

    let grown = "y".repeat(MAX_CONTENT + 1);
    update(api, id_of(&big), &grown, "grow")
        .await
        .err(413, "1048576");
    assert_eq!(
        file(api, id_of(&big)).await.ok()["config"],
        biggest.as_str()
    );
    assert_eq!(history(api, id_of(&big), None).await["count"], 1);
    let full = update(api, id_of(&big), &grown[1..], "grow").await;
    assert_eq!(full.ok()["config"], &grown[1..]);
    assert_eq!(history(api, id_of(&big), None).await["count"], 2);
}

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
    assert_eq!(
        ids(&list(api, CART).await),
        [id_of(&set_file), id_of(&server)]
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
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

async fn updates_grow_the_history(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    let added = add(api, app_file("Shop", "shop.conf", "v1")).await;
    let id = id_of(&added);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let first = update(api, id, "v2", "first change").await.ok().clone();
    assert_eq!(keys(&first), FILE_KEYS);
    assert_eq!(first["config"], "v2");
    assert_eq!(first["lastuser"], "e2e");
    assert_posttime(&first["posttime"]);
    let (before, after) = (added["posttime"].as_str(), first["posttime"].as_str());
    assert!(
        after > before,
        "posttime is refreshed: {before:?} then {after:?}"
    );
    for field in [
        "id",
        "server_name",
        "node_name",
        "filename",
        "level",
        "set_name",
    ] {
        assert_eq!(first[field], added[field], "{field} is kept");
    }
    assert_eq!(file(api, id).await.ok(), &first);
    // The id may come as text, as TarsWeb clients send it.
    let body = json!({"id": id.to_string(), "config": "v3", "reason": "second change"});
    let second = post(api, "update_config_file", &body).await.ok().clone();
    assert_eq!(second["config"], "v3");

    let page = history(api, id, None).await;
    assert_eq!(keys(&page), ["count", "rows"]);
    assert_eq!(page["count"], 3);
    let rows = page["rows"].as_array().unwrap();
    let history_ids = ids(&page["rows"]);
    assert!(
        history_ids.windows(2).all(|w| w[0] > w[1]),
        "newest first: {history_ids:?}"
    );
    let summary: Vec<Value> = rows
        .iter()
        .map(|r| json!([r["config_id"], r["reason"], r["content"]]))
        .collect();
    assert_eq!(
        summary,
        [
            json!([id, "second change", "v3"]),
            json!([id, "first change", "v2"]),
            json!([id, "add config", "v1"]),
        ]
    );
    for row in rows {
        assert_eq!(
            keys(row),
            ["id", "config_id", "reason", "content", "posttime"]
        );
        assert_posttime(&row["posttime"]);
        assert_eq!(
            by(api, "config_file_history", "id", id_of(row)).await.ok(),
            row
        );
    }
    assert_eq!(rows[0]["posttime"], second["posttime"]);

    // Paging.
    let last_page = history(api, id, Some(("2", "2"))).await;
    assert_eq!(last_page["count"], 3);
    assert_eq!(last_page["rows"], json!([rows[2]]));
    let first_page = history(api, id, Some(("1", "2"))).await;
    assert_eq!(first_page["rows"], json!([rows[0], rows[1]]));

    // Reasons: required (as in TarsWeb), at most 128 characters (not bytes).
    for body in [
        json!({"id": id, "config": "v4"}),
        json!({"id": id, "config": "v4", "reason": ""}),
        json!({"id": id, "config": "v4", "reason": "  "}),
    ] {
        post(api, "update_config_file", &body)
            .await
            .err(400, "`reason` is required");
    }
    assert_eq!(history(api, id, None).await["count"], 3);
    let longest = "é".repeat(128);
    update(api, id, "v5", &longest).await.ok();
    assert_eq!(history(api, id, None).await["rows"][0]["reason"], longest);
    update(api, id, "v6", &"r".repeat(129))
        .await
        .err(400, "`reason`");
    // TARS keeps reasons in a 3-byte utf8 column: emoji are refused on every backend.
    update(api, id, "v6", "é🔁").await.err(400, "`reason`");

    // Refusals change nothing.
    update(api, 987654, "x", "r").await.err(404, "987654");
    for (body, needle) in [
        (json!({"config": "x", "reason": "r"}), "`id`"),
        (json!({"id": id, "reason": "r"}), "`config`"),
    ] {
        post(api, "update_config_file", &body)
            .await
            .err(400, needle);
    }
    let form = post_form(
        api,
        "update_config_file",
        format!("id={id}&config=x&reason=r"),
    )
    .await;
    form.err(415, "application/json");
    let text = format!("{{\"id\": {id}, \"config\": \"x\"}}");
    let text = api
        .post_raw("/api/update_config_file", "text/plain", text)
        .await;
    text.err(415, "application/json");
    get_post_only(api, "update_config_file")
        .await
        .err(405, "POST");
    assert_eq!(file(api, id).await.ok()["config"], "v5");
    assert_eq!(history(api, id, None).await["count"], 4);

    // The history outlives the file.
    by(api, "delete_config_file", "id", id).await.ok();
    file(api, id).await.err(404, &id.to_string());
    let after = history(api, id, None).await;
    assert_eq!(after["count"], 4);
    assert_eq!(after["rows"][3], rows[2]);
    assert_eq!(
        by(api, "config_file_history", "id", id_of(&rows[0]))
            .await
            .ok(),
        &rows[0]
    );

    by(api, "config_file_history", "id", 987654)
        .await
        .err(404, "987654");
    get(api, "config_file_history", &[]).await.err(400, "`id`");
    by(api, "config_file_history_list", "config_id", 987654)
        .await
        .err(404, "987654");
    get(api, "config_file_history_list", &[])
        .await
        .err(400, "`config_id`");
}

on_every_backend!(
    app_and_set_files_lifecycle,
    add_config_file_refusals,
    content_is_kept_byte_for_byte_up_to_one_mebibyte,
    server_file_creates_node_files_per_instance,
    node_files_are_created_lazily_for_later_instances,
    updates_grow_the_history,
);
