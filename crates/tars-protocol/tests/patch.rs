//! The `Patch` interface: its structs byte for byte and through encode → decode, and a
//! client against an in-memory patch server over TCP (chunked download, upload with the
//! MD5 check, prepare / delete, C++-style out-params).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use md5::{Digest, Md5};
use proptest::prelude::*;
use tars_protocol::client::{ClientConfig, ServantClient};
use tars_protocol::codec::{decode_struct, encode_struct, Field, Reader, Writer};
use tars_protocol::frame;
use tars_protocol::packet::VERSION_TUP;
use tars_protocol::patch::{
    FileContent, FileInfo, PatchClient, PatchDispatcher, PatchServant, DEFAULT_CHUNK, PATCH_SERVANT,
};
use tars_protocol::server::{serve, ServerConfig};
use tars_protocol::CallError;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const MIB: usize = 1024 * 1024;
const EMPTY_MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

fn enc<T: Field>(tag: u8, v: &T) -> Vec<u8> {
    let mut w = Writer::new();
    v.write(&mut w, tag);
    w.into_bytes().to_vec()
}

fn md5_hex(data: &[u8]) -> String {
    format!("{:x}", Md5::digest(data))
}

#[test]
fn file_info_golden_bytes() {
    let info = FileInfo {
        path: "a.tgz".into(),
        size: 300,
        can_exec: true,
        md5: EMPTY_MD5.into(),
    };
    // 2a: struct at tag 2; 06 05 "a.tgz": path; 11 01 2c: size 300 as a short;
    // 20 01: canExec true as a byte; 36 20 <32 chars>: md5; 0b: struct end.
    let mut bytes = hex("2a 06 05 61 2e 74 67 7a 11 01 2c 20 01 36 20");
    bytes.extend(EMPTY_MD5.as_bytes());
    bytes.push(0x0b);
    assert_eq!(enc(2, &info), bytes);
    assert_eq!(Reader::new(&bytes).required::<FileInfo>(2).unwrap(), info);
    // Top level (no struct markers), as a parameter buffer would hold it.
    assert_eq!(
        encode_struct(&info).to_vec(),
        bytes[1..bytes.len() - 1].to_vec()
    );

    // Zeroes are bare ZERO heads; a C++ encoder leaves the empty optional md5 out.
    let bare = FileInfo {
        path: String::new(),
        size: 0,
        can_exec: false,
        md5: String::new(),
    };
    assert_eq!(enc(0, &bare), hex("0a 06 00 1c 2c 36 00 0b"));
    assert_eq!(
        Reader::new(&hex("0a 06 00 1c 2c 0b"))
            .required::<FileInfo>(0)
            .unwrap(),
        bare
    );
    // A required field missing is an error.
    assert!(decode_struct::<FileInfo>(&hex("06 00 2c")).is_err());
}

#[test]
fn file_content_golden_bytes() {
    let chunk = FileContent {
        md5: "m".into(),
        name: "n".into(),
        first_chunk: true,
        last_chunk: false,
        content: vec![1, 2, 3],
    };
    // The content is a simple list: 4d, an Int1 head 00, the count 00 03, the bytes.
    let bytes = hex("06 01 6d 16 01 6e 20 01 3c 4d 00 00 03 01 02 03");
    assert_eq!(encode_struct(&chunk).to_vec(), bytes);
    assert_eq!(decode_struct::<FileContent>(&bytes).unwrap(), chunk);
    // A list of 1-byte integers is accepted for vector<byte> as well.
    let as_list = hex("06 01 6d 16 01 6e 20 01 3c 49 00 03 00 01 00 02 00 03");
    assert_eq!(decode_struct::<FileContent>(&as_list).unwrap(), chunk);
}

proptest! {
    #[test]
    fn patch_structs_round_trip(
        path in ".{0,300}", size in any::<i32>(), can_exec in any::<bool>(), md5 in "[0-9a-f]{0,32}",
        first in any::<bool>(), last in any::<bool>(),
        content in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let info = FileInfo { path: path.clone(), size, can_exec, md5: md5.clone() };
        prop_assert_eq!(decode_struct::<FileInfo>(&encode_struct(&info)).unwrap(), info.clone());
        prop_assert_eq!(Reader::new(&enc(3, &vec![info.clone(), info.clone()])).required::<Vec<FileInfo>>(3).unwrap(), vec![info.clone(), info]);
        let chunk = FileContent { md5, name: path, first_chunk: first, last_chunk: last, content };
        prop_assert_eq!(decode_struct::<FileContent>(&encode_struct(&chunk)).unwrap(), chunk.clone());
        prop_assert_eq!(Reader::new(&enc(3, &chunk)).required::<FileContent>(3).unwrap(), chunk);
    }
}

