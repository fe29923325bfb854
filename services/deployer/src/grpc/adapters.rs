//! Adapters: the servants a server instance listens with.

rpc_area! {
    "AddAdapterConf" add_adapter_conf(pb::AdapterConfInput) -> pb::AdapterConf =
        |s, r| ops::adapters::add_adapter_conf(&s.store, r);
    "DeleteAdapterConf" delete_adapter_conf(pb::AdapterId) -> pb::AdapterId { id } =
        |s, r| ops::adapters::delete_adapter_conf(&s.store, r.id);
    "UpdateAdapterConf" update_adapter_conf(pb::AdapterConfInput) -> pb::AdapterConf =
        |s, r| ops::adapters::update_adapter_conf(&s.store, r);
    "AdapterConfById" adapter_conf_by_id(pb::AdapterId) -> pb::AdapterConf =
        |s, r| ops::adapters::adapter_conf(&s.store, r.id);
    "AdapterConfList" adapter_conf_list(pb::ServerId) -> pb::AdapterConfs { adapters } =
        |s, r| ops::adapters::adapter_conf_list(&s.store, r.id);
}
