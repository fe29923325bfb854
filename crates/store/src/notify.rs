//! `t_server_notifys`: what tarsnotify records about servers (starts, stops, alarms).

use chrono::NaiveDateTime;

use crate::pool::with_pool;
use crate::{PageWindow, Store, StoreResult};

/// One notification row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ServerNotifyRow {
    /// `t_server_notifys.notifytime`: when tarsnotify recorded the event (local time).
    pub notifytime: Option<NaiveDateTime>,
    /// `server_id`: the instance the event is about, `App.Server_node` (e.g.
    /// `Shop.Cart_10.0.0.5`).
    pub server_id: Option<String>,
    /// `thread_id`: the reporting thread (or process) as the server or node sent it.
    pub thread_id: Option<String>,
    /// `command`: what happened, as reported (e.g. `restart`, or the level of an alarm).
    pub command: Option<String>,
    /// `result`: the message that came with it (e.g. an alarm's text).
    pub result: Option<String>,
}

/// A notification to record (tests and the node side write these).
#[derive(Debug, Clone, Default)]
pub struct NewServerNotify {
    /// `application`: the server's application.
    pub application: String,
    /// `server_name`: the server's name within its application.
    pub server_name: String,
    /// `node_name`: the node the instance runs on.
    pub node_name: String,
    /// `server_id`: `App.Server_node`, which [`Store::server_notifys`] looks up.
    pub server_id: String,
    /// `thread_id`: the reporting thread or process.
    pub thread_id: String,
    /// `command`: what happened (e.g. `restart`).
    pub command: String,
    /// `result`: the message that came with it.
    pub result: String,
    /// `notifytime`: when it happened (local time); `None` stores NULL.
    pub notifytime: Option<NaiveDateTime>,
}

impl Store {
    /// Notifications of the given server ids (`App.Server_node`), newest first, with the
    /// total count.
    pub async fn server_notifys(
        &self,
        server_ids: &[String],
        window: Option<PageWindow>,
    ) -> StoreResult<(i64, Vec<ServerNotifyRow>)> {
        if server_ids.is_empty() {
            return Ok((0, Vec::new()));
        }
        let placeholders = vec!["?"; server_ids.len()].join(", ");
        let count_sql =
            format!("SELECT COUNT(*) FROM t_server_notifys WHERE server_id IN ({placeholders})");
        let mut rows_sql = format!(
            "SELECT notifytime, server_id, thread_id, command, result FROM t_server_notifys \
             WHERE server_id IN ({placeholders}) ORDER BY notifytime DESC, id DESC"
        );
        if let Some(w) = window {
            rows_sql.push_str(&format!(" LIMIT {} OFFSET {}", w.limit, w.offset));
        }
        Ok(with_pool!(self, pool => {
            let mut count_query = sqlx::query_scalar::<_, i64>(&count_sql);
            let mut rows_query = sqlx::query_as::<_, ServerNotifyRow>(&rows_sql);
            for id in server_ids {
                count_query = count_query.bind(id);
                rows_query = rows_query.bind(id);
            }
            let count = count_query.fetch_one(pool).await?;
            let rows = rows_query.fetch_all(pool).await?;
            (count, rows)
        }))
    }

    /// Records one notification.
    pub async fn insert_server_notify(&self, n: &NewServerNotify) -> StoreResult<()> {
        let sql = "INSERT INTO t_server_notifys (application, server_name, node_name, server_id, \
                   thread_id, command, result, notifytime) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(&n.application)
                .bind(&n.server_name)
                .bind(&n.node_name)
                .bind(&n.server_id)
                .bind(&n.thread_id)
                .bind(&n.command)
                .bind(&n.result)
                .bind(n.notifytime)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
