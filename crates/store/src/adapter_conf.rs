//! `t_adapter_conf`: the servants (objects) each server instance exposes.

use chrono::NaiveDateTime;

use crate::args::{bind_args, Assignments};
use crate::pool::{with_pool, InsertedId};
use crate::{Store, StoreResult};

/// One adapter as the API shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AdapterConfRow {
    /// `t_adapter_conf.id`, the row's key (the API's `id` of an adapter).
    pub id: i64,
    /// `application`: the owning server's application, e.g. `Shop`.
    pub application: Option<String>,
    /// `server_name`: the owning server's name within its application, e.g. `Cart`.
    pub server_name: Option<String>,
    /// `node_name`: the node (machine, as in `t_node_info`) of the server instance.
    pub node_name: Option<String>,
    /// `adapter_name`: the adapter's name in the server's configuration, `<servant>Adapter`
    /// (e.g. `Shop.Cart.CartObjAdapter`); unique per instance.
    pub adapter_name: Option<String>,
    /// `thread_num`: how many threads handle the adapter's requests.
    pub thread_num: Option<i64>,
    /// `endpoint`: where the servant listens, as TARS writes it (`tcp -h 10.0.0.5 -p 10001
    /// -t 60000`).
    pub endpoint: Option<String>,
    /// `max_connections`: the most connections the adapter accepts at once.
    pub max_connections: Option<i64>,
    /// `allow_ip`: the client addresses allowed to connect; empty allows everyone.
    pub allow_ip: String,
    /// `servant`: the full servant name clients call, `App.Server.ObjName` (e.g.
    /// `Shop.Cart.CartObj`).
    pub servant: Option<String>,
    /// `queuecap`: how many received requests may wait for a handler thread.
    pub queuecap: Option<i64>,
    /// `queuetimeout`: how long a request may wait in that queue before it is dropped, in
    /// milliseconds.
    pub queuetimeout: Option<i64>,
    /// `posttime`: when the row was last written (local time).
    pub posttime: Option<NaiveDateTime>,
    /// `protocol`: `tars` for TARS calls, `not_tars` for a servant speaking its own
    /// protocol.
    pub protocol: Option<String>,
    /// `handlegroup`: a named group of handler threads the adapter shares with others;
    /// empty for its own threads.
    pub handlegroup: Option<String>,
}

const ADAPTER_COLUMNS: &str = "id, application, server_name, node_name, adapter_name, thread_num, \
     endpoint, max_connections, allow_ip, servant, queuecap, queuetimeout, posttime, protocol, handlegroup";

/// An adapter to create.
#[derive(Debug, Clone, Default)]
pub struct NewAdapter {
    /// `application`: the owning server's application.
    pub application: String,
    /// `server_name`: the owning server's name within its application.
    pub server_name: String,
    /// `node_name`: the node of the server instance.
    pub node_name: String,
    /// `adapter_name`: `<servant>Adapter`, unique per instance.
    pub adapter_name: String,
    /// `thread_num`: handler threads.
    pub thread_num: i64,
    /// `endpoint`: `tcp -h <ip> -p <port> [-t <timeout ms>]`.
    pub endpoint: String,
    /// `max_connections`: the most connections accepted at once.
    pub max_connections: i64,
    /// `allow_ip`: the client addresses allowed to connect; empty allows everyone.
    pub allow_ip: String,
    /// `servant`: the full servant name, `App.Server.ObjName`.
    pub servant: String,
    /// `queuecap`: how many requests may wait for a handler thread.
    pub queuecap: i64,
    /// `queuetimeout`: how long a request may wait in the queue, in milliseconds.
    pub queuetimeout: i64,
    /// `protocol`: `tars` or `not_tars`.
    pub protocol: String,
    /// `handlegroup`: a shared handler-thread group; empty for the adapter's own threads.
    pub handlegroup: String,
    /// `posttime`: when the row is written (local time).
    pub posttime: NaiveDateTime,
    /// `lastuser`: who made the change (the API's user).
    pub lastuser: String,
}

/// Changes to one adapter; `None` leaves the column as it is.
#[derive(Debug, Clone, Default)]
pub struct AdapterUpdate {
    /// `adapter_name`: the adapter's name in the server's configuration, unique per instance.
    pub adapter_name: Option<String>,
    /// `thread_num`: how many threads handle the adapter's requests.
    pub thread_num: Option<i64>,
    /// `endpoint`: where the servant listens, `tcp -h <ip> -p <port> [-t <timeout ms>]`.
    pub endpoint: Option<String>,
    /// `max_connections`: the most connections the adapter accepts at once.
    pub max_connections: Option<i64>,
    /// `allow_ip`: the client addresses allowed to connect; empty allows everyone.
    pub allow_ip: Option<String>,
    /// `servant`: the full servant name clients call, `App.Server.ObjName`.
    pub servant: Option<String>,
    /// `queuecap`: how many requests may wait for a handler thread.
    pub queuecap: Option<i64>,
    /// `queuetimeout`: how long a request may wait in the queue, in milliseconds.
    pub queuetimeout: Option<i64>,
    /// `protocol`: `tars`, or `not_tars` for a servant speaking its own protocol.
    pub protocol: Option<String>,
    /// `handlegroup`: a shared handler-thread group; empty for the adapter's own threads.
    pub handlegroup: Option<String>,
}

