//! The tarspatch `Patch` interface (`framework/Patch.tars`) and its structs: a typed
//! client (what a node uses to fetch a release package), and a servant trait with the
//! dispatcher that serves it (used by tests and the node simulator's tests).
//!
//! Parameter tags are 1-based positions over in- and out-params together; the return
//! value is tag 0. Answers always carry the return value and every out-param.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::client::{ClientConfig, Reply, ServantClient};
use crate::codec::{Field, Reader, TarsStruct, Writer};
use crate::node::{answer, check_out, malformed};
use crate::packet::{ParamsWriter, VERSION_TARS};
use crate::server::{Call, DispatchError, Servant};
use crate::{struct_field, CallError, DecodeError};

/// The servant name tarspatch serves the interface under.
pub const PATCH_SERVANT: &str = "tars.tarspatch.PatchObj";

/// The chunk tarspatch answers `download` with by default (its `<size>` setting, 1M).
pub const DEFAULT_CHUNK: usize = 1024 * 1024;

/// `FileInfo`: one file under a listed path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileInfo {
    /// Relative to the listed path (for a file: its name).
    pub path: String,
    /// Size in bytes.
    pub size: i32,
    /// Whether the file is executable (any of its execute bits is set).
    pub can_exec: bool,
    /// Hex MD5 of the content; optional on the wire.
    pub md5: String,
}

impl TarsStruct for FileInfo {
    fn write_fields(&self, w: &mut Writer) {
        self.path.write(w, 0);
        self.size.write(w, 1);
        self.can_exec.write(w, 2);
        self.md5.write(w, 3);
    }
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FileInfo {
            path: r.required(0)?,
            size: r.required(1)?,
            can_exec: r.required(2)?,
            md5: r.optional(3, String::new())?,
        })
    }
}

/// `FileContent`: one chunk of an uploaded file, sent in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileContent {
    /// MD5 of the whole file, checked after the last chunk.
    pub md5: String,
    /// File name in the upload directory of the app and server.
    pub name: String,
    /// Truncates the file before writing.
    pub first_chunk: bool,
    /// Triggers the MD5 check.
    pub last_chunk: bool,
    /// `vector<byte>`: a simple list on the wire.
    pub content: Vec<u8>,
}

impl TarsStruct for FileContent {
    fn write_fields(&self, w: &mut Writer) {
        self.md5.write(w, 0);
        self.name.write(w, 1);
        self.first_chunk.write(w, 2);
        self.last_chunk.write(w, 3);
        w.write_bytes(4, &self.content);
    }
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FileContent {
            md5: r.required(0)?,
            name: r.required(1)?,
            first_chunk: r.required(2)?,
            last_chunk: r.required(3)?,
            // Read as `Bytes` (simple list, or a list of 1-byte integers) and handed over
            // without a copy: the buffer is not shared yet.
            content: Vec::from(r.required::<Bytes>(4)?),
        })
    }
}

struct_field!(FileInfo, FileContent);

/// A client of one tarspatch.
#[derive(Debug)]
pub struct PatchClient {
    client: ServantClient,
    version: i16,
}

impl PatchClient {
    /// A client of the patch server at `addr` (`host:port`), speaking the TARS layout.
    pub fn new(addr: impl Into<String>, config: ClientConfig) -> PatchClient {
        PatchClient::with_version(addr, config, VERSION_TARS)
    }

    /// The same, speaking `version` (1 TARS, 3 TUP).
    pub fn with_version(
        addr: impl Into<String>,
        config: ClientConfig,
        version: i16,
    ) -> PatchClient {
        PatchClient {
            client: ServantClient::new(addr, PATCH_SERVANT, config),
            version,
        }
    }

    /// The patch server's address.
    pub fn addr(&self) -> &str {
        self.client.addr()
    }

    async fn call(
        &self,
        func: &str,
        params: ParamsWriter,
        timeout: Option<Duration>,
    ) -> Result<Reply, CallError> {
        self.client
            .invoke(func, self.version, params.finish(), timeout)
            .await
    }

    fn app_server_file(&self, app: &str, server_name: &str, patch_file: &str) -> ParamsWriter {
        let mut p = ParamsWriter::new(self.version);
        p.put(1, "app", &app.to_string())
            .put(2, "serverName", &server_name.to_string())
            .put(3, "patchFile", &patch_file.to_string());
        p
    }

    /// `listFileInfo`: 0 and the files below when `path` is a directory, 1 and the file
    /// itself when it is a file, -1 for a path holding `..`.
    pub async fn list_file_info(
        &self,
        path: &str,
        timeout: Option<Duration>,
    ) -> Result<(i32, Vec<FileInfo>), CallError> {
        let mut p = ParamsWriter::new(self.version);
        p.put(1, "path", &path.to_string());
        let reply = self.call("listFileInfo", p, timeout).await?;
        let m = malformed(self.addr());
        Ok((
            reply.params.required(0, "").map_err(&m)?,
            reply.params.required(2, "vf").map_err(&m)?,
        ))
    }

    /// `download`: the chunk of `file` from `pos`; 0 with data, 1 at the end of the file
    /// (no data), below 0 on failure.
    pub async fn download(
        &self,
        file: &str,
        pos: i32,
        timeout: Option<Duration>,
    ) -> Result<(i32, Vec<u8>), CallError> {
        let mut p = ParamsWriter::new(self.version);
        p.put(1, "file", &file.to_string()).put(2, "pos", &pos);
        let reply = self.call("download", p, timeout).await?;
        let m = malformed(self.addr());
        let ret = reply.params.required(0, "").map_err(&m)?;
        let data: Bytes = reply.params.required(3, "vb").map_err(&m)?;
        Ok((ret, Vec::from(data)))
    }

