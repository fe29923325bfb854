//! 字典: the lists the console's selectors offer.

rpc_area! {
    "ServerTypeList" server_type_list(Empty) -> pb::StringList { items } =
        |_, _| async { Ok(ops::dictionaries::server_type_list()) };
    "TemplateNameList" template_name_list(Empty) -> pb::StringList { items } =
        |s, _| ops::dictionaries::template_name_list(&s.store);
    "CascadeSelectServer" cascade_select_server(pb::CascadeSelectRequest)
        -> pb::StringList { items } = |s, r| ops::dictionaries::cascade_select_server(&s.store, r);
}
