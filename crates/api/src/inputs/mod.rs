//! What each endpoint takes: one declared type per endpoint (a few shared where the
//! document's parameters are the same), documented field by field, with the example the
//! OpenAPI document shows, and its translation into the backend's request.

mod auth;
mod config;
mod monitor;
mod resource;
mod servers;
mod tasks;

pub use auth::*;
pub use config::*;
pub use monitor::*;
pub use resource::*;
pub use servers::*;
pub use tasks::*;

use serde::Deserialize;
use tars_proto::common::{Empty, Page};
use tars_proto::deployer::{AdapterId, ServerId, TemplateId};
use tars_proto::deployer::{ConfigFileId, ConfigHistoryId, ConfigRefId};
use utoipa::ToSchema;

use crate::params::de::required_int;
use crate::{IntoRequest, ParamError};

/// No parameters.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NoInput {}

impl IntoRequest<Empty> for NoInput {
    fn into_request(self, _: &str) -> Result<Empty, ParamError> {
        Ok(Empty {})
    }
}

/// One entity by id.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"id": 1}))]
pub struct ById {
    /// The id, as the entity's lists show it.
    #[serde(deserialize_with = "required_int")]
    pub id: i64,
}

macro_rules! by_id {
    ($($request:ident),*) => {$(
        impl IntoRequest<$request> for ById {
            fn into_request(self, _: &str) -> Result<$request, ParamError> {
                Ok($request { id: self.id })
            }
        }
    )*};
}
by_id!(
    ServerId,
    AdapterId,
    ConfigFileId,
    ConfigHistoryId,
    ConfigRefId
);

/// One profile template by id (the defaults TARS ships are 1-6).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"id": 7}))]
pub struct ByTemplateId {
    /// The template's id, as query_profile_template shows it.
    #[serde(deserialize_with = "required_int")]
    pub id: i64,
}

impl IntoRequest<TemplateId> for ByTemplateId {
    fn into_request(self, _: &str) -> Result<TemplateId, ParamError> {
        Ok(TemplateId { id: self.id })
    }
}

/// The page of a history or fleet list: `curr_page` (TarsWeb's `cur_page` too, 1-based)
/// and `page_size`; absent or 0 is the list's default.
pub(crate) fn page(
    curr_page: Option<i64>,
    cur_page: Option<i64>,
    page_size: Option<i64>,
) -> Result<Option<Page>, ParamError> {
    let curr_page = curr_page.or(cur_page).unwrap_or(0);
    let page_size = page_size.unwrap_or(0);
    if curr_page < 0 {
        return Err(ParamError::new("curr_page", "must not be negative"));
    }
    if page_size < 0 {
        return Err(ParamError::new("page_size", "must not be negative"));
    }
    Ok(Some(Page {
        curr_page,
        page_size,
    }))
}
