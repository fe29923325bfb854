//! The gRPC face of the deployer: proto in, [`ops`](crate::ops) call, proto out. No rules
//! live here; each method is one line of plumbing plus its trace span.

use std::sync::Arc;
use tars_proto::common::{Empty, ReadyReply};
use tars_proto::deployer as pb;
use tars_proto::deployer::deployer_server::Deployer;

use tars_store::Store;
use tonic::{Request, Response, Status};

use crate::config::Settings;
use crate::error::DeployerError;
use crate::ops;
use tars_nodes::Nodes;

/// The deployer service over one store.
#[derive(Debug, Clone)]
pub struct DeployerService {
    store: Store,
    nodes: Arc<Nodes>,
    settings: Settings,
}

impl DeployerService {
    /// Serves the given store, reaching nodes with `nodes`.
    pub fn new(store: Store, nodes: Arc<Nodes>, settings: Settings) -> DeployerService {
        DeployerService {
            store,
            nodes,
            settings,
        }
    }
}

/// Every RPC runs through the shared span-and-status wrapper.
async fn traced<T, Req, F, Fut>(
    name: &'static str,
    request: Request<Req>,
    op: F,
) -> Result<Response<T>, Status>
where
    F: FnOnce(Req) -> Fut,
    Fut: std::future::Future<Output = Result<T, DeployerError>>,
{
    tars_common::propagation::traced_rpc("deployer", name, request, op).await
}

#[tonic::async_trait]
impl Deployer for DeployerService {
    async fn ready(&self, request: Request<Empty>) -> Result<Response<ReadyReply>, Status> {
        traced("Ready", request, |_| async {
            Ok(ReadyReply::from_check(self.store.ping().await))
        })
        .await
    }

    async fn tree(&self, request: Request<Empty>) -> Result<Response<pb::TreeReply>, Status> {
        traced("Tree", request, |_| async {
            Ok(pb::TreeReply {
                nodes: ops::tree::tree(&self.store).await?,
            })
        })
        .await
    }

    async fn server(
        &self,
        request: Request<pb::ServerId>,
    ) -> Result<Response<pb::ServerConf>, Status> {
        traced("Server", request, |r| {
            ops::servers::server(&self.store, r.id)
        })
        .await
    }

    async fn server_list(
        &self,
        request: Request<pb::ServerListRequest>,
    ) -> Result<Response<pb::ServerConfList>, Status> {
        traced("ServerList", request, |r| async move {
            Ok(pb::ServerConfList {
                servers: ops::servers::server_list(&self.store, &r.tree_node_id, r.page.as_ref())
                    .await?,
            })
        })
        .await
    }

    async fn inactive_server_list(
        &self,
        request: Request<pb::InactiveServerListRequest>,
    ) -> Result<Response<pb::ServerConfList>, Status> {
        traced("InactiveServerList", request, |r| async move {
            Ok(pb::ServerConfList {
                servers: ops::servers::inactive_server_list(&self.store, r).await?,
            })
        })
        .await
    }

    async fn server_notify_list(
        &self,
        request: Request<pb::ServerNotifyListRequest>,
    ) -> Result<Response<pb::ServerNotifyPage>, Status> {
        traced("ServerNotifyList", request, |r| {
            ops::notify::server_notify_list(&self.store, r)
        })
        .await
    }

    async fn update_server(
        &self,
        request: Request<pb::UpdateServerRequest>,
    ) -> Result<Response<pb::ServerConf>, Status> {
        traced("UpdateServer", request, |r| {
            ops::servers::update_server(&self.store, r)
        })
        .await
    }

    async fn deploy_server(
        &self,
        request: Request<pb::DeployServerRequest>,
    ) -> Result<Response<pb::DeployServerReply>, Status> {
        traced("DeployServer", request, |r| {
            ops::deploy::deploy_server(&self.store, r)
        })
        .await
    }

    async fn add_adapter_conf(
        &self,
        request: Request<pb::AdapterConfInput>,
    ) -> Result<Response<pb::AdapterConf>, Status> {
        traced("AddAdapterConf", request, |r| {
            ops::adapters::add_adapter_conf(&self.store, r)
        })
        .await
    }

