//! `tars-platform token create|list|revoke`: API token administration, straight against
//! the database the platform uses (same `TARS_DATABASE_URL` / `TARS_DATA_DIR`).

use anyhow::Context;
use clap::Subcommand;
use tars_common::time::{format_api_time, now_local};
use tars_store::{Store, StoreConfig};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (it is shown only once).
    Create {
        /// The user the token acts as.
        #[arg(long)]
        user: String,
        /// Days until the token expires; never when omitted.
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token by id (from `token list`).
    Revoke {
        /// The token's id.
        id: i64,
    },
}

pub async fn run(command: TokenCommand) -> anyhow::Result<()> {
    let store = Store::open(&StoreConfig::from_env()?)
        .await
        .context("cannot open the database (TARS_DATABASE_URL / TARS_DATA_DIR)")?;
    let now = now_local();
    match command {
        TokenCommand::Create { user, expires_days } => {
            let user = user.trim();
            anyhow::ensure!(!user.is_empty(), "--user must not be empty");
            anyhow::ensure!(user.len() <= 64, "--user must be at most 64 characters");
            let expires = expires_days.map(|d| now + chrono::Duration::days(i64::from(d)));
            let (id, ticket) = store.create_token(user, now, expires).await?;
            eprintln!(
                "token {id} for {user} created{}; it will not be shown again",
                expires
                    .map(|e| format!(", expires {}", format_api_time(Some(e))))
                    .unwrap_or_default()
            );
            println!("{ticket}");
        }
        TokenCommand::List => {
            println!(
                "{:>5}  {:<20}  {:<19}  {:<19}  status",
                "id", "user", "created", "expires"
            );
            for t in store.list_tokens().await? {
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else if !t.is_active(now) {
                    "expired"
                } else {
                    "active"
                };
                println!(
                    "{:>5}  {:<20}  {:<19}  {:<19}  {status}",
                    t.id,
                    t.user_name,
                    format_api_time(Some(t.created_at)),
                    t.expires_at
                        .map(|e| format_api_time(Some(e)))
                        .unwrap_or_else(|| "never".into()),
                );
            }
        }
        TokenCommand::Revoke { id } => {
            anyhow::ensure!(
                store.revoke_token(id, now).await?,
                "no active token with id {id}; see `token list`"
            );
            println!(
                "token {id} revoked; gateways stop accepting it within TARS_TOKEN_REFRESH_SECS"
            );
        }
    }
    store.close().await;
    Ok(())
}
