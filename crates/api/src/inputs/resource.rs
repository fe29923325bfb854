//! 资源: the machines to install tarsnode on or remove it from.

use std::net::IpAddr;

use serde::Deserialize;
use tars_proto::deployer as pb;
use utoipa::ToSchema;

use crate::params::de::*;
use crate::{IntoRequest, ParamError};

/// The most machines one request may name; more is a 400 (split the request).
pub const MAX_MACHINES: usize = 100;

/// IP literals separated by `;` (or a list), checked here so a bad one is a 400 before
/// any machine is contacted; nothing else can reach a remote shell.
fn machines<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    use serde::de::Error;
    let ips = texts(d)?;
    if ips.is_empty() {
        return Err(D::Error::custom(
            "is required: machine IPs (IPv4 or IPv6) separated by `;`",
        ));
    }
    if ips.len() > MAX_MACHINES {
        return Err(D::Error::custom(format!(
            "names {} machines; at most {MAX_MACHINES} per request, split it",
            ips.len()
        )));
    }
    for ip in &ips {
        if ip.parse::<IpAddr>().is_err() {
            return Err(D::Error::custom(format!(
                "{ip:?} is not an IPv4 or IPv6 address; give machines by IP, separated by `;`"
            )));
        }
    }
    Ok(ips)
}

/// The machines to install tarsnode on.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"ips": "10.0.0.8"}))]
pub struct InstallTarsNode {
    /// Machine IPs (IPv4 or IPv6 literals) separated by `;`, or a list; at most 100.
    #[serde(deserialize_with = "machines")]
    pub ips: Vec<String>,
    /// Reinstall on machines where a node is installed and answering (otherwise they
    /// answer "already installed"). Default false.
    #[serde(deserialize_with = "flag")]
    pub force: Option<bool>,
}

impl IntoRequest<pb::InstallTarsNodeRequest> for InstallTarsNode {
    fn into_request(self, user: &str) -> Result<pb::InstallTarsNodeRequest, ParamError> {
        Ok(pb::InstallTarsNodeRequest {
            ips: self.ips,
            force: self.force.unwrap_or(false),
            user: user.to_string(),
        })
    }
}

/// The machines to remove tarsnode from.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"ips": "10.0.0.8"}))]
pub struct UninstallTarsNode {
    /// Machine IPs (IPv4 or IPv6 literals) separated by `;`, or a list; at most 100.
    /// Refused (409, nothing done) while any of them holds deployed servers.
    #[serde(deserialize_with = "machines")]
    pub ips: Vec<String>,
}

impl IntoRequest<pb::UninstallTarsNodeRequest> for UninstallTarsNode {
    fn into_request(self, user: &str) -> Result<pb::UninstallTarsNodeRequest, ParamError> {
        Ok(pb::UninstallTarsNodeRequest {
            ips: self.ips,
            user: user.to_string(),
        })
    }
}
