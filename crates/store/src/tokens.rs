//! `t_platform_api_token`: API tokens (the `ticket` of every request). Only a SHA-256
//! of each token is stored; the token itself is shown once, when created.

use chrono::NaiveDateTime;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::pool::{with_pool, InsertedId};
use crate::{Store, StoreResult};

/// Prefix of every token we issue, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "tars_";

/// One token as listed to an administrator (never the token itself).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TokenRow {
    /// `t_platform_api_token.id`: the token's key, which `token revoke <id>` names.
    pub id: i64,
    /// `user_name`: the user the token authenticates as.
    pub user_name: String,
    /// `token_hash`: the token's SHA-256 in lowercase hex (64 characters); the token itself
    /// is never stored.
    pub token_hash: String,
    /// `created_at`: when it was issued (local time).
    pub created_at: NaiveDateTime,
    /// `expires_at`: when it stops working (local time); `None` never expires.
    pub expires_at: Option<NaiveDateTime>,
    /// `revoked_at`: when it was revoked (local time); `None` while not revoked.
    pub revoked_at: Option<NaiveDateTime>,
}

impl TokenRow {
    /// Whether the token can authenticate at `now`.
    pub fn is_active(&self, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// SHA-256 of a ticket, lowercase hex: the only form in which tokens are stored.
pub fn hash_ticket(ticket: &str) -> String {
    hex::encode(Sha256::digest(ticket.as_bytes()))
}

/// A new random token: the prefix and 32 random bytes in hex.
pub fn generate_ticket() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

const TOKEN_COLUMNS: &str = "id, user_name, token_hash, created_at, expires_at, revoked_at";

impl Store {
    /// Creates a token for `user_name`, returning its id and the ticket (shown once).
    pub async fn create_token(
        &self,
        user_name: &str,
        now: NaiveDateTime,
        expires_at: Option<NaiveDateTime>,
    ) -> StoreResult<(i64, String)> {
        let ticket = generate_ticket();
        let sql =
            "INSERT INTO t_platform_api_token (user_name, token_hash, created_at, expires_at) \
                   VALUES (?, ?, ?, ?)";
        let id = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(user_name)
                .bind(hash_ticket(&ticket))
                .bind(now)
                .bind(expires_at)
                .execute(pool)
                .await?
                .inserted_id()
        });
        Ok((id, ticket))
    }

    /// Every token, oldest first.
    pub async fn list_tokens(&self) -> StoreResult<Vec<TokenRow>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM t_platform_api_token ORDER BY id");
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, TokenRow>(&sql).fetch_all(pool).await?
        }))
    }

    /// Tokens that are neither revoked nor expired at `now`.
    pub async fn active_tokens(&self, now: NaiveDateTime) -> StoreResult<Vec<TokenRow>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM t_platform_api_token \
             WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, TokenRow>(&sql).bind(now).fetch_all(pool).await?
        }))
    }

    /// The active token with that hash.
    pub async fn active_token_by_hash(
        &self,
        token_hash: &str,
        now: NaiveDateTime,
    ) -> StoreResult<Option<TokenRow>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM t_platform_api_token WHERE token_hash = ? \
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, TokenRow>(&sql)
                .bind(token_hash)
                .bind(now)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Revokes token `id`; false when no unrevoked token has that id.
    pub async fn revoke_token(&self, id: i64, now: NaiveDateTime) -> StoreResult<bool> {
        let sql =
            "UPDATE t_platform_api_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL";
        Ok(with_pool!(self, pool => {
            sqlx::query(sql).bind(now).bind(id).execute(pool).await?.rows_affected() > 0
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_prefixed_random_and_hash_stably() {
        let a = generate_ticket();
        let b = generate_ticket();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(a, b);
        assert_eq!(hash_ticket(&a), hash_ticket(&a));
        assert_ne!(hash_ticket(&a), hash_ticket(&b));
        assert_eq!(
            hash_ticket("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
