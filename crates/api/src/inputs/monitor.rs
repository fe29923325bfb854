//! 监控: the comparison queries over TARS's call statistics and business properties.
//! Filters are SQL LIKE patterns (`%`, `_`), passed to the query servers as data.

use serde::Deserialize;
use tars_proto::monitor as mon;
use utoipa::ToSchema;

use crate::params::de::text;
use crate::{IntoRequest, ParamError};

/// Call statistics of `thedate` beside `predate`, filtered, by time point or by a column.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"thedate": "20261201", "predate": "20261130", "group_by": "master_name"}))]
pub struct TarsstatQuery {
    /// The day shown, `YYYYMMDD`; absent: today.
    #[serde(deserialize_with = "text")]
    pub thedate: Option<String>,
    /// The day compared with, `YYYYMMDD`; absent: the day before `thedate`.
    #[serde(deserialize_with = "text")]
    pub predate: Option<String>,
    /// First time point, `HHMM`; absent: 0000.
    #[serde(deserialize_with = "text")]
    pub startshowtime: Option<String>,
    /// Last time point, `HHMM` (up to 2360); absent: 2360.
    #[serde(deserialize_with = "text")]
    pub endshowtime: Option<String>,
    /// Caller (`App.Server`), a LIKE pattern.
    #[serde(deserialize_with = "text")]
    pub master_name: Option<String>,
    /// Callee (`App.Server`), a LIKE pattern.
    #[serde(deserialize_with = "text")]
    pub slave_name: Option<String>,
    /// Interface (function) called, a LIKE pattern.
    #[serde(deserialize_with = "text")]
    pub interface_name: Option<String>,
    /// Caller's address, a LIKE pattern.
    #[serde(deserialize_with = "text")]
    pub master_ip: Option<String>,
    /// Callee's address, a LIKE pattern.
    #[serde(deserialize_with = "text")]
    pub slave_ip: Option<String>,
    /// One of f_date, f_tflag, master_name, slave_name, interface_name, master_ip,
    /// slave_ip; absent: one row per time point.
    #[serde(deserialize_with = "text")]
    pub group_by: Option<String>,
}

impl IntoRequest<mon::StatQuery> for TarsstatQuery {
    fn into_request(self, _: &str) -> Result<mon::StatQuery, ParamError> {
        Ok(mon::StatQuery {
            thedate: self.thedate.unwrap_or_default(),
            predate: self.predate.unwrap_or_default(),
            startshowtime: self.startshowtime.unwrap_or_default(),
            endshowtime: self.endshowtime.unwrap_or_default(),
            master_name: self.master_name.unwrap_or_default(),
            slave_name: self.slave_name.unwrap_or_default(),
            interface_name: self.interface_name.unwrap_or_default(),
            master_ip: self.master_ip.unwrap_or_default(),
            slave_ip: self.slave_ip.unwrap_or_default(),
            group_by: self.group_by.unwrap_or_default(),
        })
    }
}

/// Business properties of `thedate` beside `predate`, filtered, by time point or by a
/// column.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"thedate": "20261201", "predate": "20261130", "property_name": "queue_size", "group_by": "policy"}))]
pub struct TarspropertyQuery {
    /// The day shown, `YYYYMMDD`; absent: today.
    #[serde(deserialize_with = "text")]
    pub thedate: Option<String>,
    /// The day compared with, `YYYYMMDD`; absent: the day before `thedate`.
    #[serde(deserialize_with = "text")]
    pub predate: Option<String>,
    /// First time point, `HHMM`; absent: 0000.
    #[serde(deserialize_with = "text")]
    pub startshowtime: Option<String>,
    /// Last time point, `HHMM` (up to 2360); absent: 2360.
    #[serde(deserialize_with = "text")]
    pub endshowtime: Option<String>,
    /// Reporting server (`App.Server`), a LIKE pattern.
    #[serde(deserialize_with = "text")]
    pub master_name: Option<String>,
    /// Reporting address, a LIKE pattern.
    #[serde(deserialize_with = "text")]
    pub master_ip: Option<String>,
    /// Property, a LIKE pattern.
    #[serde(deserialize_with = "text")]
    pub property_name: Option<String>,
    /// Policy (Sum, Avg, Max, Min, Count, Distr …), a LIKE pattern.
    #[serde(deserialize_with = "text")]
    pub policy: Option<String>,
    /// One of f_date, f_tflag, master_name, master_ip, property_name, policy; absent: one
    /// row per time point.
    #[serde(deserialize_with = "text")]
    pub group_by: Option<String>,
}

impl IntoRequest<mon::PropertyQuery> for TarspropertyQuery {
    fn into_request(self, _: &str) -> Result<mon::PropertyQuery, ParamError> {
        Ok(mon::PropertyQuery {
            thedate: self.thedate.unwrap_or_default(),
            predate: self.predate.unwrap_or_default(),
            startshowtime: self.startshowtime.unwrap_or_default(),
            endshowtime: self.endshowtime.unwrap_or_default(),
            master_name: self.master_name.unwrap_or_default(),
            master_ip: self.master_ip.unwrap_or_default(),
            property_name: self.property_name.unwrap_or_default(),
            policy: self.policy.unwrap_or_default(),
            group_by: self.group_by.unwrap_or_default(),
        })
    }
}