    async fn delete_adapter_conf(
        &self,
        request: Request<pb::AdapterId>,
    ) -> Result<Response<pb::AdapterId>, Status> {
        traced("DeleteAdapterConf", request, |r| async move {
            Ok(pb::AdapterId {
                id: ops::adapters::delete_adapter_conf(&self.store, r.id).await?,
            })
        })
        .await
    }

    async fn update_adapter_conf(
        &self,
        request: Request<pb::AdapterConfInput>,
    ) -> Result<Response<pb::AdapterConf>, Status> {
        traced("UpdateAdapterConf", request, |r| {
            ops::adapters::update_adapter_conf(&self.store, r)
        })
        .await
    }

    async fn adapter_conf_by_id(
        &self,
        request: Request<pb::AdapterId>,
    ) -> Result<Response<pb::AdapterConf>, Status> {
        traced("AdapterConfById", request, |r| {
            ops::adapters::adapter_conf(&self.store, r.id)
        })
        .await
    }

    async fn adapter_conf_list(
        &self,
        request: Request<pb::ServerId>,
    ) -> Result<Response<pb::AdapterConfs>, Status> {
        traced("AdapterConfList", request, |r| async move {
            Ok(pb::AdapterConfs {
                adapters: ops::adapters::adapter_conf_list(&self.store, r.id).await?,
            })
        })
        .await
    }

    async fn add_profile_template(
        &self,
        request: Request<pb::ProfileTemplateInput>,
    ) -> Result<Response<pb::ProfileTemplate>, Status> {
        traced("AddProfileTemplate", request, |r| {
            ops::templates::add_profile_template(&self.store, r)
        })
        .await
    }

    async fn delete_profile_template(
        &self,
        request: Request<pb::TemplateId>,
    ) -> Result<Response<pb::TemplateId>, Status> {
        traced("DeleteProfileTemplate", request, |r| async move {
            Ok(pb::TemplateId {
                id: ops::templates::delete_profile_template(&self.store, r.id).await?,
            })
        })
        .await
    }

    async fn update_profile_template(
        &self,
        request: Request<pb::ProfileTemplateInput>,
    ) -> Result<Response<pb::ProfileTemplate>, Status> {
        traced("UpdateProfileTemplate", request, |r| {
            ops::templates::update_profile_template(&self.store, r)
        })
        .await
    }

    async fn profile_template_by_name(
        &self,
        request: Request<pb::TemplateName>,
    ) -> Result<Response<pb::ProfileTemplate>, Status> {
        traced("ProfileTemplateByName", request, |r| async move {
            ops::templates::profile_template(&self.store, &r.template_name).await
        })
        .await
    }

    async fn query_profile_template(
        &self,
        request: Request<pb::QueryProfileTemplateRequest>,
    ) -> Result<Response<pb::ProfileTemplateList>, Status> {
        traced("QueryProfileTemplate", request, |r| async move {
            Ok(pb::ProfileTemplateList {
                templates: ops::templates::query_profile_template(
                    &self.store,
                    &r.template_name,
                    &r.parents_name,
                )
                .await?,
            })
        })
        .await
    }

    async fn server_type_list(
        &self,
        request: Request<Empty>,
    ) -> Result<Response<pb::StringList>, Status> {
        traced("ServerTypeList", request, |_| async {
            Ok(pb::StringList {
                items: ops::dictionaries::server_type_list(),
            })
        })
        .await
    }

    async fn template_name_list(
        &self,
        request: Request<Empty>,
    ) -> Result<Response<pb::StringList>, Status> {
        traced("TemplateNameList", request, |_| async {
            Ok(pb::StringList {
                items: ops::dictionaries::template_name_list(&self.store).await?,
            })
        })
        .await
    }

    async fn cascade_select_server(
        &self,
        request: Request<pb::CascadeSelectRequest>,
    ) -> Result<Response<pb::StringList>, Status> {
        traced("CascadeSelectServer", request, |r| async move {
            Ok(pb::StringList {
                items: ops::dictionaries::cascade_select_server(&self.store, r).await?,
            })
        })
        .await
    }

