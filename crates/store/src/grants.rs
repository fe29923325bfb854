//! `t_platform_grant`: per-application roles. A grant gives a user one role (`developer`,
//! `operator` or `admin`) on a flag: `App.Server`, `App`, `*` (every application), or ''
//! for `admin`, which is never scoped. This module owns the table and the one rule of what
//! a valid (role, flag) pair is, [`check_grant`], which the admin CLI and the deployer both
//! apply; the store itself checks nothing beyond what the database needs.

use chrono::NaiveDateTime;
use tars_common::time::format_api_time;

use crate::pool::with_pool;
use crate::{Store, StoreError, StoreResult};

/// The roles, from least to most powerful.
pub const ROLES: [&str; 3] = ["developer", "operator", "admin"];

/// Longest application or server name part of a flag.
const MAX_NAME_PART: usize = 64;

/// One grant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    /// `user_name`: the user the role is given to.
    pub user_name: String,
    /// `role`: `developer`, `operator` or `admin`.
    pub role: String,
    /// `flag`: `App.Server`, `App`, `*`, or '' for `admin`.
    pub flag: String,
    /// `created_at`: when it was granted, `YYYY-MM-DD HH:MM:SS` (local time).
    pub created_at: String,
}

#[derive(sqlx::FromRow)]
struct RawGrant {
    user_name: String,
    role: String,
    flag: String,
    created_at: NaiveDateTime,
}

/// Checks a (role, flag) pair and answers it normalised: surrounding blanks removed, and
/// an `admin` flag stored as ''.
///
/// `developer` and `operator` need a flag: `*`, `App` or `App.Server`, where each name is
/// 1 to 64 letters, digits, `_` or `-`. `admin` takes no flag ('' or `*`).
///
/// # Errors
/// A message saying what is wrong and what is accepted.
pub fn check_grant(role: &str, flag: &str) -> Result<(String, String), String> {
    let role = role.trim();
    let flag = flag.trim();
    match role {
        "admin" => {
            if flag.is_empty() || flag == "*" {
                Ok((role.to_string(), String::new()))
            } else {
                Err(format!(
                    "role admin applies to every application and takes no flag (omit it, or give '' or '*'), got {flag:?}"
                ))
            }
        }
        "developer" | "operator" => {
            if flag.is_empty() {
                return Err(format!(
                    "role {role} needs a flag: '*' (every application), App or App.Server"
                ));
            }
            if flag != "*" {
                check_flag(flag).map_err(|why| {
                    format!(
                        "flag {flag:?} {why}; accepted: '*', App or App.Server, each name 1 to {MAX_NAME_PART} letters, digits, '_' or '-'"
                    )
                })?;
            }
            Ok((role.to_string(), flag.to_string()))
        }
        other => Err(format!(
            "unknown role {other:?}; accepted: {}",
            ROLES.join(", ")
        )),
    }
}

/// `App` or `App.Server`; the reason it is not, completing "flag … ".
fn check_flag(flag: &str) -> Result<(), &'static str> {
    let mut parts = flag.split('.');
    let app = parts.next().unwrap_or_default();
    let server = parts.next();
    if parts.next().is_some() {
        return Err("has more than one '.'");
    }
    check_name(app).map_err(|why| match why {
        NameProblem::Empty => "has an empty application name",
        NameProblem::TooLong => "has an application name longer than 64 characters",
        NameProblem::BadChar => "has a character other than a letter, digit, '_' or '-'",
    })?;
    if let Some(server) = server {
        check_name(server).map_err(|why| match why {
            NameProblem::Empty => "has an empty server name",
            NameProblem::TooLong => "has a server name longer than 64 characters",
            NameProblem::BadChar => "has a character other than a letter, digit, '_' or '-'",
        })?;
    }
    Ok(())
}

enum NameProblem {
    Empty,
    TooLong,
    BadChar,
}

