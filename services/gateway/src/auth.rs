//! Ticket authentication. Every `/api` request needs a ticket (`?ticket=` or
//! `Authorization: Bearer`); there is no address-based bypass.
//!
//! Checking a ticket costs no backend round trip: active tokens are held in memory by
//! SHA-256 and reloaded every `TARS_TOKEN_REFRESH_SECS`, which bounds how long a revoked
//! token keeps working. A ticket not in memory is looked up once (a token created since
//! the last reload) and, if unknown, remembered as unknown for a few seconds so a flood
//! of bad tickets does not reach the database.
//!
//! Failed checks are counted per client address ([`crate::throttle`]): past the budget
//! they answer 429. A throttled address's tickets that memory does not hold are not
//! looked up one by one: they are checked against the next reload of every active token,
//! at most one a second, so a flood of guesses costs the deployer one query a second while
//! a valid ticket (even one created a moment ago) is never refused by the throttle.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use sha2::{Digest, Sha256};
use tars_common::authz::{self, Flag, Grant, Grants, Role};
use tars_proto::common::Empty;
use tars_proto::deployer::{AuthGrantRow, Token, TokenHash};

use crate::backends::Backends;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::throttle::{client_address, Verdict};

const NEGATIVE_TTL: Duration = Duration::from_secs(3);
const MAX_NEGATIVE_ENTRIES: usize = 10_000;

/// Who made the request, and what they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's user name.
    pub user: String,
    /// The token's id (`t_platform_api_token.id`); `None` for `TARS_ADMIN_TICKET`.
    pub token_id: Option<i64>,
    /// The user's roles, as of the last reload.
    pub grants: Arc<Grants>,
    /// The endpoint being served (set by [`Caller::acting_on`]).
    pub endpoint: &'static str,
    /// Whether that endpoint writes (its calls go to the audit log).
    pub audited: bool,
}

impl Caller {
    /// This caller, calling `endpoint` (`audited` when it writes).
    pub fn acting_on(&self, endpoint: &'static str, audited: bool) -> Caller {
        Caller {
            endpoint,
            audited,
            ..self.clone()
        }
    }

    /// What the backends are told of the caller (gRPC metadata).
    pub fn identity(&self) -> authz::Caller {
        authz::Caller::new(
            &self.user,
            self.token_id,
            self.endpoint,
            (*self.grants).clone(),
            self.audited,
        )
    }
}

#[derive(Debug, Clone)]
struct CachedToken {
    user: String,
    id: i64,
    /// Unix seconds; 0 = never.
    expires_at: i64,
}

/// Users' grants, rebuilt at every reload.
type GrantsByUser = HashMap<String, Arc<Grants>>;

fn grants_by_user(rows: Vec<AuthGrantRow>) -> GrantsByUser {
    let mut by_user: HashMap<String, Vec<Grant>> = HashMap::new();
    for row in rows {
        if let Some(role) = Role::parse(&row.role) {
            by_user.entry(row.user_name).or_default().push(Grant {
                role,
                flag: Flag::parse(&row.flag),
            });
        }
    }
    by_user
        .into_iter()
        .map(|(user, grants)| (user, Arc::new(Grants::new(grants))))
        .collect()
}

/// What is known of a ticket.
enum Known {
    /// A valid ticket, and whose.
    Valid(Caller),
    /// Unknown, expired or revoked.
    Rejected,
    /// Not in memory: only the deployer can tell.
    NotHeld,
}

impl CachedToken {
    fn caller(self, grants: Arc<Grants>) -> Known {
        if self.expires_at != 0 && self.expires_at <= now_unix() {
            Known::Rejected
        } else {
            Known::Valid(Caller {
                user: self.user,
                token_id: Some(self.id),
                grants,
                endpoint: "",
                audited: false,
            })
        }
    }
}

fn rejected() -> ApiError {
    ApiError::unauthorized(
        "ticket is unknown, expired or revoked; create one with `tars-platform token create --user <name>`",
    )
}

/// Active tokens by hash, plus recently seen unknown hashes.
pub struct TicketCache {
    tokens: RwLock<HashMap<String, CachedToken>>,
    grants: RwLock<GrantsByUser>,
    unknown: RwLock<HashMap<String, Instant>>,
    admin_hash: Option<String>,
    /// When the last successful reload started.
    last_reload: RwLock<Option<Instant>>,
    /// Serializes the reloads asked for by throttled addresses.
    reload_gate: tokio::sync::Mutex<()>,
}

