//! `t_server_conf`: one row per server instance (application, server, node).

use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::args::{bind_args, Assignments, Filter};
use crate::pool::{with_pool, InsertedId};
use crate::{PageWindow, Store, StoreResult};

/// The columns of `t_server_conf` the platform shows and edits.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ServerConfRow {
    pub id: i64,
    pub application: Option<String>,
    pub server_name: Option<String>,
    pub node_name: String,
    pub server_type: String,
    pub enable_set: String,
    pub set_name: Option<String>,
    pub set_area: Option<String>,
    pub set_group: Option<String>,
    pub setting_state: String,
    pub present_state: String,
    pub bak_flag: i64,
    pub template_name: String,
    pub profile: Option<String>,
    pub async_thread_num: Option<i64>,
    pub base_path: Option<String>,
    pub exe_path: String,
    pub start_script_path: Option<String>,
    pub stop_script_path: Option<String>,
    pub monitor_script_path: Option<String>,
    pub patch_time: Option<NaiveDateTime>,
    pub patch_version: String,
    pub process_id: i64,
    pub posttime: Option<NaiveDateTime>,
}

const SERVER_COLUMNS: &str = "id, application, server_name, node_name, server_type, enable_set, \
     set_name, set_area, set_group, setting_state, present_state, bak_flag, template_name, \
     profile, async_thread_num, base_path, exe_path, start_script_path, stop_script_path, \
     monitor_script_path, patch_time, patch_version, process_id, posttime";

/// Which servers to list; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ServerFilter {
    pub application: Option<String>,
    pub server_name: Option<String>,
    pub node_name: Option<String>,
    /// `Some(true)`: only set-enabled servers (then the set fields filter);
    /// `Some(false)`: only servers without set.
    pub enable_set: Option<bool>,
    pub set_name: Option<String>,
    pub set_area: Option<String>,
    pub set_group: Option<String>,
    /// `active` or `inactive`.
    pub setting_state: Option<String>,
}

impl ServerFilter {
    fn to_sql(&self) -> Filter {
        let mut filter = Filter::default();
        if let Some(v) = &self.application {
            filter.eq("application", v.as_str());
        }
        if let Some(v) = &self.server_name {
            filter.eq("server_name", v.as_str());
        }
        if let Some(v) = &self.node_name {
            filter.eq("node_name", v.as_str());
        }
        match self.enable_set {
            Some(true) => {
                filter.raw("enable_set = 'Y'");
                if let Some(v) = &self.set_name {
                    filter.eq("set_name", v.as_str());
                }
                if let Some(v) = &self.set_area {
                    filter.eq("set_area", v.as_str());
                }
                if let Some(v) = &self.set_group {
                    filter.eq("set_group", v.as_str());
                }
            }
            Some(false) => {
                filter.raw("enable_set <> 'Y'");
            }
            None => {}
        }
        if let Some(v) = &self.setting_state {
            filter.eq("setting_state", v.as_str());
        }
        filter
    }
}

/// A server instance to create.
#[derive(Debug, Clone, Default)]
pub struct NewServer {
    pub application: String,
    pub server_name: String,
    pub node_name: String,
    pub server_type: String,
    pub template_name: String,
    pub enable_set: bool,
    pub set_name: Option<String>,
    pub set_area: Option<String>,
    pub set_group: Option<String>,
    pub bak_flag: bool,
    pub async_thread_num: i64,
    pub base_path: String,
    pub exe_path: String,
    pub start_script_path: String,
    pub stop_script_path: String,
    pub monitor_script_path: String,
    pub profile: String,
    pub posttime: NaiveDateTime,
    pub lastuser: String,
}

pub(crate) const INSERT_SERVER_SQL: &str = "INSERT INTO t_server_conf (application, server_name, \
     node_name, server_type, template_name, enable_set, set_name, set_area, set_group, bak_flag, \
     async_thread_num, base_path, exe_path, start_script_path, stop_script_path, \
     monitor_script_path, profile, setting_state, present_state, posttime, lastuser, \
     patch_version, patch_user, tars_version, node_group, source, run_type) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'inactive', 'inactive', ?, ?, \
     '', '', '', '', '', '')";

