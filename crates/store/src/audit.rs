//! `t_platform_audit`: the audit log, one row per write made through the API (who, with
//! which token, which endpoint, on which application/server, the outcome). This module
//! owns the table: recording (alone with [`Store::insert_audit`], or inside the write's
//! own transaction with [`insert_audit_in_tx!`]), the filtered and paged read, and the
//! purge of old rows.
//!
//! Times are local, kept to the millisecond: MySQL `datetime(3)`, SQLite TEXT
//! `YYYY-MM-DD HH:MM:SS.mmm` (always three decimals, so text order is time order). Values
//! longer than their column are cut (on a character boundary) rather than refused, so
//! recording never fails a write because of a value's length.

use chrono::{NaiveDateTime, Timelike};

use crate::args::{bind_args, Arg};
use crate::pool::{with_pool, Backend};
use crate::{Store, StoreResult};

/// One write through the API, as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditEntry {
    /// `user_name`: who made the request (at most 64 characters are kept).
    pub user_name: String,
    /// `token_id`: the API token used; `None` when the admin ticket was.
    pub token_id: Option<i64>,
    /// `endpoint`: the API endpoint called (at most 64 characters are kept).
    pub endpoint: String,
    /// `application`: the application acted on; '' when none (at most 128 characters).
    pub application: String,
    /// `server_name`: the server acted on; '' when none (at most 128 characters).
    pub server_name: String,
    /// `target`: what else identifies the object (ids etc.; at most 1024 characters).
    pub target: String,
    /// `status`: the HTTP status of the outcome.
    pub status: i32,
    /// `message`: the outcome in words (at most 1024 characters).
    pub message: String,
    /// `trace_id`: the request's trace id; '' when none (at most 64 characters).
    pub trace_id: String,
}

/// One recorded write, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// `id`: the row's key; larger is later among rows of the same `at`.
    pub id: i64,
    /// `at`: when it was recorded, `YYYY-MM-DD HH:MM:SS.mmm` (local time).
    pub at: String,
    /// The rest of the row.
    pub entry: AuditEntry,
}

/// Which audit rows to read, and which page of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only rows of this user.
    pub user_name: Option<String>,
    /// Only rows of this application.
    pub application: Option<String>,
    /// Only rows of this endpoint.
    pub endpoint: Option<String>,
    /// Only rows at or after this time (inclusive).
    pub from: Option<NaiveDateTime>,
    /// Only rows at or before this time (inclusive, to the millisecond: a day's end is
    /// `23:59:59.999`).
    pub to: Option<NaiveDateTime>,
    /// `None` = every application; `Some(list)` = only rows whose application is in the
    /// list (an operator's own applications); `Some(empty)` = nothing.
    pub applications_in: Option<Vec<String>>,
    /// Rows to skip (newest first); negative counts as 0.
    pub offset: i64,
    /// Rows to return; 0 (or negative) answers only the count.
    pub limit: i64,
}

/// Column sizes (in characters) of `t_platform_audit`.
const USER_NAME_CHARS: usize = 64;
const ENDPOINT_CHARS: usize = 64;
const NAME_CHARS: usize = 128;
const LONG_CHARS: usize = 1024;
const TRACE_ID_CHARS: usize = 64;

/// The insert of one row; bound by [`bind_audit`].
pub(crate) const INSERT_AUDIT_SQL: &str = "INSERT INTO t_platform_audit (at, user_name, \
     token_id, endpoint, application, server_name, target, status, message, trace_id) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

const AUDIT_COLUMNS: &str = "id, at, user_name, token_id, endpoint, application, server_name, \
                             target, status, message, trace_id";

/// `at` as stored: `YYYY-MM-DD HH:MM:SS.mmm`. Bound as text on both backends: SQLite
/// compares the text, MySQL converts it to its `datetime(3)`.
fn audit_time(at: NaiveDateTime) -> String {
    format!(
        "{}.{:03}",
        at.format("%Y-%m-%d %H:%M:%S"),
        at.nanosecond() % 1_000_000_000 / 1_000_000
    )
}

/// `s` cut to at most `max` characters.
fn truncated(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// An [`AuditEntry`] ready to bind: values cut to their columns, the time formatted.
pub(crate) struct BoundAudit<'a> {
    at: String,
    user_name: &'a str,
    token_id: Option<i64>,
    endpoint: &'a str,
    application: &'a str,
    server_name: &'a str,
    target: &'a str,
    status: i32,
    message: &'a str,
    trace_id: &'a str,
}

impl<'a> BoundAudit<'a> {
    pub(crate) fn new(entry: &'a AuditEntry, at: NaiveDateTime) -> BoundAudit<'a> {
        BoundAudit {
            at: audit_time(at),
            user_name: truncated(&entry.user_name, USER_NAME_CHARS),
            token_id: entry.token_id,
            endpoint: truncated(&entry.endpoint, ENDPOINT_CHARS),
            application: truncated(&entry.application, NAME_CHARS),
            server_name: truncated(&entry.server_name, NAME_CHARS),
            target: truncated(&entry.target, LONG_CHARS),
            status: entry.status,
            message: truncated(&entry.message, LONG_CHARS),
            trace_id: truncated(&entry.trace_id, TRACE_ID_CHARS),
        }
    }
}

/// Binds a [`BoundAudit`] to [`INSERT_AUDIT_SQL`], whatever the backend.
pub(crate) fn bind_audit<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    row: &'q BoundAudit<'q>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(row.at.as_str())
        .bind(row.user_name)
        .bind(row.token_id)
        .bind(row.endpoint)
        .bind(row.application)
        .bind(row.server_name)
        .bind(row.target)
        .bind(row.status)
        .bind(row.message)
        .bind(row.trace_id)
}

