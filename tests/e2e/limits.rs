//! The sizes of the `db_tars` columns, the same on both backends: for every text column a
//! write endpoint sets, the longest value the column holds is accepted and read back
//! exactly, and one character (or byte) more is a 400 naming the parameter and the
//! column; `int` columns take 2147483647 and refuse 2147483648. SQLite would store any
//! value and MariaDB refuses what does not fit, so without the deployer's checks the two
//! would disagree (and MariaDB would answer 500). Emoji (which TARS's 3-byte utf8 tables
//! cannot store) and a ticket's user name too long for `lastuser` are refused the same way.
//! One platform per backend runs it all.

use std::cell::Cell;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::common::http::Answer;
use crate::common::packages::{make_package, upload};
use crate::common::{Backend, Platform};
use crate::fixtures::deploy_body;
use crate::on_every_backend;

/// The write endpoints of the table.
#[derive(Debug, Clone, Copy)]
enum Write {
    DeployServer,
    UpdateServer,
    AddAdapter,
    UpdateAdapter,
    AddTemplate,
    UpdateTemplate,
    AddConfigFile,
    UpdateConfigFile,
    AddConfigRef,
    UploadPackage,
    ExpandServer,
}

/// Where a row's edge is.
enum Edge {
    /// `make(n)` is the parameter's value of size `n`; `longest` is accepted, one more
    /// refused.
    Text {
        longest: usize,
        make: fn(usize) -> String,
    },
    /// An `int(11)` column.
    Int,
}

