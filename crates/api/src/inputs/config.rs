//! 服务配置: configuration files, their history and references.

use serde::Deserialize;
use tars_proto::deployer as pb;
use utoipa::ToSchema;

use super::page;
use crate::params::de::*;
use crate::{IntoRequest, ParamError};

/// A new file at application or set level (`level` 1-4) or server level (5).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"level": 5, "application": "Shop", "server_name": "Cart",
    "filename": "cart.conf", "config": "b=2"}))]
pub struct AddConfigFile {
    /// 1 application, 2 set name, 3 set area, 4 set group, 5 server.
    #[serde(deserialize_with = "required_int")]
    pub level: i64,
    /// The application the file belongs to, e.g. `Shop`.
    #[serde(deserialize_with = "required_text")]
    pub application: String,
    /// Level 5.
    #[serde(deserialize_with = "text")]
    pub server_name: Option<String>,
    /// Levels 2-4.
    #[serde(deserialize_with = "text")]
    pub set_name: Option<String>,
    /// The set's area: required at levels 3-4; at level 5 with the other two set fields for
    /// a file of the server's instances in that set.
    #[serde(deserialize_with = "text")]
    pub set_area: Option<String>,
    /// The set's group: required at level 4; at level 5 as `set_area`.
    #[serde(deserialize_with = "text")]
    pub set_group: Option<String>,
    /// The file's name as the server loads it, e.g. `cart.conf`; unique at its place.
    #[serde(deserialize_with = "required_text")]
    pub filename: String,
    /// The content, byte for byte; may be empty.
    #[serde(deserialize_with = "present_text")]
    pub config: String,
}

impl IntoRequest<pb::AddConfigFileRequest> for AddConfigFile {
    fn into_request(self, user: &str) -> Result<pb::AddConfigFileRequest, ParamError> {
        Ok(pb::AddConfigFileRequest {
            level: self.level,
            application: self.application,
            server_name: self.server_name.unwrap_or_default(),
            set_name: self.set_name.unwrap_or_default(),
            set_area: self.set_area.unwrap_or_default(),
            set_group: self.set_group.unwrap_or_default(),
            filename: self.filename,
            config: self.config,
            user: user.to_string(),
        })
    }
}

/// A file's new content and why it changed (kept in its history).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"id": 2, "config": "b=3", "reason": "tune"}))]
pub struct UpdateConfigFile {
    /// The file's id (`id` of config_file_list).
    #[serde(deserialize_with = "required_int")]
    pub id: i64,
    /// The new content, stored byte for byte; may be empty.
    #[serde(deserialize_with = "present_text")]
    pub config: String,
    /// Why it changed, kept in the file's history.
    #[serde(deserialize_with = "required_text")]
    pub reason: String,
}

impl IntoRequest<pb::UpdateConfigFileRequest> for UpdateConfigFile {
    fn into_request(self, user: &str) -> Result<pb::UpdateConfigFileRequest, ParamError> {
        Ok(pb::UpdateConfigFileRequest {
            id: self.id,
            config: self.config,
            reason: self.reason,
            user: user.to_string(),
        })
    }
}

/// One place in the tree: application (1), set name (2), set area (3), set group (4) or
/// server (5).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"level": 5, "application": "Shop", "server_name": "Cart"}))]
pub struct ConfigFileList {
    /// 1 application, 2 set name, 3 set area, 4 set group, 5 server.
    #[serde(deserialize_with = "required_int")]
    pub level: i64,
    /// The application, e.g. `Shop`.
    #[serde(deserialize_with = "required_text")]
    pub application: String,
    /// The server's name within the application; required at level 5.
    #[serde(deserialize_with = "text")]
    pub server_name: Option<String>,
    /// Absent set fields do not filter (level 5); levels 2-4 need theirs.
    #[serde(deserialize_with = "text")]
    pub set_name: Option<String>,
    /// The set's area: required at levels 3-4.
    #[serde(deserialize_with = "text")]
    pub set_area: Option<String>,
    /// The set's group: required at level 4.
    #[serde(deserialize_with = "text")]
    pub set_group: Option<String>,
}

impl IntoRequest<pb::ConfigFileListRequest> for ConfigFileList {
    fn into_request(self, _: &str) -> Result<pb::ConfigFileListRequest, ParamError> {
        Ok(pb::ConfigFileListRequest {
            level: self.level,
            application: self.application,
            server_name: self.server_name.unwrap_or_default(),
            set_name: self.set_name,
            set_area: self.set_area,
            set_group: self.set_group,
        })
    }
}

