//! `tars-deployer`: the deployer alone, for installations that run each service apart.

use anyhow::Context;
use tars_common::grpc_security::GrpcSecurity;

// Request handling allocates many small buffers from several threads; mimalloc's
// per-thread heaps avoid the contention glibc's allocator showed under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = tars_common::telemetry::init("tars-deployer");
    let config = tars_deployer::Config::from_env()?;
    let security = GrpcSecurity::from_env()?;
    let metrics = tars_common::metrics::MetricsConfig::from_env()?;
    security
        .check_listen("the deployer", "TARS_DEPLOYER_GRPC_ADDR", config.grpc_addr)
        .map_err(anyhow::Error::msg)?;
    let store = tars_store::Store::open(&config.store)
        .await
        .context("cannot open the database")?;
    let listener = tokio::net::TcpListener::bind(config.grpc_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.grpc_addr))?;
    let addr = listener.local_addr()?;
    // Scripts and tests read this line to find the port; keep its shape.
    println!("tars-deployer listening on {addr}");
    let shutdown = tars_common::shutdown::on_signals();
    if let Some(addr) = tars_common::metrics::start(&metrics, shutdown.clone()).await? {
        println!("tars-deployer serving metrics at http://{addr}/metrics");
        store.spawn_pool_metrics(shutdown.clone());
    }
    tars_deployer::audit::spawn_purge(
        store.clone(),
        config.settings.audit_retention_days,
        shutdown.clone(),
    );
    tars_deployer::run(
        listener,
        store.clone(),
        config.settings,
        &security,
        shutdown,
    )
    .await?;
    store.close().await;
    Ok(())
}
