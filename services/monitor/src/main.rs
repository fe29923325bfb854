//! `tars-monitor`: the monitor alone.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = tars_common::telemetry::init("tars-monitor");
    let addr = tars_monitor::grpc_addr_from_env()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(addr = %listener.local_addr()?, "monitor listening on {}", listener.local_addr()?);
    tars_monitor::run(listener, tars_common::shutdown::on_signals()).await
}