/// A server-level file (`config_id`) and, as TarsWeb requires, its application and
/// server, which must be the file's.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"config_id": 2, "application": "Shop", "server_name": "Cart"}))]
pub struct NodeConfigFileList {
    /// The server-level file's id (`id` of config_file_list at level 5).
    #[serde(deserialize_with = "required_int")]
    pub config_id: i64,
    /// The file's application; another is a 400.
    #[serde(deserialize_with = "required_text")]
    pub application: String,
    /// The file's server name; another is a 400.
    #[serde(deserialize_with = "required_text")]
    pub server_name: String,
    /// When given, must be the file's set name.
    #[serde(deserialize_with = "text")]
    pub set_name: Option<String>,
    /// When given, must be the file's set area.
    #[serde(deserialize_with = "text")]
    pub set_area: Option<String>,
    /// When given, must be the file's set group.
    #[serde(deserialize_with = "text")]
    pub set_group: Option<String>,
}

impl IntoRequest<pb::NodeConfigFileListRequest> for NodeConfigFileList {
    fn into_request(self, user: &str) -> Result<pb::NodeConfigFileListRequest, ParamError> {
        Ok(pb::NodeConfigFileListRequest {
            config_id: self.config_id,
            application: self.application,
            server_name: self.server_name,
            set_name: self.set_name,
            set_area: self.set_area,
            set_group: self.set_group,
            user: user.to_string(),
        })
    }
}

/// One file by `config_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"config_id": 2}))]
pub struct ByConfigId {
    /// The file's id (`id` of config_file_list).
    #[serde(deserialize_with = "required_int")]
    pub config_id: i64,
}

impl IntoRequest<pb::ConfigFileId> for ByConfigId {
    fn into_request(self, _: &str) -> Result<pb::ConfigFileId, ParamError> {
        Ok(pb::ConfigFileId { id: self.config_id })
    }
}

/// A file's history, and a page.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"config_id": 2}))]
pub struct ConfigFileHistoryList {
    /// The file's id (`id` of config_file_list).
    #[serde(deserialize_with = "required_int")]
    pub config_id: i64,
    /// 1-based page (also `cur_page`); absent: the first 20 rows.
    #[serde(deserialize_with = "int")]
    pub curr_page: Option<i64>,
    /// TarsWeb's name for `curr_page`.
    #[serde(deserialize_with = "int")]
    pub cur_page: Option<i64>,
    /// Rows per page, at most 1,000.
    #[serde(deserialize_with = "int")]
    pub page_size: Option<i64>,
}

impl IntoRequest<pb::ConfigHistoryListRequest> for ConfigFileHistoryList {
    fn into_request(self, _: &str) -> Result<pb::ConfigHistoryListRequest, ParamError> {
        Ok(pb::ConfigHistoryListRequest {
            config_id: self.config_id,
            page: page(self.curr_page, self.cur_page, self.page_size)?,
        })
    }
}

/// File `config_id` includes file `reference_id`, of a higher level of the application.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"config_id": 2, "reference_id": 1}))]
pub struct AddConfigRef {
    /// The including file's id: a server-level or node-level file.
    #[serde(deserialize_with = "required_int")]
    pub config_id: i64,
    /// The included file's id: a file of a higher level (application/set above server above
    /// node) of the same application.
    #[serde(deserialize_with = "required_int")]
    pub reference_id: i64,
}

impl IntoRequest<pb::AddConfigRefRequest> for AddConfigRef {
    fn into_request(self, _: &str) -> Result<pb::AddConfigRefRequest, ParamError> {
        Ok(pb::AddConfigRefRequest {
            config_id: self.config_id,
            reference_id: self.reference_id,
        })
    }
}

/// The files to push.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"ids": "2"}))]
pub struct PushConfigFile {
    /// File ids separated by `;` (or a list).
    #[serde(deserialize_with = "ids")]
    #[schema(value_type = String)]
    pub ids: Vec<i64>,
}

impl IntoRequest<pb::PushConfigRequest> for PushConfigFile {
    fn into_request(self, _: &str) -> Result<pb::PushConfigRequest, ParamError> {
        Ok(pb::PushConfigRequest { ids: self.ids })
    }
}
