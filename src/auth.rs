//! `tars-platform auth grant|revoke|list`: per-application roles (grants), straight
//! against the database the platform uses (same `TARS_DATABASE_URL` / `TARS_DATA_DIR`).
//! Which (role, flag) pairs are valid is [`tars_store::grants::check_grant`]'s rule, the
//! one the deployer applies too.

use anyhow::Context;
use clap::Subcommand;
use tars_common::time::now_local;
use tars_store::grants::check_grant;
use tars_store::{Store, StoreConfig};

/// Longest user name `t_platform_grant.user_name` holds.
const MAX_USER_CHARS: usize = 64;

#[derive(Subcommand)]
pub enum AuthCommand {
    /// Give a user a role: developer or operator on '*', App or App.Server; or admin.
    Grant {
        /// The user (as API tokens name it).
        user: String,
        /// developer, operator or admin.
        role: String,
        /// '*' (every application), App or App.Server; omitted for admin.
        flag: Option<String>,
    },
    /// Take a role from a user (the same arguments as `auth grant`).
    Revoke {
        /// The user.
        user: String,
        /// developer, operator or admin.
        role: String,
        /// The flag it was granted on; omitted for admin.
        flag: Option<String>,
    },
    /// List grants (of one user when given).
    List {
        /// Only this user's grants.
        user: Option<String>,
    },
}

/// The user name, trimmed and checked.
fn checked_user(user: &str) -> anyhow::Result<&str> {
    let user = user.trim();
    anyhow::ensure!(!user.is_empty(), "the user name must not be empty");
    anyhow::ensure!(
        user.chars().count() <= MAX_USER_CHARS,
        "the user name must be at most {MAX_USER_CHARS} characters"
    );
    Ok(user)
}

/// "operator on Shop", "admin".
fn describe(role: &str, flag: &str) -> String {
    if flag.is_empty() {
        role.to_string()
    } else {
        format!("{role} on {flag}")
    }
}

pub async fn run(command: AuthCommand) -> anyhow::Result<()> {
    let store = Store::open(&StoreConfig::from_env()?)
        .await
        .context("cannot open the database (TARS_DATABASE_URL / TARS_DATA_DIR)")?;
    let result = execute(&store, command).await;
    store.close().await;
    result
}

async fn execute(store: &Store, command: AuthCommand) -> anyhow::Result<()> {
    match command {
        AuthCommand::Grant { user, role, flag } => {
            let user = checked_user(&user)?;
            let (role, flag) =
                check_grant(&role, flag.as_deref().unwrap_or("")).map_err(anyhow::Error::msg)?;
            let what = describe(&role, &flag);
            if store.grant_role(user, &role, &flag, now_local()).await? {
                println!("granted {what} to {user}");
            } else {
                println!("{user} already had {what}");
            }
        }
        AuthCommand::Revoke { user, role, flag } => {
            let user = checked_user(&user)?;
            let (role, flag) =
                check_grant(&role, flag.as_deref().unwrap_or("")).map_err(anyhow::Error::msg)?;
            let what = describe(&role, &flag);
            anyhow::ensure!(
                store.revoke_role(user, &role, &flag).await?,
                "{user} has no grant {what}; see `auth list {user}`"
            );
            println!("revoked {what} from {user}");
        }
        AuthCommand::List { user } => {
            let user = user.as_deref().map(checked_user).transpose()?;
            let grants = store.grants(user).await?;
            println!("{:<20}  {:<9}  {:<30}  created", "user", "role", "flag");
            for g in &grants {
                let flag = if g.flag.is_empty() { "(all)" } else { &g.flag };
                println!(
                    "{:<20}  {:<9}  {:<30}  {}",
                    g.user_name, g.role, flag, g.created_at
                );
            }
            if grants.is_empty() {
                eprintln!(
                    "no grants{}",
                    user.map(|u| format!(" for {u}")).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
