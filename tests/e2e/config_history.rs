//! Updating configuration files and their history (`update_config_file`,
//! `config_file_history`, `config_file_history_list`): each update stamps the file and
//! adds a history record, newest first and paged; reasons are required and bounded;
//! refusals change nothing; the history outlives the file.

use serde_json::{json, Value};

use crate::common::config_api::*;
use crate::common::{Backend, Platform};
use crate::on_every_backend;

async fn updates_grow_the_history(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    let added = add(api, app_file("Shop", "shop.conf", "v1")).await;
    let id = id_of(&added);
    // As if last changed long ago: the update must stamp the file with its own time.
    backdate(&p, id, "2001-01-01 00:00:00").await;

    let first = update(api, id, "v2", "first change").await.ok().clone();
    assert_eq!(keys(&first), FILE_KEYS);
    assert_eq!(first["config"], "v2");
    assert_eq!(first["lastuser"], "e2e");
    assert_posttime(&first["posttime"]);
    let (added_at, after) = (added["posttime"].as_str(), first["posttime"].as_str());
    assert!(
        after >= added_at,
        "posttime is refreshed: added {added_at:?}, set back to 2001, then {after:?}"
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

on_every_backend!(updates_grow_the_history);
