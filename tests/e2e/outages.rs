//! Outages: a stopped deployer or an unreachable database answers 503 naming what is
//! down, and the platform recovers when it comes back. `/readyz`, which needs no ticket,
//! names only the dependency that is down (`deployer`, `database` …), never an address
//! or a raw error.

use std::time::Duration;

use crate::common::chaos::ChaosProxy;
use crate::common::db::mysql_server_url;
use crate::common::{binary, Backend, Platform, PlatformOptions, Process};
use crate::fixtures::deploy;
use crate::on_every_backend;

async fn gateway_and_deployer_apart_survive_a_deployer_restart(backend: Backend) {
    let mut p = Platform::start_split(backend, PlatformOptions::default()).await;
    let conf = deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let id = conf["id"].as_i64().unwrap().to_string();
    p.processes[0].kill();
    let down = p.api.get("/api/server", &[("id", &id)]).await;
    down.err(503, "deployer at http://127.0.0.1:");
    // The probe may answer from a result taken before the kill (reused for a second).
    let not_ready = ready_answer(&p.api, 503).await;
    assert_eq!(not_ready.err(503, "deployer"), "not ready: deployer");
    assert_eq!(
        not_ready.body["data"]["down"],
        serde_json::json!(["deployer"])
    );
    p.api.with_ticket(None).get("/healthz", &[]).await.ok();

    let (deployer, _) = Process::spawn(
        "tars-deployer",
        &binary("tars-deployer"),
        &[],
        &p.env,
        &p.dir.path().join("deployer2.log"),
    );
    p.processes[0] = deployer;
    let mut back = None;
    for _ in 0..50 {
        let answer = p.api.get("/api/server", &[("id", &id)]).await;
        if answer.status == 200 {
            back = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let back = back.expect("the gateway reconnects to the restarted deployer");
    assert_eq!(back.ok(), &conf);
    assert_eq!(ready_answer(&p.api, 200).await.ok()["status"], "ready");
}

/// `/readyz` until it answers `status` (bounded): its result is reused for a second, so
/// a change shows within about that.
async fn ready_answer(api: &crate::common::Api, status: u16) -> crate::common::http::Answer {
    let mut answer = api.with_ticket(None).get("/readyz", &[]).await;
    for _ in 0..100 {
        if answer.status == status {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        answer = api.with_ticket(None).get("/readyz", &[]).await;
    }
    answer
}

on_every_backend!(gateway_and_deployer_apart_survive_a_deployer_restart);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_database_is_503_and_recovers() {
    let target = mysql_server_url()
        .trim_start_matches("mysql://")
        .rsplit('@')
        .next()
        .unwrap()
        .to_string();
    let proxy = ChaosProxy::start(target).await;
    // Create the real database first, then point the platform at it through the proxy.
    let database = crate::common::db::create_database().await;
    let proxied = database
        .url
        .replace(&mysql_server_url(), &format!("mysql://root@{}", proxy.addr));
    let options = PlatformOptions {
        env: vec![("TARS_DB_ACQUIRE_TIMEOUT_MS".into(), "1500".into())],
        database_url_override: Some(proxied),
    };
    let p = Platform::start_with(Backend::MariaDb, options).await;
    let conf = deploy(&p.api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let id = conf["id"].as_i64().unwrap().to_string();

    proxy.cut();
    let down = p.api.get("/api/server", &[("id", &id)]).await;
    let message = down.err(503, "unavailable");
    assert!(message.contains("database"), "{message}");
    let not_ready = ready_answer(&p.api, 503).await;
    // Only which dependency is down: not the proxy's address, not the driver's error.
    assert_eq!(not_ready.err(503, "database"), "not ready: database");
    assert_eq!(
        not_ready.body["data"]["down"],
        serde_json::json!(["database"])
    );

    proxy.restore();
    let mut recovered = false;
    for _ in 0..50 {
        if p.api.get("/api/server", &[("id", &id)]).await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "requests succeed again once the database is reachable"
    );
    assert_eq!(ready_answer(&p.api, 200).await.ok()["status"], "ready");
    drop(database);
}
