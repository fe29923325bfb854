//! API tokens as the gateway needs them: the active set with every grant of their users,
//! and one lookup by hash with its user's grants.

use tars_proto::deployer::{AuthGrantRow, Token, TokenList, TokenLookupReply};
use tars_store::tokens::TokenRow;
use tars_store::Store;

use super::auth::grant_row;
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
        id: row.id,
    }
}

/// Every token that can authenticate now, and every grant (the gateway keeps those of
/// its tokens' users).
pub async fn active_tokens(store: &Store) -> DeployerResult<TokenList> {
    let now = tars_common::time::now_local();
    let tokens = store.active_tokens(now).await?;
    let grants: Vec<AuthGrantRow> = store
        .grants(None)
        .await?
        .into_iter()
        .map(grant_row)
        .collect();
    Ok(TokenList {
        tokens: tokens.into_iter().map(to_proto).collect(),
        grants,
    })
}

/// The active token with that hash, if any, and its user's grants.
pub async fn lookup_token(store: &Store, sha256_hex: &str) -> DeployerResult<TokenLookupReply> {
    let now = tars_common::time::now_local();
    let Some(token) = store.active_token_by_hash(sha256_hex, now).await? else {
        return Ok(TokenLookupReply::default());
    };
    let grants = store
        .grants(Some(&token.user_name))
        .await?
        .into_iter()
        .map(grant_row)
        .collect();
    Ok(TokenLookupReply {
        token: Some(to_proto(token)),
        grants,
    })
}
