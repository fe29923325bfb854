//! `t_config_files` and `t_config_history_files`: configuration files at application/set
//! level (1), server level (2) and node level (3), as tarsconfig serves them, and the
//! change history every write leaves behind. References live in
//! [`config_refs`](crate::config_refs).
//!
//! A file's place (server name, set, host, level, file name) is its unique key; history
//! rows are written in the same transaction as the change they record.

use chrono::NaiveDateTime;

use crate::args::{bind_args, Arg, Filter};
use crate::error::retry_contention;
use crate::pool::{with_pool, InsertedId};
use crate::{Backend, PageWindow, Store, StoreResult};

/// Application or set level: `server_name` is the application.
pub const LEVEL_APP: i64 = 1;
/// Server level: `server_name` is `App.Server`.
pub const LEVEL_SERVER: i64 = 2;
/// Node level: a server-level file's variant for one host.
pub const LEVEL_NODE: i64 = 3;

/// One configuration file.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConfigFileRow {
    /// `t_config_files.id`, the file's key (the API's `id`; history and references point at
    /// it).
    pub id: i64,
    /// `server_name`: the application (level 1) or `App.Server` (levels 2 and 3).
    pub server_name: Option<String>,
    /// `set_name`: the set the file is for (e.g. `mtt`); empty when not for a set.
    pub set_name: String,
    /// `set_area`: the set's area (e.g. `s`); empty when not for a set.
    pub set_area: String,
    /// `set_group`: the set's group (e.g. `1`); empty when not for a set.
    pub set_group: String,
    /// `host`: for a node-level file the node it is for (`t_node_info.node_name`); empty at
    /// the other levels.
    pub host: String,
    /// `filename`: the file's name as the server loads it, e.g. `Cart.conf`.
    pub filename: Option<String>,
    /// `config`: the file's content, byte for byte.
    pub config: Option<String>,
    /// `posttime`: when the file was last written (local time).
    pub posttime: Option<NaiveDateTime>,
    /// `lastuser`: who wrote it last (the API's user).
    pub lastuser: Option<String>,
    /// `level`: [`LEVEL_APP`], [`LEVEL_SERVER`] or [`LEVEL_NODE`].
    pub level: Option<i64>,
}

pub(crate) const FILE_COLUMNS: &str =
    "id, server_name, set_name, set_area, set_group, host, filename, \
     config, posttime, lastuser, level";

/// Where a file lives: the table's unique key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPlace {
    /// The application (level 1) or `App.Server` (levels 2 and 3).
    pub server_name: String,
    /// The set's name; empty when not for a set.
    pub set_name: String,
    /// The set's area; empty when not for a set.
    pub set_area: String,
    /// The set's group; empty when not for a set.
    pub set_group: String,
    /// The node of a node-level file; empty at the other levels.
    pub host: String,
    /// [`LEVEL_APP`], [`LEVEL_SERVER`] or [`LEVEL_NODE`].
    pub level: i64,
    /// The file's name, e.g. `Cart.conf`.
    pub filename: String,
}

/// A file to create.
#[derive(Debug, Clone, Default)]
pub struct NewConfigFile {
    /// Where the file goes; taken already means `AlreadyExists`.
    pub place: ConfigPlace,
    /// The content, stored byte for byte.
    pub config: String,
    /// The write time stored in `posttime` and in the history record (local time).
    pub posttime: NaiveDateTime,
    /// Who adds the file (the API's user), stored in `lastuser`.
    pub lastuser: String,
}

/// Which files to list. `None` set fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct ConfigFileFilter {
    /// Only files of this level.
    pub level: i64,
    /// Only files of this `server_name` (the application at level 1, `App.Server`
    /// otherwise).
    pub server_name: String,
    /// Only files for this set name (empty: not for a set).
    pub set_name: Option<String>,
    /// Only files for this set area.
    pub set_area: Option<String>,
    /// Only files for this set group.
    pub set_group: Option<String>,
    /// Only files of this name.
    pub filename: Option<String>,
    /// The order of the list.
    pub order: ConfigOrder,
}

/// The order of a file list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConfigOrder {
    /// Oldest file first.
    #[default]
    Created,
    /// Newest file first.
    NewestCreated,
    /// Most recently changed first.
    LastChanged,
}

/// One history record of a file.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConfigHistoryRow {
    /// `t_config_history_files.id`, the record's key.
    pub id: i64,
    /// `configid`: the file changed (`t_config_files.id`); the file may have been deleted
    /// since.
    pub configid: Option<i64>,
    /// `reason`: why it was changed, as the user gave it (`add config` for a new file).
    pub reason: Option<String>,
    /// `content`: the file's content after the change.
    pub content: Option<String>,
    /// `posttime`: when the change was made (local time).
    pub posttime: Option<NaiveDateTime>,
}

