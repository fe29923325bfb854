//! 业务树 and 服务管理: the tree, server instances, and the calls to their nodes.

rpc_area! {
    "Tree" tree(Empty) -> pb::TreeReply { nodes } = |s, _| ops::tree::tree(&s.store);
    "Server" server(pb::ServerId) -> pb::ServerConf = |s, r| ops::servers::server(&s.store, r.id);
    "ServerList" server_list(pb::ServerListRequest) -> pb::ServerConfList { servers } =
        |s, r| ops::servers::server_list(&s.store, &r.tree_node_id, r.page.as_ref());
    "InactiveServerList" inactive_server_list(pb::InactiveServerListRequest)
        -> pb::ServerConfList { servers } = |s, r| ops::servers::inactive_server_list(&s.store, r);
    "ServerNotifyList" server_notify_list(pb::ServerNotifyListRequest) -> pb::ServerNotifyPage =
        |s, r| ops::notify::server_notify_list(&s.store, r);
    "UpdateServer" update_server(pb::UpdateServerRequest) -> pb::ServerConf =
        |s, r| ops::servers::update_server(&s.store, r);
    "DeployServer" deploy_server(pb::DeployServerRequest) -> pb::DeployServerReply =
        |s, r| ops::deploy::deploy_server(&s.store, &s.nodes, &s.settings, r);
    "LoadServer" load_server(pb::LoadServerRequest) -> pb::LoadServerReply { result } =
        |s, r| ops::node_calls::load_server(&s.store, &s.nodes, r);
    "SendCommand" send_command(pb::SendCommandRequest) -> pb::SendCommandReply { results } =
        |s, r| ops::node_calls::send_command(&s.store, &s.nodes, &r.server_ids, &r.command);
    "GetRealtimeState" get_realtime_state(pb::ServerId) -> pb::RealtimeState { realtime_state } =
        |s, r| ops::node_calls::get_realtime_state(&s.store, &s.nodes, r.id);
}
