//! `tars-platform`: the whole TARS management plane in one process (standalone mode:
//! gateway, deployer, task-runner and monitor with embedded defaults), plus admin
//! commands for API tokens.

mod auth;
mod standalone;
mod tokens;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "tars-platform", version, about = "TARS management plane")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in this process (the default).
    Serve,
    /// Manage API tokens (the `ticket` of every request).
    Token {
        #[command(subcommand)]
        command: tokens::TokenCommand,
    },
    /// Manage per-application roles (grants): who may act on which application.
    Auth {
        #[command(subcommand)]
        command: auth::AuthCommand,
    },
}

// Request handling allocates many small buffers from several threads; mimalloc's
// per-thread heaps avoid the contention glibc's allocator showed under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let _telemetry = tars_common::telemetry::init("tars-platform");
            standalone::serve().await
        }
        Command::Token { command } => tokens::run(command).await,
        Command::Auth { command } => auth::run(command).await,
    }
}
