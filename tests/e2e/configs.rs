//! Configuration files over HTTP: adding files at application, set, server and node level,
//! reading and listing them, updating with history, references between levels, node files
//! made on add and lazily, pushing to a simulated fleet with a dead node, and refusals.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::http::Answer;
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::{free_port, Api, Backend, Platform, PlatformOptions};
use crate::fixtures::{deploy, deploy_in_set};
use crate::on_every_backend;

/// The keys of a file row, in order.
const FILE_KEYS: [&str; 11] = [
    "id",
    "server_name",
    "node_name",
    "set_name",
    "set_area",
    "set_group",
    "filename",
    "config",
    "level",
    "posttime",
    "lastuser",
];

/// The largest content a file may hold (1 MiB).
const MAX_CONTENT: usize = 1 << 20;

/// `config_file_list` of Shop's application files, and of Shop.Cart's server files.
const SHOP: &[(&str, &str)] = &[("level", "1"), ("application", "Shop")];
const CART: &[(&str, &str)] = &[
    ("level", "5"),
    ("application", "Shop"),
    ("server_name", "Cart"),
];

fn keys(row: &Value) -> Vec<&str> {
    let object = row.as_object();
    object
        .unwrap_or_else(|| panic!("not an object: {row}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn id_of(row: &Value) -> i64 {
    row["id"].as_i64().unwrap_or_else(|| panic!("no id: {row}"))
}

fn ids(rows: &Value) -> Vec<i64> {
    rows.as_array()
        .unwrap_or_else(|| panic!("not an array: {rows}"))
        .iter()
        .map(id_of)
        .collect()
}

#[track_caller]
fn assert_posttime(text: &Value) {
    let t = text.as_str().unwrap_or_default();
    let shape_ok = t.len() == 19
        && t.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == ' ',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        });
    assert!(shape_ok, "posttime {text} must be YYYY-MM-DD HH:MM:SS");
}

/// An application-level (API level 1) add request.
fn app_file(app: &str, filename: &str, config: &str) -> Value {
    json!({"level": 1, "application": app, "filename": filename, "config": config})
}

/// A server-level (API level 5) add request.
fn server_file(app: &str, server: &str, filename: &str, config: &str) -> Value {
    json!({
        "level": 5, "application": app, "server_name": server,
        "filename": filename, "config": config
    })
}

/// POSTs `body` as JSON to `/api/<endpoint>`.
async fn post(api: &Api, endpoint: &str, body: &Value) -> Answer {
    api.post_json(&format!("/api/{endpoint}"), body).await
}

/// POSTs a form body to `/api/<endpoint>`.
async fn post_form(api: &Api, endpoint: &str, body: String) -> Answer {
    let path = format!("/api/{endpoint}");
    api.post_raw(&path, "application/x-www-form-urlencoded", body)
        .await
}

/// GETs `/api/<endpoint>` with query parameters.
async fn get(api: &Api, endpoint: &str, query: &[(&str, &str)]) -> Answer {
    api.get(&format!("/api/{endpoint}"), query).await
}

/// GETs `/api/<endpoint>?<key>=<id>`.
async fn by(api: &Api, endpoint: &str, key: &str, id: impl ToString) -> Answer {
    get(api, endpoint, &[(key, &id.to_string())]).await
}

async fn add(api: &Api, body: Value) -> Value {
    post(api, "add_config_file", &body).await.ok().clone()
}

async fn update(api: &Api, id: i64, config: &str, reason: &str) -> Answer {
    let body = json!({"id": id, "config": config, "reason": reason});
    post(api, "update_config_file", &body).await
}

async fn file(api: &Api, id: i64) -> Answer {
    by(api, "config_file", "id", id).await
}

async fn history(api: &Api, config_id: i64, page: Option<(&str, &str)>) -> Value {
    let id = config_id.to_string();
    let mut query = vec![("config_id", id.as_str())];
    if let Some((curr_page, page_size)) = page {
        query.extend([("curr_page", curr_page), ("page_size", page_size)]);
    }
    get(api, "config_file_history_list", &query)
        .await
        .ok()
        .clone()
}

async fn node_files(api: &Api, config_id: i64) -> Value {
    let body = json!({"config_id": config_id, "application": "Shop", "server_name": "Cart"});
    post(api, "node_config_file_list", &body).await.ok().clone()
}

