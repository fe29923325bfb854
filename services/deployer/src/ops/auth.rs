//! 权限: granting and revoking roles (admin only), listing them, and reading the audit
//! log (an admin reads every row, an operator the rows of the applications they operate).
//! Also the rows the gateway records itself (uploads it refused before any backend saw
//! them).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use tars_common::authz::{self, Role, Scope};
use tars_proto::deployer::{AuditLogRequest, AuditPage, AuditRow, AuthGrantRequest, AuthGrantRow};
use tars_store::audit::{AuditEntry, AuditFilter};
use tars_store::grants::{check_grant, GrantRow};
use tars_store::Store;

use super::paging;
use crate::error::{DeployerError, DeployerResult};

/// A grant as the API shows it.
pub fn grant_row(row: GrantRow) -> AuthGrantRow {
    AuthGrantRow {
        user_name: row.user_name,
        role: row.role,
        flag: row.flag,
        created_at: row.created_at,
    }
}

fn checked(request: &AuthGrantRequest) -> DeployerResult<(String, String, String)> {
    let user = request.user_name.trim();
    if user.is_empty() || user.chars().count() > 64 {
        return Err(DeployerError::bad_param(
            "user_name",
            "must be 1-64 characters: the user a token was created for",
        ));
    }
    let (role, flag) = check_grant(request.role.trim(), request.flag.trim())
        .map_err(DeployerError::InvalidArgument)?;
    Ok((user.to_string(), role, flag))
}

/// `auth_grant`: gives a user a role on a flag (admin only). Granting what is held
/// already answers the grant as it is.
pub async fn auth_grant(store: &Store, request: AuthGrantRequest) -> DeployerResult<AuthGrantRow> {
    authz::require_admin()?;
    let (user, role, flag) = checked(&request)?;
    authz::note_ids(&format!("grant {role} {flag} to {user}"));
    store
        .grant_role(&user, &role, &flag, tars_common::time::now_local())
        .await?;
    store
        .grants(Some(&user))
        .await?
        .into_iter()
        .find(|g| g.role == role && g.flag == flag)
        .map(grant_row)
        .ok_or_else(|| {
            DeployerError::Internal(format!("the grant of {role} to {user} did not read back"))
        })
}

/// `auth_revoke`: takes a role on a flag from a user (admin only); 404 when not held.
pub async fn auth_revoke(store: &Store, request: AuthGrantRequest) -> DeployerResult<AuthGrantRow> {
    authz::require_admin()?;
    let (user, role, flag) = checked(&request)?;
    authz::note_ids(&format!("revoke {role} {flag} from {user}"));
    if !store.revoke_role(&user, &role, &flag).await? {
        return Err(DeployerError::NotFound(format!(
            "{user} does not hold {role} on {}; see auth_list",
            if flag.is_empty() { "*" } else { flag.as_str() }
        )));
    }
    Ok(AuthGrantRow {
        user_name: user,
        role,
        flag,
        created_at: String::new(),
    })
}

/// `auth_list`: every grant, or one user's (admin only).
pub async fn auth_list(store: &Store, user_name: &str) -> DeployerResult<Vec<AuthGrantRow>> {
    authz::require_admin()?;
    let user = Some(user_name.trim()).filter(|u| !u.is_empty());
    Ok(store
        .grants(user)
        .await?
        .into_iter()
        .map(grant_row)
        .collect())
}

/// A time bound of the audit log: `YYYY-MM-DD HH:MM:SS`, or a date (its start for `from`,
/// its end for `to`).
fn bound(name: &str, text: &str, end_of_day: bool) -> DeployerResult<Option<NaiveDateTime>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Ok(Some(time));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let time = if end_of_day {
            NaiveTime::from_hms_milli_opt(23, 59, 59, 999).expect("valid time")
        } else {
            NaiveTime::MIN
        };
        return Ok(Some(date.and_time(time)));
    }
    Err(DeployerError::bad_param(
        name,
        format!("must be `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`, got {text:?}"),
    ))
}

/// `audit_log`: writes newest first, filtered; an operator sees only the applications
/// they operate (a list: fewer rows, not a 403).
pub async fn audit_log(store: &Store, request: AuditLogRequest) -> DeployerResult<AuditPage> {
    let applications_in = match authz::current() {
        None => None,
        Some(caller) if caller.grants.is_admin() => None,
        Some(caller) => {
            authz::require_anywhere(Role::Operator)?;
            match caller.grants.scope(Role::Operator) {
                Scope::All => None,
                Scope::Some { apps, .. } => Some(apps.into_iter().collect()),
            }
        }
    };
    let window = paging::history(request.page.as_ref())?;
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        user_name: text(&request.user_name),
        application: text(&request.application),
        endpoint: text(&request.endpoint),
        from: bound("from", &request.from, false)?,
        to: bound("to", &request.to, true)?,
        applications_in,
        offset: window.offset,
        limit: window.limit,
    };
    let (count, rows) = store.audit_log(&filter).await?;
    Ok(AuditPage {
        count,
        rows: rows
            .into_iter()
            .map(|row| AuditRow {
                id: row.id,
                time: row.at,
                user_name: row.entry.user_name,
                token_id: row.entry.token_id.unwrap_or_default(),
                endpoint: row.entry.endpoint,
                application: row.entry.application,
                server_name: row.entry.server_name,
                target: row.entry.target,
                status: row.entry.status,
                message: row.entry.message,
                trace_id: row.entry.trace_id,
            })
            .collect(),
    })
}

/// A row the gateway decided itself (only gateways hold the internal token).
pub async fn record_audit(store: &Store, row: AuditRow) -> DeployerResult<()> {
    let entry = AuditEntry {
        user_name: row.user_name,
        token_id: Some(row.token_id).filter(|id| *id != 0),
        endpoint: row.endpoint,
        application: row.application,
        server_name: row.server_name,
        target: row.target,
        status: row.status,
        message: row.message,
        trace_id: row.trace_id,
    };
    tracing::info!(target: "audit", user = %entry.user_name, endpoint = %entry.endpoint,
        application = %entry.application, server_name = %entry.server_name,
        status = entry.status, "audit");
    store
        .insert_audit(&entry, tars_common::time::now_local())
        .await?;
    Ok(())
}
