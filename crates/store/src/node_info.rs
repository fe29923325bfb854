//! `t_node_info`: the machines running tarsnode, as tarsregistry records them.

use crate::pool::with_pool;
use crate::{Store, StoreResult};

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