    async fn load_server(
        &self,
        request: Request<pb::LoadServerRequest>,
    ) -> Result<Response<pb::LoadServerReply>, Status> {
        traced("LoadServer", request, |r| async move {
            Ok(pb::LoadServerReply {
                result: ops::node_calls::load_server(&self.store, &self.nodes, r).await?,
            })
        })
        .await
    }

    async fn send_command(
        &self,
        request: Request<pb::SendCommandRequest>,
    ) -> Result<Response<pb::SendCommandReply>, Status> {
        traced("SendCommand", request, |r| async move {
            Ok(pb::SendCommandReply {
                results: ops::node_calls::send_command(
                    &self.store,
                    &self.nodes,
                    &r.server_ids,
                    &r.command,
                )
                .await?,
            })
        })
        .await
    }

    async fn get_realtime_state(
        &self,
        request: Request<pb::ServerId>,
    ) -> Result<Response<pb::RealtimeState>, Status> {
        traced("GetRealtimeState", request, |r| async move {
            Ok(pb::RealtimeState {
                realtime_state: ops::node_calls::get_realtime_state(&self.store, &self.nodes, r.id)
                    .await?,
            })
        })
        .await
    }

    async fn add_config_file(
        &self,
        request: Request<pb::AddConfigFileRequest>,
    ) -> Result<Response<pb::ConfigFile>, Status> {
        traced("AddConfigFile", request, |r| {
            ops::config_files::add(&self.store, r, self.settings.config_file_max_bytes)
        })
        .await
    }

    async fn delete_config_file(
        &self,
        request: Request<pb::ConfigFileId>,
    ) -> Result<Response<pb::ConfigFileId>, Status> {
        traced("DeleteConfigFile", request, |r| async move {
            Ok(pb::ConfigFileId {
                id: ops::config_files::delete(&self.store, r.id).await?,
            })
        })
        .await
    }

    async fn update_config_file(
        &self,
        request: Request<pb::UpdateConfigFileRequest>,
    ) -> Result<Response<pb::ConfigFile>, Status> {
        traced("UpdateConfigFile", request, |r| {
            ops::config_files::update(&self.store, r, self.settings.config_file_max_bytes)
        })
        .await
    }

    async fn config_file_by_id(
        &self,
        request: Request<pb::ConfigFileId>,
    ) -> Result<Response<pb::ConfigFile>, Status> {
        traced("ConfigFileById", request, |r| async move {
            Ok(ops::config_files::config_file(
                ops::config_files::load(&self.store, r.id).await?,
            ))
        })
        .await
    }

    async fn config_file_list(
        &self,
        request: Request<pb::ConfigFileListRequest>,
    ) -> Result<Response<pb::ConfigFiles>, Status> {
        traced("ConfigFileList", request, |r| async move {
            Ok(pb::ConfigFiles {
                files: ops::config_files::list(&self.store, r).await?,
            })
        })
        .await
    }

    async fn node_config_file_list(
        &self,
        request: Request<pb::NodeConfigFileListRequest>,
    ) -> Result<Response<pb::ConfigFiles>, Status> {
        traced("NodeConfigFileList", request, |r| async move {
            Ok(pb::ConfigFiles {
                files: ops::config_files::node_list(&self.store, r).await?,
            })
        })
        .await
    }

    async fn config_file_history(
        &self,
        request: Request<pb::ConfigHistoryId>,
    ) -> Result<Response<pb::ConfigHistory>, Status> {
        traced("ConfigFileHistory", request, |r| async move {
            ops::config_files::history_record(&self.store, r.id).await
        })
        .await
    }

    async fn config_file_history_list(
        &self,
        request: Request<pb::ConfigHistoryListRequest>,
    ) -> Result<Response<pb::ConfigHistoryPage>, Status> {
        traced("ConfigFileHistoryList", request, |r| async move {
            let window = ops::paging::history(r.page.as_ref())?;
            ops::config_files::history_list(&self.store, r.config_id, Some(window)).await
        })
        .await
    }