/// Binds a [`NewServer`] to [`INSERT_SERVER_SQL`], whatever the backend.
pub(crate) fn bind_new_server<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    s: &'q NewServer,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    NaiveDateTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(&s.application)
        .bind(&s.server_name)
        .bind(&s.node_name)
        .bind(&s.server_type)
        .bind(&s.template_name)
        .bind(if s.enable_set { "Y" } else { "N" })
        .bind(&s.set_name)
        .bind(&s.set_area)
        .bind(&s.set_group)
        .bind(i64::from(s.bak_flag))
        .bind(s.async_thread_num)
        .bind(&s.base_path)
        .bind(&s.exe_path)
        .bind(&s.start_script_path)
        .bind(&s.stop_script_path)
        .bind(&s.monitor_script_path)
        .bind(&s.profile)
        .bind(s.posttime)
        .bind(&s.lastuser)
}

/// Changes to one server; `None` leaves the column as it is.
#[derive(Debug, Clone, Default)]
pub struct ServerUpdate {
    pub bak_flag: Option<bool>,
    pub template_name: Option<String>,
    pub server_type: Option<String>,
    pub enable_set: Option<bool>,
    pub set_name: Option<String>,
    pub set_area: Option<String>,
    pub set_group: Option<String>,
    pub async_thread_num: Option<i64>,
    pub base_path: Option<String>,
    pub exe_path: Option<String>,
    pub start_script_path: Option<String>,
    pub stop_script_path: Option<String>,
    pub monitor_script_path: Option<String>,
    pub profile: Option<String>,
}

/// One distinct (application, server, set) placement, the unit of the business tree.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TreeEntry {
    pub application: Option<String>,
    pub server_name: Option<String>,
    pub enable_set: String,
    pub set_name: Option<String>,
    pub set_area: Option<String>,
    pub set_group: Option<String>,
}

impl Store {
    /// The server with that id (served from the read cache when it is on).
    pub async fn server_by_id(&self, id: i64) -> StoreResult<Option<ServerConfRow>> {
        let Some(cache) = &self.server_cache else {
            return self.query_server_by_id(id).await;
        };
        if let Some(rows) = cache.get_by_id(id) {
            return Ok(rows.first().cloned());
        }
        let generation = cache.generation();
        let row = self.query_server_by_id(id).await?;
        cache.put_by_id(id, generation, Arc::new(row.iter().cloned().collect()));
        Ok(row)
    }

