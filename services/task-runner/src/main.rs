//! `tars-task-runner`: the task-runner alone.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = tars_common::telemetry::init("tars-task-runner");
    let addr = tars_task_runner::grpc_addr_from_env()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(addr = %listener.local_addr()?, "task-runner listening on {}", listener.local_addr()?);
    tars_task_runner::run(listener, tars_common::shutdown::on_signals()).await
}
