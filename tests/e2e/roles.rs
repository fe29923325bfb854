//! Who may do what, and who did what: per-application roles on tickets and the audit log.
//! Two applications, `Alpha` and `Beta`, each with a server on its own simulated node;
//! users with roles on one of them (or on a single server, or on `*`) try to read and
//! change both, and the audit log must show every write they tried, once, with its
//! outcome.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::http::Answer;
use crate::common::packages::{curl, make_package, node_env, upload_package};
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::tasks::{item, wait_task};
use crate::common::{Api, Backend, Platform};
use crate::fixtures::deploy_body;
use crate::on_every_backend;

const LIMIT: Duration = Duration::from_secs(30);

/// A platform with Alpha.Api and Beta.Api deployed, a configuration file each and a
/// package each, and tickets for users with roles.
struct Fixture {
    p: Platform,
    _sim: Simulator,
    alpha: i64,
    beta: i64,
    alpha_file: i64,
    beta_file: i64,
    beta_package: i64,
    work: tempfile::TempDir,
}

impl Fixture {
    async fn start(backend: Backend) -> Fixture {
        let ips = fresh_ips(2);
        let sim = Simulator::on_free_port(&ips, &[]);
        let p = Platform::start_with(backend, node_env(sim.port, &[])).await;
        let mut ids = Vec::new();
        for (app, ip, port) in [("Alpha", &ips[0], 21000), ("Beta", &ips[1], 21001)] {
            let server = p
                .api
                .post_json("/api/deploy_server", &deploy_body(app, "Api", ip, port))
                .await
                .ok()["server_conf"]
                .clone();
            ids.push(server["id"].as_i64().unwrap());
        }
        let mut files = Vec::new();
        for app in ["Alpha", "Beta"] {
            let file = p
                .api
                .post_json(
                    "/api/add_config_file",
                    &json!({"level": 1, "application": app, "filename": "app.conf", "config": "a=1"}),
                )
                .await
                .ok()
                .clone();
            files.push(file["id"].as_i64().unwrap());
        }
        let work = tempfile::tempdir().unwrap();
        upload_package(&p.api, work.path(), "Alpha", "Api", 2048);
        let (beta_package, _) = upload_package(&p.api, work.path(), "Beta", "Api", 2048);
        Fixture {
            p,
            _sim: sim,
            alpha: ids[0],
            beta: ids[1],
            alpha_file: files[0],
            beta_file: files[1],
            beta_package,
            work,
        }
    }

    /// A ticket for `user` holding `grants` (role, flag).
    fn user(&self, user: &str, grants: &[(&str, Option<&str>)]) -> Api {
        let ticket = self.p.create_token(user, None);
        for (role, flag) in grants {
            self.p.grant(user, role, *flag);
        }
        self.p.api.with_ticket(Some(&ticket))
    }

    /// The audit rows of `user`, oldest first, as the admin reads them.
    async fn audit_of(&self, user: &str) -> Vec<Value> {
        let page = self
            .p
            .api
            .get(
                "/api/audit_log",
                &[("user_name", user), ("page_size", "1000")],
            )
            .await
            .ok()
            .clone();
        let mut rows = page["rows"].as_array().unwrap().clone();
        assert_eq!(
            page["count"].as_u64().unwrap() as usize,
            rows.len(),
            "{page}"
        );
        rows.reverse();
        rows
    }

    async fn task_count(&self) -> usize {
        let list = self
            .p
            .api
            .get("/api/task_list", &[("page_size", "1000")])
            .await
            .ok()
            .clone();
        list.as_array().unwrap().len()
    }
}

/// A 403 naming the role and the target.
#[track_caller]
fn refused(answer: Answer, role: &str, target: &str) {
    let message = answer.err(403, role);
    assert!(message.contains(target), "{message}");
}

fn update(id: i64) -> Value {
    json!({"id": id, "async_thread_num": 4})
}

fn restart(ids: &[i64]) -> Value {
    json!({"serial": false, "items": ids.iter().map(|id| item(*id, "restart")).collect::<Vec<_>>()})
}

/// Applications in a tree answer.
fn tree_apps(tree: &Value) -> Vec<String> {
    tree.as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect()
}

