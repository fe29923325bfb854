//! `t_node_info`: the machines running tarsnode, as tarsregistry records them (and as
//! the platform records the nodes it installs); `t_registry_info`: where the registry
//! listens, which an installed node is pointed at.

use crate::pool::with_pool;
use crate::{Store, StoreError, StoreResult};

impl Store {
    /// The node's `node_obj` (`tars.tarsnode.NodeObj@tcp -h … -p …`) when registered and
    /// not empty.
    pub async fn node_obj(&self, node_name: &str) -> StoreResult<Option<String>> {
        let sql = "SELECT node_obj FROM t_node_info WHERE node_name = ?";
        let found: Option<Option<String>> = with_pool!(self, pool => {
            sqlx::query_scalar::<_, Option<String>>(sql).bind(node_name).fetch_optional(pool).await?
        });
        Ok(found.flatten().filter(|o| !o.trim().is_empty()))
    }
}

/// A node the platform installed, as tarsregistry would record it when it registers.
#[derive(Debug, Clone)]
pub struct NodeRegistration<'a> {
    /// The machine's IP (TARS names nodes by IP).
    pub node_name: &'a str,
    /// `tars.tarsnode.NodeObj@tcp -h … -p … -t …`.
    pub node_obj: &'a str,
    /// The host of its `Node` servant's endpoint.
    pub endpoint_ip: &'a str,
    /// The port of that endpoint.
    pub endpoint_port: i64,
    /// Where the node keeps its servers.
    pub data_dir: &'a str,
    /// When it was installed (`last_heartbeat`, `load_time`).
    pub now: chrono::NaiveDateTime,
}

impl Store {
    /// Records an installed, answering node in `t_node_info` (updating the row of the same
    /// name, or adding one): its object, endpoint and data directory, active.
    pub async fn register_node(&self, node: &NodeRegistration<'_>) -> StoreResult<()> {
        let update = "UPDATE t_node_info SET node_obj = ?, endpoint_ip = ?, endpoint_port = ?, \
                      data_dir = ?, last_reg_time = ?, last_heartbeat = ?, \
                      setting_state = 'active', present_state = 'active' WHERE node_name = ?";
        let insert = "INSERT INTO t_node_info (node_name, node_obj, endpoint_ip, endpoint_port, \
                      data_dir, last_reg_time, last_heartbeat, setting_state, present_state) \
                      VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 'active')";
        // An insert racing ours makes the row exist: update it then.
        for _ in 0..2 {
            let updated = with_pool!(self, pool => {
                sqlx::query(update)
                    .bind(node.node_obj)
                    .bind(node.endpoint_ip)
                    .bind(node.endpoint_port)
                    .bind(node.data_dir)
                    .bind(node.now)
                    .bind(node.now)
                    .bind(node.node_name)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
            if updated > 0 {
                return Ok(());
            }
            let inserted = with_pool!(self, pool => {
                sqlx::query(insert)
                    .bind(node.node_name)
                    .bind(node.node_obj)
                    .bind(node.endpoint_ip)
                    .bind(node.endpoint_port)
                    .bind(node.data_dir)
                    .bind(node.now)
                    .bind(node.now)
                    .execute(pool)
                    .await
                    .map(|_| ())
            });
            match inserted.map_err(crate::error::convert_sqlx_err) {
                Ok(()) => return Ok(()),
                Err(StoreError::AlreadyExists(_)) => continue,
                Err(err) => return Err(err),
            }
        }
        Err(StoreError::Contention(format!(
            "t_node_info row of {} kept changing while it was recorded",
            node.node_name
        )))
    }

    /// Removes the node's `t_node_info` row; whether there was one.
    pub async fn delete_node(&self, node_name: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM t_node_info WHERE node_name = ?";
        Ok(with_pool!(self, pool => {
            sqlx::query(sql).bind(node_name).execute(pool).await?.rows_affected() > 0
        }))
    }

    /// The servers deployed on a node, `App.Server`, sorted.
    pub async fn servers_on_node(&self, node_name: &str) -> StoreResult<Vec<String>> {
        let sql = "SELECT application, server_name FROM t_server_conf WHERE node_name = ? \
                   ORDER BY application, server_name";
        let rows: Vec<(Option<String>, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as(sql).bind(node_name).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(app, server)| {
                format!("{}.{}", app.unwrap_or_default(), server.unwrap_or_default())
            })
            .collect())
    }

    /// The `locator_id`s (`host:port`) of the registries' `tars.tarsregistry.QueryObj` in
    /// `t_registry_info`, as tarsregistry records itself, in row order.
    pub async fn registry_locator_ids(&self) -> StoreResult<Vec<String>> {
        let sql = "SELECT locator_id FROM t_registry_info \
                   WHERE servant = 'tars.tarsregistry.QueryObj' ORDER BY id";
        let rows: Vec<Option<String>> = with_pool!(self, pool => {
            sqlx::query_scalar(sql).fetch_all(pool).await?
        });
        Ok(rows.into_iter().flatten().collect())
    }
}
