//! 资源: installing tarsnode on machines over SSH and removing it.

rpc_area! {
    "InstallTarsNode" install_tars_node(pb::InstallTarsNodeRequest)
        -> pb::TarsNodeResults { results } =
        |s, r| ops::resource::install_tars_node(&s.store, &s.settings, r);
    "UninstallTarsNode" uninstall_tars_node(pb::UninstallTarsNodeRequest)
        -> pb::TarsNodeResults { results } =
        |s, r| ops::resource::uninstall_tars_node(&s.store, &s.settings, r);
}
