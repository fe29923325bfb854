//! 资源: install_tars_node and uninstall_tars_node against a real OpenSSH server. Each
//! "machine" is a loopback IP sshd listens on; TARS_NODE_INSTALL_DIR puts each machine's
//! install in its own directory, and the package is tarsnode-sim packaged by
//! scripts/build-node-package.sh, so an installed node is a real process answering the
//! TARS protocol on the machine's IP.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::sim::fresh_ips;
use crate::common::sshd::{resource_env, Machines, Sshd, NODE_PORT};
use crate::common::tasks::{add_task, item, wait_task};
use crate::common::{Backend, Platform, PlatformOptions};
use crate::fixtures::deploy_body;

const LIMIT: Duration = Duration::from_secs(60);

fn options(mut env: Vec<(String, String)>) -> PlatformOptions {
    env.push(("TARS_NODE_PORT".into(), NODE_PORT.to_string()));
    PlatformOptions {
        env,
        ..PlatformOptions::default()
    }
}

/// The per-machine rows of an answer, by IP.
fn row<'a>(rows: &'a Value, ip: &str) -> &'a Value {
    rows.as_array()
        .expect("a list of machines")
        .iter()
        .find(|r| r["ip"] == ip)
        .unwrap_or_else(|| panic!("no row for {ip} in {rows}"))
}

