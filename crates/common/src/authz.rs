//! Who may do what: roles held on flags, and the caller of a backend call.
//!
//! A user holds roles on flags (`App.Server`, `App`, `*`) and may hold the global `admin`
//! role. `developer` reads what belongs to a flag, `operator` also changes it, `admin` may
//! do everything. The gateway knows each ticket's grants (reloaded with the tickets) and
//! sends them, with the user, the token's id and the endpoint, as gRPC metadata
//! ([`inject`]); the backends trust that metadata because every call to them carries the
//! internal token. [`crate::propagation::traced_rpc`] makes the caller of each call
//! [`current`] for the call's duration, so the code that finds a call's target (it loads
//! the rows anyway) checks it with [`require`] without threading the caller through.
//!
//! A call without caller metadata is the platform itself (tests of a backend, its own
//! sweepers) and may do everything: the trust boundary is the internal token.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use tonic::metadata::{MetadataMap, MetadataValue};

/// Metadata: the user the ticket acts as.
pub const USER_HEADER: &str = "x-tars-user";
/// Metadata: the token's id (`t_platform_api_token.id`); absent for the admin ticket.
pub const TOKEN_ID_HEADER: &str = "x-tars-token-id";
/// Metadata: the endpoint called (`deploy_server`).
pub const ENDPOINT_HEADER: &str = "x-tars-endpoint";
/// Metadata: the user's grants, [`Grants::encode`]d.
pub const GRANTS_HEADER: &str = "x-tars-grants";
/// Metadata: `1` when the endpoint writes, so the call is recorded in the audit log.
pub const AUDIT_HEADER: &str = "x-tars-audit";
/// Metadata: the request's trace id, for the audit row.
pub const TRACE_HEADER: &str = "x-tars-trace-id";

/// A role, in increasing power: each includes those before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads what belongs to its flag.
    Developer,
    /// Reads and changes what belongs to its flag.
    Operator,
    /// Everything, everywhere (templates, resources, roles, the audit log).
    Admin,
}

impl Role {
    /// The role's name, as grants and messages spell it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Developer => "developer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// The role called `name`.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "developer" => Some(Role::Developer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a grant covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flag {
    /// `*`: every application.
    All,
    /// `App`: one application, every server of it.
    App(String),
    /// `App.Server`: one server.
    Server(String, String),
}

impl Flag {
    /// Reads `*`, `App` or `App.Server` (`''` is `*`, as TarsWeb's admin rows have it).
    pub fn parse(text: &str) -> Flag {
        match text.trim() {
            "" | "*" => Flag::All,
            text => match text.split_once('.') {
                Some((app, server)) => Flag::Server(app.to_string(), server.to_string()),
                None => Flag::App(text.to_string()),
            },
        }
    }

    fn covers(&self, app: &str, server: Option<&str>) -> bool {
        match self {
            Flag::All => true,
            Flag::App(a) => a == app,
            Flag::Server(a, s) => a == app && server == Some(s.as_str()),
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::All => f.write_str("*"),
            Flag::App(app) => f.write_str(app),
            Flag::Server(app, server) => write!(f, "{app}.{server}"),
        }
    }
}

/// One role on one flag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// Where it holds (`*` for admin).
    pub flag: Flag,
}

/// Everything a user holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants(Vec<Grant>);

/// What a list may show a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every application.
    All,
    /// These applications entirely, and these single servers (`App`, `Server`).
    Some {
        /// Applications covered entirely.
        apps: BTreeSet<String>,
        /// Single servers, by application and server name.
        servers: BTreeSet<(String, String)>,
    },
}

impl Scope {
    /// Whether the list may show `app`'s server `server` (`None`: the application's own
    /// rows, such as its configuration files).
    pub fn covers(&self, app: &str, server: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Some { apps, servers } => {
                apps.contains(app)
                    || server.is_some_and(|s| servers.contains(&(app.to_string(), s.to_string())))
            }
        }
    }

    /// Whether some server of `app` may be shown.
    pub fn touches(&self, app: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Some { apps, servers } => {
                apps.contains(app) || servers.iter().any(|(a, _)| a == app)
            }
        }
    }
}

impl Grants {
    /// The given grants.
    pub fn new(mut grants: Vec<Grant>) -> Grants {
        grants.sort();
        grants.dedup();
        Grants(grants)
    }

    /// The global admin role only (`TARS_ADMIN_TICKET`).
    pub fn admin() -> Grants {
        Grants(vec![Grant {
            role: Role::Admin,
            flag: Flag::All,
        }])
    }

    /// Whether these include the admin role.
    pub fn is_admin(&self) -> bool {
        self.0.iter().any(|g| g.role == Role::Admin)
    }