async fn a_developer_reads_but_cannot_change(backend: Backend) {
    let f = Fixture::start(backend).await;
    let dev = f.user("dave", &[("developer", Some("Alpha"))]);
    let alpha = f.alpha.to_string();

    // Reads of Alpha work; Beta's are refused by id, by name, by configuration file.
    dev.get("/api/server", &[("id", &alpha)]).await.ok();
    dev.get("/api/adapter_conf_list", &[("id", &alpha)])
        .await
        .ok();
    dev.get("/api/config_file", &[("id", &f.alpha_file.to_string())])
        .await
        .ok();
    refused(
        dev.get("/api/server", &[("id", &f.beta.to_string())]).await,
        "developer",
        "Beta.Api",
    );
    refused(
        dev.get("/api/config_file", &[("id", &f.beta_file.to_string())])
            .await,
        "developer",
        "Beta",
    );
    refused(
        dev.get(
            "/api/server_patch_list",
            &[("application", "Beta"), ("module_name", "Api")],
        )
        .await,
        "developer",
        "Beta.Api",
    );
    // Lists show Alpha only.
    assert_eq!(tree_apps(dev.get("/api/tree", &[]).await.ok()), ["Alpha"]);
    assert!(dev
        .get("/api/server_list", &[("tree_node_id", "1Beta")])
        .await
        .ok()
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        dev.get("/api/cascade_select_server", &[("level", "1")])
            .await
            .ok(),
        &json!(["Alpha"])
    );

    // No change of Alpha: deploy, update, restart, publish, push.
    let tasks_before = f.task_count().await;
    refused(
        dev.post_json(
            "/api/deploy_server",
            &deploy_body("Alpha", "New", "10.0.0.9", 22000),
        )
        .await,
        "operator",
        "Alpha.New",
    );
    refused(
        dev.post_json("/api/update_server", &update(f.alpha)).await,
        "operator",
        "Alpha.Api",
    );
    refused(
        dev.post_json("/api/add_task", &restart(&[f.alpha])).await,
        "operator",
        "Alpha.Api",
    );
    refused(
        dev.get(
            "/api/push_config_file",
            &[("ids", &f.alpha_file.to_string())],
        )
        .await,
        "operator",
        "Alpha",
    );
    let (package, _) = make_package(f.work.path(), "dev.tgz", 1024);
    let (status, report) = curl(
        &dev.url_for("/api/upload_and_publish", &[]),
        &[
            ("suse", format!("@{}", package.display())),
            ("application", "Alpha".into()),
            ("module_name", "Api".into()),
        ],
    );
    assert_eq!(status, 403, "{report}");
    assert!(report.contains("operator"), "{report}");
    assert_eq!(f.task_count().await, tasks_before, "nothing ran");

    // Each refused write is in the audit log once, with the user and the 403.
    let rows = f.audit_of("dave").await;
    let endpoints: Vec<&str> = rows
        .iter()
        .map(|r| r["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        endpoints,
        [
            "deploy_server",
            "update_server",
            "add_task",
            "push_config_file",
            "upload_and_publish"
        ],
        "{rows:?}"
    );
    for row in &rows {
        assert_eq!(row["status"], 403, "{row}");
        assert_eq!(row["application"], "Alpha", "{row}");
        assert!(row["token_id"].as_i64().unwrap() > 0, "{row}");
    }
    // A developer does not read the audit log.
    refused(
        dev.get("/api/audit_log", &[]).await,
        "operator",
        "any application",
    );
}

async fn an_operator_changes_their_application_only(backend: Backend) {
    let f = Fixture::start(backend).await;
    let op = f.user("olga", &[("operator", Some("Alpha"))]);

    op.post_json("/api/update_server", &update(f.alpha))
        .await
        .ok();
    refused(
        op.post_json("/api/update_server", &update(f.beta)).await,
        "operator",
        "Beta.Api",
    );
    refused(
        op.post_json(
            "/api/update_config_file",
            &json!({"id": f.beta_file, "config": "b=2", "reason": "try"}),
        )
        .await,
        "operator",
        "Beta",
    );
    // A package of Beta's, by its id, in a patch item of Beta's server.
    let patch = json!({"serial": true, "items": [{"server_id": f.beta, "command": "patch_tars",
        "parameters": {"patch_id": f.beta_package, "bak_flag": false, "update_text": "try"}}]});
    refused(
        op.post_json("/api/add_task", &patch).await,
        "operator",
        "Beta.Api",
    );
    // A task mixing Alpha and Beta is refused whole: nothing of it runs.
    let before = f.task_count().await;
    refused(
        op.post_json("/api/add_task", &restart(&[f.alpha, f.beta]))
            .await,
        "operator",
        "Beta.Api",
    );
    assert_eq!(f.task_count().await, before);
    // Alpha alone runs.
    let task_no = op
        .post_json("/api/add_task", &restart(&[f.alpha]))
        .await
        .ok()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(wait_task(&op, &task_no, LIMIT).await["status"], 3);
    // Its lists: the Alpha task only; the admin's task on both is not shown.
    f.p.api
        .post_json("/api/add_task", &restart(&[f.alpha, f.beta]))
        .await
        .ok();
    let tasks = op.get("/api/task_list", &[]).await.ok().clone();
    let numbers: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task_no"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, [task_no.as_str()], "{tasks}");

    // The audit log: every write once, refused ones included; an operator reads their
    // application's rows only.
    let rows = f.audit_of("olga").await;
    let seen: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["endpoint"].as_str().unwrap().to_string(),
                r["status"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, i64)> = [
        ("update_server", 200),
        ("update_server", 403),
        ("update_config_file", 403),
        ("add_task", 403),
        ("add_task", 403),
        ("add_task", 200),
    ]
    .iter()
    .map(|(e, s)| (e.to_string(), *s))
    .collect();
    assert_eq!(seen, expected, "{rows:?}");
    assert_eq!(rows[0]["server_name"], "Api");
    assert_eq!(rows[1]["application"], "Beta");
    let own = op
        .get("/api/audit_log", &[("page_size", "1000")])
        .await
        .ok()
        .clone();
    assert!(own["count"].as_i64().unwrap() > 0);
    for row in own["rows"].as_array().unwrap() {
        assert_eq!(row["application"], "Alpha", "{row}");
    }

    // A revoke takes effect within the gateway's refresh (TARS_TOKEN_REFRESH_SECS=1).
    f.p.api
        .post_json(
            "/api/auth_revoke",
            &json!({"user_name": "olga", "role": "operator", "flag": "Alpha"}),
        )
        .await
        .ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = op.post_json("/api/update_server", &update(f.alpha)).await;
        if answer.status == 403 {
            break;
        }
        answer.ok();
        assert!(Instant::now() < deadline, "the revoke did not take effect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn flags_cover_servers_applications_and_everything(backend: Backend) {
    let f = Fixture::start(backend).await;
    // One server of Beta.
    let one = f.user("sam", &[("operator", Some("Beta.Api"))]);
    one.post_json("/api/update_server", &update(f.beta))
        .await
        .ok();
    refused(
        one.post_json("/api/update_server", &update(f.alpha)).await,
        "operator",
        "Alpha.Api",
    );
    // A server grant does not reach the application's own files.
    refused(
        one.post_json(
            "/api/update_config_file",
            &json!({"id": f.beta_file, "config": "b=2", "reason": "try"}),
        )
        .await,
        "operator",
        "Beta",
    );
    assert_eq!(tree_apps(one.get("/api/tree", &[]).await.ok()), ["Beta"]);
    // Everything, read only.
    let star = f.user("stan", &[("developer", Some("*"))]);
    assert_eq!(
        tree_apps(star.get("/api/tree", &[]).await.ok()),
        ["Alpha", "Beta"]
    );
    star.get("/api/server", &[("id", &f.beta.to_string())])
        .await
        .ok();
    refused(
        star.post_json("/api/update_server", &update(f.beta)).await,
        "operator",
        "Beta.Api",
    );
    // No role at all: lists are empty, nothing else is allowed; templates are admin's.
    let none = f.user("nina", &[]);
    assert!(none
        .get("/api/tree", &[])
        .await
        .ok()
        .as_array()
        .unwrap()
        .is_empty());
    none.get("/api/template_name_list", &[]).await.ok();
    refused(
        star.post_json(
            "/api/add_profile_template",
            &json!({"template_name": "x.y", "parents_name": "tars.default", "profile": "<tars></tars>"}),
        )
        .await,
        "admin",
        "the platform",
    );
    // Roles are managed by the admin only, and `auth list` shows them.
    refused(
        star.post_json(
            "/api/auth_grant",
            &json!({"user_name": "stan", "role": "admin"}),
        )
        .await,
        "admin",
        "the platform",
    );
    let listed =
        f.p.api
            .get("/api/auth_list", &[("user_name", "sam")])
            .await
            .ok()
            .clone();
    assert_eq!(
        listed,
        json!([{"user_name": "sam", "role": "operator", "flag": "Beta.Api",
            "created_at": listed[0]["created_at"]}])
    );
    let cli = f.p.auth_command(&["list"]);
    let text = String::from_utf8_lossy(&cli.stdout);
    assert!(text.contains("stan") && text.contains("Beta.Api"), "{text}");
    // A bad grant says what is accepted.
    let bad =
        f.p.api
            .post_json(
                "/api/auth_grant",
                &json!({"user_name": "sam", "role": "owner", "flag": "Beta"}),
            )
            .await;
    bad.err(400, "developer");
}

on_every_backend!(
    a_developer_reads_but_cannot_change,
    an_operator_changes_their_application_only,
    flags_cover_servers_applications_and_everything,
);