async fn list(api: &Api, query: &[(&str, &str)]) -> Value {
    get(api, "config_file_list", query).await.ok().clone()
}

async fn add_ref(api: &Api, config_id: i64, reference_id: i64) -> Answer {
    let (config_id, reference_id) = (config_id.to_string(), reference_id.to_string());
    let query = [
        ("config_id", config_id.as_str()),
        ("reference_id", reference_id.as_str()),
    ];
    get(api, "add_config_ref", &query).await
}

/// A GET on a POST-only endpoint.
async fn get_post_only(api: &Api, endpoint: &str) -> Answer {
    api.send(
        api.client()
            .get(api.url_for(&format!("/api/{endpoint}"), &[])),
    )
    .await
}

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
            &json!({"config_id": s.to_string()}),
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
    ] {
        let body = json!({
            "config_id": config_id, "application": application, "server_name": server_name
        });
        post(api, "node_config_file_list", &body)
            .await
            .err(status, needle);
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

    // Reasons: optional, at most 128 characters (not bytes).
    let no_reason = post(
        api,
        "update_config_file",
        &json!({"id": id, "config": "v4"}),
    )
    .await;
    no_reason.ok();
    assert_eq!(history(api, id, None).await["rows"][0]["reason"], "");
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
    assert_eq!(history(api, id, None).await["count"], 5);

    // The history outlives the file.
    by(api, "delete_config_file", "id", id).await.ok();
    file(api, id).await.err(404, &id.to_string());
    let after = history(api, id, None).await;
    assert_eq!(after["count"], 5);
    assert_eq!(after["rows"][4], rows[2]);
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

async fn references_follow_the_level_rules(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let app = add(api, app_file("Shop", "common.conf", "app")).await;
    let server = add(api, server_file("Shop", "Cart", "cart.conf", "server")).await;
    let other_server = add(api, server_file("Shop", "Cart", "other.conf", "other")).await;
    let node = node_files(api, id_of(&server)).await[0].clone();
    let bank = add(api, app_file("Bank", "common.conf", "bank")).await;
    let (a, s, s2, n, b) = (
        id_of(&app),
        id_of(&server),
        id_of(&other_server),
        id_of(&node),
        id_of(&bank),
    );

    let server_to_app = add_ref(api, s, a).await.ok().clone();
    assert_eq!(keys(&server_to_app), ["id", "config_id", "reference_id"]);
    assert_eq!(server_to_app["config_id"], s);
    assert_eq!(server_to_app["reference_id"], a);
    let merged = by(api, "merged_node_config", "id", s).await;
    assert_eq!(merged.ok(), &json!("app\r\n\r\nserver"));

    let node_to_server = add_ref(api, n, s).await.ok().clone();
    let node_to_app = add_ref(api, n, a).await.ok().clone();
    assert_eq!(node_to_app["config_id"], n);
    let refs = by(api, "config_ref_list", "config_id", n).await;
    assert_eq!(
        refs.ok(),
        &json!([
            {"id": node_to_app["id"], "config_id": n, "reference": app},
            {"id": node_to_server["id"], "config_id": n, "reference": server},
        ]),
        "newest reference first, each with its file"
    );
    let refs = by(api, "config_ref_list", "config_id", s).await;
    assert_eq!(ids(refs.ok()), [id_of(&server_to_app)]);
    assert_eq!(
        by(api, "config_ref_list", "config_id", a).await.ok(),
        &json!([])
    );

    // Only upwards (server or node to a higher level), within the application, once.
    for (from, to) in [(s, s), (n, n), (a, s), (a, n), (s, s2), (s, n)] {
        add_ref(api, from, to).await.err(400, "`reference_id`");
    }
    add_ref(api, s, b).await.err(400, "Bank");
    add_ref(api, s, 987654).await.err(404, "987654");
    add_ref(api, 987654, a).await.err(404, "987654");
    add_ref(api, s, a).await.err(409, &a.to_string());
    by(api, "add_config_ref", "config_id", s)
        .await
        .err(400, "`reference_id`");
    by(api, "add_config_ref", "reference_id", a)
        .await
        .err(400, "`config_id`");
    by(api, "config_ref_list", "config_id", 987654)
        .await
        .err(404, "987654");
    get(api, "config_ref_list", &[])
        .await
        .err(400, "`config_id`");
    let refs = by(api, "config_ref_list", "config_id", s).await;
    assert_eq!(
        ids(refs.ok()),
        [id_of(&server_to_app)],
        "refusals add nothing"
    );

    // A referenced file cannot be deleted; the message names who references it.
    let refused = by(api, "delete_config_file", "id", a).await;
    let message = refused.err(409, &format!("{s} ("));
    assert!(message.contains(&format!("{n} (")), "{message}");
    file(api, a).await.ok();

    // Removing a reference.
    let ref_id = id_of(&node_to_app);
    assert_eq!(
        by(api, "delete_config_ref", "id", ref_id).await.ok(),
        &json!([ref_id])
    );
    by(api, "delete_config_ref", "id", ref_id)
        .await
        .err(404, &ref_id.to_string());
    get(api, "delete_config_ref", &[]).await.err(400, "`id`");
    let refs = by(api, "config_ref_list", "config_id", n).await;
    assert_eq!(ids(refs.ok()), [id_of(&node_to_server)]);

    // The server file is referenced only by its own node file: both go, with the
    // references they held, and the application file is free again.
    by(api, "delete_config_file", "id", s).await.ok();
    file(api, n).await.err(404, &n.to_string());
    by(api, "config_ref_list", "config_id", n)
        .await
        .err(404, &n.to_string());
    let gone = id_of(&server_to_app);
    by(api, "delete_config_ref", "id", gone)
        .await
        .err(404, &gone.to_string());

    let other_to_app = add_ref(api, s2, a).await.ok().clone();
    by(api, "delete_config_file", "id", a)
        .await
        .err(409, &format!("{s2} ("));
    by(api, "delete_config_ref", "id", id_of(&other_to_app))
        .await
        .ok();
    assert_eq!(
        by(api, "delete_config_file", "id", a).await.ok(),
        &json!([a])
    );
}

fn node_env(port: u16) -> PlatformOptions {
    PlatformOptions {
        env: vec![
            ("TARS_NODE_PORT".into(), port.to_string()),
            ("TARS_NODE_TIMEOUT_MS".into(), "1000".into()),
            ("TARS_NODE_CONNECT_TIMEOUT_MS".into(), "500".into()),
        ],
        ..PlatformOptions::default()
    }
}

async fn push_tells_every_instance_and_a_dead_node_fails_alone(backend: Backend) {
    let ips = fresh_ips(3);
    let port = free_port();
    // ips[2] runs no tarsnode: calls to it are refused.
    let sim = Simulator::start(&ips[..2], port, &[]);
    let p = Platform::start_with(backend, node_env(port)).await;
    let api = &p.api;
    for ip in &ips {
        deploy(api, "Shop", "Cart", ip, 10001).await;
    }
    deploy(api, "Shop", "Other", &ips[0], 10002).await;
    let server = add(api, server_file("Shop", "Cart", "cart.conf", "x=1")).await;
    let app = add(api, app_file("Shop", "app.conf", "")).await;
    let nodes = node_files(api, id_of(&server)).await;
    let nodes = nodes.as_array().unwrap();
    let on_second = nodes
        .iter()
        .find(|f| f["node_name"] == ips[1].as_str())
        .unwrap()
        .clone();

    let pushed = by(api, "push_config_file", "ids", id_of(&server)).await;
    let rows = pushed.ok().as_array().unwrap().clone();
    assert_eq!(rows.len(), 3, "one row per instance: {rows:?}");
    for row in &rows {
        assert_eq!(
            keys(row),
            [
                "application",
                "server_name",
                "node_name",
                "ret_code",
                "err_msg"
            ]
        );
        assert_eq!(row["application"], "Shop");
        assert_eq!(row["server_name"], "Cart");
    }
    let row_of = |ip: &str| {
        let row = rows.iter().find(|r| r["node_name"] == ip);
        row.unwrap_or_else(|| panic!("no row for {ip}: {rows:?}"))
            .clone()
    };
    for ip in &ips[..2] {
        let row = row_of(ip);
        assert_eq!(row["ret_code"], 0, "{row}");
        let message = row["err_msg"].as_str().unwrap();
        assert!(message.contains("tars.loadconfig cart.conf"), "{row}");
    }
    let dead = row_of(&ips[2]);
    assert_eq!(dead["ret_code"], -1, "{dead}");
    assert!(
        dead["err_msg"].as_str().unwrap().contains("refused"),
        "{dead}"
    );

    let calls = sim.calls_of("notifyServer");
    let mut notified: Vec<&str> = calls.iter().map(|c| c["node"].as_str().unwrap()).collect();
    notified.sort();
    let mut expected = vec![ips[0].as_str(), ips[1].as_str()];
    expected.sort();
    assert_eq!(notified, expected);
    for call in &calls {
        assert_eq!(call["application"], "Shop");
        assert_eq!(call["server_name"], "Cart");
        assert_eq!(call["command"], "tars.loadconfig cart.conf");
    }

    // A node file reaches its own instance only.
    let pushed = by(api, "push_config_file", "ids", id_of(&on_second)).await;
    let rows = pushed.ok().clone();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["node_name"], ips[1].as_str());
    assert_eq!(rows[0]["ret_code"], 0);
    let calls = sim.calls_of("notifyServer");
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2]["node"], ips[1].as_str());
    assert_eq!(calls[2]["command"], "tars.loadconfig cart.conf");

    // `,` separates too; each instance hears about each file once.
    let both = format!("{},{}", id_of(&server), id_of(&on_second));
    let rows = by(api, "push_config_file", "ids", both).await;
    assert_eq!(rows.ok().as_array().unwrap().len(), 3, "{}", rows.body);
    assert_eq!(sim.calls_of("notifyServer").len(), 5);

    // Refusals: nothing is sent.
    let unknown = format!("{};987654", id_of(&server));
    by(api, "push_config_file", "ids", unknown)
        .await
        .err(404, "987654");
    by(api, "push_config_file", "ids", id_of(&app))
        .await
        .err(400, "`ids`");
    for garbage in ["1;x", "", ";", "abc"] {
        by(api, "push_config_file", "ids", garbage)
            .await
            .err(400, "`ids`");
    }
    get(api, "push_config_file", &[]).await.err(400, "`ids`");
    assert_eq!(sim.calls_of("notifyServer").len(), 5);
}

