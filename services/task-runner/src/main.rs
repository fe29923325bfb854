//! `tars-task-runner`: the task-runner alone; run several against one database and one
//! Kafka consumer group.

use anyhow::Context;

// Many small allocations from several threads under load; mimalloc avoids glibc's
// allocator contention.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = tars_common::telemetry::init("tars-task-runner");
    let config = tars_task_runner::Config::from_env()?;
    let security = tars_common::grpc_security::GrpcSecurity::from_env()?;
    let metrics = tars_common::metrics::MetricsConfig::from_env()?;
    security
        .check_listen(
            "the task-runner",
            "TARS_TASK_RUNNER_GRPC_ADDR",
            config.grpc_addr,
        )
        .map_err(anyhow::Error::msg)?;
    let store = tars_store::Store::open(&config.store)
        .await
        .context("cannot open the database")?;
    let listener = tokio::net::TcpListener::bind(config.grpc_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.grpc_addr))?;
    let addr = listener.local_addr()?;
    // Scripts and tests read this line to find the port; keep its shape.
    println!("tars-task-runner listening on {addr}");
    let shutdown = tars_common::shutdown::on_signals();
    // Before the runner starts, so its samplers and counters have the recorder.
    if let Some(addr) = tars_common::metrics::start(&metrics, shutdown.clone()).await? {
        println!("tars-task-runner serving metrics at http://{addr}/metrics");
        store.spawn_pool_metrics(shutdown.clone());
    }
    tars_task_runner::run(listener, store.clone(), config, &security, shutdown).await?;
    store.close().await;
    Ok(())
}
