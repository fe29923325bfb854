//! The Patch servant over TCP, as a TARS client sees it: everyone may list and download;
//! only the writers' allow-list (`TARS_PATCH_WRITERS`) may upload, prepare and delete,
//! everyone else is refused with TARS's failure code and leaves a warning naming the peer
//! and the method; uploads are invisible until complete and never replace a package.
//!
//! All of 127.0.0.0/8 is local on Linux, so an "outsider" is a loopback address the
//! allow-list leaves out.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use md5::{Digest, Md5};
use tars_packages::servant::upload_ret;
use tars_packages::{serve_patch, PatchServantConfig, PatchServantSettings, Writers};
use tars_protocol::client::ClientConfig;
use tars_protocol::packet::{ret, VERSION_TUP};
use tars_protocol::patch::{FileContent, PatchClient};
use tars_protocol::CallError;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const PACKAGE: &[u8] = b"version one of the package";
const UPLOAD: &str = "tars.upload/Shop/Cart";
const BATCH: &str = "/TARSBatchPatching/Shop/Cart/Shop.Cart.tgz";

struct Served {
    addr: String,
    root: PathBuf,
    staging: PathBuf,
    stop: CancellationToken,
    _tmp: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A Patch servant on 127.0.0.1 whose writers are `writers`, serving `p1.tgz` (prepared
/// for nodes) and `p2.tgz`.
async fn serve(writers: &str) -> Served {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("patchs");
    let staging = tmp.path().join("patchs.staging");
    std::fs::create_dir_all(root.join(UPLOAD)).unwrap();
    std::fs::write(root.join(UPLOAD).join("p1.tgz"), PACKAGE).unwrap();
    std::fs::write(root.join(UPLOAD).join("p2.tgz"), b"version two").unwrap();
    let batch = root.join(BATCH.trim_start_matches('/'));
    std::fs::create_dir_all(batch.parent().unwrap()).unwrap();
    std::fs::write(&batch, PACKAGE).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let stop = CancellationToken::new();
    let config = PatchServantConfig {
        root: root.clone(),
        staging: staging.clone(),
        settings: PatchServantSettings {
            writers: Writers::parse(writers).unwrap(),
            ..PatchServantSettings::default()
        },
    };
    tokio::spawn(serve_patch(listener, config, stop.clone()));
    Served {
        addr,
        root,
        staging,
        stop,
        _tmp: tmp,
    }
}

fn client_from(addr: &str, from: &str, version: i16) -> PatchClient {
    PatchClient::with_version(
        addr,
        ClientConfig {
            call_timeout: Duration::from_secs(20),
            local_addr: Some(from.parse().unwrap()),
            ..ClientConfig::default()
        },
        version,
    )
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

fn chunk(name: &str, md5: &str, first: bool, last: bool, content: &[u8]) -> FileContent {
    FileContent {
        md5: md5.into(),
        name: name.into(),
        first_chunk: first,
        last_chunk: last,
        content: content.to_vec(),
    }
}

/// Downloads `file` as tarsnode does: from 0, chunk after chunk, until 1.
async fn download_all(client: &PatchClient, file: &str) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let (ret, data) = client.download(file, out.len() as i32, None).await.unwrap();
        match ret {
            0 => out.extend(data),
            1 => return out,
            other => panic!("download {file} at {} failed with {other}", out.len()),
        }
    }
}

fn assert_no_permission(result: Result<impl std::fmt::Debug, CallError>, method: &str) {
    match result {
        Err(CallError::Remote {
            ret: code, desc, ..
        }) => {
            assert_eq!(code, ret::SERVER_UNKNOWN_ERR, "{desc}");
            assert!(desc.contains("no permission"), "{desc}");
            assert!(desc.contains(method), "{desc}");
            assert!(desc.contains("127.0.0.1"), "{desc}");
        }
        other => panic!("{method} from an outsider was not refused: {other:?}"),
    }
}

/// Log lines written while it is alive, on this thread (the servant runs on it too:
/// tokio's current-thread runtime).
struct Captured {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Captured {
    fn start() -> Captured {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        Captured {
            lines,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap()).into_owned()
    }
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_peer_outside_the_writers_may_read_but_not_write() {
    let log = Captured::start();
    // Only 127.0.0.2 may write; the client connects from 127.0.0.1.
    let served = serve("127.0.0.2/32").await;
    let outsider = client_from(&served.addr, "127.0.0.1", 1);

    // What nodes need works for anyone.
    let (code, files) = outsider.list_file_info(BATCH, None).await.unwrap();
    assert_eq!((code, files[0].md5.clone()), (1, md5_hex(PACKAGE)));
    assert_eq!(download_all(&outsider, BATCH).await, PACKAGE);

    // upload: neither a new file nor a chunk onto an existing package.
    let evil = b"not a package";
    assert_no_permission(
        outsider
            .upload(
                "Shop",
                "Cart",
                &chunk("evil.tgz", &md5_hex(evil), true, true, evil),
                None,
            )
            .await,
        "upload",
    );
    assert!(!served.root.join(UPLOAD).join("evil.tgz").exists());
    assert_no_permission(
        outsider
            .upload(
                "Shop",
                "Cart",
                &chunk("p1.tgz", &md5_hex(evil), false, false, evil),
                None,
            )
            .await,
        "upload",
    );
    // preparePatchFile: the file nodes are about to download stays as it is.
    assert_no_permission(
        outsider
            .prepare_patch_file("Shop", "Cart", "p2.tgz", None)
            .await,
        "preparePatchFile",
    );
    assert_eq!(download_all(&outsider, BATCH).await, PACKAGE);
    // deletePatchFile: the package stays.
    assert_no_permission(
        outsider
            .delete_patch_file("Shop", "Cart", "p1.tgz", None)
            .await,
        "deletePatchFile",
    );
    assert_eq!(
        std::fs::read(served.root.join(UPLOAD).join("p1.tgz")).unwrap(),
        PACKAGE
    );
    // The TUP layout carries the same refusal in its status map.
    let tup = client_from(&served.addr, "127.0.0.1", VERSION_TUP);
    assert_no_permission(
        tup.delete_patch_file("Shop", "Cart", "p1.tgz", None).await,
        "deletePatchFile",
    );

    // The allowed address may write through the very same servant.
    let writer = client_from(&served.addr, "127.0.0.2", 1);
    assert_eq!(
        writer
            .prepare_patch_file("Shop", "Cart", "p2.tgz", None)
            .await
            .unwrap()
            .0,
        0
    );
    assert_eq!(download_all(&outsider, BATCH).await, b"version two");

    // Each refusal is logged with the peer and the method.
    let text = log.text();
    for method in ["upload", "preparePatchFile", "deletePatchFile"] {
        assert!(
            text.lines().any(|l| l.contains("WARN")
                && l.contains("TARS_PATCH_WRITERS")
                && l.contains("peer=127.0.0.1:")
                && l.contains(&format!("method={method}"))),
            "no warning for {method} in:\n{text}"
        );
    }
    assert!(
        !text.contains("peer=127.0.0.2"),
        "allowed calls are not warned about:\n{text}"
    );
}

#[tokio::test]
async fn loopback_writers_upload_prepare_and_delete() {
    // The default allow-list: loopback.
    let served = serve(Writers::DEFAULT).await;
    let writer = client_from(&served.addr, "127.0.0.1", 1);
    let package: Vec<u8> = (0..(5 << 20) / 2)
        .map(|i| (i * 7 + i / 251) as u8)
        .collect();
    let md5 = md5_hex(&package);
    let pieces: Vec<&[u8]> = package.chunks(1 << 20).collect();
    let published = served.root.join(UPLOAD).join("p3.tgz");

    // Chunk by chunk, as the gateway's tarspatch store sends them.
    for (i, piece) in pieces.iter().enumerate() {
        let (first, last) = (i == 0, i == pieces.len() - 1);
        let code = writer
            .upload(
                "Shop",
                "Cart",
                &chunk("p3.tgz", &md5, first, last, piece),
                None,
            )
            .await
            .unwrap();
        assert_eq!(code, upload_ret::STORED);
        if !last {
            // Nothing of an unfinished upload is visible to nodes.
            assert!(!published.exists());
            let (_, listed) = writer.list_file_info("/", None).await.unwrap();
            assert!(listed.iter().all(|f| !f.path.contains("p3")), "{listed:?}");
        }
    }
    assert!(std::fs::read(&published).unwrap() == package);
    assert!(
        !served.staging.starts_with(&served.root),
        "uploads are spooled outside the served tree"
    );

    // Again: already there, nothing more to send.
    assert_eq!(
        writer
            .upload(
                "Shop",
                "Cart",
                &chunk("p3.tgz", &md5, true, false, pieces[0]),
                None
            )
            .await
            .unwrap(),
        upload_ret::ALREADY_THERE
    );
    // Other content under that name is refused; the package is unchanged.
    let other = b"something else";
    assert_eq!(
        writer
            .upload(
                "Shop",
                "Cart",
                &chunk("p3.tgz", &md5_hex(other), true, true, other),
                None
            )
            .await
            .unwrap(),
        upload_ret::EXISTS_DIFFERENT
    );
    // A chunk that continues no upload appends nothing.
    assert_eq!(
        writer
            .upload(
                "Shop",
                "Cart",
                &chunk("p3.tgz", &md5, false, true, b"tail"),
                None
            )
            .await
            .unwrap(),
        upload_ret::NOT_STARTED
    );
    // A wrong MD5: the upload is refused at its end, nothing is published.
    assert_eq!(
        writer
            .upload(
                "Shop",
                "Cart",
                &chunk("p4.tgz", &"0".repeat(32), true, true, other),
                None
            )
            .await
            .unwrap(),
        upload_ret::MD5_MISMATCH
    );
    assert!(!served.root.join(UPLOAD).join("p4.tgz").exists());
    assert!(std::fs::read(&published).unwrap() == package);

    // Prepare it for nodes, then delete the upload: nodes still get the prepared file.
    assert_eq!(
        writer
            .prepare_patch_file("Shop", "Cart", "p3.tgz", None)
            .await
            .unwrap(),
        (0, String::new())
    );
    let node = client_from(&served.addr, "127.0.0.9", 1);
    assert!(download_all(&node, BATCH).await == package);
    assert_eq!(
        writer
            .delete_patch_file("Shop", "Cart", "p3.tgz", None)
            .await
            .unwrap(),
        0
    );
    assert!(!published.exists());
    assert!(download_all(&node, BATCH).await == package);
    // Hidden names, and paths out of the tree, are not served.
    assert_eq!(
        node.download("/../patchs.staging", 0, None)
            .await
            .unwrap()
            .0,
        -1
    );
}