    /// Whether these include `need` (or more) on some flag.
    pub fn has_anywhere(&self, need: Role) -> bool {
        self.0.iter().any(|g| g.role >= need)
    }

    /// Whether these allow `need` on `app` (and `server`, when the target is one server).
    pub fn allows(&self, need: Role, app: &str, server: Option<&str>) -> bool {
        self.0.iter().any(|g| {
            g.role == Role::Admin
                || (g.role >= need && need != Role::Admin && g.flag.covers(app, server))
        })
    }

    /// What lists show to a holder of these: where they have `need` or more.
    pub fn scope(&self, need: Role) -> Scope {
        let mut apps = BTreeSet::new();
        let mut servers = BTreeSet::new();
        for grant in &self.0 {
            if grant.role == Role::Admin {
                return Scope::All;
            }
            if grant.role < need {
                continue;
            }
            match &grant.flag {
                Flag::All => return Scope::All,
                Flag::App(app) => {
                    apps.insert(app.clone());
                }
                Flag::Server(app, server) => {
                    servers.insert((app.clone(), server.clone()));
                }
            }
        }
        Scope::Some { apps, servers }
    }

    /// `role:flag` pairs separated by commas (`operator:Shop,developer:*`), for metadata.
    pub fn encode(&self) -> String {
        let pairs: Vec<String> = self
            .0
            .iter()
            .map(|g| format!("{}:{}", g.role, g.flag))
            .collect();
        pairs.join(",")
    }

    /// Reads [`Grants::encode`]'s text; unknown roles are skipped.
    pub fn decode(text: &str) -> Grants {
        let grants = text
            .split(',')
            .filter_map(|pair| {
                let (role, flag) = pair.split_once(':')?;
                Some(Grant {
                    role: Role::parse(role.trim())?,
                    flag: Flag::parse(flag),
                })
            })
            .collect();
        Grants::new(grants)
    }
}

/// What an audited call touched, filled in as its targets are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    /// The target's application (the first one, when several).
    pub application: String,
    /// Its server, when the target is one server.
    pub server_name: String,
    /// Other targets and ids (`server 12`, `config 3`, `+4 more`).
    pub target: String,
    /// Whether the audit row was written in the write's own transaction.
    pub recorded: bool,
}

/// The caller of one backend call.
#[derive(Debug)]
pub struct Caller {
    /// The user the ticket acts as.
    pub user: String,
    /// The token's id; `None` for the admin ticket.
    pub token_id: Option<i64>,
    /// The endpoint called.
    pub endpoint: String,
    /// What the user holds.
    pub grants: Grants,
    /// Whether the call is a write to record in the audit log.
    pub audited: bool,
    /// The request's trace id.
    pub trace_id: String,
    touched: Mutex<Touched>,
}

impl Caller {
    /// A caller (the gateway side builds one to [`inject`] it).
    pub fn new(
        user: &str,
        token_id: Option<i64>,
        endpoint: &str,
        grants: Grants,
        audited: bool,
    ) -> Caller {
        Caller {
            user: user.to_string(),
            token_id,
            endpoint: endpoint.to_string(),
            grants,
            audited,
            trace_id: String::new(),
            touched: Mutex::default(),
        }
    }

