//! Where nodes download a package from, and getting it ready there: as AdminRegistry
//! does, the package is first copied by tarspatch's `preparePatchFile` to the path every
//! node downloads (`TARSBatchPatching/<App>/<Server>/<App>.<Server>.tgz`), then the node is
//! told which Patch servant to fetch it from.

use std::time::Duration;

use tars_protocol::client::ClientConfig;
use tars_protocol::patch::PatchClient;
use tars_store::Store;

/// A Patch servant: the proxy string nodes are given and the address we call.
pub struct PatchSource {
    pub proxy: String,
    pub addr: String,
}

/// Resolves `patch_obj` (`TARS_PATCH_OBJ`): a full proxy string is used as is, a bare
/// object name is looked up among the registered adapters, as tarsregistry would.
pub async fn resolve(store: &Store, patch_obj: &str) -> Result<PatchSource, String> {
    let found = tars_nodes::servants::resolve(store, patch_obj, "TARS_PATCH_OBJ").await?;
    Ok(PatchSource {
        proxy: found.proxy,
        addr: found.addr,
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
