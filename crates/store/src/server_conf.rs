//! `t_server_conf`: one row per server instance (application, server, node).

use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::args::{bind_args, Assignments, Filter};
use crate::pool::{with_pool, InsertedId};
use crate::{PageWindow, Store, StoreResult};

/// The columns of `t_server_conf` the platform shows and edits.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ServerConfRow {
    /// `t_server_conf.id`, the instance's key (the API's `id` / `server_id`).
    pub id: i64,
    /// `application`, e.g. `Shop`.
    pub application: Option<String>,
    /// `server_name`: the server's name within its application, e.g. `Cart`.
    pub server_name: Option<String>,
    /// `node_name`: the node the instance runs on (`t_node_info.node_name`, usually its
    /// IP).
    pub node_name: String,
    /// `server_type`: how the node runs it, `tars_cpp`, `tars_java`, `tars_nodejs`,
    /// `tars_php`, `tars_go` or `not_tars`.
    pub server_type: String,
    /// `enable_set`: `Y` when the instance belongs to the set named by the next three
    /// fields, else `N`.
    pub enable_set: String,
    /// `set_name`: the set's name (e.g. `mtt`); meaningful only when `enable_set` is `Y`.
    pub set_name: Option<String>,
    /// `set_area`: the set's area (e.g. `s`).
    pub set_area: Option<String>,
    /// `set_group`: the set's group (e.g. `1`).
    pub set_group: Option<String>,
    /// `setting_state`: what the operator wants, `active` (running; the node keeps it up)
    /// or `inactive` (stopped); written by start and stop tasks.
    pub setting_state: String,
    /// `present_state`: what the node last reported: `active`, `inactive`, `activating`,
    /// `deactivating` or `destroyed`.
    pub present_state: String,
    /// `bak_flag`: 1 for a backup (standby) instance, 0 otherwise.
    pub bak_flag: i64,
    /// `template_name`: the profile template its configuration is rendered from
    /// (`t_profile_template.template_name`).
    pub template_name: String,
    /// `profile`: the instance's private template, TARS configuration text merged over its
    /// template.
    pub profile: Option<String>,
    /// `async_thread_num`: the server's threads for asynchronous callbacks (TARS's default
    /// 3).
    pub async_thread_num: Option<i64>,
    /// `base_path`: the server's working directory on the node; empty for the node's
    /// default.
    pub base_path: Option<String>,
    /// `exe_path`: the executable's path on the node; empty for the default under the
    /// working directory.
    pub exe_path: String,
    /// `start_script_path`: a script the node runs to start the server (chiefly for
    /// `not_tars` servers); empty for none.
    pub start_script_path: Option<String>,
    /// `stop_script_path`: a script the node runs to stop it; empty for none.
    pub stop_script_path: Option<String>,
    /// `monitor_script_path`: a script the node runs to check it is alive; empty for none.
    pub monitor_script_path: Option<String>,
    /// `patch_time`: when a package was last installed (local time); `None` before the
    /// first.
    pub patch_time: Option<NaiveDateTime>,
    /// `patch_version`: the installed package, as its `t_server_patchs.id`; empty before
    /// the first.
    pub patch_version: String,
    /// `process_id`: the process id the node last reported; 0 when not running.
    pub process_id: i64,
    /// `posttime`: when the row was last changed by the platform (local time).
    pub posttime: Option<NaiveDateTime>,
}

const SERVER_COLUMNS: &str = "id, application, server_name, node_name, server_type, enable_set, \
     set_name, set_area, set_group, setting_state, present_state, bak_flag, template_name, \
     profile, async_thread_num, base_path, exe_path, start_script_path, stop_script_path, \
     monitor_script_path, patch_time, patch_version, process_id, posttime";

/// Which servers to list; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ServerFilter {
    /// Only this application.
    pub application: Option<String>,
    /// Only servers of this name (within any application unless `application` is given).
    pub server_name: Option<String>,
    /// Only instances on this node.
    pub node_name: Option<String>,
    /// `Some(true)`: only set-enabled servers (then the set fields filter);
    /// `Some(false)`: only servers without set.
    pub enable_set: Option<bool>,
    /// With `enable_set: Some(true)`, only this set name; ignored otherwise.
    pub set_name: Option<String>,
    /// With `enable_set: Some(true)`, only this set area; ignored otherwise.
    pub set_area: Option<String>,
    /// With `enable_set: Some(true)`, only this set group; ignored otherwise.
    pub set_group: Option<String>,
    /// `active` or `inactive`.
    pub setting_state: Option<String>,
    /// Only what a caller may read; `None`: everything.
    pub within: Option<crate::Within>,
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
        if let Some(within) = &self.within {
            filter.within(within, "application", "server_name");
        }
        filter
    }
}

