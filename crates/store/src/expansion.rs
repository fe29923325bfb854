//! Expanding a server: new instances copied from a deployed one (their `t_server_conf`
//! and `t_adapter_conf` rows) and, optionally, copies of the source node's node-level
//! `t_config_files` (each with a `t_config_history_files` record), all in one
//! transaction.
//!
//! The transaction first reads what each new node already holds (whether the instance
//! exists there, which endpoints its adapters use) and hands that to the caller's check,
//! so the deployer's port and duplicate rules judge the rows the insert commits against.
//! On MySQL the node's adapter rows are read `FOR UPDATE`, so two expansions onto one
//! node cannot both take the same port; on SQLite the transaction takes the write lock
//! when it begins, so a second expansion waits for the first and then sees its ports.

use chrono::NaiveDateTime;

use crate::adapter_conf::{bind_new_adapter, NewAdapter, INSERT_ADAPTER_SQL};
use crate::config_files::{
    bind_new_file, history_record, ConfigFileRow, ConfigPlace, NewConfigFile, FILE_COLUMNS,
    LEVEL_NODE,
};
use crate::pool::{with_pool, InsertedId};
use crate::server_conf::{bind_new_server, NewServer, INSERT_SERVER_SQL};
use crate::{Store, StoreResult};

/// What one new node holds before the expansion writes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeHoldings {
    /// The new node (`t_node_info.node_name`).
    pub node_name: String,
    /// The expanded server already has an instance on this node.
    pub instance_exists: bool,
    /// The endpoints of every adapter on this node, whatever their server.
    pub endpoints: Vec<String>,
}

/// Copying the source node's node-level configuration files to every new node.
#[derive(Debug, Clone, Default)]
pub struct NodeConfigCopy {
    /// `App.Server`.
    pub server_name: String,
    /// The source instance's node.
    pub from_host: String,
    /// The history reason of each copy.
    pub reason: String,
    /// The write time of the copies and their history records (local time).
    pub posttime: NaiveDateTime,
    /// Who expands (the API's user), stored in the copies' `lastuser`.
    pub lastuser: String,
}

/// The rows one expansion writes.
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    /// One per new node.
    pub servers: Vec<NewServer>,
    /// The adapters of the new instances.
    pub adapters: Vec<NewAdapter>,
    /// Also copy the source node's node-level files to every new node; `None` copies
    /// nothing.
    pub copy_node_config: Option<NodeConfigCopy>,
}

/// What an expansion wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// The new servers' ids, in the order of [`Expansion::servers`].
    pub server_ids: Vec<i64>,
    /// The node-level files written on the new nodes.
    pub config_file_ids: Vec<i64>,
}