fn check_name(name: &str) -> Result<(), NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(NameProblem::BadChar);
    }
    // Only ASCII is left, so bytes are characters.
    if name.len() > MAX_NAME_PART {
        return Err(NameProblem::TooLong);
    }
    Ok(())
}

impl Store {
    /// Gives `user` the `role` on `flag`; true when the grant is new (a duplicate is not
    /// an error: false). The values are stored as given; check them with [`check_grant`].
    pub async fn grant_role(
        &self,
        user: &str,
        role: &str,
        flag: &str,
        now: NaiveDateTime,
    ) -> StoreResult<bool> {
        let sql = "INSERT INTO t_platform_grant (user_name, role, flag, created_at) \
                   VALUES (?, ?, ?, ?)";
        let inserted = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(user)
                .bind(role)
                .bind(flag)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(StoreError::from)
        });
        match inserted {
            Ok(_) => Ok(true),
            Err(StoreError::AlreadyExists(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Takes the `role` on `flag` from `user`; true when the grant existed.
    pub async fn revoke_role(&self, user: &str, role: &str, flag: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM t_platform_grant WHERE user_name = ? AND role = ? AND flag = ?";
        Ok(with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(user)
                .bind(role)
                .bind(flag)
                .execute(pool)
                .await?
                .rows_affected()
                > 0
        }))
    }

    /// Every grant (of `user` when given), ordered by user_name, role, flag.
    pub async fn grants(&self, user: Option<&str>) -> StoreResult<Vec<GrantRow>> {
        let mut sql = "SELECT user_name, role, flag, created_at FROM t_platform_grant".to_string();
        if user.is_some() {
            sql.push_str(" WHERE user_name = ?");
        }
        sql.push_str(" ORDER BY user_name, role, flag");
        let rows = with_pool!(self, pool => {
            let mut query = sqlx::query_as::<_, RawGrant>(&sql);
            if let Some(user) = user {
                query = query.bind(user);
            }
            query.fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|r| GrantRow {
                user_name: r.user_name,
                role: r.role,
                flag: r.flag,
                created_at: format_api_time(Some(r.created_at)),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(role: &str, flag: &str) -> (String, String) {
        check_grant(role, flag).unwrap_or_else(|e| panic!("{role} {flag:?}: {e}"))
    }

    #[test]
    fn accepts_the_documented_pairs_and_normalises_admin() {
        assert_eq!(ok("operator", "Shop"), ("operator".into(), "Shop".into()));
        assert_eq!(
            ok("developer", "Shop.Cart-Server_2"),
            ("developer".into(), "Shop.Cart-Server_2".into())
        );
        assert_eq!(ok("operator", "*"), ("operator".into(), "*".into()));
        assert_eq!(
            ok(" operator ", " Shop "),
            ("operator".into(), "Shop".into())
        );
        assert_eq!(ok("admin", ""), ("admin".into(), String::new()));
        assert_eq!(ok("admin", "*"), ("admin".into(), String::new()));
        assert_eq!(ok("developer", &"a".repeat(64)).1.len(), 64);
    }

    #[test]
    fn refuses_the_rest_saying_what_is_accepted() {
        let err = check_grant("root", "Shop").unwrap_err();
        assert!(err.contains("developer, operator, admin"), "{err}");
        let err = check_grant("operator", "").unwrap_err();
        assert!(err.contains("needs a flag"), "{err}");
        let err = check_grant("admin", "Shop").unwrap_err();
        assert!(err.contains("takes no flag"), "{err}");
        for bad in [
            "Shop.",
            ".Cart",
            "Shop.Cart.Extra",
            "Sh op",
            "Shop/Cart",
            "Shöp",
            "*.Cart",
            "Shop.*",
            &"a".repeat(65),
        ] {
            let err = check_grant("developer", bad).unwrap_err();
            assert!(
                err.contains("accepted: '*', App or App.Server"),
                "{bad}: {err}"
            );
        }
        assert!(check_grant("Operator", "Shop").is_err());
    }
}