/// How the accepted value shows in what the API reads back.
enum Stored {
    /// As sent, in this field.
    As(&'static str),
    /// Inside this field (a servant, an endpoint), which then fills its column's
    /// characters exactly.
    Within(&'static str, usize),
    /// Not stored: the value passes the check and the request answers this status.
    Status(u16),
}

/// One row of the table.
struct Row {
    write: Write,
    /// The parameter the row varies (`adapters[0].obj_name` for a nested one).
    param: String,
    /// Other parameters the row needs (a level, set fields).
    with: &'static [(&'static str, &'static str)],
    edge: Edge,
    /// The column the refusal names.
    column: String,
    stored: Stored,
}

fn row(write: Write, param: &str, edge: Edge, column: &str, stored: Stored) -> Row {
    Row {
        write,
        param: param.to_string(),
        with: &[],
        edge,
        column: column.to_string(),
        stored,
    }
}

impl Row {
    fn with(self, with: &'static [(&'static str, &'static str)]) -> Row {
        Row { with, ..self }
    }
}

fn text(longest: usize, make: fn(usize) -> String) -> Edge {
    Edge::Text { longest, make }
}

/// The set fields that put a server in a set, for rows varying one of them.
const IN_SET: &[(&str, &str)] = &[
    ("enable_set", "true"),
    ("set_name", "s"),
    ("set_area", "a"),
    ("set_group", "1"),
];

/// The application of the instance `add_adapter_conf` adds to: as long as
/// `t_adapter_conf.application` holds.
fn wide_app() -> String {
    "A".repeat(50)
}

/// A profile template whose name fills `template_name`, used as a parent and by servers.
fn long_template() -> String {
    "T".repeat(128)
}

/// Length of the source endpoint the expansion copies (with host `10.0.0.1`): a bind
/// address of 20 characters makes the new endpoint exactly 128.
const EXPAND_SOURCE_ENDPOINT: usize = 116;

/// An IPv6 address written with `len` characters (15 to 39), by zero-padding groups.
fn ipv6(len: usize) -> String {
    let mut groups = vec![String::from("0"); 8];
    for i in 0..len - 15 {
        groups[i % 8].push('0');
    }
    groups.join(":")
}

/// `tcp -h <host> -p 10001 -z zzz…`, `len` characters long.
fn padded_endpoint(host: &str, len: usize) -> String {
    let head = format!("tcp -h {host} -p 10001 -z ");
    format!("{head}{}", "z".repeat(len - head.len()))
}

/// Where a composite value fills its column first, the row's edge is below the column's
/// size: `L.<server>.OAdapter` (deploy_server's application `L`, server `S<nnn>`, object
/// `O`) fills `t_adapter_conf.adapter_name` (100) long before `server_name` (128) is
/// full, `Shop.<server>` fills `t_config_files.server_name`, `P.<module>` (`<app>.M<nnn>`)
/// `t_server_patchs.server`.
#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use Stored::{As, Within};
    use Write::*;
    let mut rows = vec![
        row(DeployServer, "application", text(50, |n| "A".repeat(n)), "t_adapter_conf.application", As("application")),
        row(DeployServer, "server_name", text(89, |n| "S".repeat(n)), "t_adapter_conf.adapter_name", As("server_name")),
        row(DeployServer, "node_name", text(50, |n| "n".repeat(n)), "t_server_conf.node_name", As("node_name")),
        row(DeployServer, "template_name", text(128, |n| "T".repeat(n)), "t_server_conf.template_name", As("template_name")),
        row(DeployServer, "adapters[0].obj_name", text(86, |n| "O".repeat(n)), "t_adapter_conf.adapter_name", Within("adapter_name", 100)),
        row(DeployServer, "adapters[0].bind_ip", text(98, |n| "b".repeat(n)), "t_adapter_conf.endpoint", Within("endpoint", 128)),
        row(UpdateServer, "template_name", text(128, |n| "T".repeat(n)), "t_server_conf.template_name", As("template_name")),
        row(UpdateServer, "profile", text(65_535, |n| "p".repeat(n)), "t_server_conf.profile", As("profile")),
        row(UpdateServer, "async_thread_num", Edge::Int, "t_server_conf.async_thread_num", As("async_thread_num")),
        row(AddAdapter, "application", text(50, |n| "A".repeat(n)), "t_adapter_conf.application", As("application")),
        row(AddAdapter, "servant", text(93, |n| format!("{}.S.{}", wide_app(), "O".repeat(n - 53))), "t_adapter_conf.adapter_name", Within("adapter_name", 100)),
        row(AddAdapter, "endpoint", text(128, |n| padded_endpoint("10.0.0.2", n)), "t_adapter_conf.endpoint", As("endpoint")),
        row(UpdateAdapter, "servant", text(93, |n| format!("Shop.Cart.{}", "O".repeat(n - 10))), "t_adapter_conf.adapter_name", Within("adapter_name", 100)),
        row(UpdateAdapter, "endpoint", text(128, |n| padded_endpoint("10.0.0.1", n)), "t_adapter_conf.endpoint", As("endpoint")),
        row(AddTemplate, "template_name", text(128, |n| "N".repeat(n)), "t_profile_template.template_name", As("template_name")),
        row(UpdateTemplate, "template_name", text(128, |n| "U".repeat(n)), "t_profile_template.template_name", As("template_name")),
        row(AddConfigFile, "application", text(128, |n| "A".repeat(n)), "t_config_files.server_name", As("server_name")),
        row(AddConfigFile, "filename", text(128, |n| "é".repeat(n)), "t_config_files.filename", As("filename")),
        row(AddConfigFile, "server_name", text(123, |n| "C".repeat(n)), "t_config_files.server_name", Within("server_name", 128)).with(&[("level", "5")]),
        row(AddConfigFile, "set_name", text(16, |n| "s".repeat(n)), "t_config_files.set_name", As("set_name")).with(&[("level", "2")]),
        row(AddConfigFile, "set_area", text(16, |n| "a".repeat(n)), "t_config_files.set_area", As("set_area")).with(&[("level", "3"), ("set_name", "s")]),
        row(AddConfigFile, "set_group", text(16, |n| "1".repeat(n)), "t_config_files.set_group", As("set_group")).with(&[("level", "4"), ("set_name", "s"), ("set_area", "a")]),
        row(UpdateConfigFile, "reason", text(128, |n| "é".repeat(n)), "t_config_history_files.reason", As("reason")),
        // The largest id passes the check and names no file.
        row(AddConfigRef, "config_id", Edge::Int, "t_config_references.config_id", Stored::Status(404)),
        row(AddConfigRef, "reference_id", Edge::Int, "t_config_references.reference_id", Stored::Status(404)),
        row(UploadPackage, "application", text(45, |n| "P".repeat(n)), "t_server_patchs.server", Within("server", 50)),
        row(UploadPackage, "module_name", text(48, |n| "M".repeat(n)), "t_server_patchs.server", Within("server", 50)),
        row(UploadPackage, "comment", text(255, |n| "é".repeat(n)), "t_server_patchs.update_text", As("comment")),
        // Sized by the new endpoint: the source's with the target's address.
        row(ExpandServer, "expand_preview_servers[0].bind_ip", text(128, |n| ipv6(n + 8 - EXPAND_SOURCE_ENDPOINT)), "t_adapter_conf.endpoint", Within("endpoint", 128)),
    ];
    for write in [DeployServer, UpdateServer] {
        rows.push(row(write, "set_name", text(16, |n| "s".repeat(n)), "t_server_conf.set_name", As("set_name")).with(IN_SET));
        rows.push(row(write, "set_area", text(16, |n| "a".repeat(n)), "t_server_conf.set_area", As("set_area")).with(IN_SET));
        rows.push(row(write, "set_group", text(64, |n| "1".repeat(n)), "t_server_conf.set_group", As("set_group")).with(IN_SET));
    }
    for field in ["base_path", "exe_path", "start_script_path", "stop_script_path", "monitor_script_path"] {
        rows.push(row(UpdateServer, field, text(128, |n| "é".repeat(n)), &format!("t_server_conf.{field}"), As(field)));
    }
    for (write, prefix) in [(DeployServer, "adapters[0]."), (AddAdapter, ""), (UpdateAdapter, "")] {
        for field in ["thread_num", "max_connections", "queuecap", "queuetimeout"] {
            rows.push(row(write, &format!("{prefix}{field}"), Edge::Int, &format!("t_adapter_conf.{field}"), As(field)));
        }
    }
    for write in [AddAdapter, UpdateAdapter] {
        for (field, longest) in [("allow_ip", 255), ("protocol", 64), ("handlegroup", 64)] {
            rows.push(row(write, field, text(longest, |n| "é".repeat(n)), &format!("t_adapter_conf.{field}"), As(field)));
        }
    }
    for write in [AddTemplate, UpdateTemplate] {
        rows.push(row(write, "parents_name", text(128, |n| "T".repeat(n)), "t_profile_template.parents_name", As("parents_name")));
        rows.push(row(write, "profile", text(65_535, |n| "x".repeat(n)), "t_profile_template.profile", As("profile")));
    }
    rows
}

/// Sets `path` (`name` or `list[i].name`) in a JSON body.
fn set_path(body: &mut Value, path: &str, value: Value) {
    match path.split_once("].") {
        Some((head, field)) => {
            let (list, index) = head.split_once('[').expect("list[i].field");
            body[list][index.parse::<usize>().unwrap()][field] = value;
        }
        None => body[path] = value,
    }
}

/// What the table writes to: one platform and the rows its rows change.
struct Fixture {
    p: Platform,
    server_id: i64,
    adapter_id: i64,
    template_id: i64,
    file_id: i64,
    package: PathBuf,
    next: Cell<usize>,
}

impl Fixture {
    async fn start(backend: Backend) -> Fixture {
        let p = Platform::start(backend).await;
        let api = &p.api;
        let add_template = |name: String| json!({"template_name": name, "parents_name": "tars.default", "profile": "x"});
        api.post_json("/api/add_profile_template", &add_template(long_template()))
            .await
            .ok();
        let template_id = api
            .post_json(
                "/api/add_profile_template",
                &add_template("limits.upd".into()),
            )
            .await
            .ok()["id"]
            .as_i64()
            .unwrap();
        let cart = crate::fixtures::deploy(api, "Shop", "Cart", "10.0.0.1", 10001).await;
        let server_id = cart["id"].as_i64().unwrap();
        let adapter_id = first_adapter(api, server_id).await["id"].as_i64().unwrap();
        crate::fixtures::deploy(api, &wide_app(), "S", "10.0.0.2", 10001).await;
        let source = crate::fixtures::deploy(api, "Shop", "Exp", "10.0.0.1", 10002).await;
        let source_adapter = first_adapter(api, source["id"].as_i64().unwrap()).await;
        let endpoint = format!("tcp -h 10.0.0.1 -p 10002 -z {}", "z".repeat(88));
        assert_eq!(endpoint.len(), EXPAND_SOURCE_ENDPOINT);
        api.post_json(
            "/api/update_adapter_conf",
            &json!({"id": source_adapter["id"], "endpoint": endpoint}),
        )
        .await
        .ok();
        let file =
            json!({"level": 1, "application": "Shop", "filename": "limits.conf", "config": ""});
        let file_id = api.post_json("/api/add_config_file", &file).await.ok()["id"]
            .as_i64()
            .unwrap();
        let (package, _) = make_package(p.dir.path(), "limits.tgz", 64);
        Fixture {
            p,
            server_id,
            adapter_id,
            template_id,
            file_id,
            package,
            next: Cell::new(0),
        }
    }

