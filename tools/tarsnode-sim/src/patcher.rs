//! The background half of patchPro: fetching the release package from the patch server
//! the request names, the way tarsnode does with an empty ostype, and judging it against
//! the request's md5. Each chunk goes into the hash as it arrives and is dropped, so a
//! package is never held whole.

use md5::{Digest, Md5};
use tars_protocol::client::ClientConfig;
use tars_protocol::endpoint::parse_obj_proxy;
use tars_protocol::node::{PatchInfo, PatchRequest};
use tars_protocol::patch::PatchClient;

/// The result text of a patch that succeeded (tarsnode's wording).
pub const PATCH_SUCC: &str = "patch succ";

/// What a patch's download came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The remote path asked of the patch server.
    pub file: String,
    /// Bytes received.
    pub bytes: u64,
    /// Lowercase hex MD5 of the whole file; empty when it did not all arrive.
    pub md5: String,
    /// Whether it all arrived and matched the request's md5.
    pub ok: bool,
    /// [`PATCH_SUCC`], or why the patch failed.
    pub result: String,
    /// Progress reached: 100 once the whole file arrived.
    pub percent: i32,
}

impl Outcome {
    /// The final progress of the patch of `request`, as getPatchPercent reports it.
    pub fn patch_info(&self, request: &PatchRequest, modify_time: i32) -> PatchInfo {
        PatchInfo {
            patching: false,
            percent: self.percent,
            modify_time,
            version: request.version.clone(),
            result: self.result.clone(),
            succ: self.ok,
        }
    }
}

/// Where tarspatch keeps the package of the request's server (or group, when named):
/// `/TARSBatchPatching/<app>/<S>/<app>.<S>.tgz`.
pub fn remote_file(request: &PatchRequest) -> String {
    let server = if request.groupname.is_empty() {
        &request.servername
    } else {
        &request.groupname
    };
    let app = &request.appname;
    format!("/TARSBatchPatching/{app}/{server}/{app}.{server}.tgz")
}

/// Progress while downloading: never 100 before the end is confirmed.
fn percent(bytes: u64, size: i32) -> i32 {
    match u64::try_from(size) {
        Ok(size) if size > 0 => (bytes.saturating_mul(100) / size).min(99) as i32,
        _ => 0,
    }
}

/// Downloads the package of `request`, reporting the percent reached after each chunk.
pub async fn run(request: &PatchRequest, config: ClientConfig, progress: impl Fn(i32)) -> Outcome {
    let mut outcome = Outcome {
        file: remote_file(request),
        bytes: 0,
        md5: String::new(),
        ok: false,
        result: String::new(),
        percent: 0,
    };
    match fetch(request, config, &mut outcome, progress).await {
        Err(reason) => outcome.result = reason,
        Ok(md5) => {
            outcome.percent = 100;
            outcome.ok = md5.eq_ignore_ascii_case(&request.md5);
            outcome.result = if outcome.ok {
                PATCH_SUCC.to_string()
            } else {
                format!("md5 mismatch: expected {}, downloaded {md5}", request.md5)
            };
            outcome.md5 = md5;
        }
    }
    outcome
}

/// Lists then downloads `outcome.file`, counting bytes into `outcome`; the MD5 when the
/// end of the file was reached, else why not.
async fn fetch(
    request: &PatchRequest,
    config: ClientConfig,
    outcome: &mut Outcome,
    progress: impl Fn(i32),
) -> Result<String, String> {
    let proxy = parse_obj_proxy(&request.patchobj)
        .map_err(|e| format!("patchobj {:?} has no endpoint: {e}", request.patchobj))?;
    // Parsing guarantees one endpoint at least; tarsnode would pick any of them.
    let client = PatchClient::new(proxy.endpoints[0].socket_addr(), config);
    let file = outcome.file.clone();
    let (ret, files) = client
        .list_file_info(&file, None)
        .await
        .map_err(|e| format!("listFileInfo {file} failed: {e}"))?;
    if ret != 1 {
        return Err(format!(
            "{file} is not a file (listFileInfo returned {ret})"
        ));
    }
    let size = files
        .first()
        .ok_or_else(|| format!("{file} not exist"))?
        .size;
    let mut hasher = Md5::new();
    loop {
        let pos = i32::try_from(outcome.bytes)
            .map_err(|_| format!("{file} is larger than download positions reach"))?;
        let (ret, chunk) = client
            .download(&file, pos, None)
            .await
            .map_err(|e| format!("download {file} at {pos} failed: {e}"))?;
        match ret {
            1 => return Ok(format!("{:x}", hasher.finalize())),
            // tarsnode fails a write of nothing; looping on it would never end.
            0 if chunk.is_empty() => {
                return Err(format!("download {file} at {pos} returned no data"))
            }
            0 => {
                hasher.update(&chunk);
                outcome.bytes += chunk.len() as u64;
                outcome.percent = percent(outcome.bytes, size);
                progress(outcome.percent);
            }
            _ => return Err(format!("{file} download from patch error {ret} at {pos}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_names_the_package_when_given() {
        let mut request = PatchRequest {
            appname: "App".into(),
            servername: "Srv".into(),
            ..PatchRequest::default()
        };
        assert_eq!(
            remote_file(&request),
            "/TARSBatchPatching/App/Srv/App.Srv.tgz"
        );
        request.groupname = "Grp".into();
        assert_eq!(
            remote_file(&request),
            "/TARSBatchPatching/App/Grp/App.Grp.tgz"
        );
    }

    #[test]
    fn percent_stays_below_100_until_the_end() {
        assert_eq!(percent(0, 100), 0);
        assert_eq!(percent(50, 100), 50);
        assert_eq!(percent(100, 100), 99);
        assert_eq!(percent(500, 100), 99);
        assert_eq!(percent(10, 0), 0);
        assert_eq!(percent(10, -1), 0);
    }
}
