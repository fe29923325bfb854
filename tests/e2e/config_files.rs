//! Configuration files at application and set level (`add_config_file`, `config_file`,
//! `config_file_list`, `delete_config_file`): their lifecycle, every refusal of
//! `add_config_file`, and content kept byte for byte up to the size limit. Server-level
//! files and their node files are in `config_node_files`, updates and history in
//! `config_history`, references and pushes in `config_refs`.

use serde_json::{json, Value};

use crate::common::config_api::*;
use crate::common::{Backend, Platform};
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

on_every_backend!(
    app_and_set_files_lifecycle,
    add_config_file_refusals,
    content_is_kept_byte_for_byte_up_to_one_mebibyte,
);
