//! 任务管理, 发布包 and 模板: tasks (the task-runner), packages and profile templates.

use std::fmt;

use serde::de::{Error, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use tars_proto::deployer as pb;
use tars_proto::task_runner as tr;
use utoipa::ToSchema;

use super::page;
use crate::params::de::*;
use crate::{IntoRequest, ParamError};

/// A task: items run one after another (`serial`, stopping at the first failure) or in
/// parallel.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"serial": true, "items": [
    {"server_id": 1, "command": "start", "parameters": {}}]}))]
pub struct AddTask {
    /// At most 10,000; one per server instance.
    #[serde(deserialize_with = "required")]
    pub items: Vec<AddTaskItem>,
    /// Run the items one after another, stopping at the first failure (the rest are
    /// cancelled); default false: all at once.
    #[serde(deserialize_with = "flag")]
    pub serial: Option<bool>,
}

/// One command for one server instance.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddTaskItem {
    /// patch_tars and grace_patch_tars need all three; other commands none.
    #[serde(deserialize_with = "task_parameters")]
    pub parameters: Option<TaskParameters>,
    /// The instance acted on (`id` of server_list).
    #[serde(deserialize_with = "required_int")]
    pub server_id: i64,
    /// start, stop, restart, grace_restart, patch_tars, grace_patch_tars, undeploy_tars.
    #[serde(deserialize_with = "required_text")]
    pub command: String,
}

/// An item's parameters, as given (unset fields were not).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct TaskParameters {
    /// The package to install (server_patch_list).
    #[serde(default, deserialize_with = "package_id")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_id: Option<i64>,
    /// A backup instance is patched but not restarted.
    #[serde(default, deserialize_with = "flag")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bak_flag: Option<bool>,
    /// A note on the release, kept with the item (publishing sends the package's comment).
    #[serde(default, deserialize_with = "text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_text: Option<String>,
}

fn package_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    int(d).map_err(|_| D::Error::custom("must be a package id (an integer)"))
}

/// `parameters`: an object, or absent (blank text too, as TarsWeb's forms send it).
fn task_parameters<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TaskParameters>, D::Error> {
    struct Parameters;
    impl<'de> Visitor<'de> for Parameters {
        type Value = Option<TaskParameters>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("must be an object")
        }

        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_str<E: Error>(self, s: &str) -> Result<Self::Value, E> {
            if s.trim().is_empty() {
                Ok(None)
            } else {
                Err(E::custom("must be an object"))
            }
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            TaskParameters::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(A::Error::custom("must be an object"))
        }

        fn visit_bool<E: Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(E::custom("must be an object"))
        }

        fn visit_i64<E: Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(E::custom("must be an object"))
        }

        fn visit_u64<E: Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(E::custom("must be an object"))
        }

        fn visit_f64<E: Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(E::custom("must be an object"))
        }
    }
    d.deserialize_any(Parameters)
}

impl From<TaskParameters> for tr::TaskParameters {
    fn from(p: TaskParameters) -> tr::TaskParameters {
        tr::TaskParameters {
            patch_id: p.patch_id,
            bak_flag: p.bak_flag,
            update_text: p.update_text,
        }
    }
}

impl From<tr::TaskParameters> for TaskParameters {
    fn from(p: tr::TaskParameters) -> TaskParameters {
        TaskParameters {
            patch_id: p.patch_id,
            bak_flag: p.bak_flag,
            update_text: p.update_text,
        }
    }
}

impl IntoRequest<tr::AddTaskRequest> for AddTask {
    fn into_request(self, user: &str) -> Result<tr::AddTaskRequest, ParamError> {
        let items = self
            .items
            .into_iter()
            .map(|item| tr::AddTaskItem {
                server_id: item.server_id,
                command: item.command,
                parameters: item.parameters.map(Into::into),
            })
            .collect();
        Ok(tr::AddTaskRequest {
            serial: self.serial.unwrap_or(false),
            items,
            user: user.to_string(),
        })
    }
}

