//! The one table of endpoints: for each, its name (`/api/<name>` and
//! `/server/api/<name>`), the methods it answers, how its parameters arrive, its input and
//! output types, and the backend RPC it forwards to. The gateway's router and forwarding
//! handlers and the OpenAPI document's paths are all generated from it, so an endpoint
//! is written once, here.
//!
//! [`endpoints!`](crate::endpoints) hands the table to a macro of the caller's (`$callback!`), which
//! expands it where it is invoked: the type names resolve there, so the caller imports
//! [`contract`](crate::contract)`::*` first. Each entry reads
//!
//! ```text
//! /// What it does (the operation's description).
//! name [METHODS] body Input => Output = backend.rpc : role access;
//! ```
//!
//! where `body` is `params` (query, form or JSON body, merged), `json` (POST with a JSON
//! body only, 415 otherwise) or `multipart` (an upload), and `backend` is `deployer`,
//! `task_runner`, or `gateway` for the endpoints the gateway serves itself (the uploads).
//! `role` is what the caller needs on the endpoint's target (`any` ticket, `developer`,
//! `operator`, `admin`; lists answer what the caller may read instead of refusing), and
//! `access` is `write` for the calls recorded in the audit log, else `read`. The
//! backends check the target where they load it (`tars_common::authz::require`); the
//! table tells the gateway what to record and the document what each endpoint needs.
//! The order is the document's, and also the order the examples run in
//! (`tests/e2e/openapi.rs`): each example may rely on those before it.