    async fn query_server_by_id(&self, id: i64) -> StoreResult<Option<ServerConfRow>> {
        let sql = format!("SELECT {SERVER_COLUMNS} FROM t_server_conf WHERE id = ?");
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, ServerConfRow>(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The server instance (application, server, node), if deployed.
    pub async fn server_by_name(
        &self,
        application: &str,
        server_name: &str,
        node_name: &str,
    ) -> StoreResult<Option<ServerConfRow>> {
        let sql = format!(
            "SELECT {SERVER_COLUMNS} FROM t_server_conf \
             WHERE application = ? AND server_name = ? AND node_name = ?"
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, ServerConfRow>(&sql)
                .bind(application)
                .bind(server_name)
                .bind(node_name)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Servers matching `filter`, ordered by application, server name, node, id.
    /// Unpaged lists are served from the read cache when it is on.
    pub async fn list_servers(
        &self,
        filter: &ServerFilter,
        window: Option<PageWindow>,
    ) -> StoreResult<Vec<ServerConfRow>> {
        match (&self.server_cache, window) {
            (Some(cache), None) => {
                if let Some(rows) = cache.get(filter) {
                    return Ok(rows.as_ref().clone());
                }
                let generation = cache.generation();
                let rows = Arc::new(self.query_servers(filter, None).await?);
                cache.put(filter.clone(), generation, rows.clone());
                Ok(Arc::unwrap_or_clone(rows))
            }
            _ => self.query_servers(filter, window).await,
        }
    }

    async fn query_servers(
        &self,
        filter: &ServerFilter,
        window: Option<PageWindow>,
    ) -> StoreResult<Vec<ServerConfRow>> {
        let filter = filter.to_sql();
        let mut sql = format!(
            "SELECT {SERVER_COLUMNS} FROM t_server_conf{} \
             ORDER BY application, server_name, node_name, id",
            filter.where_sql()
        );
        if let Some(w) = window {
            sql.push_str(&format!(" LIMIT {} OFFSET {}", w.limit, w.offset));
        }
        Ok(with_pool!(self, pool => {
            bind_args!(sqlx::query_as::<_, ServerConfRow>(&sql), filter.args)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Marks cached server lists stale; call after every committed `t_server_conf` write.
    pub(crate) fn servers_changed(&self) {
        if let Some(cache) = &self.server_cache {
            cache.invalidate();
        }
    }

    /// Distinct (application, server, set) placements, for the business tree.
    pub async fn tree_entries(&self) -> StoreResult<Vec<TreeEntry>> {
        let sql =
            "SELECT DISTINCT application, server_name, enable_set, set_name, set_area, set_group \
                   FROM t_server_conf";
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, TreeEntry>(sql).fetch_all(pool).await?
        }))
    }

    /// Applies `update` to server `id`; false when no such server exists.
    pub async fn update_server(
        &self,
        id: i64,
        update: &ServerUpdate,
        posttime: NaiveDateTime,
    ) -> StoreResult<bool> {
        let mut set = Assignments::default();
        set.text("template_name", update.template_name.as_deref())
            .text("server_type", update.server_type.as_deref())
            .text("set_name", update.set_name.as_deref())
            .text("set_area", update.set_area.as_deref())
            .text("set_group", update.set_group.as_deref())
            .text("base_path", update.base_path.as_deref())
            .text("exe_path", update.exe_path.as_deref())
            .text("start_script_path", update.start_script_path.as_deref())
            .text("stop_script_path", update.stop_script_path.as_deref())
            .text("monitor_script_path", update.monitor_script_path.as_deref())
            .text("profile", update.profile.as_deref())
            .text(
                "enable_set",
                update.enable_set.map(|b| if b { "Y" } else { "N" }),
            )
            .int("bak_flag", update.bak_flag.map(i64::from))
            .int("async_thread_num", update.async_thread_num);
        let sql = format!(
            "UPDATE t_server_conf SET {}posttime = ? WHERE id = ?",
            set.sql_prefix()
        );
        let affected = with_pool!(self, pool => {
            bind_args!(sqlx::query(&sql), set.args)
                .bind(posttime)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        self.servers_changed();
        // MySQL counts only changed rows; a no-op update of an existing row reports 0.
        Ok(affected > 0 || self.server_by_id(id).await?.is_some())
    }

    /// Inserts the servers and their adapters in one transaction. A duplicate
    /// (application, server, node) or adapter name fails the whole batch with
    /// `AlreadyExists`; returns the new server ids in order.
    pub async fn insert_servers_with_adapters(
        &self,
        servers: &[NewServer],
        adapters: &[crate::adapter_conf::NewAdapter],
    ) -> StoreResult<Vec<i64>> {
        let adapter_sql = crate::adapter_conf::INSERT_ADAPTER_SQL;
        let ids = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut ids = Vec::with_capacity(servers.len());
            for s in servers {
                let result = bind_new_server(sqlx::query(INSERT_SERVER_SQL), s)
                    .execute(&mut *tx)
                    .await?;
                ids.push(result.inserted_id());
            }
            for a in adapters {
                crate::adapter_conf::bind_new_adapter(sqlx::query(adapter_sql), a)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            ids
        });
        self.servers_changed();
        Ok(ids)
    }

    /// How many servers use template `name`.
    pub async fn count_servers_using_template(&self, name: &str) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM t_server_conf WHERE template_name = ?";
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(sql).bind(name).fetch_one(pool).await?
        }))
    }

    /// Distinct application names, sorted.
    pub async fn distinct_applications(&self) -> StoreResult<Vec<String>> {
        let sql = "SELECT DISTINCT application FROM t_server_conf \
                   WHERE application IS NOT NULL AND application <> '' ORDER BY application";
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await?
        }))
    }

    /// Distinct server names of an application, sorted.
    pub async fn distinct_server_names(&self, application: &str) -> StoreResult<Vec<String>> {
        let sql = "SELECT DISTINCT server_name FROM t_server_conf \
                   WHERE application = ? AND server_name IS NOT NULL ORDER BY server_name";
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(sql).bind(application).fetch_all(pool).await?
        }))
    }

    /// Distinct placements of one server, as `TreeEntry` rows.
    pub async fn distinct_sets(
        &self,
        application: &str,
        server_name: &str,
    ) -> StoreResult<Vec<TreeEntry>> {
        let sql =
            "SELECT DISTINCT application, server_name, enable_set, set_name, set_area, set_group \
                   FROM t_server_conf WHERE application = ? AND server_name = ?";
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, TreeEntry>(sql)
                .bind(application)
                .bind(server_name)
                .fetch_all(pool)
                .await?
        }))
    }
}