    /// `preparePatchFile`: copies an uploaded file to where nodes download it from.
    pub async fn prepare_patch_file(
        &self,
        app: &str,
        server_name: &str,
        patch_file: &str,
        timeout: Option<Duration>,
    ) -> Result<(i32, String), CallError> {
        let p = self.app_server_file(app, server_name, patch_file);
        let reply = self.call("preparePatchFile", p, timeout).await?;
        let m = malformed(self.addr());
        Ok((
            reply.params.required(0, "").map_err(&m)?,
            reply.params.required(4, "result").map_err(&m)?,
        ))
    }

    /// `deletePatchFile`: removes an uploaded file.
    pub async fn delete_patch_file(
        &self,
        app: &str,
        server_name: &str,
        patch_file: &str,
        timeout: Option<Duration>,
    ) -> Result<i32, CallError> {
        let p = self.app_server_file(app, server_name, patch_file);
        let reply = self.call("deletePatchFile", p, timeout).await?;
        reply.params.required(0, "").map_err(malformed(self.addr()))
    }

    /// `upload`: one chunk of a file; 0 stored, 1 already there with that MD5, below 0
    /// on failure (-3: MD5 mismatch after the last chunk).
    pub async fn upload(
        &self,
        app: &str,
        server_name: &str,
        content: &FileContent,
        timeout: Option<Duration>,
    ) -> Result<i32, CallError> {
        let mut p = ParamsWriter::new(self.version);
        p.put(1, "app", &app.to_string())
            .put(2, "serverName", &server_name.to_string())
            .put(3, "content", content);
        let reply = self.call("upload", p, timeout).await?;
        reply.params.required(0, "").map_err(malformed(self.addr()))
    }
}

/// What a tarspatch does.
pub trait PatchServant: Send + Sync + 'static {
    /// `listFileInfo`: as [`PatchClient::list_file_info`] answers it (0 and the files below
    /// a directory, 1 and the file itself, -1 for a path holding `..`).
    fn list_file_info(&self, path: String) -> impl Future<Output = (i32, Vec<FileInfo>)> + Send;
    /// `download`: the chunk of `file` from byte `pos`; 0 with data, 1 at the end of the
    /// file, below 0 on failure.
    fn download(&self, file: String, pos: i32) -> impl Future<Output = (i32, Vec<u8>)> + Send;
    /// `preparePatchFile`: puts the uploaded `patch_file` of the app and server where nodes
    /// download it from; the return value (0 success) and a result text.
    fn prepare_patch_file(
        &self,
        app: String,
        server_name: String,
        patch_file: String,
    ) -> impl Future<Output = (i32, String)> + Send;
    /// `deletePatchFile`: removes the uploaded `patch_file` of the app and server; 0 on
    /// success.
    fn delete_patch_file(
        &self,
        app: String,
        server_name: String,
        patch_file: String,
    ) -> impl Future<Output = i32> + Send;
    /// `upload`: stores one chunk of a file, as [`PatchClient::upload`] describes the
    /// return value.
    fn upload(
        &self,
        app: String,
        server_name: String,
        content: FileContent,
    ) -> impl Future<Output = i32> + Send;
}

/// Serves a [`PatchServant`] as the `Patch` interface.
pub struct PatchDispatcher<T>(pub Arc<T>);

impl<T: PatchServant> Servant for PatchDispatcher<T> {
    async fn dispatch(&self, call: Call) -> Result<Bytes, DispatchError> {
        let patch = &self.0;
        let ret_only = |call: &Call, ret: i32| {
            answer(call, |p| {
                p.put(0, "", &ret);
            })
        };
        match call.func.as_str() {
            "listFileInfo" => {
                let path: String = call.params.required(1, "path")?;
                check_out::<Vec<FileInfo>>(&call, 2, "vf")?;
                let (ret, files) = patch.list_file_info(path).await;
                Ok(answer(&call, |p| {
                    p.put(0, "", &ret).put(2, "vf", &files);
                }))
            }
            "download" => {
                let file: String = call.params.required(1, "file")?;
                let pos: i32 = call.params.required(2, "pos")?;
                check_out::<Bytes>(&call, 3, "vb")?;
                let (ret, data) = patch.download(file, pos).await;
                Ok(answer(&call, |p| {
                    p.put(0, "", &ret).put(3, "vb", &Bytes::from(data));
                }))
            }
            "preparePatchFile" | "deletePatchFile" => {
                let app: String = call.params.required(1, "app")?;
                let server: String = call.params.required(2, "serverName")?;
                let file: String = call.params.required(3, "patchFile")?;
                if call.func == "deletePatchFile" {
                    let ret = patch.delete_patch_file(app, server, file).await;
                    return Ok(ret_only(&call, ret));
                }
                check_out::<String>(&call, 4, "result")?;
                let (ret, result) = patch.prepare_patch_file(app, server, file).await;
                Ok(answer(&call, |p| {
                    p.put(0, "", &ret).put(4, "result", &result);
                }))
            }
            "upload" => {
                let app: String = call.params.required(1, "app")?;
                let server: String = call.params.required(2, "serverName")?;
                let content: FileContent = call.params.required(3, "content")?;
                let ret = patch.upload(app, server, content).await;
                Ok(ret_only(&call, ret))
            }
            _ => Err(DispatchError::NoFunction),
        }
    }
}
