//! TARS's `Patch` interface served from a package directory, as tarspatch serves its own:
//! nodes list and download `TARSBatchPatching/<App>/<Server>/<App>.<Server>.tgz`,
//! patch_tars prepares that file from an upload, and other gateways can upload into it.
//! Paths come from the network, so every one is checked to stay inside the directory.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};
use tars_protocol::patch::{FileContent, FileInfo, PatchDispatcher, PatchServant, PATCH_SERVANT};
use tars_protocol::server::{serve, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::layout::{batch_file, check_segment, upload_dir};

/// Bytes per `download` answer, as tarspatch's default.
const CHUNK: usize = 1 << 20;

/// Most files whose MD5 is remembered.
const MD5_CACHE_ENTRIES: usize = 4096;

/// A file's identity for the MD5 cache: its path, size and modification time.
type FileStamp = (PathBuf, u64, Option<std::time::SystemTime>);

/// The Patch interface over a package directory.
#[derive(Debug)]
pub struct DirPatchServant {
    root: PathBuf,
    /// Every node patching a server lists the same package: hash it once, not once per
    /// node (a 200 MiB package takes about half a second to hash).
    md5s: Mutex<HashMap<FileStamp, String>>,
}

impl DirPatchServant {
    /// Serves the package directory `root`.
    pub fn new(root: PathBuf) -> DirPatchServant {
        DirPatchServant {
            root,
            md5s: Mutex::new(HashMap::new()),
        }
    }

    /// A file's MD5, from the cache while the file is unchanged.
    async fn md5_of(&self, path: &Path, meta: &std::fs::Metadata) -> std::io::Result<String> {
        let stamp = (path.to_path_buf(), meta.len(), meta.modified().ok());
        if let Some(md5) = self.md5s.lock().expect("md5 cache poisoned").get(&stamp) {
            return Ok(md5.clone());
        }
        let md5 = md5_file(path).await?;
        let mut cache = self.md5s.lock().expect("md5 cache poisoned");
        if cache.len() >= MD5_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(stamp, md5.clone());
        Ok(md5)
    }

    async fn file_info(&self, path: &Path, shown_as: String) -> std::io::Result<FileInfo> {
        let meta = tokio::fs::metadata(path).await?;
        #[cfg(unix)]
        let can_exec = {
            use std::os::unix::fs::PermissionsExt;
            meta.permissions().mode() & 0o111 != 0
        };
        #[cfg(not(unix))]
        let can_exec = false;
        Ok(FileInfo {
            path: shown_as,
            size: i32::try_from(meta.len()).unwrap_or(i32::MAX),
            can_exec,
            md5: self.md5_of(path, &meta).await?,
        })
    }

    /// Every regular file below `dir`, with paths relative to it (leading `/`).
    async fn list_dir(&self, dir: &Path) -> std::io::Result<Vec<FileInfo>> {
        let mut found = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(current) = pending.pop() {
            let mut entries = tokio::fs::read_dir(&current).await?;
            while let Some(entry) = entries.next_entry().await? {
                let kind = entry.file_type().await?;
                if kind.is_dir() {
                    pending.push(entry.path());
                } else if kind.is_file() {
                    let path = entry.path();
                    let relative = path.strip_prefix(dir).unwrap_or(&path);
                    let shown = format!("/{}", relative.display());
                    found.push(self.file_info(&path, shown).await?);
                }
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    /// `path` below the root, or `None` when it tries to leave it.
    fn inside(&self, path: &str) -> Option<PathBuf> {
        let relative = path.trim_start_matches('/');
        if relative.split(['/', '\\']).any(|part| part == "..") || relative.contains('\0') {
            return None;
        }
        Some(self.root.join(relative))
    }
}

/// Serves the Patch interface for `root` on `listener` until `shutdown`.
///
/// # Errors
/// When the listener fails.
pub async fn serve_patch(
    listener: TcpListener,
    root: PathBuf,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let config = ServerConfig {
        servant_name: PATCH_SERVANT.to_string(),
        // An upload chunk is 1 MiB of content plus its framing.
        max_frame: 4 << 20,
    };
    serve(
        listener,
        config,
        Arc::new(PatchDispatcher(Arc::new(DirPatchServant::new(root)))),
        shutdown,
    )
    .await
}

/// Binds `addr` and serves the Patch interface for `root` in the background; answers the
/// proxy string nodes should download from (`tars.tarspatch.PatchObj@tcp -h H -p P`).
/// An unspecified bind address is advertised as 127.0.0.1: set `TARS_PATCH_OBJ` for
/// nodes on other machines.
///
/// # Errors
/// When `addr` cannot be bound.
pub async fn start_patch_servant(
    addr: std::net::SocketAddr,
    root: PathBuf,
    shutdown: CancellationToken,
) -> std::io::Result<String> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let host = if bound.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        bound.ip().to_string()
    };
    tokio::spawn(async move {
        if let Err(err) = serve_patch(listener, root, shutdown).await {
            tracing::error!(error = %err, "the Patch servant stopped");
        }
    });
    tracing::info!(%bound, "Patch servant serving the package directory");
    Ok(format!(
        "{PATCH_SERVANT}@tcp -h {host} -p {} -t 60000",
        bound.port()
    ))
}

/// MD5 of a file, lowercase hex, reading it in chunks.
async fn md5_file(path: &Path) -> std::io::Result<String> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

impl PatchServant for DirPatchServant {
    async fn list_file_info(&self, path: String) -> (i32, Vec<FileInfo>) {
        let Some(full) = self.inside(&path) else {
            return (-1, Vec::new());
        };
        match tokio::fs::metadata(&full).await {
            Ok(meta) if meta.is_dir() => match self.list_dir(&full).await {
                Ok(files) => (0, files),
                Err(_) => (-1, Vec::new()),
            },
            Ok(_) => {
                let name = full
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                match self.file_info(&full, name).await {
                    Ok(info) => (1, vec![info]),
                    Err(_) => (-1, Vec::new()),
                }
            }
            Err(_) => (-1, Vec::new()),
        }
    }

    async fn download(&self, file: String, pos: i32) -> (i32, Vec<u8>) {
        let Some(full) = self.inside(&file) else {
            return (-1, Vec::new());
        };
        let Ok(pos) = u64::try_from(pos) else {
            return (-2, Vec::new());
        };
        let Ok(mut f) = tokio::fs::File::open(&full).await else {
            return (-1, Vec::new());
        };
        if f.seek(SeekFrom::Start(pos)).await.is_err() {
            return (-2, Vec::new());
        }
        let mut buf = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match f.read(&mut buf[filled..]).await {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(_) => return (-3, Vec::new()),
            }
        }
        if filled == 0 {
            return (1, Vec::new());
        }
        buf.truncate(filled);
        (0, buf)
    }

    async fn prepare_patch_file(
        &self,
        app: String,
        server_name: String,
        patch_file: String,
    ) -> (i32, String) {
        let paths = upload_dir(&self.root, &app, &server_name).and_then(|dir| {
            check_segment("patch file", &patch_file)?;
            Ok((
                dir.join(&patch_file),
                batch_file(&self.root, &app, &server_name)?,
            ))
        });
        let (upload, batch) = match paths {
            Ok(p) => p,
            Err(err) => return (-1, err.to_string()),
        };
        if tokio::fs::metadata(&upload).await.is_err() {
            return (-1, format!("{} does not exist", upload.display()));
        }
        let Some(dir) = batch.parent() else {
            return (-2, "no directory for the batch file".into());
        };
        if let Err(err) = tokio::fs::create_dir_all(dir).await {
            return (-2, format!("mkdir {}: {err}", dir.display()));
        }
        // Link (or copy) to a temporary name, then rename: a node still downloading the
        // previous package keeps reading the file it opened. Uploaded packages are never
        // rewritten, so a hard link spares copying the whole package for every instance
        // patched; a copy is the fallback across file systems.
        let temp = dir.join(format!(".{}.{}", patch_file, rand::random::<u32>()));
        if tokio::fs::hard_link(&upload, &temp).await.is_err() {
            if let Err(err) = tokio::fs::copy(&upload, &temp).await {
                let _ = tokio::fs::remove_file(&temp).await;
                return (-3, format!("copy {}: {err}", upload.display()));
            }
        }
        if let Err(err) = tokio::fs::rename(&temp, &batch).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return (-3, format!("rename to {}: {err}", batch.display()));
        }
        (0, String::new())
    }

    async fn delete_patch_file(&self, app: String, server_name: String, patch_file: String) -> i32 {
        let Ok(dir) = upload_dir(&self.root, &app, &server_name) else {
            return -1;
        };
        if check_segment("patch file", &patch_file).is_err() {
            return -1;
        }
        match tokio::fs::remove_file(dir.join(patch_file)).await {
            Ok(()) => 0,
            Err(_) => -1,
        }
    }

    async fn upload(&self, app: String, server_name: String, content: FileContent) -> i32 {
        let Ok(dir) = upload_dir(&self.root, &app, &server_name) else {
            return -1;
        };
        if check_segment("file name", &content.name).is_err() {
            return -1;
        }
        if tokio::fs::create_dir_all(&dir).await.is_err() {
            return -1;
        }
        let path = dir.join(&content.name);
        if content.first_chunk
            && md5_file(&path)
                .await
                .is_ok_and(|md5| md5.eq_ignore_ascii_case(&content.md5))
        {
            return 1;
        }
        let opened = if content.first_chunk {
            // A new file, not a truncation: a prepared package may be a hard link to the
            // old one, and must keep its content.
            let _ = tokio::fs::remove_file(&path).await;
            tokio::fs::File::create(&path).await
        } else {
            tokio::fs::OpenOptions::new().append(true).open(&path).await
        };
        let Ok(mut file) = opened else {
            return -2;
        };
        if file.write_all(&content.content).await.is_err() || file.flush().await.is_err() {
            return -2;
        }
        if content.last_chunk {
            let _ = file.sync_all().await;
            match md5_file(&path).await {
                Ok(md5) if md5.eq_ignore_ascii_case(&content.md5) => {}
                _ => {
                    let _ = tokio::fs::remove_file(&path).await;
                    return -3;
                }
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_prepared_packages_and_refuses_paths_outside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let servant = DirPatchServant::new(root.path().to_path_buf());
        let upload = root.path().join("tars.upload/Shop/Cart");
        std::fs::create_dir_all(&upload).unwrap();
        let bytes: Vec<u8> = (0..(CHUNK + 10)).map(|i| (i % 251) as u8).collect();
        std::fs::write(upload.join("p1.tgz"), &bytes).unwrap();

        assert_eq!(
            servant
                .prepare_patch_file("Shop".into(), "Cart".into(), "p1.tgz".into())
                .await,
            (0, String::new())
        );
        let remote = "/TARSBatchPatching/Shop/Cart/Shop.Cart.tgz".to_string();
        let (ret, files) = servant.list_file_info(remote.clone()).await;
        assert_eq!(ret, 1);
        assert_eq!(files[0].path, "Shop.Cart.tgz");
        assert_eq!(files[0].size as usize, bytes.len());
        assert_eq!(files[0].md5, hex::encode(Md5::digest(&bytes)));

        let mut got = Vec::new();
        loop {
            let (ret, chunk) = servant.download(remote.clone(), got.len() as i32).await;
            if ret == 1 {
                break;
            }
            assert_eq!(ret, 0);
            got.extend(chunk);
        }
        assert_eq!(got, bytes);

        assert_eq!(servant.list_file_info("/../etc".into()).await.0, -1);
        assert_eq!(servant.download("/a/../../x".into(), 0).await.0, -1);
        assert_eq!(
            servant
                .prepare_patch_file("Shop".into(), "Cart".into(), "../../x".into())
                .await
                .0,
            -1
        );
        assert_eq!(
            servant
                .prepare_patch_file("Shop".into(), "Cart".into(), "missing.tgz".into())
                .await
                .0,
            -1
        );
        let (ret, listed) = servant.list_file_info("/tars.upload".into()).await;
        assert_eq!(ret, 0);
        assert_eq!(listed[0].path, "/Shop/Cart/p1.tgz");

        // A newer package prepared in its place is hashed again, not served from the cache.
        std::fs::write(upload.join("p2.tgz"), b"version two").unwrap();
        servant
            .prepare_patch_file("Shop".into(), "Cart".into(), "p2.tgz".into())
            .await;
        let (_, files) = servant.list_file_info(remote).await;
        assert_eq!(files[0].md5, hex::encode(Md5::digest(b"version two")));
    }

    #[tokio::test]
    async fn uploads_arrive_in_chunks_and_are_checked() {
        let root = tempfile::tempdir().unwrap();
        let servant = DirPatchServant::new(root.path().to_path_buf());
        let md5 = hex::encode(Md5::digest(b"hello tars"));
        let chunk = |first, last, content: &[u8], md5: &str| FileContent {
            md5: md5.to_string(),
            name: "p.tgz".into(),
            first_chunk: first,
            last_chunk: last,
            content: content.to_vec(),
        };
        let up = |c| servant.upload("Shop".into(), "Cart".into(), c);
        assert_eq!(up(chunk(true, false, b"hello ", &md5)).await, 0);
        assert_eq!(up(chunk(false, true, b"tars", &md5)).await, 0);
        let path = root.path().join("tars.upload/Shop/Cart/p.tgz");
        assert_eq!(std::fs::read(&path).unwrap(), b"hello tars");
        // The same file again is recognised at the first chunk.
        assert_eq!(up(chunk(true, false, b"hello ", &md5)).await, 1);
        // A wrong MD5 at the end removes the file.
        let wrong = "0".repeat(32);
        assert_eq!(up(chunk(true, true, b"other", &wrong)).await, -3);
        assert!(!path.exists());
    }
}
