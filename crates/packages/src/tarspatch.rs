//! The tarspatch store: packages uploaded through TARS's `Patch.upload` to a tarspatch
//! (a real one, or another platform's Patch servant), for gateways that do not share a
//! disk with the patch server. The upload is staged locally first, because every chunk
//! carries the whole file's MD5.

use std::path::PathBuf;
use std::time::Duration;

use tars_protocol::client::ClientConfig;
use tars_protocol::endpoint::parse_obj_proxy;
use tars_protocol::patch::{FileContent, PatchClient};
use tokio::io::AsyncReadExt;

use crate::servant::upload_ret;
use crate::{PackageError, PackageResult, Staged};

/// Content bytes per `upload` call, as TarsWeb sends them.
const CHUNK: usize = 1 << 20;
/// Deadline of one Patch call, as tarsnode allows its downloads.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A remote tarspatch.
#[derive(Debug)]
pub struct TarspatchStore {
    client: PatchClient,
    staging: PathBuf,
}

impl TarspatchStore {
    /// The tarspatch at `patch_obj` (`tars.tarspatch.PatchObj@tcp -h H -p P`), staging
    /// uploads in `staging`.
    ///
    /// # Errors
    /// When `patch_obj` names no endpoint.
    pub fn new(patch_obj: &str, staging: PathBuf) -> Result<TarspatchStore, String> {
        let proxy = parse_obj_proxy(patch_obj).map_err(|e| e.to_string())?;
        let endpoint = proxy
            .endpoints
            .first()
            .ok_or_else(|| format!("{patch_obj:?} names no endpoint"))?;
        let config = ClientConfig {
            call_timeout: CALL_TIMEOUT,
            ..ClientConfig::default()
        };
        Ok(TarspatchStore {
            client: PatchClient::new(endpoint.socket_addr(), config),
            staging,
        })
    }

    /// Where uploads are spooled.
    pub fn staging_dir(&self) -> PathBuf {
        self.staging.clone()
    }

    fn remote(&self, what: &str, detail: impl std::fmt::Display) -> PackageError {
        PackageError::Remote(format!("{what} at {}: {detail}", self.client.addr()))
    }

    /// Uploads the staged file as `name` in 1 MiB chunks; the staged file is deleted after.
    pub async fn keep(
        &self,
        application: &str,
        server_name: &str,
        name: &str,
        staged: Staged,
    ) -> PackageResult<()> {
        let mut file = tokio::fs::File::open(staged.path()).await?;
        let mut sent: u64 = 0;
        let mut first = true;
        loop {
            let mut buf = vec![0u8; CHUNK];
            let mut filled = 0;
            while filled < CHUNK {
                let n = file.read(&mut buf[filled..]).await?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            buf.truncate(filled);
            sent += filled as u64;
            let last = sent >= staged.size;
            let content = FileContent {
                md5: staged.md5.clone(),
                name: name.to_string(),
                first_chunk: first,
                last_chunk: last,
                content: buf,
            };
            let ret = self
                .client
                .upload(application, server_name, &content, None)
                .await
                .map_err(|e| self.remote("upload", e))?;
            match ret {
                // Already there with that MD5: nothing more to send.
                upload_ret::ALREADY_THERE => return Ok(()),
                upload_ret::STORED if last => return Ok(()),
                upload_ret::STORED => {}
                upload_ret::MD5_MISMATCH => {
                    return Err(self.remote("upload", "the MD5 did not match after the last chunk"))
                }
                upload_ret::EXISTS_DIFFERENT => {
                    return Err(self.remote(
                        "upload",
                        format!("a different package named {name} is there already"),
                    ))
                }
                upload_ret::NOT_STARTED => {
                    return Err(self.remote(
                        "upload",
                        "the patch server has no upload in progress to continue",
                    ))
                }
                other => return Err(self.remote("upload", format!("refused with {other}"))),
            }
            first = false;
        }
    }

    /// Asks the tarspatch to delete package `name`; best effort.
    pub async fn discard(&self, application: &str, server_name: &str, name: &str) {
        if let Err(err) = self
            .client
            .delete_patch_file(application, server_name, name, None)
            .await
        {
            tracing::warn!(package = name, error = %err, "cannot delete a package on tarspatch");
        }
    }
}