impl Store {
    /// Writes `expansion` in one transaction, after `check` accepted what every new node
    /// holds. A refusal from `check` writes nothing and is answered as `Ok(Err(_))`. A
    /// duplicate instance or adapter that appears concurrently fails with
    /// `AlreadyExists`, also writing nothing.
    ///
    /// A copied file takes the source file's set fields and file name with the new node
    /// as host; where a file already has that place (left by an earlier instance) its
    /// content is replaced, as TarsWeb replaces it.
    pub async fn expand_servers<E>(
        &self,
        expansion: &Expansion,
        mut check: impl FnMut(&NodeHoldings) -> Result<(), E>,
    ) -> StoreResult<Result<Expanded, E>> {
        let exists_sql = "SELECT COUNT(*) FROM t_server_conf \
             WHERE application = ? AND server_name = ? AND node_name = ?";
        let endpoints_sql = format!(
            "SELECT endpoint FROM t_adapter_conf WHERE node_name = ? AND endpoint IS NOT NULL{}",
            self.lock_clause()
        );
        let source_files_sql = format!(
            "SELECT {FILE_COLUMNS} FROM t_config_files \
             WHERE level = {LEVEL_NODE} AND server_name = ? AND host = ? ORDER BY id"
        );
        let file_at_sql = format!(
            "SELECT id FROM t_config_files WHERE server_name = ? AND filename = ? AND host = ? \
             AND level = ? AND set_name = ? AND set_area = ? AND set_group = ?{}",
            self.lock_clause()
        );
        let replace_sql =
            "UPDATE t_config_files SET config = ?, lastuser = ?, posttime = ? WHERE id = ?";
        let insert_file_sql = self.insert_file_sql(false);
        let begin = self.begin_write_sql();
        let outcome = with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let written: Result<Result<Expanded, E>, sqlx::Error> = async {
                for server in &expansion.servers {
                    let count = sqlx::query_scalar::<_, i64>(exists_sql)
                        .bind(&server.application)
                        .bind(&server.server_name)
                        .bind(&server.node_name)
                        .fetch_one(&mut *tx)
                        .await?;
                    let endpoints = sqlx::query_scalar::<_, String>(&endpoints_sql)
                        .bind(&server.node_name)
                        .fetch_all(&mut *tx)
                        .await?;
                    let holdings = NodeHoldings {
                        node_name: server.node_name.clone(),
                        instance_exists: count > 0,
                        endpoints,
                    };
                    if let Err(refusal) = check(&holdings) {
                        return Ok(Err(refusal));
                    }
                }
                let mut server_ids = Vec::with_capacity(expansion.servers.len());
                for server in &expansion.servers {
                    let result = bind_new_server(sqlx::query(INSERT_SERVER_SQL), server)
                        .execute(&mut *tx)
                        .await?;
                    server_ids.push(result.inserted_id());
                }
                for adapter in &expansion.adapters {
                    bind_new_adapter(sqlx::query(INSERT_ADAPTER_SQL), adapter)
                        .execute(&mut *tx)
                        .await?;
                }
                let mut config_file_ids = Vec::new();
                if let Some(copy) = &expansion.copy_node_config {
                    let sources = sqlx::query_as::<_, ConfigFileRow>(&source_files_sql)
                        .bind(&copy.server_name)
                        .bind(&copy.from_host)
                        .fetch_all(&mut *tx)
                        .await?;
                    for server in &expansion.servers {
                        for source in &sources {
                            let file = copied_file(copy, source, &server.node_name);
                            let existing = sqlx::query_scalar::<_, i64>(&file_at_sql)
                                .bind(&file.place.server_name)
                                .bind(&file.place.filename)
                                .bind(&file.place.host)
                                .bind(file.place.level)
                                .bind(&file.place.set_name)
                                .bind(&file.place.set_area)
                                .bind(&file.place.set_group)
                                .fetch_optional(&mut *tx)
                                .await?;
                            let id = match existing {
                                Some(id) => {
                                    sqlx::query(replace_sql)
                                        .bind(&file.config)
                                        .bind(&file.lastuser)
                                        .bind(file.posttime)
                                        .bind(id)
                                        .execute(&mut *tx)
                                        .await?;
                                    id
                                }
                                None => bind_new_file(sqlx::query(&insert_file_sql), &file)
                                    .execute(&mut *tx)
                                    .await?
                                    .inserted_id(),
                            };
                            history_record(id, &copy.reason, &file.config, file.posttime, &file.lastuser)
                                .execute(&mut *tx)
                                .await?;
                            config_file_ids.push(id);
                        }
                    }
                }
                Ok(Ok(Expanded {
                    server_ids,
                    config_file_ids,
                }))
            }
            .await;
            // Roll back right away rather than when the pool next pings the connection:
            // until then MySQL keeps the rows read FOR UPDATE locked.
            match written {
                Ok(Ok(expanded)) => {
                    let audited = crate::audited::audit_in_tx!(tx)?;
                    tx.commit().await?;
                    if audited {
                        crate::audited::committed();
                    }
                    Ok(expanded)
                }
                Ok(Err(refusal)) => {
                    tx.rollback().await?;
                    Err(refusal)
                }
                Err(err) => {
                    // The statement's error says more than a failed rollback would.
                    let _ = tx.rollback().await;
                    return Err(err.into());
                }
            }
        });
        if outcome.is_ok() {
            self.servers_changed();
        }
        Ok(outcome)
    }
}

/// Node-level file `source` as it is copied to `host`.
fn copied_file(copy: &NodeConfigCopy, source: &ConfigFileRow, host: &str) -> NewConfigFile {
    NewConfigFile {
        place: ConfigPlace {
            server_name: copy.server_name.clone(),
            set_name: source.set_name.clone(),
            set_area: source.set_area.clone(),
            set_group: source.set_group.clone(),
            host: host.to_string(),
            level: LEVEL_NODE,
            filename: source.filename.clone().unwrap_or_default(),
        },
        config: source.config.clone().unwrap_or_default(),
        posttime: copy.posttime,
        lastuser: copy.lastuser.clone(),
    }
}