/// Records an audit row inside an open transaction (or on any connection), so the row
/// commits or rolls back with the write it describes.
///
/// `$tx` is the transaction itself (`tx` from `pool.begin()` in a [`with_pool!`] arm, or
/// a pool connection), not a reference to it: the macro executes on `&mut *$tx`. `$entry`
/// is a `&AuditEntry`, `$at` the `NaiveDateTime` to record (local time; milliseconds are
/// kept). Values too long for their columns are cut. Evaluates to `StoreResult<()>`:
///
/// ```text
/// with_pool!(self, pool => {
///     let mut tx = pool.begin().await?;
///     // … the write …
///     crate::audit::insert_audit_in_tx!(tx, &entry, now)?;
///     tx.commit().await?;
/// });
/// ```
///
/// [`with_pool!`]: crate::pool::with_pool
macro_rules! insert_audit_in_tx {
    ($tx:expr, $entry:expr, $at:expr) => {{
        let bound = $crate::audit::BoundAudit::new($entry, $at);
        $crate::audit::bind_audit(::sqlx::query($crate::audit::INSERT_AUDIT_SQL), &bound)
            .execute(&mut *$tx)
            .await
            .map(|_| ())
            .map_err($crate::StoreError::from)
    }};
}
pub(crate) use insert_audit_in_tx;

#[derive(sqlx::FromRow)]
struct RawAudit {
    id: i64,
    at: NaiveDateTime,
    user_name: String,
    token_id: Option<i64>,
    endpoint: String,
    application: String,
    server_name: String,
    target: String,
    status: i32,
    message: String,
    trace_id: String,
}

impl From<RawAudit> for AuditRow {
    fn from(r: RawAudit) -> AuditRow {
        AuditRow {
            id: r.id,
            at: audit_time(r.at),
            entry: AuditEntry {
                user_name: r.user_name,
                token_id: r.token_id,
                endpoint: r.endpoint,
                application: r.application,
                server_name: r.server_name,
                target: r.target,
                status: r.status,
                message: r.message,
                trace_id: r.trace_id,
            },
        }
    }
}

/// The WHERE clause of `filter` with its bound values; `None` when it matches nothing.
fn where_clause(filter: &AuditFilter) -> Option<(String, Vec<Arg>)> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args = Vec::new();
    let mut eq = |column: &str, value: &Option<String>| {
        if let Some(v) = value {
            clauses.push(format!("{column} = ?"));
            args.push(Arg::Text(v.clone()));
        }
    };
    eq("user_name", &filter.user_name);
    eq("application", &filter.application);
    eq("endpoint", &filter.endpoint);
    if let Some(from) = filter.from {
        clauses.push("at >= ?".into());
        args.push(Arg::Text(audit_time(from)));
    }
    if let Some(to) = filter.to {
        clauses.push("at <= ?".into());
        args.push(Arg::Text(audit_time(to)));
    }
    if let Some(apps) = &filter.applications_in {
        if apps.is_empty() {
            return None;
        }
        clauses.push(format!(
            "application IN ({})",
            vec!["?"; apps.len()].join(", ")
        ));
        args.extend(apps.iter().map(|a| Arg::Text(a.clone())));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    Some((sql, args))
}

impl Store {
    /// Records one write at `at` (local time; milliseconds are kept). Values too long
    /// for their columns are cut.
    pub async fn insert_audit(&self, entry: &AuditEntry, at: NaiveDateTime) -> StoreResult<()> {
        with_pool!(self, pool => {
            let mut conn = pool.acquire().await?;
            // Through the path, as other modules call it (and so the export is used).
            crate::audit::insert_audit_in_tx!(conn, entry, at)?;
        });
        Ok(())
    }