/// The least time between two reloads asked for by throttled addresses.
const MIN_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

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
            grants: RwLock::new(HashMap::new()),
            unknown: RwLock::new(HashMap::new()),
            admin_hash: admin_ticket.map(sha256_hex),
            last_reload: RwLock::new(None),
            reload_gate: tokio::sync::Mutex::new(()),
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

    /// The grants of `user` as of the last reload (none: nothing).
    fn grants_of(&self, user: &str) -> Arc<Grants> {
        self.grants
            .read()
            .expect("ticket cache poisoned")
            .get(user)
            .cloned()
            .unwrap_or_default()
    }

    fn insert(&self, token: Token, grants: Vec<AuthGrantRow>) -> CachedToken {
        let cached = CachedToken {
            user: token.user_name,
            id: token.id,
            expires_at: token.expires_at,
        };
        let fresh = grants_by_user(grants);
        self.grants.write().expect("ticket cache poisoned").insert(
            cached.user.clone(),
            fresh.get(&cached.user).cloned().unwrap_or_default(),
        );
        self.tokens
            .write()
            .expect("ticket cache poisoned")
            .insert(token.sha256_hex, cached.clone());
        cached
    }

    /// Replaces the cache with the deployer's active tokens.
    pub async fn refresh(&self, backends: &Backends) -> ApiResult<usize> {
        let started = Instant::now();
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
                        id: t.id,
                        expires_at: t.expires_at,
                    },
                )
            })
            .collect();
        let count = fresh.len();
        let grants = grants_by_user(list.grants);
        *self.grants.write().expect("ticket cache poisoned") = grants;
        *self.tokens.write().expect("ticket cache poisoned") = fresh;
        *self.last_reload.write().expect("ticket cache poisoned") = Some(started);
        Ok(count)
    }

    /// Makes sure the cache holds every token active at `since`: returns at once when a
    /// reload started after it, else reloads, at most once per [`MIN_RELOAD_INTERVAL`]
    /// however many callers ask (they wait for the next reload). This is how a throttled
    /// address's unknown tickets are checked: a flood of them costs the deployer one
    /// token listing a second, not one lookup each.
    async fn reload_since(&self, since: Instant, backends: &Backends) -> ApiResult<()> {
        let _gate = self.reload_gate.lock().await;
        let last = *self.last_reload.read().expect("ticket cache poisoned");
        if last.is_some_and(|started| started >= since) {
            return Ok(());
        }
        if let Some(started) = last {
            tokio::time::sleep_until((started + MIN_RELOAD_INTERVAL).into()).await;
        }
        self.refresh(backends).await.map(|_| ())
    }

    /// What memory says about a ticket's hash, without asking the deployer.
    fn in_memory(&self, hash: &str) -> Known {
        if self.admin_hash.as_deref() == Some(hash) {
            return Known::Valid(Caller {
                user: "admin".into(),
                token_id: None,
                grants: Arc::new(Grants::admin()),
                endpoint: "",
                audited: false,
            });
        }
        match self.cached(hash) {
            Some(token) => {
                let grants = self.grants_of(&token.user);
                token.caller(grants)
            }
            None if self.recently_unknown(hash) => Known::Rejected,
            None => Known::NotHeld,
        }
    }

    /// Asks the deployer about a ticket memory does not hold (a token created since the
    /// last reload); remembers the answer.
    async fn look_up(&self, hash: String, backends: &Backends) -> ApiResult<Known> {
        let reply = backends
            .deployer
            .call(
                TokenHash {
                    sha256_hex: hash.clone(),
                },
                |mut c, r| async move { c.lookup_token(r).await },
            )
            .await?;
        Ok(match reply.token {
            Some(token) => {
                let cached = self.insert(token, reply.grants);
                let grants = self.grants_of(&cached.user);
                cached.caller(grants)
            }
            None => {
                self.remember_unknown(hash);
                Known::Rejected
            }
        })
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

/// 429 in the envelope, with `Retry-After` in whole seconds.
fn too_many_failures(client: IpAddr, retry_after: Duration) -> Response {
    let seconds = retry_after.as_secs().max(1);
    let mut response = ApiError::too_many_requests(format!(
        "too many failed ticket checks from {client}; retry in {seconds} s with a valid ticket"
    ))
    .into_response();
    response
        .headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    response
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
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let client = client_address(peer, request.headers(), &state.config.trusted_proxies);
    let hash = sha256_hex(&ticket);
    let known = match state.tickets.in_memory(&hash) {
        Known::NotHeld => {
            let asked = Instant::now();
            let looked_up = match state.auth_throttle.check(client, asked) {
                Verdict::Allowed => state.tickets.look_up(hash, &state.backends).await,
                // A throttled address gets no lookups of its own: its ticket is checked
                // against the next reload of every active token (at most one a second).
                Verdict::Throttled { .. } => state
                    .tickets
                    .reload_since(asked, &state.backends)
                    .await
                    .map(|()| state.tickets.in_memory(&hash)),
            };
            match looked_up {
                Ok(known) => known,
                Err(err) => return err.into_response(),
            }
        }
        known => known,
    };
    match known {
        Known::Valid(caller) => {
            tracing::Span::current().record("user", caller.user.as_str());
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Known::Rejected | Known::NotHeld => {
            match state.auth_throttle.record_failure(client, Instant::now()) {
                Verdict::Allowed => rejected().into_response(),
                Verdict::Throttled { retry_after } => too_many_failures(client, retry_after),
            }
        }
    }
}
