//! The platform's Patch servant (what nodes download packages from): a client that
//! pipelines downloads without reading the answers cannot pin its memory, and unusable
//! Patch settings stop the platform at startup, naming the variable.

use std::time::Duration;

use tars_protocol::client::ClientConfig;
use tars_protocol::packet::{ParamsWriter, RequestPacket, VERSION_TARS};
use tars_protocol::patch::{PatchClient, PATCH_SERVANT};

use crate::common::packages::{make_package, patch_servant_addr, peak_rss};
use crate::common::{binary, Backend, Platform, PlatformOptions};

/// One `download` of `file` from its start, as a node sends it (TARS layout), framed.
fn download_request(id: i32, file: &str) -> Vec<u8> {
    let mut params = ParamsWriter::new(VERSION_TARS);
    params
        .put(1, "file", &file.to_string())
        .put(2, "pos", &0i32);
    tars_protocol::frame::encode_struct(&RequestPacket {
        version: VERSION_TARS,
        request_id: id,
        servant_name: PATCH_SERVANT.into(),
        func_name: "download".into(),
        buffer: params.finish(),
        timeout: 60_000,
        ..RequestPacket::default()
    })
    .to_vec()
}

/// Downloads `file` from the Patch servant at `addr` on a connection of its own, as a
/// node does.
async fn node_download(addr: &str, file: &str) -> Vec<u8> {
    let client = PatchClient::new(addr, ClientConfig::default());
    let (ret, files) = client.list_file_info(file, None).await.unwrap();
    assert_eq!(ret, 1, "{file} lists as a file");
    let mut got = Vec::new();
    loop {
        let (ret, chunk) = client.download(file, got.len() as i32, None).await.unwrap();
        match ret {
            0 => got.extend(chunk),
            1 => break,
            other => panic!("download {file} at {}: {other}", got.len()),
        }
    }
    assert_eq!(got.len(), files[0].size as usize);
    got
}

/// Memory does not depend on the database, so this runs once, on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_pipelining_downloads_without_reading_cannot_pin_the_patch_servants_memory() {
    let p = Platform::start_with(
        Backend::Sqlite,
        PlatformOptions::with_env(&[
            ("TARS_PATCH_ADDR", "127.0.0.1:0"),
            // Short, so the connection that stops reading is closed within the test.
            ("TARS_PATCH_IDLE_TIMEOUT_MS", "2000"),
        ]),
    )
    .await;
    let addr = patch_servant_addr(&p);
    let file = "/TARSBatchPatching/Shop/Cart/Shop.Cart.tgz";
    let served = p.dir.path().join("data/patchs").join(&file[1..]);
    std::fs::create_dir_all(served.parent().unwrap()).unwrap();
    let (package, _) = make_package(served.parent().unwrap(), "Shop.Cart.tgz", 1 << 20);
    assert_eq!(package, served);
    let content = std::fs::read(&package).unwrap();
    // Warm the download path, so the baseline includes its fixed costs.
    assert!(node_download(&addr, file).await == content);
    let pid = p.processes[0].pid();
    let before = peak_rss(pid);

    // 2,000 downloads of the 1 MiB file pipelined on one connection, answers never read:
    // 2 GiB of answers if the servant buffered them.
    let greedy = std::sync::Arc::new(tokio::net::TcpStream::connect(&addr).await.unwrap());
    let requests: Vec<u8> = (1..=2000)
        .flat_map(|id| download_request(id, file))
        .collect();
    let sender = {
        let greedy = greedy.clone();
        tokio::spawn(async move {
            let mut sent = 0;
            while sent < requests.len() {
                greedy.writable().await?;
                match greedy.try_write(&requests[sent..]) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })
    };
    // Other nodes are served meanwhile.
    for _ in 0..3 {
        assert!(node_download(&addr, file).await == content);
    }
    // The servant closes the connection that does not read its answers (it had stopped
    // reading the requests, so the close is a reset).
    let reset = tokio::time::timeout(
        Duration::from_secs(60),
        greedy.ready(tokio::io::Interest::ERROR),
    )
    .await;
    let growth = peak_rss(pid).saturating_sub(before);
    assert!(
        growth < 64 << 20,
        "peak RSS grew by {} MiB while a client pipelined 2,000 downloads",
        growth >> 20
    );
    assert!(
        reset.is_ok(),
        "the stalled connection is still open a minute later"
    );
    let _ = sender.await;
    assert!(node_download(&addr, file).await == content);
}

/// Starting a platform with `env` fails; answers what it printed.
async fn startup_fails(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(binary("tars-platform"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TARS_DATA_DIR", dir.path().join("data"))
        .env("TARS_HTTP_ADDR", "127.0.0.1:0")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        command.spawn().unwrap().wait_with_output(),
    )
    .await
    .expect("the platform should refuse to start, not run")
    .unwrap();
    assert!(!out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_patch_settings_stop_the_platform_at_startup_naming_the_variable() {
    let err = startup_fails(&[("TARS_PATCH_WRITERS", "10.0.0.0/33")]).await;
    assert!(err.contains("TARS_PATCH_WRITERS"), "{err}");
    assert!(err.contains("10.0.0.0/33"), "{err}");
    let err = startup_fails(&[("TARS_PATCH_WRITERS", "gateway.example")]).await;
    assert!(err.contains("TARS_PATCH_WRITERS"), "{err}");
    let err = startup_fails(&[("TARS_PATCH_MAX_CALLS_PER_CONNECTION", "0")]).await;
    assert!(err.contains("TARS_PATCH_MAX_CALLS_PER_CONNECTION"), "{err}");
    // Uploads in progress must not be spooled where the Patch servant serves them.
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("patchs");
    let inside = served.join("spool");
    let err = startup_fails(&[
        ("TARS_PACKAGE_DIR", served.to_str().unwrap()),
        ("TARS_PACKAGE_STAGING_DIR", inside.to_str().unwrap()),
    ])
    .await;
    assert!(err.contains("TARS_PACKAGE_STAGING_DIR"), "{err}");
}
