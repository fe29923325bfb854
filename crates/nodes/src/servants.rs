//! Where a TARS framework servant (tarspatch, tarsquerystat, tarsqueryproperty …) is
//! reached, configured as tarsregistry users configure it: a full proxy string
//! (`Obj@tcp -h H -p P [-t ms]`) is used as it is; a bare servant name is looked up among
//! the registered adapters (`t_adapter_conf`), as the registry would answer it.

use tars_protocol::endpoint::{parse_endpoint, parse_obj_proxy};
use tars_store::Store;

/// A resolved servant: its name, the proxy string to hand to others, the address to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServantAddr {
    /// The servant's name, e.g. `tars.tarspatch.PatchObj`.
    pub servant: String,
    /// `servant@endpoint` as configured, or built from the first registered endpoint that
    /// parses; what a tarsnode is given (e.g. `PatchRequest::patchobj`) so it needs no
    /// registry lookup.
    pub proxy: String,
    /// `host:port` of the first endpoint, where this process calls the servant.
    pub addr: String,
}

/// Resolves `obj`, configured by `variable` (named in every error, so the operator knows
/// what to set).
///
/// # Errors
/// An unparsable proxy, a registry lookup that failed, or a name no adapter serves.
pub async fn resolve(store: &Store, obj: &str, variable: &str) -> Result<ServantAddr, String> {
    if let Some((servant, _)) = obj.split_once('@') {
        let proxy =
            parse_obj_proxy(obj).map_err(|e| format!("{variable} {obj:?} is invalid: {e}"))?;
        let endpoint = proxy
            .endpoints
            .first()
            .ok_or_else(|| format!("{variable} {obj:?} names no endpoint"))?;
        return Ok(ServantAddr {
            servant: servant.trim().to_string(),
            proxy: obj.to_string(),
            addr: endpoint.socket_addr(),
        });
    }
    let endpoints = store.servant_endpoints(obj).await.map_err(|e| {
        format!("cannot look up {obj} ({variable}) among the registered adapters: {e}")
    })?;
    let (text, endpoint) = endpoints
        .iter()
        .find_map(|e| parse_endpoint(e).ok().map(|parsed| (e, parsed)))
        .ok_or_else(|| {
            format!(
                "{obj} is not registered (no adapter serves it); set {variable} to \
                 `{obj}@tcp -h <host> -p <port>`"
            )
        })?;
    Ok(ServantAddr {
        servant: obj.to_string(),
        proxy: format!("{obj}@{text}"),
        addr: endpoint.socket_addr(),
    })
}