/// Hands the endpoint table to `$callback!`; see the [module](crate::endpoints)
/// documentation.
#[macro_export]
macro_rules! endpoints {
    ($callback:ident) => {
        $callback! {
            "服务管理" {
                /// Creates a server instance and its adapters.
                deploy_server [POST] json DeployServer => DeployServerReply = deployer.deploy_server : operator write;
                /// The business tree of every deployed server.
                tree [GET POST] params NoInput => Vec<TreeNode> = deployer.tree : developer read;
                /// One server instance.
                server [GET POST] params ById => ServerConf = deployer.server : developer read;
                /// Every server instance under a tree node (at most 1,000 unpaged).
                server_list [GET POST] params TreeNodeList => Vec<ServerConf> = deployer.server_list : developer read;
                /// Instances whose setting state is inactive.
                inactive_server_list [GET POST] params InactiveServerList => Vec<ServerConf> = deployer.inactive_server_list : developer read;
                /// Notifications of the servers under a tree node, newest first, as `{count, rows}`.
                server_notify_list [GET POST] params TreeNodeList => ServerNotifyPage = deployer.server_notify_list : developer read;
                /// Changes the given fields of one server instance.
                update_server [POST] json UpdateServer => ServerConf = deployer.update_server : operator write;
                /// Asks the instance's node to reload it; answers the node's text.
                load_server [GET POST] params Instance => String = deployer.load_server : developer write;
                /// The instance's state as its node reports it now.
                get_realtime_state [GET POST] params ById => RealtimeState = deployer.get_realtime_state : developer read;
                /// One row per adapter of the source instance per node to expand to, each on a port free there. Writes nothing.
                expand_server_preview [POST] json ExpandServerPreview => Vec<ExpandPreviewServer> = deployer.expand_server_preview : operator read;
                /// Creates the previewed instances as copies of the source; all or nothing (409 when a port or instance is taken).
                expand_server [POST] json ExpandServer => ExpandServerData = deployer.expand_server : operator write;
                /// One free port per node (10000-29999, lowest first).
                auto_port [GET POST] params AutoPort => Vec<NodePort> = deployer.auto_port : any read;
                /// Adds an adapter to a deployed instance.
                add_adapter_conf [POST] json AddAdapterConf => AdapterConf = deployer.add_adapter_conf : operator write;
                /// Changes the given fields of one adapter.
                update_adapter_conf [POST] json UpdateAdapterConf => AdapterConf = deployer.update_adapter_conf : operator write;
                /// One adapter.
                adapter_conf [GET POST] params ById => AdapterConf = deployer.adapter_conf_by_id : developer read;
                /// The adapters of one server instance (`id` is the server's).
                adapter_conf_list [GET POST] params ById => Vec<AdapterConf> = deployer.adapter_conf_list : developer read;
                /// Removes an adapter; answers `[id]`.
                delete_adapter_conf [GET POST] params ById => Vec<i64> = deployer.delete_adapter_conf : operator write;
            }
            "服务配置" {
                /// Adds a file; a server-level file also gets an empty node-level file per node the server is on.
                add_config_file [POST] params AddConfigFile => ConfigFile = deployer.add_config_file : operator write;
                /// Replaces a file's content; the change and its reason go into the history.
                update_config_file [POST] json UpdateConfigFile => ConfigFile = deployer.update_config_file : operator write;
                /// One file with its content.
                config_file [GET POST] params ById => ConfigFile = deployer.config_file_by_id : developer read;
                /// The files of one place in the tree.
                config_file_list [GET POST] params ConfigFileList => Vec<ConfigFile> = deployer.config_file_list : developer read;
                /// The node-level files of a server-level file, one per node (missing ones are created empty).
                node_config_file_list [POST] json NodeConfigFileList => Vec<ConfigFile> = deployer.node_config_file_list : developer read;
                /// One history record of a file.
                config_file_history [GET POST] params ById => ConfigHistory = deployer.config_file_history : developer read;
                /// A file's history, newest first, as `{count, rows}`.
                config_file_history_list [GET POST] params ConfigFileHistoryList => ConfigHistoryPage = deployer.config_file_history_list : developer read;
                /// Makes a file include a file of a higher level of the same application.
                add_config_ref [GET POST] params AddConfigRef => ConfigRef = deployer.add_config_ref : operator write;
                /// A file's references, newest first, each with the file it points at.
                config_ref_list [GET POST] params ByConfigId => Vec<ConfigRefDetail> = deployer.config_ref_list : developer read;
                /// The text tarsconfig serves for that file: layers and references merged in TARS's order.
                merged_node_config [GET POST] params ById => String = deployer.merged_node_config : developer read;
                /// Tells every instance the files apply to to reload them; one row per instance.
                push_config_file [GET POST] params PushConfigFile => Vec<CommandResult> = deployer.push_config_file : operator write;
                /// Removes a reference; answers `[id]`.
                delete_config_ref [GET POST] params ById => Vec<i64> = deployer.delete_config_ref : operator write;
                /// Deletes a file (a server-level file with its node-level files); 409 while referenced. Answers `[id]`.
                delete_config_file [GET POST] params ById => Vec<i64> = deployer.delete_config_file : operator write;
            }
            "模板" {
                /// Creates a template under an existing parent.
                add_profile_template [POST] params AddProfileTemplate => ProfileTemplate = deployer.add_profile_template : admin write;
                /// One template by name.
                profile_template [GET POST] params ProfileTemplateByName => ProfileTemplate = deployer.profile_template_by_name : any read;
                /// Templates whose name and parent contain the given fragments.
                query_profile_template [GET POST] params QueryProfileTemplate => Vec<ProfileTemplate> = deployer.query_profile_template : any read;
                /// Rewrites a template's name, parent and body.
                update_profile_template [POST] params UpdateProfileTemplate => ProfileTemplate = deployer.update_profile_template : admin write;
                /// Deletes a template no server or template uses; answers `[id]`.
                delete_profile_template [GET POST] params ByTemplateId => Vec<i64> = deployer.delete_profile_template : admin write;
            }
            "监控" {
                /// Call statistics between callers and callees on `thedate` beside `predate` (total, average time, fail and timeout rates, the wave of the total), by time point or by `group_by`.
                tarsstat_monitor_data [GET POST] params TarsstatQuery => Vec<StatRow> = monitor.tarsstat_monitor_data : any read;
                /// Business properties (the sum of `value` per group) on `thedate` beside `predate`, by time point or by `group_by`.
                tarsproperty_monitor_data [GET POST] params TarspropertyQuery => Vec<PropertyRow> = monitor.tarsproperty_monitor_data : any read;
            }
            "字典" {
                /// The server types TARS can run.
                server_type_list [GET POST] params NoInput => Vec<String> = deployer.server_type_list : any read;
                /// Every profile template name.
                template_name_list [GET POST] params NoInput => Vec<String> = deployer.template_name_list : any read;
                /// The choices at one level given the levels above.
                cascade_select_server [GET POST] params CascadeSelectServer => Vec<String> = deployer.cascade_select_server : developer read;
            }
            "任务管理" {
                /// Accepts a task durably and answers its number; it runs when a runner takes it.
                add_task [POST] json AddTask => String = task_runner.add_task : operator write;
                /// The task and its items; exactly `{"status": 0}` while it waits in the queue.
                task [GET POST] params TaskNo => TaskAnswer = task_runner.task : developer read;
                /// Tasks newest first, filtered and paged.
                task_list [GET POST] params TaskList => Vec<Task> = task_runner.task_list : developer read;
            }
            "发布包" {
                /// Stores a package (checking `md5` when given) and records it.
                upload_patch_package [POST] multipart UploadPatchPackage => Package = gateway.upload_patch_package : operator write;
                /// A server's packages, newest first, as `{count, rows}`.
                server_patch_list [GET POST] params ServerPatchList => PackagePage = deployer.package_list : developer read;
                /// Stores a package, patches every active instance (every one with `restart=1`) in one serial task, waits for it and answers a plain-text report: 200 success, 502 failed, 202 still running after TARS_PUBLISH_WAIT_MS, 409 nothing to patch, 404 not deployed.
                upload_and_publish [POST] multipart UploadAndPublish => PublishReport = gateway.upload_and_publish : operator write;
            }
            "资源" {
                /// Installs tarsnode on each machine over SSH (the resource module, `TARS_NODE_PACKAGE`), starts it, checks that it answers and records it in t_node_info; one row per machine. Can be slow: each machine takes seconds.
                install_tars_node [GET POST] params InstallTarsNode => Vec<TarsNodeResult> = deployer.install_tars_node : admin write;
                /// Stops and removes tarsnode on each machine and deletes its t_node_info row; 409 (nothing done) while a machine holds servers. One row per machine.
                uninstall_tars_node [GET POST] params UninstallTarsNode => Vec<TarsNodeResult> = deployer.uninstall_tars_node : admin write;
            }
            "权限" {
                /// Writes through the API, newest first, as `{count, rows}`: filtered by user, application, endpoint and time; an admin sees every row, an operator the rows of applications they operate.
                audit_log [GET POST] params AuditLog => AuditPage = deployer.audit_log : operator read;
                /// Gives a user a role on a flag (`App.Server`, `App`, `*`; none for admin), as `tars-platform auth grant` does.
                auth_grant [POST] params AuthGrant => AuthGrantRow = deployer.auth_grant : admin write;
                /// Takes a role on a flag away from a user.
                auth_revoke [POST] params AuthGrant => AuthGrantRow = deployer.auth_revoke : admin write;
                /// Every grant, or one user's.
                auth_list [GET POST] params AuthList => Vec<AuthGrantRow> = deployer.auth_list : admin read;
            }
            "其他" {
                /// Sends a custom command to each server through its node; one row per server.
                send_command [GET POST] params SendCommand => Vec<CommandResult> = deployer.send_command : operator write;
            }
        }
    };
}