    /// The rows `filter` selects, newest first (`at` DESC, `id` DESC): the total count
    /// matching and the rows of the page `offset`/`limit`.
    pub async fn audit_log(&self, filter: &AuditFilter) -> StoreResult<(i64, Vec<AuditRow>)> {
        let Some((where_sql, args)) = where_clause(filter) else {
            return Ok((0, Vec::new()));
        };
        let count_sql = format!("SELECT COUNT(*) FROM t_platform_audit{where_sql}");
        let limit = filter.limit.max(0);
        let rows_sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM t_platform_audit{where_sql} \
             ORDER BY at DESC, id DESC LIMIT {limit} OFFSET {}",
            filter.offset.max(0)
        );
        let (count, rows) = with_pool!(self, pool => {
            let count = bind_args!(sqlx::query_scalar::<_, i64>(&count_sql), args)
                .fetch_one(pool)
                .await?;
            let rows = if limit == 0 || count == 0 {
                Vec::new()
            } else {
                bind_args!(sqlx::query_as::<_, RawAudit>(&rows_sql), args)
                    .fetch_all(pool)
                    .await?
            };
            (count, rows)
        });
        Ok((count, rows.into_iter().map(AuditRow::from).collect()))
    }

    /// Deletes the rows older than `before` (local time), at most `batch` rows per
    /// statement (at least 1), so no statement holds locks for long; loops until none is
    /// left and answers how many were deleted.
    pub async fn purge_audit(&self, before: NaiveDateTime, batch: i64) -> StoreResult<u64> {
        let batch = batch.max(1);
        // MySQL refuses LIMIT in a subquery on the table being deleted from; SQLite has
        // no DELETE … LIMIT unless built with it.
        let sql = match self.backend() {
            Backend::MySql => {
                format!("DELETE FROM t_platform_audit WHERE at < ? ORDER BY at LIMIT {batch}")
            }
            Backend::Sqlite => format!(
                "DELETE FROM t_platform_audit WHERE id IN \
                 (SELECT id FROM t_platform_audit WHERE at < ? ORDER BY at LIMIT {batch})"
            ),
        };
        let before = audit_time(before);
        let mut deleted = 0u64;
        loop {
            let affected = with_pool!(self, pool => {
                sqlx::query(&sql)
                    .bind(before.as_str())
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
            deleted += affected;
            if affected < batch as u64 {
                return Ok(deleted);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::StoreConfig;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn times_keep_three_decimals() {
        assert_eq!(
            audit_time(t("2024-03-05 07:08:09")),
            "2024-03-05 07:08:09.000"
        );
        assert_eq!(
            audit_time(t("2024-03-05 07:08:09.123456")),
            "2024-03-05 07:08:09.123"
        );
        assert_eq!(
            audit_time(t("2024-03-05 07:08:09.9999")),
            "2024-03-05 07:08:09.999"
        );
    }

    #[test]
    fn values_are_cut_on_character_boundaries() {
        assert_eq!(truncated("abc", 5), "abc");
        assert_eq!(truncated("abc", 3), "abc");
        assert_eq!(truncated("abc", 2), "ab");
        assert_eq!(truncated("ééé", 2), "éé");
        assert_eq!(truncated("😀😀😀", 1), "😀");
        assert_eq!(truncated("", 0), "");
    }

    /// A store on SQLite (in `dir`) or on a throw-away MariaDB database.
    async fn open(
        mysql: bool,
        dir: &tempfile::TempDir,
    ) -> (Store, Option<tars_test_db::TestDatabase>) {
        let database = if mysql {
            Some(tars_test_db::TestDatabase::create("tars_store_audit").await)
        } else {
            None
        };
        let config = StoreConfig {
            database_url: database.as_ref().map(|d| d.url.clone()),
            data_dir: dir.path().to_path_buf(),
            max_connections: Some(2),
            acquire_timeout: Duration::from_secs(5),
            server_cache_ttl: None,
        };
        (Store::open(&config).await.expect("open store"), database)
    }

    /// What a write function does: its own change and the audit row in one transaction.
    async fn write_with_audit(store: &Store, entry: &AuditEntry, commit: bool) -> StoreResult<()> {
        let at = t("2024-05-06 07:08:09.010");
        with_pool!(store, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO t_platform_grant (user_name, role, flag, created_at) VALUES (?, ?, ?, ?)",
            )
            .bind(&entry.user_name)
            .bind("operator")
            .bind(&entry.application)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            insert_audit_in_tx!(tx, entry, at)?;
            if commit {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
        });
        Ok(())
    }

    async fn audit_in_tx_commits_and_rolls_back_with_the_write(mysql: bool) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _database) = open(mysql, &dir).await;
        let entry = AuditEntry {
            user_name: "alice".into(),
            endpoint: "grant".into(),
            application: "Shop".into(),
            target: "x".repeat(2000),
            status: 200,
            ..AuditEntry::default()
        };
        write_with_audit(&store, &entry, false).await.unwrap();
        let all = AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        };
        assert_eq!(
            store.audit_log(&all).await.unwrap().0,
            0,
            "rolled back with the write"
        );
        assert!(store.grants(None).await.unwrap().is_empty());

        write_with_audit(&store, &entry, true).await.unwrap();
        let (count, rows) = store.audit_log(&all).await.unwrap();
        assert_eq!(count, 1, "committed with the write");
        assert_eq!(rows[0].at, "2024-05-06 07:08:09.010");
        assert_eq!(rows[0].entry.target, "x".repeat(1024), "cut to the column");
        assert_eq!(store.grants(None).await.unwrap().len(), 1);
        store.close().await;
    }

    #[tokio::test]
    async fn audit_in_tx_sqlite() {
        audit_in_tx_commits_and_rolls_back_with_the_write(false).await;
    }

    #[tokio::test]
    async fn audit_in_tx_mariadb() {
        audit_in_tx_commits_and_rolls_back_with_the_write(true).await;
    }
}