    /// The caller a backend call's metadata names, if any.
    pub fn from_metadata(metadata: &MetadataMap) -> Option<Caller> {
        let text = |key: &str| {
            metadata
                .get(key)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.to_string())
        };
        let user = text(USER_HEADER)?;
        Some(Caller {
            user,
            token_id: text(TOKEN_ID_HEADER).and_then(|id| id.parse().ok()),
            endpoint: text(ENDPOINT_HEADER).unwrap_or_default(),
            grants: Grants::decode(&text(GRANTS_HEADER).unwrap_or_default()),
            audited: text(AUDIT_HEADER).as_deref() == Some("1"),
            trace_id: text(TRACE_HEADER)
                .or_else(|| {
                    // W3C `traceparent`: version-traceid-spanid-flags.
                    text("traceparent").and_then(|t| t.split('-').nth(1).map(str::to_string))
                })
                .unwrap_or_default(),
            touched: Mutex::default(),
        })
    }

    /// Puts this caller into a backend call's metadata. Values that metadata cannot carry
    /// (non-ASCII user names) are percent-free: the gateway's users are checked names.
    pub fn inject(&self, metadata: &mut MetadataMap, trace_id: &str) {
        let mut put = |key: &'static str, value: &str| {
            if let Ok(value) = MetadataValue::try_from(value) {
                metadata.insert(key, value);
            }
        };
        put(USER_HEADER, &self.user);
        if let Some(id) = self.token_id {
            put(TOKEN_ID_HEADER, &id.to_string());
        }
        put(ENDPOINT_HEADER, &self.endpoint);
        put(GRANTS_HEADER, &self.grants.encode());
        if self.audited {
            put(AUDIT_HEADER, "1");
        }
        if !trace_id.is_empty() {
            put(TRACE_HEADER, trace_id);
        }
    }

    /// What the call touched so far.
    pub fn touched(&self) -> Touched {
        self.touched.lock().expect("touched").clone()
    }

    /// Notes a checked target for the audit row: the first application/server, then a
    /// count of the others.
    fn note(&self, app: &str, server: Option<&str>) {
        let mut touched = self.touched.lock().expect("touched");
        if touched.application.is_empty() {
            touched.application = app.to_string();
            touched.server_name = server.unwrap_or_default().to_string();
        } else if touched.application != app || touched.server_name != server.unwrap_or_default() {
            let entry = format!(
                "{app}{}",
                server.map(|s| format!(".{s}")).unwrap_or_default()
            );
            if touched.target.len() < 900 && !touched.target.split(", ").any(|t| t == entry) {
                if !touched.target.is_empty() {
                    touched.target.push_str(", ");
                }
                touched.target.push_str(&entry);
            }
        }
    }

    /// Notes ids the call acted on (`server 12`), for the audit row.
    pub fn note_ids(&self, what: &str) {
        let mut touched = self.touched.lock().expect("touched");
        if touched.target.len() < 900 {
            if !touched.target.is_empty() {
                touched.target.push_str(", ");
            }
            touched.target.push_str(what);
        }
    }

    /// Whether the call's audit row is still to be written.
    pub fn row_pending(&self) -> bool {
        self.audited && !self.touched.lock().expect("touched").recorded
    }

    /// Notes that the audit row was committed with the call's write.
    pub fn mark_recorded(&self) {
        self.touched.lock().expect("touched").recorded = true;
    }

    /// Marks the audit row as written; answers whether it was to be written and was not
    /// yet.
    pub fn take_recording(&self) -> bool {
        if !self.audited {
            return false;
        }
        let mut touched = self.touched.lock().expect("touched");
        !std::mem::replace(&mut touched.recorded, true)
    }
}

tokio::task_local! {
    static CALLER: Arc<Caller>;
}

/// Runs `fut` with the caller `metadata` names as [`current`].
pub async fn with_caller_of<F: std::future::Future>(metadata: &MetadataMap, fut: F) -> F::Output {
    match Caller::from_metadata(metadata) {
        Some(caller) => CALLER.scope(Arc::new(caller), fut).await,
        None => fut.await,
    }
}

/// Runs `fut` with `caller` as [`current`].
pub async fn with_caller<F: std::future::Future>(caller: Arc<Caller>, fut: F) -> F::Output {
    CALLER.scope(caller, fut).await
}

/// The caller of the backend call being served, if it named one.
pub fn current() -> Option<Arc<Caller>> {
    CALLER.try_with(Arc::clone).ok()
}

/// A refused call: who, what it needed, where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{user} may not call {endpoint}: it needs the {role} role on {target}{hint}")]
pub struct Denied {
    /// The caller.
    pub user: String,
    /// The endpoint.
    pub endpoint: String,
    /// The role it needed.
    pub role: Role,
    /// The target, `App.Server`, `App`, or `the platform` for admin endpoints.
    pub target: String,
    hint: String,
}

fn denied(caller: &Caller, need: Role, target: String, flag: &str) -> Denied {
    Denied {
        user: caller.user.clone(),
        endpoint: caller.endpoint.clone(),
        role: need,
        hint: format!(
            "; an admin can grant it with `tars-platform auth grant {} {need}{}{flag}`",
            caller.user,
            if flag.is_empty() { "" } else { " " }
        ),
        target,
    }
}

/// Checks that the current caller holds `need` on `app` (and `server` when the target is
/// one server), and notes the target for the audit row. No caller: allowed.
pub fn require(need: Role, app: &str, server: Option<&str>) -> Result<(), Denied> {
    let Some(caller) = current() else {
        return Ok(());
    };
    caller.note(app, server);
    if caller.grants.allows(need, app, server) {
        return Ok(());
    }
    let target = match server {
        Some(server) if !server.is_empty() => format!("{app}.{server}"),
        _ => app.to_string(),
    };
    Err(denied(&caller, need, target, app))
}

/// Checks that the current caller is an admin. No caller: allowed.
pub fn require_admin() -> Result<(), Denied> {
    let Some(caller) = current() else {
        return Ok(());
    };
    if caller.grants.is_admin() {
        return Ok(());
    }
    Err(denied(&caller, Role::Admin, "the platform".to_string(), ""))
}