/// A patch server holding its files in memory, answering as tarspatch does.
#[derive(Default)]
struct MemPatch {
    /// Downloadable files by path.
    files: Mutex<HashMap<String, Vec<u8>>>,
    /// Uploaded files by `app/server/name`.
    uploads: Mutex<HashMap<String, Vec<u8>>>,
    downloads: AtomicUsize,
}

fn batch_path(app: &str, server: &str) -> String {
    format!("/TARSBatchPatching/{app}/{server}/{app}.{server}.tgz")
}

impl PatchServant for MemPatch {
    async fn list_file_info(&self, path: String) -> (i32, Vec<FileInfo>) {
        if path.contains("..") {
            return (-1, Vec::new());
        }
        let files = self.files.lock().unwrap();
        if let Some(data) = files.get(&path) {
            let name = path.rsplit('/').next().unwrap_or_default().to_string();
            let info = FileInfo {
                path: name,
                size: data.len() as i32,
                can_exec: false,
                md5: md5_hex(data),
            };
            return (1, vec![info]);
        }
        let dir = format!("{}/", path.trim_end_matches('/'));
        let below = files
            .iter()
            .filter_map(|(p, data)| {
                Some(FileInfo {
                    path: p.strip_prefix(&dir)?.to_string(),
                    size: data.len() as i32,
                    can_exec: false,
                    md5: md5_hex(data),
                })
            })
            .collect();
        (0, below)
    }

    async fn download(&self, file: String, pos: i32) -> (i32, Vec<u8>) {
        self.downloads.fetch_add(1, Ordering::SeqCst);
        let files = self.files.lock().unwrap();
        let Some(data) = files.get(&file) else {
            return (-1, Vec::new());
        };
        let pos = pos.max(0) as usize;
        if pos >= data.len() {
            return (1, Vec::new());
        }
        let end = data.len().min(pos + DEFAULT_CHUNK);
        (0, data[pos..end].to_vec())
    }

    async fn prepare_patch_file(&self, app: String, server: String, file: String) -> (i32, String) {
        let key = format!("{app}/{server}/{file}");
        let Some(data) = self.uploads.lock().unwrap().get(&key).cloned() else {
            return (-1, format!("{key} not exists!"));
        };
        self.files
            .lock()
            .unwrap()
            .insert(batch_path(&app, &server), data);
        (0, String::new())
    }

    async fn delete_patch_file(&self, app: String, server: String, file: String) -> i32 {
        match self
            .uploads
            .lock()
            .unwrap()
            .remove(&format!("{app}/{server}/{file}"))
        {
            Some(_) => 0,
            None => -1,
        }
    }

    async fn upload(&self, app: String, server: String, content: FileContent) -> i32 {
        let key = format!("{app}/{server}/{}", content.name);
        let mut uploads = self.uploads.lock().unwrap();
        let stored = uploads.entry(key).or_default();
        if content.first_chunk {
            stored.clear();
        }
        stored.extend_from_slice(&content.content);
        if content.last_chunk && md5_hex(stored) != content.md5 {
            return -3;
        }
        0
    }
}

async fn start() -> (String, CancellationToken, Arc<MemPatch>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let shutdown = CancellationToken::new();
    let patch = Arc::new(MemPatch::default());
    let config = ServerConfig {
        max_frame: frame::MAX_FRAME_LEN,
        ..ServerConfig::new(PATCH_SERVANT)
    };
    tokio::spawn(serve(
        listener,
        config,
        Arc::new(PatchDispatcher(patch.clone())),
        shutdown.clone(),
    ));
    (addr, shutdown, patch)
}

fn config() -> ClientConfig {
    ClientConfig {
        call_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(1),
        ..ClientConfig::default()
    }
}

/// Bytes that differ at every position, so a misplaced chunk cannot go unnoticed.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Downloads `file` the way tarsnode does: from 0, chunk after chunk, until 1.
async fn download_all(client: &PatchClient, file: &str) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    loop {
        let (ret, chunk) = client.download(file, out.len() as i32, None).await.unwrap();
        match ret {
            0 => out.extend_from_slice(&chunk),
            1 => return Ok(out),
            _ => return Err(ret),
        }
    }
}

