//! Ticket authentication. Every `/api` request needs a ticket (`?ticket=` or
//! `Authorization: Bearer`); there is no address-based bypass.
//!
//! Checking a ticket costs no backend round trip: active tokens are held in memory by
//! SHA-256 and reloaded every `TARS_TOKEN_REFRESH_SECS`, which bounds how long a revoked
//! token keeps working. A ticket not in memory is looked up once (a token created since
//! the last reload) and, if unknown, remembered as unknown for a few seconds so a flood
//! of bad tickets does not reach the database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tars_proto::common::Empty;
use tars_proto::deployer::{Token, TokenHash};

use crate::backends::Backends;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const NEGATIVE_TTL: Duration = Duration::from_secs(3);
const MAX_NEGATIVE_ENTRIES: usize = 10_000;

/// Who made the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's user name.
    pub user: String,
}

#[derive(Debug, Clone)]
struct CachedToken {
    user: String,
    /// Unix seconds; 0 = never.
    expires_at: i64,
}

/// Active tokens by hash, plus recently seen unknown hashes.
pub struct TicketCache {
    tokens: RwLock<HashMap<String, CachedToken>>,
    unknown: RwLock<HashMap<String, Instant>>,
    admin_hash: Option<String>,
}

fn sha256_hex(ticket: &str) -> String {
    hex::encode(Sha256::digest(ticket.as_bytes()))
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

impl TicketCache {
    /// An empty cache; `admin_ticket` (TARS_ADMIN_TICKET) is always accepted as `admin`.
    pub fn new(admin_ticket: Option<&str>) -> TicketCache {
        TicketCache {
            tokens: RwLock::new(HashMap::new()),
            unknown: RwLock::new(HashMap::new()),
            admin_hash: admin_ticket.map(sha256_hex),
        }
    }

    fn cached(&self, hash: &str) -> Option<CachedToken> {
        self.tokens
            .read()
            .expect("ticket cache poisoned")
            .get(hash)
            .cloned()
    }

    fn recently_unknown(&self, hash: &str) -> bool {
        self.unknown
            .read()
            .expect("ticket cache poisoned")
            .get(hash)
            .is_some_and(|seen| seen.elapsed() < NEGATIVE_TTL)
    }

    fn remember_unknown(&self, hash: String) {
        let mut unknown = self.unknown.write().expect("ticket cache poisoned");
        if unknown.len() >= MAX_NEGATIVE_ENTRIES {
            unknown.retain(|_, seen| seen.elapsed() < NEGATIVE_TTL);
            if unknown.len() >= MAX_NEGATIVE_ENTRIES {
                unknown.clear();
            }
        }
        unknown.insert(hash, Instant::now());
    }

    fn insert(&self, token: Token) {
        self.tokens.write().expect("ticket cache poisoned").insert(
            token.sha256_hex,
            CachedToken {
                user: token.user_name,
                expires_at: token.expires_at,
            },
        );
    }

    /// Replaces the cache with the deployer's active tokens.
    pub async fn refresh(&self, backends: &Backends) -> ApiResult<usize> {
        let list = backends
            .deployer
            .call(Empty {}, |mut c, r| async move { c.active_tokens(r).await })
            .await?;
        let fresh: HashMap<String, CachedToken> = list
            .tokens
            .into_iter()
            .map(|t| {
                (
                    t.sha256_hex,
                    CachedToken {
                        user: t.user_name,
                        expires_at: t.expires_at,
                    },
                )
            })
            .collect();
        let count = fresh.len();
        *self.tokens.write().expect("ticket cache poisoned") = fresh;
        Ok(count)
    }

    /// Validates a ticket.
    pub async fn authenticate(&self, ticket: &str, backends: &Backends) -> ApiResult<Caller> {
        let hash = sha256_hex(ticket);
        if self.admin_hash.as_deref() == Some(hash.as_str()) {
            return Ok(Caller {
                user: "admin".into(),
            });
        }
        let rejected = || {
            ApiError::unauthorized("ticket is unknown, expired or revoked; create one with `tars-platform token create --user <name>`")
        };
        let token = match self.cached(&hash) {
            Some(token) => token,
            None => {
                if self.recently_unknown(&hash) {
                    return Err(rejected());
                }
                let reply = backends
                    .deployer
                    .call(
                        TokenHash {
                            sha256_hex: hash.clone(),
                        },
                        |mut c, r| async move { c.lookup_token(r).await },
                    )
                    .await?;
                match reply.token {
                    Some(token) => {
                        self.insert(token.clone());
                        CachedToken {
                            user: token.user_name,
                            expires_at: token.expires_at,
                        }
                    }
                    None => {
                        self.remember_unknown(hash);
                        return Err(rejected());
                    }
                }
            }
        };
        if token.expires_at != 0 && token.expires_at <= now_unix() {
            return Err(rejected());
        }
        Ok(Caller { user: token.user })
    }

    /// Reloads the cache every `period` until `shutdown`.
    pub fn spawn_refresh(
        self: Arc<Self>,
        backends: Arc<Backends>,
        period: Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period.max(Duration::from_millis(100)));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = interval.tick() => {}
                }
                if let Err(err) = self.refresh(&backends).await {
                    // Keep the previous set: requests still fail cleanly with 503 while
                    // the deployer is down, and work again as soon as it is back.
                    tracing::warn!(error = %err, "cannot reload API tokens");
                }
            }
        });
    }
}

/// The ticket of a request: `?ticket=` or `Authorization: Bearer …`.
fn ticket_of(request: &Request) -> Option<String> {
    if let Some(query) = request.uri().query() {
        if let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) {
            if let Some((_, t)) = pairs
                .into_iter()
                .find(|(k, v)| k == "ticket" && !v.is_empty())
            {
                return Some(t);
            }
        }
    }
    request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Middleware: refuses requests without a valid ticket, records the caller otherwise.
pub async fn require_ticket(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(ticket) = ticket_of(&request) else {
        return ApiError::unauthorized(
            "missing ticket: pass ?ticket=<token> or Authorization: Bearer <token>",
        )
        .into_response();
    };
    match state.tickets.authenticate(&ticket, &state.backends).await {
        Ok(caller) => {
            tracing::Span::current().record("user", caller.user.as_str());
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(err) => err.into_response(),
    }
}
