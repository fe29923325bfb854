//! Outages: a stopped deployer or an unreachable database answers 503 naming what is
//! down, and the platform recovers when it comes back.

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
    let not_ready = p
        .api
        .with_ticket(None)
        .get("/readyz", &[])
        .await
        .err(503, "deployer");
    assert!(
        !not_ready.contains("task-runner"),
        "only the deployer is down: {not_ready}"
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
    let database = crate::common::db::TestDatabase::create().await;
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
    p.api
        .with_ticket(None)
        .get("/readyz", &[])
        .await
        .err(503, "not ready");

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
    drop(database);
}
