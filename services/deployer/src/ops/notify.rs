//! Server notifications (tarsnotify's log of starts, stops and alarms) by tree node.

use tars_proto::deployer::{ServerNotifyListRequest, ServerNotifyPage};
use tars_store::Store;

use super::convert;
use super::tree::TreeSelection;
use crate::error::DeployerResult;

/// Notifications of every server instance under a tree node, newest first.
pub async fn server_notify_list(
    store: &Store,
    request: ServerNotifyListRequest,
) -> DeployerResult<ServerNotifyPage> {
    let mut filter = TreeSelection::parse(&request.tree_node_id)?.server_filter();
    filter.within = super::access::readable();
    let servers = store.list_servers(&filter, None).await?;
    // tarsnotify keys rows by `App.Server_node`.
    let server_ids: Vec<String> = servers
        .iter()
        .map(|s| {
            format!(
                "{}.{}_{}",
                s.application.as_deref().unwrap_or_default(),
                s.server_name.as_deref().unwrap_or_default(),
                s.node_name
            )
        })
        .collect();
    let window = super::paging::history(request.page.as_ref())?;
    let (count, rows) = store.server_notifys(&server_ids, Some(window)).await?;
    Ok(ServerNotifyPage {
        count,
        rows: rows.into_iter().map(convert::server_notify).collect(),
    })
}
