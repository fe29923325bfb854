//! Standalone mode: every service in one process, each on its own listener, the gateway
//! on `TARS_HTTP_ADDR` and the backends on loopback ports chosen by the OS, all sharing
//! one store and one shutdown signal.

use std::net::SocketAddr;

use anyhow::Context;
use tars_store::{Store, StoreConfig};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

async fn loopback_listener() -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

fn start_deployer(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    listener: TcpListener,
    store: Store,
    shutdown: CancellationToken,
) {
    tasks.spawn(async move {
        tars_deployer::run(listener, store, shutdown)
            .await
            .context("deployer")
    });
}

fn start_task_runner(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    listener: TcpListener,
    shutdown: CancellationToken,
) {
    tasks.spawn(async move {
        tars_task_runner::run(listener, shutdown)
            .await
            .context("task-runner")
    });
}

fn start_monitor(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    listener: TcpListener,
    shutdown: CancellationToken,
) {
    tasks.spawn(async move {
        tars_monitor::run(listener, shutdown)
            .await
            .context("monitor")
    });
}

fn start_gateway(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    listener: TcpListener,
    config: tars_gateway::Config,
    shutdown: CancellationToken,
) {
    tasks.spawn(async move {
        tars_gateway::run(listener, config, shutdown)
            .await
            .context("gateway")
    });
}

/// Runs the platform until SIGINT/SIGTERM or until one service fails.
pub async fn serve() -> anyhow::Result<()> {
    let store_config = StoreConfig::from_env()?;
    let store = Store::open(&store_config)
        .await
        .context("cannot open the database")?;
    match &store_config.database_url {
        Some(_) => tracing::info!(backend = ?store.backend(), "database ready"),
        None => {
            tracing::info!(path = %store_config.data_dir.join("tars.db").display(), "SQLite database ready")
        }
    }
    let mut gateway_config = tars_gateway::Config::from_env()?;
    let (deployer_listener, deployer_addr) = loopback_listener().await?;
    let (runner_listener, runner_addr) = loopback_listener().await?;
    let (monitor_listener, monitor_addr) = loopback_listener().await?;
    gateway_config.deployer_url = format!("http://{deployer_addr}");
    gateway_config.task_runner_url = format!("http://{runner_addr}");
    gateway_config.monitor_url = format!("http://{monitor_addr}");
    let http_listener = TcpListener::bind(gateway_config.http_addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (TARS_HTTP_ADDR)",
                gateway_config.http_addr
            )
        })?;
    let http_addr = http_listener.local_addr()?;

    let shutdown = tars_common::shutdown::on_signals();
    let mut tasks = JoinSet::new();
    start_deployer(
        &mut tasks,
        deployer_listener,
        store.clone(),
        shutdown.clone(),
    );
    start_task_runner(&mut tasks, runner_listener, shutdown.clone());
    start_monitor(&mut tasks, monitor_listener, shutdown.clone());
    start_gateway(&mut tasks, http_listener, gateway_config, shutdown.clone());
    // Tests and scripts read this line to find the port; keep its shape.
    println!("tars-platform listening on http://{http_addr}");
    tracing::info!(%http_addr, %deployer_addr, %runner_addr, %monitor_addr, "standalone platform started");

    let mut result = Ok(());
    while let Some(joined) = tasks.join_next().await {
        let outcome = joined.map_err(anyhow::Error::from).and_then(|r| r);
        if let Err(err) = outcome {
            tracing::error!(error = %format!("{err:#}"), "service stopped; shutting the platform down");
            result = Err(err);
        }
        // One service ending (failure or drain) ends them all.
        shutdown.cancel();
    }
    store.close().await;
    tracing::info!("platform stopped");
    result
}
