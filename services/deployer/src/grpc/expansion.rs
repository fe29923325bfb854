//! Expansion: copying a deployed server onto more nodes, on free ports.

rpc_area! {
    "ExpandServerPreview" expand_server_preview(pb::ExpandServerPreviewRequest)
        -> pb::ExpandServerPreviewReply { servers } =
        |s, r| ops::expansion::expand_server_preview(&s.store, r);
    "ExpandServer" expand_server(pb::ExpandServerRequest) -> pb::ExpandServerReply =
        |s, r| ops::expansion::expand_server(&s.store, &s.nodes, &s.settings, r);
    "AutoPort" auto_port(pb::AutoPortRequest) -> pb::AutoPortReply { ports } =
        |s, r| ops::ports::auto_port(&s.store, &r.node_names);
}
