//! 服务配置: configuration files, their history and references, and pushing them.

rpc_area! {
    "AddConfigFile" add_config_file(pb::AddConfigFileRequest) -> pb::ConfigFile =
        |s, r| ops::config_files::add_config_file(&s.store, r, s.settings.config_file_max_bytes);
    "DeleteConfigFile" delete_config_file(pb::ConfigFileId) -> pb::ConfigFileId { id } =
        |s, r| ops::config_files::delete_config_file(&s.store, r.id);
    "UpdateConfigFile" update_config_file(pb::UpdateConfigFileRequest) -> pb::ConfigFile =
        |s, r| ops::config_files::update_config_file(&s.store, r, s.settings.config_file_max_bytes);
    "ConfigFileById" config_file_by_id(pb::ConfigFileId) -> pb::ConfigFile =
        |s, r| ops::config_files::config_file(&s.store, r.id);
    "ConfigFileList" config_file_list(pb::ConfigFileListRequest) -> pb::ConfigFiles { files } =
        |s, r| ops::config_files::config_file_list(&s.store, r);
    "NodeConfigFileList" node_config_file_list(pb::NodeConfigFileListRequest)
        -> pb::ConfigFiles { files } = |s, r| ops::config_files::node_config_file_list(&s.store, r);
    "ConfigFileHistory" config_file_history(pb::ConfigHistoryId) -> pb::ConfigHistory =
        |s, r| ops::config_files::config_file_history(&s.store, r.id);
    "ConfigFileHistoryList" config_file_history_list(pb::ConfigHistoryListRequest)
        -> pb::ConfigHistoryPage = |s, r| ops::config_files::config_file_history_list(&s.store, r);
    "AddConfigRef" add_config_ref(pb::AddConfigRefRequest) -> pb::ConfigRef =
        |s, r| ops::config_refs::add_config_ref(&s.store, r.config_id, r.reference_id);
    "DeleteConfigRef" delete_config_ref(pb::ConfigRefId) -> pb::ConfigRefId { id } =
        |s, r| ops::config_refs::delete_config_ref(&s.store, r.id);
    "ConfigRefList" config_ref_list(pb::ConfigFileId) -> pb::ConfigRefs { refs } =
        |s, r| ops::config_refs::config_ref_list(&s.store, r.id);
    "MergedNodeConfig" merged_node_config(pb::ConfigFileId) -> pb::MergedConfig { config } =
        |s, r| ops::config_merge::merged_node_config(&s.store, r.id);
    "PushConfigFile" push_config_file(pb::PushConfigRequest) -> pb::SendCommandReply { results } =
        |s, r| ops::config_push::push_config_file(&s.store, &s.nodes, &r.ids);
}