/// Checks that the current caller holds `need` on some flag (an endpoint whose answer is
/// then limited to where they hold it). No caller: allowed.
pub fn require_anywhere(need: Role) -> Result<(), Denied> {
    let Some(caller) = current() else {
        return Ok(());
    };
    if caller.grants.has_anywhere(need) {
        return Ok(());
    }
    Err(denied(
        &caller,
        need,
        "any application".to_string(),
        "<App>",
    ))
}

/// What the current caller's lists show: where it holds `need`. No caller: everything.
pub fn scope(need: Role) -> Scope {
    match current() {
        Some(caller) => caller.grants.scope(need),
        None => Scope::All,
    }
}

/// Notes ids the current call acts on, for its audit row.
pub fn note_ids(what: &str) {
    if let Some(caller) = current() {
        caller.note_ids(what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(text: &str) -> Grants {
        Grants::decode(text)
    }

    #[test]
    fn flags_cover_their_applications_and_servers() {
        let g = grants("operator:Shop,developer:Pay.Api");
        assert!(g.allows(Role::Operator, "Shop", Some("Cart")));
        assert!(
            g.allows(Role::Developer, "Shop", None),
            "operator includes developer"
        );
        assert!(g.allows(Role::Developer, "Pay", Some("Api")));
        assert!(
            !g.allows(Role::Operator, "Pay", Some("Api")),
            "developer does not change"
        );
        assert!(
            !g.allows(Role::Developer, "Pay", None),
            "a server flag is not the application"
        );
        assert!(!g.allows(Role::Developer, "Pay", Some("Web")));
        assert!(!g.allows(Role::Admin, "Shop", None));
        let all = grants("developer:*");
        assert!(all.allows(Role::Developer, "Any", Some("Thing")));
        assert!(!all.allows(Role::Operator, "Any", None));
        assert!(grants("admin:").allows(Role::Admin, "", None));
        assert!(grants("admin:*").allows(Role::Operator, "Shop", None));
    }

    #[test]
    fn scopes_list_what_may_be_read() {
        let g = grants("operator:Shop,developer:Pay.Api");
        let read = g.scope(Role::Developer);
        assert!(read.covers("Shop", Some("Cart")) && read.covers("Pay", Some("Api")));
        assert!(!read.covers("Pay", Some("Web")) && !read.covers("Pay", None));
        assert!(read.touches("Pay") && !read.touches("Mall"));
        let write = g.scope(Role::Operator);
        assert!(write.covers("Shop", None) && !write.touches("Pay"));
        assert_eq!(grants("developer:*").scope(Role::Developer), Scope::All);
        assert_eq!(grants("admin:").scope(Role::Operator), Scope::All);
    }

    #[test]
    fn grants_survive_metadata() {
        let g = grants("operator:Shop,developer:Pay.Api,admin:,bogus:X");
        assert_eq!(Grants::decode(&g.encode()), g);
        assert!(g.is_admin());
        let caller = Caller::new("alice", Some(7), "add_task", g, true);
        let mut metadata = MetadataMap::new();
        caller.inject(&mut metadata, "abc");
        let back = Caller::from_metadata(&metadata).unwrap();
        assert_eq!(back.user, "alice");
        assert_eq!(back.token_id, Some(7));
        assert_eq!(back.endpoint, "add_task");
        assert!(back.audited);
        assert_eq!(back.trace_id, "abc");
        assert_eq!(back.grants, caller.grants);
    }

    #[tokio::test]
    async fn checks_use_the_current_caller_and_note_targets() {
        assert!(
            require(Role::Admin, "X", None).is_ok(),
            "no caller: the platform itself"
        );
        let caller = Arc::new(Caller::new(
            "bob",
            Some(1),
            "update_server",
            grants("operator:Shop"),
            true,
        ));
        let seen = caller.clone();
        with_caller(caller, async {
            assert!(require(Role::Operator, "Shop", Some("Cart")).is_ok());
            let refused = require(Role::Operator, "Mall", Some("Web")).unwrap_err();
            let text = refused.to_string();
            assert!(
                text.contains("operator") && text.contains("Mall.Web") && text.contains("bob"),
                "{text}"
            );
            assert!(require_admin().is_err());
            note_ids("server 12");
        })
        .await;
        let touched = seen.touched();
        assert_eq!(touched.application, "Shop");
        assert_eq!(touched.server_name, "Cart");
        assert!(
            touched.target.contains("Mall.Web") && touched.target.contains("server 12"),
            "{touched:?}"
        );
        assert!(seen.take_recording());
        assert!(!seen.take_recording(), "recorded once");
    }
}
