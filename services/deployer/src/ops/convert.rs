//! Store rows → proto messages, with the API's conventions: `enable_set`/`bak_flag` as
//! booleans, times as `YYYY-MM-DD HH:MM:SS` (empty when unset), NULL text as "".

use tars_common::time::format_api_time;
use tars_proto::deployer::{AdapterConf, ProfileTemplate, ServerConf, ServerNotify};
use tars_store::adapter_conf::AdapterConfRow;
use tars_store::notify::ServerNotifyRow;
use tars_store::profile_template::ProfileTemplateRow;
use tars_store::server_conf::ServerConfRow;

/// One server row as the API shows it.
pub fn server_conf(row: ServerConfRow) -> ServerConf {
    ServerConf {
        id: row.id,
        application: row.application.unwrap_or_default(),
        server_name: row.server_name.unwrap_or_default(),
        node_name: row.node_name,
        server_type: row.server_type,
        enable_set: row.enable_set == "Y",
        set_name: row.set_name.unwrap_or_default(),
        set_area: row.set_area.unwrap_or_default(),
        set_group: row.set_group.unwrap_or_default(),
        setting_state: row.setting_state,
        present_state: row.present_state,
        bak_flag: row.bak_flag != 0,
        template_name: row.template_name,
        profile: row.profile.unwrap_or_default(),
        async_thread_num: row.async_thread_num.unwrap_or_default(),
        base_path: row.base_path.unwrap_or_default(),
        exe_path: row.exe_path,
        start_script_path: row.start_script_path.unwrap_or_default(),
        stop_script_path: row.stop_script_path.unwrap_or_default(),
        monitor_script_path: row.monitor_script_path.unwrap_or_default(),
        patch_time: format_api_time(row.patch_time),
        patch_version: row.patch_version,
        process_id: row.process_id,
        posttime: format_api_time(row.posttime),
    }
}

/// One adapter row as the API shows it.
pub fn adapter_conf(row: AdapterConfRow) -> AdapterConf {
    AdapterConf {
        id: row.id,
        application: row.application.unwrap_or_default(),
        server_name: row.server_name.unwrap_or_default(),
        node_name: row.node_name.unwrap_or_default(),
        adapter_name: row.adapter_name.unwrap_or_default(),
        thread_num: row.thread_num.unwrap_or_default(),
        endpoint: row.endpoint.unwrap_or_default(),
        max_connections: row.max_connections.unwrap_or_default(),
        allow_ip: row.allow_ip,
        servant: row.servant.unwrap_or_default(),
        queuecap: row.queuecap.unwrap_or_default(),
        queuetimeout: row.queuetimeout.unwrap_or_default(),
        posttime: format_api_time(row.posttime),
        protocol: row.protocol.unwrap_or_default(),
        handlegroup: row.handlegroup.unwrap_or_default(),
    }
}

/// One template row as the API shows it.
pub fn profile_template(row: ProfileTemplateRow) -> ProfileTemplate {
    ProfileTemplate {
        id: row.id,
        template_name: row.template_name.unwrap_or_default(),
        parents_name: row.parents_name.unwrap_or_default(),
        profile: row.profile,
        posttime: format_api_time(row.posttime),
    }
}

/// One notification row as the API shows it.
pub fn server_notify(row: ServerNotifyRow) -> ServerNotify {
    ServerNotify {
        notifytime: format_api_time(row.notifytime),
        server_id: row.server_id.unwrap_or_default(),
        thread_id: row.thread_id.unwrap_or_default(),
        command: row.command.unwrap_or_default(),
        result: row.result.unwrap_or_default(),
    }
}
