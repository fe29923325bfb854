//! 权限: roles and the audit log.

use serde::Deserialize;
use tars_proto::deployer as pb;
use utoipa::ToSchema;

use super::page;
use crate::params::de::*;
use crate::{IntoRequest, ParamError};

/// Which writes to show.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"application": "Shop", "page_size": 20}))]
pub struct AuditLog {
    /// Only this user's writes.
    #[serde(deserialize_with = "text")]
    pub user_name: Option<String>,
    /// Only writes to this application.
    #[serde(deserialize_with = "text")]
    pub application: Option<String>,
    /// Only calls of this endpoint (`deploy_server`).
    #[serde(deserialize_with = "text")]
    pub endpoint: Option<String>,
    /// From this time on, `YYYY-MM-DD HH:MM:SS` (or a date) inclusive.
    #[serde(deserialize_with = "text")]
    pub from: Option<String>,
    /// Up to this time, `YYYY-MM-DD HH:MM:SS` (or a date, meaning its end) inclusive.
    #[serde(deserialize_with = "text")]
    pub to: Option<String>,
    /// 1-based page (also `cur_page`); absent: the first 20 rows.
    #[serde(deserialize_with = "int")]
    pub curr_page: Option<i64>,
    /// TarsWeb's name for `curr_page`.
    #[serde(deserialize_with = "int")]
    pub cur_page: Option<i64>,
    /// Rows per page, at most 1,000; absent: 20.
    #[serde(deserialize_with = "int")]
    pub page_size: Option<i64>,
}

impl IntoRequest<pb::AuditLogRequest> for AuditLog {
    fn into_request(self, _: &str) -> Result<pb::AuditLogRequest, ParamError> {
        Ok(pb::AuditLogRequest {
            user_name: self.user_name.unwrap_or_default(),
            application: self.application.unwrap_or_default(),
            endpoint: self.endpoint.unwrap_or_default(),
            from: self.from.unwrap_or_default(),
            to: self.to.unwrap_or_default(),
            page: page(self.curr_page, self.cur_page, self.page_size)?,
        })
    }
}

/// A role on a flag, for a user.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"user_name": "alice", "role": "operator", "flag": "Shop"}))]
pub struct AuthGrant {
    /// The user (as `token create --user` named them).
    #[serde(deserialize_with = "required_text")]
    pub user_name: String,
    /// `developer` (reads), `operator` (reads and changes) or `admin` (everything).
    #[serde(deserialize_with = "required_text")]
    pub role: String,
    /// `App.Server`, `App` or `*`; omitted for admin.
    #[serde(deserialize_with = "text")]
    pub flag: Option<String>,
}

impl IntoRequest<pb::AuthGrantRequest> for AuthGrant {
    fn into_request(self, _: &str) -> Result<pb::AuthGrantRequest, ParamError> {
        Ok(pb::AuthGrantRequest {
            user_name: self.user_name,
            role: self.role,
            flag: self.flag.unwrap_or_default(),
        })
    }
}

/// Whose grants to list.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"user_name": "alice"}))]
pub struct AuthList {
    /// One user's grants; absent: everyone's.
    #[serde(deserialize_with = "text")]
    pub user_name: Option<String>,
}

impl IntoRequest<pb::AuthListRequest> for AuthList {
    fn into_request(self, _: &str) -> Result<pb::AuthListRequest, ParamError> {
        Ok(pb::AuthListRequest {
            user_name: self.user_name.unwrap_or_default(),
        })
    }
}