const HISTORY_COLUMNS: &str = "id, configid, reason, content, posttime";

/// What deleting a file did.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigDeletion {
    /// No file has that id.
    NotFound,
    /// Other files reference it (or one of the node files going with it); nothing deleted.
    Referenced(Vec<ConfigFileRow>),
    /// These files are gone: the one asked for, then the node files it owned.
    Deleted(Vec<i64>),
}

const INSERT_HISTORY_SQL: &str = "INSERT INTO t_config_history_files \
     (configid, reason, content, posttime, lastuser) VALUES (?, ?, ?, ?, ?)";

/// `?, ?, …` for an IN list of `n` values.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl Store {
    /// `INSERT` that fails on a duplicate, or the backend's duplicate-skipping form.
    pub(crate) fn insert_file_sql(&self, skip_duplicates: bool) -> String {
        let verb = match (skip_duplicates, self.backend()) {
            (false, _) => "INSERT",
            (true, Backend::Sqlite) => "INSERT OR IGNORE",
            (true, Backend::MySql) => "INSERT IGNORE",
        };
        format!(
            "{verb} INTO t_config_files (server_name, set_name, set_area, set_group, host, level, \
             filename, config, posttime, lastuser) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
    }

    /// ` FOR UPDATE` on MySQL, where concurrent transactions need a row lock; SQLite
    /// serialises writers already and has no such clause.
    pub(crate) fn lock_clause(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::MySql => " FOR UPDATE",
        }
    }

    /// How a transaction that reads before it writes begins: SQLite's deferred
    /// transaction would fail with SQLITE_BUSY (busy_timeout does not apply) when another
    /// writer commits between its read and its write; IMMEDIATE takes the write lock up
    /// front and waits for it instead.
    pub(crate) fn begin_write_sql(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::MySql => "BEGIN",
        }
    }

    /// The file with that id.
    pub async fn config_file_by_id(&self, id: i64) -> StoreResult<Option<ConfigFileRow>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM t_config_files WHERE id = ?");
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, ConfigFileRow>(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The files with these ids that exist, by id.
    pub async fn config_files_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<ConfigFileRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM t_config_files WHERE id IN ({}) ORDER BY id",
            placeholders(ids.len())
        );
        let args: Vec<Arg> = ids.iter().map(|id| Arg::Int(*id)).collect();
        Ok(with_pool!(self, pool => {
            bind_args!(sqlx::query_as::<_, ConfigFileRow>(&sql), args).fetch_all(pool).await?
        }))
    }

    /// The file at exactly that place: `(id, content)`.
    pub async fn config_file_at(
        &self,
        place: &ConfigPlace,
    ) -> StoreResult<Option<(i64, Option<String>)>> {
        let sql = "SELECT id, config FROM t_config_files WHERE server_name = ? AND filename = ? \
             AND host = ? AND level = ? AND set_name = ? AND set_area = ? AND set_group = ?";
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, (i64, Option<String>)>(sql)
                .bind(&place.server_name)
                .bind(&place.filename)
                .bind(&place.host)
                .bind(place.level)
                .bind(&place.set_name)
                .bind(&place.set_area)
                .bind(&place.set_group)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Files matching `filter`.
    pub async fn list_config_files(
        &self,
        filter: &ConfigFileFilter,
    ) -> StoreResult<Vec<ConfigFileRow>> {
        let mut where_ = Filter::default();
        where_.eq("server_name", filter.server_name.as_str());
        where_.eq_int("level", filter.level);
        for (column, value) in [
            ("set_name", &filter.set_name),
            ("set_area", &filter.set_area),
            ("set_group", &filter.set_group),
            ("filename", &filter.filename),
        ] {
            if let Some(v) = value {
                where_.eq(column, v.as_str());
            }
        }
        let order = match filter.order {
            ConfigOrder::Created => "id",
            ConfigOrder::NewestCreated => "id DESC",
            ConfigOrder::LastChanged => "posttime DESC, id DESC",
        };
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM t_config_files{} ORDER BY {order}",
            where_.where_sql()
        );
        Ok(with_pool!(self, pool => {
            bind_args!(sqlx::query_as::<_, ConfigFileRow>(&sql), where_.args)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Creates `file` and, skipping any that exist already, `node_files`; each new file
    /// gets an "add config" history record. `AlreadyExists` when `file`'s place is taken.
    pub async fn add_config_file(
        &self,
        file: &NewConfigFile,
        node_files: &[NewConfigFile],
    ) -> StoreResult<i64> {
        retry_contention(|| self.add_config_file_once(file, node_files)).await
    }

    async fn add_config_file_once(
        &self,
        file: &NewConfigFile,
        node_files: &[NewConfigFile],
    ) -> StoreResult<i64> {
        let strict = self.insert_file_sql(false);
        let lenient = self.insert_file_sql(true);
        Ok(with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut created = Vec::with_capacity(1 + node_files.len());
            let id = bind_new_file(sqlx::query(&strict), file)
                .execute(&mut *tx)
                .await?
                .inserted_id();
            created.push((id, file));
            for node_file in node_files {
                let result = bind_new_file(sqlx::query(&lenient), node_file)
                    .execute(&mut *tx)
                    .await?;
                if result.rows_affected() == 1 {
                    created.push((result.inserted_id(), node_file));
                }
            }
            for (id, f) in created {
                history_record(id, "add config", &f.config, f.posttime, &f.lastuser)
                    .execute(&mut *tx)
                    .await?;
            }
            let audited = crate::audited::audit_in_tx!(tx)?;
            tx.commit().await?;
            if audited {
                crate::audited::committed();
            }
            id
        }))
    }

    /// Creates those of `files` that do not exist yet, each with an "add config" history
    /// record; answers how many were created. Safe to run concurrently.
    pub async fn add_missing_config_files(&self, files: &[NewConfigFile]) -> StoreResult<usize> {
        retry_contention(|| self.add_missing_config_files_once(files)).await
    }

    async fn add_missing_config_files_once(&self, files: &[NewConfigFile]) -> StoreResult<usize> {
        if files.is_empty() {
            return Ok(0);
        }
        let lenient = self.insert_file_sql(true);
        Ok(with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut created = 0;
            for f in files {
                let result = bind_new_file(sqlx::query(&lenient), f).execute(&mut *tx).await?;
                if result.rows_affected() == 1 {
                    created += 1;
                    history_record(result.inserted_id(), "add config", &f.config, f.posttime, &f.lastuser)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            created
        }))
    }

    /// Replaces a file's content and records the change; `false` when there is no such file.
    pub async fn update_config_file(
        &self,
        id: i64,
        config: &str,
        reason: &str,
        lastuser: &str,
        posttime: NaiveDateTime,
    ) -> StoreResult<bool> {
        retry_contention(|| self.update_config_file_once(id, config, reason, lastuser, posttime))
            .await
    }

    async fn update_config_file_once(
        &self,
        id: i64,
        config: &str,
        reason: &str,
        lastuser: &str,
        posttime: NaiveDateTime,
    ) -> StoreResult<bool> {
        let sql = format!(
            "SELECT id FROM t_config_files WHERE id = ?{}",
            self.lock_clause()
        );
        let begin = self.begin_write_sql();
        Ok(with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let exists = sqlx::query_scalar::<_, i64>(&sql)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if exists {
                sqlx::query("UPDATE t_config_files SET config = ?, lastuser = ?, posttime = ? WHERE id = ?")
                    .bind(config)
                    .bind(lastuser)
                    .bind(posttime)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                history_record(id, reason, config, posttime, lastuser)
                    .execute(&mut *tx)
                    .await?;
                let audited = crate::audited::audit_in_tx!(tx)?;
                tx.commit().await?;
                if audited {
                    crate::audited::committed();
                }
            } else {
                tx.rollback().await?;
            }
            exists
        }))
    }

    /// Deletes a file, and with a server-level file its node-level files of the same
    /// name, unless another file references one of them. The references the deleted
    /// files held go too; their history stays.
    pub async fn delete_config_file(&self, id: i64) -> StoreResult<ConfigDeletion> {
        retry_contention(|| self.delete_config_file_once(id)).await
    }

    async fn delete_config_file_once(&self, id: i64) -> StoreResult<ConfigDeletion> {
        let select = format!(
            "SELECT {FILE_COLUMNS} FROM t_config_files WHERE id = ?{}",
            self.lock_clause()
        );
        let node_files_sql = format!(
            "SELECT id FROM t_config_files WHERE level = {LEVEL_NODE} AND server_name = ? \
             AND filename = ? AND set_name = ? AND set_area = ? AND set_group = ?{}",
            self.lock_clause()
        );
        let begin = self.begin_write_sql();
        Ok(with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let file = sqlx::query_as::<_, ConfigFileRow>(&select)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(file) = file else {
                // Released now: until a rollback MySQL keeps what was read FOR UPDATE locked.
                tx.rollback().await?;
                return Ok(ConfigDeletion::NotFound);
            };
            let mut doomed = vec![id];
            if file.level == Some(LEVEL_SERVER) {
                let node_ids = sqlx::query_scalar::<_, i64>(&node_files_sql)
                    .bind(file.server_name.as_deref().unwrap_or_default())
                    .bind(file.filename.as_deref().unwrap_or_default())
                    .bind(&file.set_name)
                    .bind(&file.set_area)
                    .bind(&file.set_group)
                    .fetch_all(&mut *tx)
                    .await?;
                doomed.extend(node_ids);
            }
            let list = placeholders(doomed.len());
            let args: Vec<Arg> = doomed.iter().map(|id| Arg::Int(*id)).collect();
            let referencing_sql = format!(
                "SELECT {} FROM t_config_files f JOIN t_config_references r ON f.id = r.config_id \
                 WHERE r.reference_id IN ({list}) AND r.config_id NOT IN ({list}) ORDER BY f.id",
                prefixed_file_columns("f")
            );
            let twice: Vec<Arg> = args.iter().chain(args.iter()).cloned().collect();
            let referencing = bind_args!(sqlx::query_as::<_, ConfigFileRow>(&referencing_sql), twice)
                .fetch_all(&mut *tx)
                .await?;
            if !referencing.is_empty() {
                tx.rollback().await?;
                return Ok(ConfigDeletion::Referenced(referencing));
            }
            let refs_sql = format!(
                "DELETE FROM t_config_references WHERE config_id IN ({list}) OR reference_id IN ({list})"
            );
            let twice: Vec<Arg> = args.iter().chain(args.iter()).cloned().collect();
            bind_args!(sqlx::query(&refs_sql), twice).execute(&mut *tx).await?;
            let files_sql = format!("DELETE FROM t_config_files WHERE id IN ({list})");
            bind_args!(sqlx::query(&files_sql), args).execute(&mut *tx).await?;
            let audited = crate::audited::audit_in_tx!(tx)?;
            tx.commit().await?;
            if audited {
                crate::audited::committed();
            }
            ConfigDeletion::Deleted(doomed)
        }))
    }

    /// One history record.
    pub async fn config_history_by_id(&self, id: i64) -> StoreResult<Option<ConfigHistoryRow>> {
        let sql = format!("SELECT {HISTORY_COLUMNS} FROM t_config_history_files WHERE id = ?");
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, ConfigHistoryRow>(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// A file's history, newest first, with the total count.
    pub async fn config_history_page(
        &self,
        config_id: i64,
        window: Option<PageWindow>,
    ) -> StoreResult<(i64, Vec<ConfigHistoryRow>)> {
        let mut sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM t_config_history_files WHERE configid = ? ORDER BY id DESC"
        );
        if let Some(w) = window {
            sql.push_str(&format!(" LIMIT {} OFFSET {}", w.limit, w.offset));
        }
        let count_sql = "SELECT COUNT(*) FROM t_config_history_files WHERE configid = ?";
        Ok(with_pool!(self, pool => {
            let count = sqlx::query_scalar::<_, i64>(count_sql)
                .bind(config_id)
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query_as::<_, ConfigHistoryRow>(&sql)
                .bind(config_id)
                .fetch_all(pool)
                .await?;
            (count, rows)
        }))
    }
}

/// [`FILE_COLUMNS`] qualified by a table alias.
pub(crate) fn prefixed_file_columns(alias: &str) -> String {
    FILE_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The insert of one history record, bound, whatever the backend.
pub(crate) fn history_record<'q, DB>(
    config_id: i64,
    reason: &'q str,
    content: &'q str,
    posttime: NaiveDateTime,
    user: &'q str,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    NaiveDateTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(INSERT_HISTORY_SQL)
        .bind(config_id)
        .bind(reason)
        .bind(content)
        .bind(posttime)
        .bind(user)
}

/// Binds a [`NewConfigFile`] to the insert statement, whatever the backend.
pub(crate) fn bind_new_file<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    f: &'q NewConfigFile,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    NaiveDateTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(&f.place.server_name)
        .bind(&f.place.set_name)
        .bind(&f.place.set_area)
        .bind(&f.place.set_group)
        .bind(&f.place.host)
        .bind(f.place.level)
        .bind(&f.place.filename)
        .bind(&f.config)
        .bind(f.posttime)
        .bind(&f.lastuser)
}
