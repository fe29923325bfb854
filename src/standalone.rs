//! Standalone mode: every service in one process. The gateway serves HTTP on
//! `TARS_HTTP_ADDR` and calls the deployer, task-runner and monitor in-process through
//! the same gRPC clients it uses across machines (no sockets between them), all sharing
//! one store and one shutdown signal. Without `TARS_KAFKA_BROKERS` the task-runner takes
//! tasks straight from the database.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context;
use tars_gateway::backends::{in_process, InProcess};
use tars_store::{Store, StoreConfig};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

fn start_gateway(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    listener: TcpListener,
    config: tars_gateway::Config,
    backends: InProcess,
    shutdown: CancellationToken,
) {
    tasks.spawn(async move {
        tars_gateway::run_with(listener, config, backends, shutdown)
            .await
            .context("gateway")
    });
}

/// The backends as in-process services over `store`.
fn start_backends(
    store: &Store,
    deployer: tars_deployer::Settings,
    task_runner: &tars_task_runner::Running,
    monitor: tars_monitor::QueryConfig,
) -> InProcess {
    InProcess {
        deployer: Some(in_process(tars_deployer::grpc_service(
            store.clone(),
            deployer,
        ))),
        task_runner: Some(in_process(task_runner.service.clone())),
        monitor: Some(in_process(tars_monitor::grpc_service(
            store.clone(),
            monitor,
        ))),
    }
}

/// Runs the platform until SIGINT/SIGTERM or until a service fails.
pub async fn serve() -> anyhow::Result<()> {
    // One recorder for every service of the process, before any of them records.
    tars_common::metrics::install();
    let metrics_config = tars_common::metrics::MetricsConfig::from_env()?;
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
    let gateway_config = tars_gateway::Config::from_env()?;
    let runner_config = tars_task_runner::Config::from_env()?;
    let deployer_settings = tars_deployer::Settings::from_env()?;
    let monitor_config = tars_monitor::QueryConfig::from_env()?;
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
    let mut runner_config = runner_config;
    let mut patch_proxy = None;
    // Nodes download packages from the platform's own Patch servant unless TARS_PATCH_OBJ
    // names another tarspatch.
    // The task-runner below calls its preparePatchFile from loopback, which the default
    // TARS_PATCH_WRITERS allows.
    if let Some(servant) = gateway_config.packages.patch_servant() {
        let addr = gateway_config
            .packages
            .patch_addr
            .unwrap_or_else(|| "127.0.0.1:0".parse().expect("valid"));
        let proxy = tars_packages::start_patch_servant(addr, servant, shutdown.clone())
            .await
            .with_context(|| format!("cannot serve Patch on {addr} (TARS_PATCH_ADDR)"))?;
        if tars_common::env::var("TARS_PATCH_OBJ").is_none() {
            runner_config.patch_obj = proxy.clone();
        }
        patch_proxy = Some(proxy);
    }
    tars_deployer::audit::spawn_purge(
        store.clone(),
        deployer_settings.audit_retention_days,
        shutdown.clone(),
    );
    store.spawn_pool_metrics(shutdown.clone());
    // The gateway serves /metrics on its HTTP port; TARS_METRICS_ADDR adds a listener.
    let metrics_addr = tars_common::metrics::start(&metrics_config, shutdown.clone()).await?;
    let mut tasks = JoinSet::new();
    let task_runner = tars_task_runner::start(store.clone(), runner_config, shutdown.clone())?;
    let backends = start_backends(&store, deployer_settings, &task_runner, monitor_config);
    start_gateway(
        &mut tasks,
        http_listener,
        gateway_config,
        backends,
        shutdown.clone(),
    );
    // Tests and scripts read this line to find the port; keep its shape.
    println!("tars-platform listening on http://{http_addr}");
    if let Some(proxy) = patch_proxy {
        // Informational: a reader that stopped listening must not take the platform down.
        let _ = writeln!(
            std::io::stdout(),
            "tars-platform serving packages at {proxy}"
        );
    }
    if let Some(addr) = metrics_addr {
        let _ = writeln!(
            std::io::stdout(),
            "tars-platform serving metrics at http://{addr}/metrics"
        );
    }
    tracing::info!(%http_addr, "standalone platform started");

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
    task_runner.drain(Duration::from_secs(30)).await;
    store.close().await;
    tracing::info!("platform stopped");
    result
}