    /// A number no earlier request used, for names that must be unique.
    fn unique(&self) -> usize {
        self.next.set(self.next.get() + 1);
        self.next.get()
    }

    /// Sends `write` with `param` set to `value` and the parameters `with`; every other
    /// parameter has a value that fits.
    async fn send(&self, write: Write, param: &str, with: &[(&str, &str)], value: Value) -> Answer {
        let api = &self.p.api;
        // Names that must be unique get a number; rows count on it having three digits.
        let n = self.unique();
        let (path, mut body) = match write {
            Write::DeployServer => {
                let mut body = deploy_body("L", &format!("S{n:03}"), "10.0.0.3", 10001);
                body["adapters"][0]["obj_name"] = json!("O");
                ("deploy_server", body)
            }
            Write::UpdateServer => ("update_server", json!({"id": self.server_id})),
            Write::AddAdapter => (
                "add_adapter_conf",
                json!({"application": wide_app(), "server_name": "S", "node_name": "10.0.0.2",
                       "servant": format!("{}.S.X{n:03}", wide_app()),
                       "endpoint": format!("tcp -h 10.0.0.2 -p {}", 20000 + n)}),
            ),
            Write::UpdateAdapter => ("update_adapter_conf", json!({"id": self.adapter_id})),
            Write::AddTemplate => (
                "add_profile_template",
                json!({"template_name": format!("limits.t{n:03}"),
                       "parents_name": "tars.default", "profile": "x"}),
            ),
            Write::UpdateTemplate => (
                "update_profile_template",
                json!({"id": self.template_id, "template_name": "limits.upd",
                       "parents_name": "tars.default", "profile": "x"}),
            ),
            Write::AddConfigFile => (
                "add_config_file",
                json!({"level": 1, "application": "Shop",
                       "filename": format!("f{n:03}.conf"), "config": ""}),
            ),
            Write::UpdateConfigFile => (
                "update_config_file",
                json!({"id": self.file_id, "config": "c", "reason": "r"}),
            ),
            Write::AddConfigRef => (
                "add_config_ref",
                json!({"config_id": self.file_id, "reference_id": self.file_id}),
            ),
            Write::UploadPackage => (
                "upload_patch_package",
                json!({"application": "P", "module_name": format!("M{n:03}"), "comment": "c"}),
            ),
            Write::ExpandServer => (
                "expand_server",
                json!({"application": "Shop", "server_name": "Exp", "node_name": "10.0.0.1",
                       "copy_node_config": false,
                       "expand_preview_servers": [{"node_name": format!("10.0.3.{n}"), "set": "",
                           "obj_name": "ExpObj", "bind_ip": "10.0.0.9", "port": 10003}]}),
            ),
        };
        for (name, given) in with {
            body[*name] = json!(given);
        }
        set_path(&mut body, param, value);
        if let Write::UploadPackage = write {
            let mut fields = vec![("suse", format!("@{}", self.package.display()))];
            for (name, value) in body.as_object().unwrap() {
                fields.push((name.as_str(), value.as_str().unwrap().to_string()));
            }
            let (status, body) = upload(api, &fields);
            return Answer { status, body };
        }
        api.post_json(&format!("/api/{path}"), &body).await
    }