/// One task by number.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"task_no": "019a1b2c3d4e5f60a1b2"}))]
pub struct TaskNo {
    /// As add_task answered it.
    #[serde(deserialize_with = "required_text")]
    pub task_no: String,
}

impl IntoRequest<tr::TaskNo> for TaskNo {
    fn into_request(self, _: &str) -> Result<tr::TaskNo, ParamError> {
        Ok(tr::TaskNo {
            task_no: self.task_no,
        })
    }
}

/// Filters (all optional) and a page.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"application": "Shop", "page_size": 5}))]
pub struct TaskList {
    /// Only tasks with an item of this application.
    #[serde(deserialize_with = "text")]
    pub application: Option<String>,
    /// Only tasks with an item of a server of this name.
    #[serde(deserialize_with = "text")]
    pub server_name: Option<String>,
    /// Only tasks with an item of this command (`start`, `patch_tars` …).
    #[serde(deserialize_with = "text")]
    pub command: Option<String>,
    /// Created at or after: `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`.
    #[serde(deserialize_with = "text")]
    pub from: Option<String>,
    /// Created at or before (a date alone: the whole day).
    #[serde(deserialize_with = "text")]
    pub to: Option<String>,
    /// 1-based page (also `cur_page`); absent: the newest 20.
    #[serde(deserialize_with = "int")]
    pub curr_page: Option<i64>,
    /// TarsWeb's name for `curr_page`.
    #[serde(deserialize_with = "int")]
    pub cur_page: Option<i64>,
    /// Rows per page, at most 1,000.
    #[serde(deserialize_with = "int")]
    pub page_size: Option<i64>,
}

impl IntoRequest<tr::TaskListRequest> for TaskList {
    fn into_request(self, _: &str) -> Result<tr::TaskListRequest, ParamError> {
        Ok(tr::TaskListRequest {
            page: page(self.curr_page, self.cur_page, self.page_size)?,
            application: self.application.unwrap_or_default(),
            server_name: self.server_name.unwrap_or_default(),
            command: self.command.unwrap_or_default(),
            from: self.from.unwrap_or_default(),
            to: self.to.unwrap_or_default(),
        })
    }
}

/// A server's packages (`application`.`module_name`), and a page.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"application": "Shop", "module_name": "Cart"}))]
pub struct ServerPatchList {
    /// The server's application, e.g. `Shop`.
    #[serde(deserialize_with = "required_text")]
    pub application: String,
    /// The server's name.
    #[serde(deserialize_with = "required_text")]
    pub module_name: String,
    /// 1-based page (also `cur_page`); absent: the newest 20.
    #[serde(deserialize_with = "int")]
    pub curr_page: Option<i64>,
    /// TarsWeb's name for `curr_page`.
    #[serde(deserialize_with = "int")]
    pub cur_page: Option<i64>,
    /// Rows per page, at most 1,000.
    #[serde(deserialize_with = "int")]
    pub page_size: Option<i64>,
}

impl IntoRequest<pb::PackageListRequest> for ServerPatchList {
    fn into_request(self, _: &str) -> Result<pb::PackageListRequest, ParamError> {
        Ok(pb::PackageListRequest {
            page: page(self.curr_page, self.cur_page, self.page_size)?,
            application: self.application,
            module_name: self.module_name,
        })
    }
}

/// A package upload (`multipart/form-data`): the file in `suse`, as TarsWeb names it.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"suse": "@Cart.tgz", "application": "Shop", "module_name": "Cart",
    "comment": "release 1"}))]
pub struct UploadPatchPackage {
    /// The package (`-F suse=@file.tgz`).
    #[schema(format = Binary)]
    pub suse: String,
    /// Letters, digits, `_` and `-`.
    pub application: String,
    /// The server's name: letters, digits, `_` and `-`.
    pub module_name: String,
    /// A note on the release, listed as the package's `comment` in server_patch_list.
    pub comment: Option<String>,
    /// The file's MD5 (any case); a mismatch is refused and nothing is kept.
    pub md5: Option<String>,
}

/// A package to upload and publish (`multipart/form-data`), as the API document's curl
/// line sends it.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"suse": "@Cart.tgz", "application": "Shop", "module_name": "Cart",
    "comment": "developer-auto-upload"}))]
