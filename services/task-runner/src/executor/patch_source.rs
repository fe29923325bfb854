//! Where nodes download a package from, and getting it ready there: as AdminRegistry
//! does, the package is first copied by tarspatch's `preparePatchFile` to the path every
//! node downloads (`TARSBatchPatching/<App>/<Server>/<App>.<Server>.tgz`), then the node is
//! told which Patch servant to fetch it from.

use std::time::Duration;

use tars_protocol::client::ClientConfig;
use tars_protocol::endpoint::{parse_endpoint, parse_obj_proxy};
use tars_protocol::patch::PatchClient;
use tars_store::Store;

/// A Patch servant: the proxy string nodes are given and the address we call.
pub struct PatchSource {
    pub proxy: String,
    pub addr: String,
}

/// Resolves `patch_obj`: a full proxy string (`Obj@tcp -h H -p P`) is used as is; a bare
/// object name is looked up among the registered adapters, as tarsregistry would.
pub async fn resolve(store: &Store, patch_obj: &str) -> Result<PatchSource, String> {
    if patch_obj.contains('@') {
        let proxy = parse_obj_proxy(patch_obj)
            .map_err(|e| format!("TARS_PATCH_OBJ {patch_obj:?} is invalid: {e}"))?;
        let endpoint = proxy
            .endpoints
            .first()
            .ok_or_else(|| format!("TARS_PATCH_OBJ {patch_obj:?} names no endpoint"))?;
        return Ok(PatchSource {
            proxy: patch_obj.to_string(),
            addr: endpoint.socket_addr(),
        });
    }
    let endpoints = store
        .servant_endpoints(patch_obj)
        .await
        .map_err(|e| format!("cannot look up the patch servant {patch_obj}: {e}"))?;
    let endpoint = endpoints
        .iter()
        .find_map(|e| parse_endpoint(e).ok().map(|parsed| (e, parsed)))
        .ok_or_else(|| {
            format!(
                "the patch servant {patch_obj} is not registered (no adapter serves it); set \
                 TARS_PATCH_OBJ to `{patch_obj}@tcp -h <host> -p <port>`"
            )
        })?;
    Ok(PatchSource {
        proxy: format!("{patch_obj}@{}", endpoint.0),
        addr: endpoint.1.socket_addr(),
    })
}

/// Asks the Patch servant to put package `tgz` where the nodes download it.
pub async fn prepare(
    source: &PatchSource,
    application: &str,
    server_name: &str,
    tgz: &str,
    timeout: Duration,
) -> Result<(), String> {
    let client = PatchClient::new(
        source.addr.clone(),
        ClientConfig {
            call_timeout: timeout,
            ..ClientConfig::default()
        },
    );
    match client
        .prepare_patch_file(application, server_name, tgz, None)
        .await
    {
        Ok((0, _)) => Ok(()),
        Ok((ret, result)) => Err(format!(
            "the patch servant at {} could not prepare {tgz} (ret {ret}): {result}",
            source.addr
        )),
        Err(e) => Err(format!(
            "cannot reach the patch servant at {}: {e}",
            source.addr
        )),
    }
}