    /// The stored object the accepted request wrote, read through the API.
    async fn read_back(&self, row: &Row, answer: &Answer) -> Value {
        let api = &self.p.api;
        let data = answer.ok();
        let get = |path: &'static str, key: &'static str, value: String| async move {
            api.get(path, &[(key, &value)]).await.ok().clone()
        };
        match row.write {
            Write::DeployServer if row.param.starts_with("adapters[0].") => {
                first_adapter(api, data["server_conf"]["id"].as_i64().unwrap()).await
            }
            Write::DeployServer => {
                let id = data["server_conf"]["id"].to_string();
                get("/api/server", "id", id).await
            }
            Write::UpdateServer => get("/api/server", "id", self.server_id.to_string()).await,
            Write::AddAdapter | Write::UpdateAdapter => {
                get("/api/adapter_conf", "id", data["id"].to_string()).await
            }
            Write::AddTemplate | Write::UpdateTemplate => {
                let name = data["template_name"].as_str().unwrap().to_string();
                get("/api/profile_template", "template_name", name).await
            }
            Write::AddConfigFile => get("/api/config_file", "id", data["id"].to_string()).await,
            Write::UpdateConfigFile => {
                let id = self.file_id.to_string();
                let history = get("/api/config_file_history_list", "config_id", id).await;
                history["rows"][0].clone()
            }
            Write::UploadPackage => {
                let server = data["server"].as_str().unwrap();
                let (application, module_name) = server.split_once('.').unwrap();
                let query = [("application", application), ("module_name", module_name)];
                let list = api.get("/api/server_patch_list", &query).await;
                list.ok()["rows"][0].clone()
            }
            Write::ExpandServer => {
                first_adapter(api, data["server_conf"][0]["id"].as_i64().unwrap()).await
            }
            Write::AddConfigRef => unreachable!("add_config_ref rows store nothing"),
        }
    }
}

async fn first_adapter(api: &crate::common::Api, server_id: i64) -> Value {
    let list = api
        .get("/api/adapter_conf_list", &[("id", &server_id.to_string())])
        .await;
    list.ok()[0].clone()
}

async fn every_column_takes_its_longest_value_and_refuses_one_more(backend: Backend) {
    let fx = Fixture::start(backend).await;
    for row in rows() {
        let what = format!("{:?} `{}`", row.write, row.param);
        let (accepted, refused) = match row.edge {
            Edge::Text { longest, make } => (json!(make(longest)), json!(make(longest + 1))),
            Edge::Int => (json!(i32::MAX), json!(i64::from(i32::MAX) + 1)),
        };
        let answer = fx
            .send(row.write, &row.param, row.with, accepted.clone())
            .await;
        if let Stored::Status(status) = row.stored {
            assert_eq!(answer.status, status, "{what}: {}", answer.body);
        } else {
            assert_eq!(
                answer.status, 200,
                "{what}: the longest value is refused: {}",
                answer.body
            );
            let stored = fx.read_back(&row, &answer).await;
            match row.stored {
                Stored::As(field) => assert_eq!(stored[field], accepted, "{what}"),
                Stored::Within(field, chars) => {
                    let text = stored[field].as_str().unwrap_or_default();
                    assert!(
                        text.contains(accepted.as_str().unwrap()),
                        "{what}: {text:?}"
                    );
                    assert_eq!(text.chars().count(), chars, "{what}: {text:?}");
                }
                Stored::Status(_) => unreachable!("checked above"),
            }
        }
        let message = fx
            .send(row.write, &row.param, row.with, refused)
            .await
            .err(400, &format!("`{}`", row.param));
        assert!(message.contains(&row.column), "{what}: {message:?}");
    }

    // TARS's tables are 3-byte utf8: a character outside the Basic Multilingual Plane
    // fits in none of them, so free text with one is refused on both backends alike.
    for (write, param, column) in [
        (Write::UpdateServer, "base_path", "t_server_conf.base_path"),
        (Write::UpdateServer, "profile", "t_server_conf.profile"),
        (Write::AddAdapter, "allow_ip", "t_adapter_conf.allow_ip"),
        (
            Write::UpdateAdapter,
            "handlegroup",
            "t_adapter_conf.handlegroup",
        ),
        (Write::AddTemplate, "profile", "t_profile_template.profile"),
        (
            Write::UploadPackage,
            "comment",
            "t_server_patchs.update_text",
        ),
    ] {
        let message = fx
            .send(write, param, &[], json!("tars 🚀"))
            .await
            .err(400, &format!("`{param}`"));
        assert!(message.contains(column), "{write:?} {param}: {message:?}");
    }

    // TARS records who made a change (`lastuser`, 30 characters in t_server_conf): a
    // ticket whose user name does not fit is refused on every write.
    for (user, accepted) in [("u".repeat(30), true), ("u".repeat(31), false)] {
        let ticket = fx.p.create_token(&user, None);
        fx.p.grant(&user, "operator", Some("Shop"));
        let api = fx.p.api.with_ticket(Some(&ticket));
        let body = deploy_body("Shop", &format!("User{}", fx.unique()), "10.0.0.4", 10001);
        let answer = api.post_json("/api/deploy_server", &body).await;
        if accepted {
            answer.ok();
        } else {
            let message = answer.err(400, &user);
            assert!(message.contains("t_server_conf.lastuser"), "{message}");
        }
    }
}

on_every_backend!(every_column_takes_its_longest_value_and_refuses_one_more);
