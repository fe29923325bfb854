//! Asking TARS's query servers: where they are (`TARS_STAT_QUERY_OBJ`,
//! `TARS_PROPERTY_QUERY_OBJ`: a full proxy, or a name looked up among registered adapters)
//! and one `MonitorQuery.query` call with a deadline (`TARS_MONITOR_TIMEOUT_MS`). Every
//! failure is a 503 naming the servant and the reason: an empty answer must only ever
//! mean "no traffic".

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tars_protocol::client::ClientConfig;
use tars_protocol::monitor_query::{MonitorQueryClient, MonitorQueryReq};
use tars_protocol::CallError;
use tars_store::Store;

use crate::error::{MonitorError, MonitorResult};

/// Which query server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// tarsquerystat: call statistics (`tars_stat`).
    Stat,
    /// tarsqueryproperty: business properties (`tars_property`).
    Property,
}

impl Table {
    /// The `dataid` of the request.
    pub fn dataid(self) -> &'static str {
        match self {
            Table::Stat => "tars_stat",
            Table::Property => "tars_property",
        }
    }

    fn variable(self) -> &'static str {
        match self {
            Table::Stat => "TARS_STAT_QUERY_OBJ",
            Table::Property => "TARS_PROPERTY_QUERY_OBJ",
        }
    }
}

/// The settings of the query servers.
#[derive(Debug, Clone)]
pub struct QueryConfig {
    /// `TARS_STAT_QUERY_OBJ`, default `tars.tarsquerystat.QueryObj`.
    pub stat_obj: String,
    /// `TARS_PROPERTY_QUERY_OBJ`, default `tars.tarsqueryproperty.QueryObj`.
    pub property_obj: String,
    /// `TARS_MONITOR_TIMEOUT_MS`, default 5000: deadline of one query.
    pub timeout: Duration,
}

impl QueryConfig {
    /// Reads the variables above.
    pub fn from_env() -> Result<QueryConfig, tars_common::env::EnvError> {
        use tars_common::env::{var_or, var_parsed};
        Ok(QueryConfig {
            stat_obj: var_or("TARS_STAT_QUERY_OBJ", "tars.tarsquerystat.QueryObj"),
            property_obj: var_or("TARS_PROPERTY_QUERY_OBJ", "tars.tarsqueryproperty.QueryObj"),
            timeout: Duration::from_millis(var_parsed("TARS_MONITOR_TIMEOUT_MS", 5000)?),
        })
    }
}

/// Clients of the query servers, one per address.
pub struct QueryServers {
    store: Store,
    config: QueryConfig,
    clients: Mutex<HashMap<(String, String), Arc<MonitorQueryClient>>>,
}

impl QueryServers {
    /// No clients yet: each is made on first use, per query server address, and kept.
    pub fn new(store: Store, config: QueryConfig) -> QueryServers {
        QueryServers {
            store,
            config,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `req` on the server of `table`; answers `k1,k2,…` → sums.
    pub async fn ask(
        &self,
        table: Table,
        req: &MonitorQueryReq,
    ) -> MonitorResult<BTreeMap<String, Vec<f64>>> {
        let obj = match table {
            Table::Stat => &self.config.stat_obj,
            Table::Property => &self.config.property_obj,
        };
        let found = tars_nodes::servants::resolve(&self.store, obj, table.variable())
            .await
            .map_err(MonitorError::Unavailable)?;
        let client = self.client(&found.addr, &found.servant);
        let who = format!("{} at {}", found.servant, found.addr);
        let timeout_ms = self.config.timeout.as_millis();
        match client.query(req, None).await {
            Ok((0, rsp)) if rsp.ret == 0 => Ok(rsp.result),
            Ok((ret, rsp)) => Err(MonitorError::Unavailable(format!(
                "{who} failed the {} query for {} (ret {ret}, rsp.ret {}): {}",
                table.dataid(),
                req.date,
                rsp.ret,
                if rsp.msg.is_empty() { "no message" } else { rsp.msg.as_str() }
            ))),
            Err(CallError::Timeout { .. }) => Err(MonitorError::Unavailable(format!(
                "{who} did not answer the {} query within {timeout_ms} ms (TARS_MONITOR_TIMEOUT_MS)",
                table.dataid()
            ))),
            Err(e) => Err(MonitorError::Unavailable(format!(
                "{who} cannot be queried: {e}; check that it runs, or set {}",
                table.variable()
            ))),
        }
    }

    fn client(&self, addr: &str, servant: &str) -> Arc<MonitorQueryClient> {
        let mut clients = self.clients.lock().expect("not poisoned");
        clients
            .entry((addr.to_string(), servant.to_string()))
            .or_insert_with(|| {
                Arc::new(MonitorQueryClient::new(
                    addr,
                    servant,
                    ClientConfig {
                        connect_timeout: self.config.timeout.min(Duration::from_secs(2)),
                        call_timeout: self.config.timeout,
                        ..ClientConfig::default()
                    },
                ))
            })
            .clone()
    }
}