/// A server instance to create.
#[derive(Debug, Clone, Default)]
pub struct NewServer {
    /// `application`.
    pub application: String,
    /// `server_name`, within the application.
    pub server_name: String,
    /// `node_name`: the node to run on.
    pub node_name: String,
    /// `server_type`: `tars_cpp`, `tars_java`, `tars_nodejs`, `tars_php`, `tars_go` or
    /// `not_tars`.
    pub server_type: String,
    /// `template_name`: the profile template (`t_profile_template.template_name`).
    pub template_name: String,
    /// Stored as `enable_set` `Y` / `N`: whether the set fields apply.
    pub enable_set: bool,
    /// `set_name`; `None` stores NULL.
    pub set_name: Option<String>,
    /// `set_area`; `None` stores NULL.
    pub set_area: Option<String>,
    /// `set_group`; `None` stores NULL.
    pub set_group: Option<String>,
    /// Stored as `bak_flag` 1 / 0: a backup (standby) instance.
    pub bak_flag: bool,
    /// `async_thread_num`: threads for asynchronous callbacks.
    pub async_thread_num: i64,
    /// `base_path`: the working directory on the node; empty for the default.
    pub base_path: String,
    /// `exe_path`: the executable's path; empty for the default.
    pub exe_path: String,
    /// `start_script_path`: a script the node runs to start the server; empty for none.
    pub start_script_path: String,
    /// `stop_script_path`: a script the node runs to stop it; empty for none.
    pub stop_script_path: String,
    /// `monitor_script_path`: a script the node runs to check it is alive; empty for none.
    pub monitor_script_path: String,
    /// `profile`: the private template text, merged over the template.
    pub profile: String,
    /// `posttime`: the write time (local time).
    pub posttime: NaiveDateTime,
    /// `lastuser`: who deploys (the API's user).
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
    /// `bak_flag`: whether the instance is a backup (standby).
    pub bak_flag: Option<bool>,
    /// `template_name`: the profile template its configuration is rendered from.
    pub template_name: Option<String>,
    /// `server_type`: `tars_cpp`, `tars_java`, `tars_nodejs`, `tars_php`, `tars_go` or
    /// `not_tars`.
    pub server_type: Option<String>,
    /// `enable_set` (`Y` / `N`): whether the instance belongs to the set in the set fields.
    pub enable_set: Option<bool>,
    /// `set_name`: the set's name.
    pub set_name: Option<String>,
    /// `set_area`: the set's area.
    pub set_area: Option<String>,
    /// `set_group`: the set's group.
    pub set_group: Option<String>,
    /// `async_thread_num`: threads for asynchronous callbacks.
    pub async_thread_num: Option<i64>,
    /// `base_path`: the working directory on the node; empty for the default.
    pub base_path: Option<String>,
    /// `exe_path`: the executable's path; empty for the default.
    pub exe_path: Option<String>,
    /// `start_script_path`: a script the node runs to start the server; empty for none.
    pub start_script_path: Option<String>,
    /// `stop_script_path`: a script the node runs to stop it; empty for none.
    pub stop_script_path: Option<String>,
    /// `monitor_script_path`: a script the node runs to check it is alive; empty for none.
    pub monitor_script_path: Option<String>,
    /// `profile`: the private template text, merged over the template.
    pub profile: Option<String>,
}

/// One distinct (application, server, set) placement, the unit of the business tree.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TreeEntry {
    /// `t_server_conf.application`: the tree's top level.
    pub application: Option<String>,
    /// `server_name`: the tree's leaf, under its application (or its set group).
    pub server_name: Option<String>,
    /// `enable_set`: `Y` when the placement is the set in the next three fields, else `N`
    /// (the set fields are then not meaningful).
    pub enable_set: String,
    /// `set_name`: the set's name (the tree's set level).
    pub set_name: Option<String>,
    /// `set_area`: the set's area (the tree's area level).
    pub set_area: Option<String>,
    /// `set_group`: the set's group (the tree's group level).
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
            let audited = crate::audited::audit_in_tx!(tx)?;
            tx.commit().await?;
            if audited {
                crate::audited::committed();
            }
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