/// Whether something accepts TCP connections at the machine's node port.
fn node_listening(ip: &str) -> bool {
    let addr = format!("{ip}:{NODE_PORT}").parse().expect("address");
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

#[tokio::test]
async fn install_two_machines_restart_through_the_new_node_and_uninstall() {
    let ips = fresh_ips(2);
    let (a, b) = (ips[0].clone(), ips[1].clone());
    let sshd = Sshd::start(&ips);
    let machines = Machines::new(ips.clone());
    let known_hosts = sshd.known_hosts("known_hosts", &ips);
    let env = resource_env(&machines, &sshd, &sshd.user_key, &known_hosts);
    let p = Platform::start_with(Backend::MariaDb, options(env)).await;
    // tarsregistry records itself in t_registry_info; the new nodes are pointed at it.
    p.db()
        .await
        .execute(
            "INSERT INTO t_registry_info (locator_id, servant, endpoint, present_state, tars_version) \
             VALUES ('127.0.0.1:17890', 'tars.tarsregistry.QueryObj', 'tcp -h 127.0.0.1 -p 17890', 'active', '3.0.0')",
        )
        .await;

    // Both machines at once.
    let both = format!("{a};{b}");
    let rows = p
        .api
        .get("/api/install_tars_node", &[("ips", &both)])
        .await
        .ok()
        .clone();
    for ip in [&a, &b] {
        let r = row(&rows, ip);
        assert_eq!(r["rst"], true, "{ip}: {r}\nsshd log:\n{}", sshd.log());
        assert!(r["msg"].as_str().unwrap().contains("answering"), "{r}");
        assert!(node_listening(ip), "the node on {ip} listens");
        let conf =
            std::fs::read_to_string(machines.home(ip).join("conf/tars.tarsnode.config.conf"))
                .unwrap();
        assert!(
            conf.contains(&format!("endpoint=tcp -h {ip} -p {NODE_PORT}")),
            "{conf}"
        );
        assert!(
            conf.contains("locator=tars.tarsregistry.QueryObj@tcp -h 127.0.0.1 -p 17890"),
            "the registry from t_registry_info replaces registryAddress: {conf}"
        );
        let db = p.db().await;
        let obj = db
            .fetch_text(&format!(
                "SELECT node_obj FROM t_node_info WHERE node_name = '{ip}'"
            ))
            .await
            .expect("a t_node_info row");
        assert!(obj.contains(&format!("-h {ip} -p {NODE_PORT}")), "{obj}");
        let state = db
            .fetch_text(&format!(
                "SELECT present_state FROM t_node_info WHERE node_name = '{ip}'"
            ))
            .await;
        assert_eq!(state.as_deref(), Some("active"));
    }

    // Again: already there, nothing changed.
    let again = p
        .api
        .post_json("/api/install_tars_node", &json!({"ips": [a.clone()]}))
        .await;
    let r = row(again.ok(), &a);
    assert_eq!(r["rst"], true, "{r}");
    assert!(
        r["msg"].as_str().unwrap().contains("already installed"),
        "{r}"
    );

    // A server deployed on machine a is restarted through the freshly installed node.
    let server = p
        .api
        .post_json("/api/deploy_server", &deploy_body("Res", "Echo", &a, 21000))
        .await
        .ok()
        .clone();
    assert_eq!(server["tars_node_rst"], json!([]), "a has a node: {server}");
    let id = server["server_conf"]["id"].as_i64().unwrap();
    let task = wait_task(
        &p.api,
        &add_task(&p.api, false, vec![item(id, "restart")]).await,
        LIMIT,
    )
    .await;
    assert_eq!(
        task["status"], 3,
        "restart through the installed node: {task}"
    );
    let calls =
        std::fs::read_to_string(machines.home(&a).join("log/calls.jsonl")).unwrap_or_default();
    assert!(
        calls.contains("startServer"),
        "the installed node got the start: {calls}"
    );

    // Machine a holds a server: uninstalling it is refused and changes nothing.
    let refused = p
        .api
        .get("/api/uninstall_tars_node", &[("ips", &both)])
        .await;
    let msg = refused.err(409, "Res.Echo");
    assert!(msg.contains(&a) && msg.contains("undeploy"), "{msg}");
    assert!(
        node_listening(&a) && node_listening(&b),
        "nothing was stopped"
    );

    // b holds nothing: stopped, removed, its row deleted.
    let rows = p
        .api
        .get("/api/uninstall_tars_node", &[("ips", &b)])
        .await
        .ok()
        .clone();
    let r = row(&rows, &b);
    assert_eq!(r["rst"], true, "{r}");
    assert!(!node_listening(&b), "the node on {b} is stopped");
    assert!(!machines.home(&b).exists(), "its directory is removed");
    let count = p
        .db()
        .await
        .fetch_i64(&format!(
            "SELECT COUNT(*) FROM t_node_info WHERE node_name = '{b}'"
        ))
        .await;
    assert_eq!(count, Some(0));

    // Once a's server is gone, a goes too.
    for command in ["stop", "undeploy_tars"] {
        let t = wait_task(
            &p.api,
            &add_task(&p.api, true, vec![item(id, command)]).await,
            LIMIT,
        )
        .await;
        assert_eq!(t["status"], 3, "{command}: {t}");
    }
    let rows = p
        .api
        .get("/api/uninstall_tars_node", &[("ips", &a)])
        .await
        .ok()
        .clone();
    assert_eq!(row(&rows, &a)["rst"], true, "{rows}");
    assert!(!node_listening(&a));
}

#[tokio::test]
async fn each_machine_says_what_went_wrong() {
    // good: known key; changed: another key recorded; unknown: not in known_hosts;
    // down: no sshd there.
    let ips = fresh_ips(4);
    let (good, changed, unknown, down) = (&ips[0], &ips[1], &ips[2], &ips[3]);
    let sshd = Sshd::start(&ips[..3]);
    let machines = Machines::new(ips.clone());
    let known_hosts = sshd.known_hosts("known_hosts", std::slice::from_ref(good));
    let other = crate::common::sshd::keygen(&sshd.dir.path().join("impostor"));
    let mut text = std::fs::read_to_string(&known_hosts).unwrap();
    text.push_str(&format!("[{changed}]:{} {other}\n", sshd.port));
    std::fs::write(&known_hosts, text).unwrap();
    let env = resource_env(&machines, &sshd, &sshd.user_key, &known_hosts);
    let p = Platform::start_with(Backend::Sqlite, options(env.clone())).await;

    // Bad IP strings are refused before any connection.
    for bad in [
        "10.0.0.1;$(reboot)",
        "node-1.example.com",
        "10.0.0.256",
        "",
        ";",
    ] {
        let answer = p.api.get("/api/install_tars_node", &[("ips", bad)]).await;
        answer.err(400, "ips");
        let answer = p.api.get("/api/uninstall_tars_node", &[("ips", bad)]).await;
        answer.err(400, "ips");
    }
    assert!(
        !sshd.log().contains("Accepted publickey"),
        "no login happened for a refused request"
    );

    // No registry known: the operator is told what to set.
    let answer = p.api.get("/api/install_tars_node", &[("ips", good)]).await;
    answer.err(503, "TARS_REGISTRY_LOCATOR");

    let mut env = env;
    env.push((
        "TARS_REGISTRY_LOCATOR".into(),
        "tcp -h 127.0.0.1 -p 17890".into(),
    ));
    drop(p);
    let p = Platform::start_with(Backend::Sqlite, options(env.clone())).await;
    let all = ips.join(";");
    let rows = p
        .api
        .get("/api/install_tars_node", &[("ips", &all)])
        .await
        .ok()
        .clone();
    assert_eq!(row(&rows, good)["rst"], true, "{rows}");
    let msg = |ip: &str| row(&rows, ip)["msg"].as_str().unwrap().to_string();
    assert_eq!(row(&rows, changed)["rst"], false);
    assert!(
        msg(changed).contains("host key changed"),
        "{}",
        msg(changed)
    );
    assert_eq!(row(&rows, unknown)["rst"], false);
    assert!(
        msg(unknown).contains("host key unknown") && msg(unknown).contains("ssh-keyscan"),
        "{}",
        msg(unknown)
    );
    assert_eq!(row(&rows, down)["rst"], false);
    assert!(
        msg(down).contains("unreachable") && msg(down).contains(" ms"),
        "{}",
        msg(down)
    );
    for ip in [changed, unknown, down] {
        assert!(!machines.home(ip).exists(), "nothing installed on {ip}");
    }

    // A deployment onto a machine without a node says so (the module is on).
    let mut body = deploy_body("Res", "Lone", down, 21001);
    let answer = p.api.post_json("/api/deploy_server", &body).await;
    let rst = &answer.ok()["tars_node_rst"];
    assert_eq!(row(rst, down)["rst"], false, "{rst}");
    assert!(
        row(rst, down)["msg"]
            .as_str()
            .unwrap()
            .contains("no tarsnode on this machine"),
        "{rst}"
    );
    // Asking for the install tries it, and reports why it could not.
    body["server_name"] = json!("Lone2");
    body["install_node"] = json!(true);
    let answer = p.api.post_json("/api/deploy_server", &body).await;
    let rst = &answer.ok()["tars_node_rst"];
    assert!(
        row(rst, down)["msg"]
            .as_str()
            .unwrap()
            .contains("unreachable"),
        "{rst}"
    );

    // A key the machines do not accept.
    env.retain(|(k, _)| k != "TARS_SSH_KEY");
    env.push((
        "TARS_SSH_KEY".into(),
        sshd.stranger_key.display().to_string(),
    ));
    drop(p);
    let p = Platform::start_with(Backend::Sqlite, options(env)).await;
    let rows = p
        .api
        .get("/api/install_tars_node", &[("ips", good)])
        .await
        .ok()
        .clone();
    let r = row(&rows, good);
    assert_eq!(r["rst"], false, "{r}");
    assert!(
        r["msg"]
            .as_str()
            .unwrap()
            .contains("authentication refused"),
        "{r}"
    );
}

#[tokio::test]
async fn without_a_package_the_endpoints_say_what_to_configure() {
    let p = Platform::start(Backend::Sqlite).await;
    for endpoint in ["install_tars_node", "uninstall_tars_node"] {
        let answer = p
            .api
            .get(&format!("/api/{endpoint}"), &[("ips", "127.0.0.1")])
            .await;
        answer.err(503, "TARS_NODE_PACKAGE");
    }
    let mut body = deploy_body("Res", "Plain", "127.0.0.1", 21002);
    body["install_node"] = json!(true);
    p.api
        .post_json("/api/deploy_server", &body)
        .await
        .err(503, "TARS_NODE_PACKAGE");
}