pub(crate) const INSERT_ADAPTER_SQL: &str =
    "INSERT INTO t_adapter_conf (application, server_name, \
     node_name, adapter_name, thread_num, endpoint, max_connections, allow_ip, servant, queuecap, \
     queuetimeout, protocol, handlegroup, posttime, lastuser) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// Binds a [`NewAdapter`] to [`INSERT_ADAPTER_SQL`], whatever the backend.
pub(crate) fn bind_new_adapter<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    a: &'q NewAdapter,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    NaiveDateTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(&a.application)
        .bind(&a.server_name)
        .bind(&a.node_name)
        .bind(&a.adapter_name)
        .bind(a.thread_num)
        .bind(&a.endpoint)
        .bind(a.max_connections)
        .bind(&a.allow_ip)
        .bind(&a.servant)
        .bind(a.queuecap)
        .bind(a.queuetimeout)
        .bind(&a.protocol)
        .bind(&a.handlegroup)
        .bind(a.posttime)
        .bind(&a.lastuser)
}

impl Store {
    /// The adapter with that id.
    pub async fn adapter_by_id(&self, id: i64) -> StoreResult<Option<AdapterConfRow>> {
        let sql = format!("SELECT {ADAPTER_COLUMNS} FROM t_adapter_conf WHERE id = ?");
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, AdapterConfRow>(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The adapters of one server instance, by id.
    pub async fn adapters_of_instance(
        &self,
        application: &str,
        server_name: &str,
        node_name: &str,
    ) -> StoreResult<Vec<AdapterConfRow>> {
        let sql = format!(
            "SELECT {ADAPTER_COLUMNS} FROM t_adapter_conf \
             WHERE application = ? AND server_name = ? AND node_name = ? ORDER BY id"
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, AdapterConfRow>(&sql)
                .bind(application)
                .bind(server_name)
                .bind(node_name)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The endpoints of every adapter on the given node, for port allocation.
    pub async fn endpoints_on_node(&self, node_name: &str) -> StoreResult<Vec<String>> {
        let sql =
            "SELECT endpoint FROM t_adapter_conf WHERE node_name = ? AND endpoint IS NOT NULL";
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(sql).bind(node_name).fetch_all(pool).await?
        }))
    }

    /// The endpoints registered for a servant (e.g. `tars.tarspatch.PatchObj`).
    pub async fn servant_endpoints(&self, servant: &str) -> StoreResult<Vec<String>> {
        let sql = "SELECT endpoint FROM t_adapter_conf WHERE servant = ? AND endpoint IS NOT NULL \
             ORDER BY id";
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(sql).bind(servant).fetch_all(pool).await?
        }))
    }

    /// Inserts one adapter; `AlreadyExists` when that adapter name is taken on the instance.
    pub async fn insert_adapter(&self, adapter: &NewAdapter) -> StoreResult<i64> {
        Ok(with_pool!(self, pool => {
            bind_new_adapter(sqlx::query(INSERT_ADAPTER_SQL), adapter)
                .execute(pool)
                .await?
                .inserted_id()
        }))
    }

    /// Deletes one adapter; false when it did not exist.
    pub async fn delete_adapter(&self, id: i64) -> StoreResult<bool> {
        Ok(with_pool!(self, pool => {
            sqlx::query("DELETE FROM t_adapter_conf WHERE id = ?")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
                > 0
        }))
    }

    /// Applies `update` to adapter `id`.
    pub async fn update_adapter(
        &self,
        id: i64,
        update: &AdapterUpdate,
        posttime: NaiveDateTime,
    ) -> StoreResult<()> {
        let mut set = Assignments::default();
        set.text("adapter_name", update.adapter_name.as_deref())
            .int("thread_num", update.thread_num)
            .text("endpoint", update.endpoint.as_deref())
            .int("max_connections", update.max_connections)
            .text("allow_ip", update.allow_ip.as_deref())
            .text("servant", update.servant.as_deref())
            .int("queuecap", update.queuecap)
            .int("queuetimeout", update.queuetimeout)
            .text("protocol", update.protocol.as_deref())
            .text("handlegroup", update.handlegroup.as_deref());
        let sql = format!(
            "UPDATE t_adapter_conf SET {}posttime = ? WHERE id = ?",
            set.sql_prefix()
        );
        with_pool!(self, pool => {
            bind_args!(sqlx::query(&sql), set.args)
                .bind(posttime)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