pub struct UploadAndPublish {
    /// The package (`-F suse=@file.tgz`).
    #[schema(format = Binary)]
    pub suse: String,
    /// The server's application: letters, digits, `_` and `-`.
    pub application: String,
    /// The server's name: letters, digits, `_` and `-`.
    pub module_name: String,
    /// A note on the release, stored with the package.
    pub comment: Option<String>,
    /// `1`: patch every instance, not only the active ones.
    pub restart: Option<String>,
}

/// A new template under an existing parent.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"template_name": "shop.base", "parents_name": "tars.default",
    "profile": "<tars>\n</tars>"}))]
pub struct AddProfileTemplate {
    /// The new template's name, unique (e.g. `shop.base`).
    #[serde(deserialize_with = "required_text")]
    pub template_name: String,
    /// The existing template it inherits from (e.g. `tars.default`); its values are
    /// overridden by this one's.
    #[serde(deserialize_with = "required_text")]
    pub parents_name: String,
    /// The template's text, TARS configuration syntax (`<tars> … </tars>`).
    #[serde(deserialize_with = "required_text")]
    pub profile: String,
}

impl IntoRequest<pb::ProfileTemplateInput> for AddProfileTemplate {
    fn into_request(self, user: &str) -> Result<pb::ProfileTemplateInput, ParamError> {
        Ok(pb::ProfileTemplateInput {
            id: 0,
            template_name: self.template_name,
            parents_name: self.parents_name,
            profile: self.profile,
            user: user.to_string(),
        })
    }
}

/// A template's new name, parent and body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"id": 7, "template_name": "shop.base",
    "parents_name": "tars.default", "profile": "<tars>\n<x>1</x>\n</tars>"}))]
pub struct UpdateProfileTemplate {
    /// The template's id (`id` of query_profile_template).
    #[serde(deserialize_with = "required_int")]
    pub id: i64,
    /// Its name; renaming a template that servers use is refused.
    #[serde(deserialize_with = "required_text")]
    pub template_name: String,
    /// The template it inherits from; one that would make a cycle is refused.
    #[serde(deserialize_with = "required_text")]
    pub parents_name: String,
    /// The template's text, TARS configuration syntax.
    #[serde(deserialize_with = "required_text")]
    pub profile: String,
}

impl IntoRequest<pb::ProfileTemplateInput> for UpdateProfileTemplate {
    fn into_request(self, user: &str) -> Result<pb::ProfileTemplateInput, ParamError> {
        Ok(pb::ProfileTemplateInput {
            id: self.id,
            template_name: self.template_name,
            parents_name: self.parents_name,
            profile: self.profile,
            user: user.to_string(),
        })
    }
}

/// One template by name.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"template_name": "shop.base"}))]
pub struct ProfileTemplateByName {
    /// The template's name, e.g. `tars.cpp.default`.
    #[serde(deserialize_with = "required_text")]
    pub template_name: String,
}

impl IntoRequest<pb::TemplateName> for ProfileTemplateByName {
    fn into_request(self, _: &str) -> Result<pb::TemplateName, ParamError> {
        Ok(pb::TemplateName {
            template_name: self.template_name,
        })
    }
}

/// Fragments the name and the parent contain (both optional).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"template_name": "shop"}))]
pub struct QueryProfileTemplate {
    /// A part of the name to look for; absent matches every name.
    #[serde(deserialize_with = "text")]
    pub template_name: Option<String>,
    /// A part of the parent's name to look for; absent matches every parent.
    #[serde(deserialize_with = "text")]
    pub parents_name: Option<String>,
}

impl IntoRequest<pb::QueryProfileTemplateRequest> for QueryProfileTemplate {
    fn into_request(self, _: &str) -> Result<pb::QueryProfileTemplateRequest, ParamError> {
        Ok(pb::QueryProfileTemplateRequest {
            template_name: self.template_name.unwrap_or_default(),
            parents_name: self.parents_name.unwrap_or_default(),
        })
    }
}