#[tokio::test]
async fn download_in_one_mebibyte_chunks() {
    let (addr, stop, patch) = start().await;
    let data = payload(3 * MIB);
    let remote = batch_path("App", "Srv");
    patch
        .files
        .lock()
        .unwrap()
        .insert(remote.clone(), data.clone());
    for version in [1, VERSION_TUP] {
        let client = PatchClient::with_version(addr.clone(), config(), version);
        let (ret, files) = client.list_file_info(&remote, None).await.unwrap();
        assert_eq!(ret, 1, "a file lists as 1");
        assert_eq!(
            files,
            [FileInfo {
                path: "App.Srv.tgz".into(),
                size: (3 * MIB) as i32,
                can_exec: false,
                md5: md5_hex(&data),
            }]
        );
        let (ret, below) = client
            .list_file_info("/TARSBatchPatching/App", None)
            .await
            .unwrap();
        assert_eq!((ret, below.len()), (0, 1), "a directory lists as 0");
        assert_eq!(below[0].path, "Srv/App.Srv.tgz");
        assert_eq!(client.list_file_info("/a/../b", None).await.unwrap().0, -1);

        let before = patch.downloads.load(Ordering::SeqCst);
        let got = download_all(&client, &remote).await.unwrap();
        assert!(got == data, "3 MiB arrive byte for byte");
        assert_eq!(
            patch.downloads.load(Ordering::SeqCst) - before,
            4,
            "three chunks, then the end"
        );
        let (ret, chunk) = client
            .download(&remote, (3 * MIB + 5) as i32, None)
            .await
            .unwrap();
        assert_eq!((ret, chunk.len()), (1, 0), "past the end is the end");
        assert_eq!(download_all(&client, "/no/such.tgz").await, Err(-1));
    }
    stop.cancel();
}

#[tokio::test]
async fn upload_prepare_download_and_delete() {
    let (addr, stop, patch) = start().await;
    let client = PatchClient::new(addr, config());
    let data = payload(2 * MIB + 12345);
    let md5 = md5_hex(&data);
    let chunks: Vec<&[u8]> = data.chunks(MIB).collect();
    for (i, piece) in chunks.iter().enumerate() {
        let content = FileContent {
            md5: md5.clone(),
            name: "App.Srv_1.tgz".into(),
            first_chunk: i == 0,
            last_chunk: i == chunks.len() - 1,
            content: piece.to_vec(),
        };
        assert_eq!(
            client.upload("App", "Srv", &content, None).await.unwrap(),
            0
        );
    }
    assert!(patch.uploads.lock().unwrap()["App/Srv/App.Srv_1.tgz"] == data);

    // A wrong MD5 is caught at the last chunk.
    let wrong = FileContent {
        md5: EMPTY_MD5.into(),
        name: "bad.tgz".into(),
        first_chunk: true,
        last_chunk: true,
        content: b"not empty".to_vec(),
    };
    assert_eq!(client.upload("App", "Srv", &wrong, None).await.unwrap(), -3);

    // Prepared, the upload is what a node downloads.
    let (ret, result) = client
        .prepare_patch_file("App", "Srv", "App.Srv_1.tgz", None)
        .await
        .unwrap();
    assert_eq!((ret, result.as_str()), (0, ""));
    let got = download_all(&client, &batch_path("App", "Srv"))
        .await
        .unwrap();
    assert!(got == data);
    assert_eq!(md5_hex(&got), md5);

    assert_eq!(
        client
            .delete_patch_file("App", "Srv", "App.Srv_1.tgz", None)
            .await
            .unwrap(),
        0
    );
    let (ret, result) = client
        .prepare_patch_file("App", "Srv", "App.Srv_1.tgz", None)
        .await
        .unwrap();
    assert_eq!(ret, -1);
    assert!(result.contains("not exists"), "{result}");
    stop.cancel();
}

/// C++ clients also send out-params: accepted with the right type, -1 with a wrong one.
#[tokio::test]
async fn out_params_are_type_checked() {
    let (addr, stop, patch) = start().await;
    patch
        .files
        .lock()
        .unwrap()
        .insert("/f".into(), b"abc".to_vec());
    let raw = ServantClient::new(addr.clone(), PATCH_SERVANT, config());
    let mut w = Writer::new();
    w.write_string(1, "/f");
    w.write_int(2, 0);
    w.write_bytes(3, &[]);
    let reply = raw
        .invoke("download", 1, w.into_bytes(), None)
        .await
        .unwrap();
    assert_eq!(reply.params.required::<i32>(0, "").unwrap(), 0);
    assert_eq!(
        reply.params.required::<Bytes>(3, "vb").unwrap(),
        Bytes::from_static(b"abc")
    );

    let mut w = Writer::new();
    w.write_string(1, "/f");
    w.write_string(2, "not a list");
    let err = raw
        .invoke("listFileInfo", 1, w.into_bytes(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Remote { ret: -1, .. }), "{err:?}");
    let err = raw
        .invoke("noSuchFunction", 1, Bytes::new(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Remote { ret: -3, .. }), "{err:?}");
    stop.cancel();
}
