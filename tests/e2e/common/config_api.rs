//! Calls of the configuration-file endpoints that several test modules make.

use serde_json::{json, Value};

use super::http::Answer;
use super::{Api, Platform};

/// The keys of a file row, in order.
pub const FILE_KEYS: [&str; 11] = [
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
pub const MAX_CONTENT: usize = 1 << 20;

/// `config_file_list` of Shop's application files, and of Shop.Cart's server files.
pub const SHOP: &[(&str, &str)] = &[("level", "1"), ("application", "Shop")];
pub const CART: &[(&str, &str)] = &[
    ("level", "5"),
    ("application", "Shop"),
    ("server_name", "Cart"),
];

pub fn keys(row: &Value) -> Vec<&str> {
    let object = row.as_object();
    object
        .unwrap_or_else(|| panic!("not an object: {row}"))
        .keys()
        .map(String::as_str)
        .collect()
}

pub fn id_of(row: &Value) -> i64 {
    row["id"].as_i64().unwrap_or_else(|| panic!("no id: {row}"))
}

pub fn ids(rows: &Value) -> Vec<i64> {
    rows.as_array()
        .unwrap_or_else(|| panic!("not an array: {rows}"))
        .iter()
        .map(id_of)
        .collect()
}

#[track_caller]
pub fn assert_posttime(text: &Value) {
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
pub fn app_file(app: &str, filename: &str, config: &str) -> Value {
    json!({"level": 1, "application": app, "filename": filename, "config": config})
}

/// A server-level (API level 5) add request.
pub fn server_file(app: &str, server: &str, filename: &str, config: &str) -> Value {
    json!({
        "level": 5, "application": app, "server_name": server,
        "filename": filename, "config": config
    })
}

/// POSTs `body` as JSON to `/api/<endpoint>`.
pub async fn post(api: &Api, endpoint: &str, body: &Value) -> Answer {
    api.post_json(&format!("/api/{endpoint}"), body).await
}

/// POSTs a form body to `/api/<endpoint>`.
pub async fn post_form(api: &Api, endpoint: &str, body: String) -> Answer {
    let path = format!("/api/{endpoint}");
    api.post_raw(&path, "application/x-www-form-urlencoded", body)
        .await
}

/// GETs `/api/<endpoint>` with query parameters.
pub async fn get(api: &Api, endpoint: &str, query: &[(&str, &str)]) -> Answer {
    api.get(&format!("/api/{endpoint}"), query).await
}

/// GETs `/api/<endpoint>?<key>=<id>`.
pub async fn by(api: &Api, endpoint: &str, key: &str, id: impl ToString) -> Answer {
    get(api, endpoint, &[(key, &id.to_string())]).await
}

pub async fn add(api: &Api, body: Value) -> Value {
    post(api, "add_config_file", &body).await.ok().clone()
}

pub async fn update(api: &Api, id: i64, config: &str, reason: &str) -> Answer {
    let body = json!({"id": id, "config": config, "reason": reason});
    post(api, "update_config_file", &body).await
}

pub async fn file(api: &Api, id: i64) -> Answer {
    by(api, "config_file", "id", id).await
}

pub async fn history(api: &Api, config_id: i64, page: Option<(&str, &str)>) -> Value {
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

pub async fn node_files(api: &Api, config_id: i64) -> Value {
    let body = json!({"config_id": config_id, "application": "Shop", "server_name": "Cart"});
    post(api, "node_config_file_list", &body).await.ok().clone()
}

pub async fn list(api: &Api, query: &[(&str, &str)]) -> Value {
    get(api, "config_file_list", query).await.ok().clone()
}

pub async fn add_ref(api: &Api, config_id: i64, reference_id: i64) -> Answer {
    let (config_id, reference_id) = (config_id.to_string(), reference_id.to_string());
    let query = [
        ("config_id", config_id.as_str()),
        ("reference_id", reference_id.as_str()),
    ];
    get(api, "add_config_ref", &query).await
}

/// A GET on a POST-only endpoint.
pub async fn get_post_only(api: &Api, endpoint: &str) -> Answer {
    api.send(
        api.client()
            .get(api.url_for(&format!("/api/{endpoint}"), &[])),
    )
    .await
}

/// Makes file `id` look last changed at `posttime` (`YYYY-MM-DD HH:MM:SS`), as a row
/// written earlier would: the platform stamps changes to the second, so a test about
/// which change is newer moves the older one back instead of waiting for the clock.
pub async fn backdate(p: &Platform, id: i64, posttime: &str) {
    p.db()
        .await
        .execute(&format!(
            "UPDATE t_config_files SET posttime = '{posttime}' WHERE id = {id}"
        ))
        .await;
    assert_eq!(file(&p.api, id).await.ok()["posttime"], posttime);
}
