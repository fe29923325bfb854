//! `tars-gateway`: the HTTP gateway alone, pointing at backends by address; run as many
//! as needed behind a load balancer.

use std::io::Write as _;

use anyhow::Context;

// Request handling allocates many small buffers from several threads; mimalloc's
// per-thread heaps avoid the contention glibc's allocator showed under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = tars_common::telemetry::init("tars-gateway");
    let config = tars_gateway::Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.http_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, deployer = %config.deployer_url, "gateway started");
    // Scripts and tests read this line to find the port; keep its shape.
    println!("tars-gateway listening on http://{addr}");
    let shutdown = tars_common::shutdown::on_signals();
    // After the address line, which scripts read first.
    if let (Some(addr), Some(servant)) =
        (config.packages.patch_addr, config.packages.patch_servant())
    {
        let proxy = tars_packages::start_patch_servant(addr, servant, shutdown.clone())
            .await
            .with_context(|| format!("cannot serve Patch on {addr} (TARS_PATCH_ADDR)"))?;
        // Informational: a reader that stopped listening must not take the gateway down.
        let _ = writeln!(
            std::io::stdout(),
            "tars-gateway serving packages at {proxy}"
        );
    }
    tars_gateway::run(listener, config, shutdown).await
}