async fn reads_and_lists_refuse_bad_input(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    for endpoint in ["config_file", "delete_config_file", "merged_node_config"] {
        get(api, endpoint, &[]).await.err(400, "`id`");
        by(api, endpoint, "id", "abc").await.err(400, "`id`");
        by(api, endpoint, "id", "1.5").await.err(400, "`id`");
        by(api, endpoint, "id", 987654).await.err(404, "987654");
    }

    for level in ["0", "6", "x"] {
        let query = [("level", level), ("application", "Shop")];
        get(api, "config_file_list", &query)
            .await
            .err(400, "`level`");
    }
    let no_level = [("application", "Shop")];
    get(api, "config_file_list", &no_level)
        .await
        .err(400, "`level`");
    get(api, "config_file_list", &[("level", "1")])
        .await
        .err(400, "`application`");
    for (query, field) in [
        (vec![("level", "2")], "set_name"),
        (vec![("level", "3"), ("set_name", "sh")], "set_area"),
        (
            vec![("level", "4"), ("set_name", "sh"), ("set_area", "a")],
            "set_group",
        ),
        (vec![("level", "5")], "server_name"),
    ] {
        let mut query = query;
        query.push(("application", "Shop"));
        get(api, "config_file_list", &query)
            .await
            .err(400, &format!("`{field}`"));
    }
    assert_eq!(
        list(api, SHOP).await,
        json!([]),
        "an application without files lists nothing"
    );
}

on_every_backend!(
    app_and_set_files_lifecycle,
    add_config_file_refusals,
    content_is_kept_byte_for_byte_up_to_one_mebibyte,
    server_file_creates_node_files_per_instance,
    node_files_are_created_lazily_for_later_instances,
    updates_grow_the_history,
    references_follow_the_level_rules,
    push_tells_every_instance_and_a_dead_node_fails_alone,
    reads_and_lists_refuse_bad_input,
);
