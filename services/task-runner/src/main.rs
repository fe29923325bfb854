//! `tars-task-runner`: the task-runner alone.

use anyhow::Context;

// Request handling allocates many small buffers from several threads; mimalloc's
// per-thread heaps avoid the contention glibc's allocator showed under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = tars_common::telemetry::init("tars-task-runner");
    let addr = tars_task_runner::grpc_addr_from_env()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let addr = listener.local_addr()?;
    // Scripts and tests read this line to find the port; keep its shape.
    println!("tars-task-runner listening on {addr}");
    tars_task_runner::run(listener, tars_common::shutdown::on_signals()).await
}
