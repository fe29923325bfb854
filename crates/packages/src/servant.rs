//! TARS's `Patch` interface served from a package directory, as tarspatch serves its own:
//! nodes list and download `TARSBatchPatching/<App>/<Server>/<App>.<Server>.tgz`,
//! patch_tars prepares that file from an upload, and other gateways can upload into it.
//!
//! Trust: anyone who can reach the port may list and download (nodes need nothing
//! else); the writing methods (`upload`, `preparePatchFile`, `deletePatchFile`) are
//! answered only for peers in the writers' allow-list (`TARS_PATCH_WRITERS`, loopback by
//! default) — others get iRet -99 (TARSSERVERUNKNOWNERR, TARS has no permission code)
//! with "no permission" in sResultDesc, and a warning naming the peer and the method.
//!
//! Paths come from the network, so every one is checked to stay inside the directory,
//! and hidden names (a leading `.`, as temporary files have) are never served. Uploads
//! are spooled outside the served directory and published only once complete and
//! checked against their MD5, never over an existing package.

use std::collections::HashMap;
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use md5::{Digest, Md5};
use tars_protocol::packet::ret;
use tars_protocol::patch::{FileContent, FileInfo, PatchDispatcher, PatchServant, PATCH_SERVANT};
use tars_protocol::server::{serve, Call, DispatchError, Servant, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::PatchServantConfig;
use crate::layout::{batch_file, check_segment, upload_dir};
use crate::publish::{publish_new, remove_quietly, Published};
use crate::writers::Writers;

/// Bytes per `download` answer, as tarspatch's default.
const CHUNK: usize = 1 << 20;

/// Most files whose MD5 is remembered.
const MD5_CACHE_ENTRIES: usize = 4096;

/// Largest request: an upload chunk is 1 MiB of content plus its framing.
const MAX_FRAME: usize = 4 << 20;

/// Answers one connection may have waiting to be sent (each up to 1 MiB).
const MAX_QUEUED_ANSWERS: usize = 4;

/// The methods only writers may call.
const WRITING_METHODS: [&str; 3] = ["upload", "preparePatchFile", "deletePatchFile"];

/// Return values of `upload`.
pub mod upload_ret {
    /// The chunk was stored; after the last chunk, the package is published.
    pub const STORED: i32 = 0;
    /// A package of that name and MD5 is there already: nothing more to send.
    pub const ALREADY_THERE: i32 = 1;
    /// The application, server, file name or MD5 cannot be used.
    pub const BAD_REQUEST: i32 = -1;
    /// The disk failed.
    pub const STORAGE_FAILED: i32 = -2;
    /// The complete upload does not have the announced MD5; it was discarded.
    pub const MD5_MISMATCH: i32 = -3;
    /// A different package of that name exists; packages are never replaced.
    pub const EXISTS_DIFFERENT: i32 = -4;
    /// A chunk other than the first, with no upload of that file and MD5 in progress.
    pub const NOT_STARTED: i32 = -5;
}

/// A file's identity for the MD5 cache: its path, size and modification time.
type FileStamp = (PathBuf, u64, Option<std::time::SystemTime>);

/// The Patch interface over a package directory.
#[derive(Debug)]
pub struct DirPatchServant {
    root: PathBuf,
    /// Uploads through `Patch.upload` in progress, outside `root`.
    uploads: PathBuf,
    /// Every node patching a server lists the same package: hash it once, not once per
    /// node (a 200 MiB package takes about half a second to hash).
    md5s: Mutex<HashMap<FileStamp, String>>,
    /// One lock per upload in progress, so its chunks are applied one at a time.
    upload_locks: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
}

impl DirPatchServant {
    /// Serves the package directory `root`; uploads are spooled in `staging`, which
    /// must lie outside `root`.
    pub fn new(root: PathBuf, staging: PathBuf) -> DirPatchServant {
        DirPatchServant {
            root,
            uploads: staging.join("patch-uploads"),
            md5s: Mutex::new(HashMap::new()),
            upload_locks: Mutex::new(HashMap::new()),
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

    /// Every regular file below `dir` but hidden ones, with paths relative to it
    /// (leading `/`).
    async fn list_dir(&self, dir: &Path) -> std::io::Result<Vec<FileInfo>> {
        let mut found = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(current) = pending.pop() {
            let mut entries = tokio::fs::read_dir(&current).await?;
            while let Some(entry) = entries.next_entry().await? {
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
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

    /// `path` below the root, or `None` when it tries to leave it or names something
    /// hidden (`..`, `.`, temporary files).
    fn inside(&self, path: &str) -> Option<PathBuf> {
        let relative = path.trim_start_matches('/');
        if relative
            .split(['/', '\\'])
            .any(|part| part.starts_with('.'))
            || relative.contains('\0')
        {
            return None;
        }
        Some(self.root.join(relative))
    }

    /// The MD5 of what is published at `path`, `None` when nothing is.
    async fn published_md5(&self, path: &Path) -> std::io::Result<Option<String>> {
        match tokio::fs::metadata(path).await {
            Ok(meta) if meta.is_file() => self.md5_of(path, &meta).await.map(Some),
            // A directory in the way: not the package either.
            Ok(_) => Ok(Some(String::new())),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The lock of the upload spooled at `staged`.
    fn upload_lock(&self, staged: &Path) -> Arc<tokio::sync::Mutex<()>> {
        self.upload_locks
            .lock()
            .expect("upload locks poisoned")
            .entry(staged.to_path_buf())
            .or_default()
            .clone()
    }

    /// Forgets the lock of `staged` once nobody else holds or waits for it.
    fn release_upload_lock(&self, staged: &Path, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut locks = self.upload_locks.lock().expect("upload locks poisoned");
        // Ours and the map's: no other call has it.
        if Arc::strong_count(&lock) == 2 {
            locks.remove(staged);
        }
    }

    /// One chunk of an upload, with the upload's lock held.
    async fn upload_chunk(
        &self,
        dest: &Path,
        staged: &Path,
        md5: &str,
        content: FileContent,
    ) -> i32 {
        use upload_ret::*;
        let opened = if content.first_chunk {
            match self.published_md5(dest).await {
                Ok(Some(existing)) if existing == md5 => {
                    remove_quietly(staged).await;
                    return ALREADY_THERE;
                }
                Ok(Some(_)) => {
                    tracing::warn!(package = %dest.display(), "Patch: refused an upload over an existing package with other content");
                    return EXISTS_DIFFERENT;
                }
                Ok(None) => {}
                Err(_) => return STORAGE_FAILED,
            }
            if let Some(dir) = staged.parent() {
                if tokio::fs::create_dir_all(dir).await.is_err() {
                    return STORAGE_FAILED;
                }
            }
            // The spool file is private to this upload: starting again truncates it.
            tokio::fs::File::create(staged).await
        } else {
            // Appended where the spooled upload ends; never to a published package.
            match tokio::fs::OpenOptions::new()
                .append(true)
                .open(staged)
                .await
            {
                Err(err) if err.kind() == ErrorKind::NotFound => return NOT_STARTED,
                other => other,
            }
        };
        let Ok(mut file) = opened else {
            return STORAGE_FAILED;
        };
        if file.write_all(&content.content).await.is_err() || file.flush().await.is_err() {
            return STORAGE_FAILED;
        }
        if !content.last_chunk {
            return STORED;
        }
        if file.sync_all().await.is_err() {
            return STORAGE_FAILED;
        }
        drop(file);
        match md5_file(staged).await {
            Ok(actual) if actual == md5 => {}
            Ok(_) => {
                remove_quietly(staged).await;
                return MD5_MISMATCH;
            }
            Err(_) => {
                remove_quietly(staged).await;
                return STORAGE_FAILED;
            }
        }
        if let Some(dir) = dest.parent() {
            if tokio::fs::create_dir_all(dir).await.is_err() {
                return STORAGE_FAILED;
            }
        }
        let outcome = match publish_new(staged, dest).await {
            // The spooled file became the package.
            Ok(Published::Created) => return STORED,
            // Published meanwhile by another upload: the same content is fine.
            Ok(Published::Exists) => match self.published_md5(dest).await {
                Ok(Some(existing)) if existing == md5 => STORED,
                Ok(_) => EXISTS_DIFFERENT,
                Err(_) => STORAGE_FAILED,
            },
            Err(_) => STORAGE_FAILED,
        };
        remove_quietly(staged).await;
        outcome
    }
}

/// The Patch servant with its access rule: [`DirPatchServant`] behind the writers'
/// allow-list.
pub struct PatchService {
    writers: Writers,
    patch: PatchDispatcher<DirPatchServant>,
}

impl PatchService {
    /// `servant`, whose writing methods only `writers` may call.
    pub fn new(servant: DirPatchServant, writers: Writers) -> PatchService {
        PatchService {
            writers,
            patch: PatchDispatcher(Arc::new(servant)),
        }
    }
}

impl Servant for PatchService {
    async fn dispatch(&self, call: Call) -> Result<Bytes, DispatchError> {
        if WRITING_METHODS.contains(&call.func.as_str()) {
            if !self.writers.allows(call.peer.ip()) {
                tracing::warn!(
                    peer = %call.peer,
                    method = %call.func,
                    writers = %self.writers,
                    "Patch: refused a writing call from a peer not in TARS_PATCH_WRITERS"
                );
                return Err(DispatchError::Refused {
                    ret: ret::SERVER_UNKNOWN_ERR,
                    desc: format!(
                        "no permission: {} may not call {} on this Patch servant \
                         (allowed writers: TARS_PATCH_WRITERS)",
                        call.peer.ip(),
                        call.func
                    ),
                });
            }
            tracing::debug!(peer = %call.peer, method = %call.func, "Patch: writing call");
        }
        self.patch.dispatch(call).await
    }
}

/// The server settings of the Patch servant.
fn server_config(config: &PatchServantConfig) -> ServerConfig {
    ServerConfig {
        max_frame: MAX_FRAME,
        max_connections: config.settings.max_connections,
        max_calls_per_connection: config.settings.max_calls_per_connection,
        max_queued_answers: MAX_QUEUED_ANSWERS,
        idle_timeout: config.settings.idle_timeout,
        ..ServerConfig::new(PATCH_SERVANT)
    }
}

/// Serves the Patch interface on `listener` until `shutdown`, answering the writing
/// methods only for `config.settings.writers`.
///
/// # Errors
/// When serving fails.
pub async fn serve_patch(
    listener: TcpListener,
    config: PatchServantConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let servant = DirPatchServant::new(config.root.clone(), config.staging.clone());
    serve(
        listener,
        server_config(&config),
        Arc::new(PatchService::new(servant, config.settings.writers.clone())),
        shutdown,
    )
    .await
}

/// Binds `addr` and serves the Patch interface for `config.root` in the background;
/// answers the proxy string nodes should download from
/// (`tars.tarspatch.PatchObj@tcp -h H -p P`). An unspecified bind address is advertised
/// as 127.0.0.1: set `TARS_PATCH_OBJ` for nodes on other machines.
///
/// # Errors
/// When `addr` cannot be bound.
pub async fn start_patch_servant(
    addr: std::net::SocketAddr,
    config: PatchServantConfig,
    shutdown: CancellationToken,
) -> std::io::Result<String> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let host = if bound.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        bound.ip().to_string()
    };
    tracing::info!(
        %bound,
        root = %config.root.display(),
        writers = %config.settings.writers,
        max_connections = config.settings.max_connections,
        max_calls_per_connection = config.settings.max_calls_per_connection,
        idle_timeout_ms = config.settings.idle_timeout.as_millis() as u64,
        "Patch servant serving the package directory"
    );
    tokio::spawn(async move {
        if let Err(err) = serve_patch(listener, config, shutdown).await {
            tracing::error!(error = %err, "the Patch servant stopped");
        }
    });
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
        // A node downloads a package chunk by chunk; its first chunk marks the download
        // (one span per download, not per chunk). tarsnode sends no trace context, so
        // these are traces of their own, found by the file name.
        if pos == 0 {
            tracing::info_span!("patch_download", file = %file).in_scope(|| {
                tracing::info!(file = %file, "package download started");
            });
        }
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
        tars_metrics::patch_download(filled, pos == 0);
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
        // Link (or copy) to a hidden temporary name, then rename: a node still
        // downloading the previous package keeps reading the file it opened, and the
        // temporary name is never served. Published packages are never rewritten (uploads
        // do not replace them), so a hard link spares copying the whole package for every
        // instance patched; a copy is the fallback across file systems.
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

    /// Chunks are spooled outside the served directory (keyed by app, server, file name
    /// and MD5); a chunk after the first is appended where the spooled upload ends; after
    /// the last, the whole upload is checked against the MD5 and published under its name
    /// only if nothing is there yet (the same content again is accepted, other content
    /// refused). A published package is never shortened, appended to or replaced.
    async fn upload(&self, app: String, server_name: String, content: FileContent) -> i32 {
        let md5 = content.md5.trim().to_ascii_lowercase();
        let Ok(dir) = upload_dir(&self.root, &app, &server_name) else {
            return upload_ret::BAD_REQUEST;
        };
        if check_segment("file name", &content.name).is_err()
            || md5.len() != 32
            || !md5.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return upload_ret::BAD_REQUEST;
        }
        let dest = dir.join(&content.name);
        let staged = self
            .uploads
            .join(&app)
            .join(&server_name)
            .join(format!("{}.{md5}.part", content.name));
        let lock = self.upload_lock(&staged);
        let ret = {
            let _guard = lock.lock().await;
            self.upload_chunk(&dest, &staged, &md5, content).await
        };
        self.release_upload_lock(&staged, lock);
        ret
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A servant over `<tmp>/patchs`, spooling uploads in `<tmp>/patchs.staging`.
    fn servant(tmp: &tempfile::TempDir) -> (DirPatchServant, PathBuf) {
        let root = tmp.path().join("patchs");
        std::fs::create_dir_all(&root).unwrap();
        (
            DirPatchServant::new(root.clone(), tmp.path().join("patchs.staging")),
            root,
        )
    }

    #[tokio::test]
    async fn serves_prepared_packages_and_refuses_paths_outside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let (servant, root) = servant(&tmp);
        let upload = root.join("tars.upload/Shop/Cart");
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
        // Hidden names (temporary files) are neither served nor listed.
        let batch_dir = root.join("TARSBatchPatching/Shop/Cart");
        std::fs::write(batch_dir.join(".Shop.Cart.tgz.123"), b"half written").unwrap();
        assert_eq!(
            servant
                .download("/TARSBatchPatching/Shop/Cart/.Shop.Cart.tgz.123".into(), 0)
                .await
                .0,
            -1
        );
        let (_, listed) = servant.list_file_info("/TARSBatchPatching".into()).await;
        assert_eq!(
            listed.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["/Shop/Cart/Shop.Cart.tgz"]
        );
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
    async fn uploads_are_spooled_checked_and_never_replace_a_package() {
        let tmp = tempfile::tempdir().unwrap();
        let (servant, root) = servant(&tmp);
        let md5 = hex::encode(Md5::digest(b"hello tars"));
        let chunk = |first, last, content: &[u8], md5: &str| FileContent {
            md5: md5.to_string(),
            name: "p.tgz".into(),
            first_chunk: first,
            last_chunk: last,
            content: content.to_vec(),
        };
        let up = |c| servant.upload("Shop".into(), "Cart".into(), c);
        let path = root.join("tars.upload/Shop/Cart/p.tgz");

        // A chunk that continues nothing is refused, and creates nothing.
        assert_eq!(
            up(chunk(false, false, b"x", &md5)).await,
            upload_ret::NOT_STARTED
        );
        assert_eq!(up(chunk(true, false, b"hello ", &md5)).await, 0);
        assert!(
            !path.exists(),
            "nothing is visible before the upload is complete"
        );
        let (_, listed) = servant.list_file_info("/".into()).await;
        assert!(listed.is_empty(), "{listed:?}");
        assert_eq!(up(chunk(false, true, b"tars", &md5)).await, 0);
        assert_eq!(std::fs::read(&path).unwrap(), b"hello tars");
        assert_eq!(
            std::fs::read_dir(tmp.path().join("patchs.staging/patch-uploads/Shop/Cart"))
                .unwrap()
                .count(),
            0,
            "the spool file became the package"
        );

        // The same file again is recognised at the first chunk.
        assert_eq!(up(chunk(true, false, b"hello ", &md5)).await, 1);
        // A chunk after the package was published appends nothing to it.
        assert_eq!(
            up(chunk(false, true, b"!!", &md5)).await,
            upload_ret::NOT_STARTED
        );
        // Other content under the same name is refused, first chunk or not.
        let other = hex::encode(Md5::digest(b"other"));
        assert_eq!(
            up(chunk(true, true, b"other", &other)).await,
            upload_ret::EXISTS_DIFFERENT
        );
        // A wrong MD5 discards the upload and leaves the package alone.
        let wrong = "0".repeat(32);
        assert_eq!(
            up(chunk(true, true, b"other", &wrong)).await,
            upload_ret::EXISTS_DIFFERENT
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"hello tars");

        // A new name with a wrong MD5: refused at the end, nothing published or left.
        let mut bad = chunk(true, true, b"bytes", &wrong);
        bad.name = "q.tgz".into();
        assert_eq!(
            servant.upload("Shop".into(), "Cart".into(), bad).await,
            upload_ret::MD5_MISMATCH
        );
        assert!(!root.join("tars.upload/Shop/Cart/q.tgz").exists());
        assert_eq!(
            std::fs::read_dir(tmp.path().join("patchs.staging/patch-uploads/Shop/Cart"))
                .unwrap()
                .count(),
            0
        );
        // Names and MD5s that cannot be used.
        let mut hidden = chunk(true, true, b"x", &md5);
        hidden.name = ".p.tgz".into();
        assert_eq!(
            servant.upload("Shop".into(), "Cart".into(), hidden).await,
            upload_ret::BAD_REQUEST
        );
        assert_eq!(
            up(chunk(true, true, b"x", "../../etc")).await,
            upload_ret::BAD_REQUEST
        );
    }
}