    async fn add_config_ref(
        &self,
        request: Request<pb::AddConfigRefRequest>,
    ) -> Result<Response<pb::ConfigRef>, Status> {
        traced("AddConfigRef", request, |r| async move {
            ops::config_refs::add(&self.store, r.config_id, r.reference_id).await
        })
        .await
    }

    async fn delete_config_ref(
        &self,
        request: Request<pb::ConfigRefId>,
    ) -> Result<Response<pb::ConfigRefId>, Status> {
        traced("DeleteConfigRef", request, |r| async move {
            Ok(pb::ConfigRefId {
                id: ops::config_refs::delete(&self.store, r.id).await?,
            })
        })
        .await
    }

    async fn config_ref_list(
        &self,
        request: Request<pb::ConfigFileId>,
    ) -> Result<Response<pb::ConfigRefs>, Status> {
        traced("ConfigRefList", request, |r| async move {
            Ok(pb::ConfigRefs {
                refs: ops::config_refs::list(&self.store, r.id).await?,
            })
        })
        .await
    }

    async fn merged_node_config(
        &self,
        request: Request<pb::ConfigFileId>,
    ) -> Result<Response<pb::MergedConfig>, Status> {
        traced("MergedNodeConfig", request, |r| async move {
            Ok(pb::MergedConfig {
                config: ops::config_merge::merged_node_config(&self.store, r.id).await?,
            })
        })
        .await
    }

    async fn push_config_file(
        &self,
        request: Request<pb::PushConfigRequest>,
    ) -> Result<Response<pb::SendCommandReply>, Status> {
        traced("PushConfigFile", request, |r| async move {
            Ok(pb::SendCommandReply {
                results: ops::config_push::push(&self.store, &self.nodes, &r.ids).await?,
            })
        })
        .await
    }

    async fn add_package(
        &self,
        request: Request<pb::AddPackageRequest>,
    ) -> Result<Response<pb::Package>, Status> {
        traced("AddPackage", request, |r| {
            ops::packages::add(&self.store, r)
        })
        .await
    }

    async fn package_list(
        &self,
        request: Request<pb::PackageListRequest>,
    ) -> Result<Response<pb::PackagePage>, Status> {
        traced("PackageList", request, |r| async move {
            let window = ops::paging::history(r.page.as_ref())?;
            ops::packages::list(&self.store, &r.application, &r.module_name, Some(window)).await
        })
        .await
    }

    async fn expand_server_preview(
        &self,
        request: Request<pb::ExpandServerPreviewRequest>,
    ) -> Result<Response<pb::ExpandServerPreviewReply>, Status> {
        traced("ExpandServerPreview", request, |r| async move {
            Ok(pb::ExpandServerPreviewReply {
                servers: ops::expansion::preview(&self.store, r).await?,
            })
        })
        .await
    }

    async fn expand_server(
        &self,
        request: Request<pb::ExpandServerRequest>,
    ) -> Result<Response<pb::ServerConfList>, Status> {
        traced("ExpandServer", request, |r| async move {
            Ok(pb::ServerConfList {
                servers: ops::expansion::expand(&self.store, r).await?,
            })
        })
        .await
    }

    async fn auto_port(
        &self,
        request: Request<pb::AutoPortRequest>,
    ) -> Result<Response<pb::AutoPortReply>, Status> {
        traced("AutoPort", request, |r| async move {
            Ok(pb::AutoPortReply {
                ports: ops::ports::auto_port(&self.store, &r.node_names).await?,
            })
        })
        .await
    }

    async fn active_tokens(
        &self,
        request: Request<Empty>,
    ) -> Result<Response<pb::TokenList>, Status> {
        traced("ActiveTokens", request, |_| async {
            Ok(pb::TokenList {
                tokens: ops::tokens::active_tokens(&self.store).await?,
            })
        })
        .await
    }

    async fn lookup_token(
        &self,
        request: Request<pb::TokenHash>,
    ) -> Result<Response<pb::TokenLookupReply>, Status> {
        traced("LookupToken", request, |r| async move {
            Ok(pb::TokenLookupReply {
                token: ops::tokens::lookup_token(&self.store, &r.sha256_hex).await?,
            })
        })
        .await
    }
}
