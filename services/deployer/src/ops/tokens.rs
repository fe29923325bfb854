//! API tokens as the gateway needs them: the active set, and one lookup by hash.

use tars_proto::deployer::Token;
use tars_store::tokens::TokenRow;
use tars_store::Store;

use crate::error::DeployerResult;

fn to_proto(row: TokenRow) -> Token {
    Token {
        sha256_hex: row.token_hash,
        user_name: row.user_name,
        expires_at: row
            .expires_at
            .map(|t| {
                t.and_local_timezone(chrono::Local)
                    .earliest()
                    .map(|local| local.timestamp())
                    .unwrap_or_else(|| t.and_utc().timestamp())
            })
            .unwrap_or(0),
    }
}

/// Every token that can authenticate now.
pub async fn active_tokens(store: &Store) -> DeployerResult<Vec<Token>> {
    let now = tars_common::time::now_local();
    Ok(store
        .active_tokens(now)
        .await?
        .into_iter()
        .map(to_proto)
        .collect())
}

/// The active token with that hash, if any.
pub async fn lookup_token(store: &Store, sha256_hex: &str) -> DeployerResult<Option<Token>> {
    let now = tars_common::time::now_local();
    Ok(store
        .active_token_by_hash(sha256_hex, now)
        .await?
        .map(to_proto))
}
