//! `tars-monitor`: the monitor alone.

use anyhow::Context;

// Request handling allocates many small buffers from several threads; mimalloc's
// per-thread heaps avoid the contention glibc's allocator showed under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = tars_common::telemetry::init("tars-monitor");
    let addr = tars_monitor::grpc_addr_from_env()?;
    let security = tars_common::grpc_security::GrpcSecurity::from_env()?;
    let metrics = tars_common::metrics::MetricsConfig::from_env()?;
    security
        .check_listen("the monitor", "TARS_MONITOR_GRPC_ADDR", addr)
        .map_err(anyhow::Error::msg)?;
    let query = tars_monitor::QueryConfig::from_env()?;
    // Query servers configured by name are looked up among the registered adapters.
    let store = tars_store::Store::open(&tars_store::StoreConfig::from_env()?)
        .await
        .context("cannot open the database")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let addr = listener.local_addr()?;
    // Scripts and tests read this line to find the port; keep its shape.
    println!("tars-monitor listening on {addr}");
    let shutdown = tars_common::shutdown::on_signals();
    if let Some(addr) = tars_common::metrics::start(&metrics, shutdown.clone()).await? {
        println!("tars-monitor serving metrics at http://{addr}/metrics");
        store.spawn_pool_metrics(shutdown.clone());
    }
    tars_monitor::run(listener, store.clone(), query, &security, shutdown).await?;
    store.close().await;
    Ok(())
}
