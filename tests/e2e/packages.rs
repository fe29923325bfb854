//! Packages: uploads with a real `curl` (the seed's command line verbatim), MD5 checks,
//! size limits, listing, publishing end to end (the simulated nodes download the package
//! through the platform's Patch servant and check its MD5), flat memory on a 200 MB
//! upload, the tarspatch store mode (one platform uploading into another's), the Patch
//! servant's memory under a client that pipelines downloads without reading them, and
//! its settings refused at startup when unusable.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use tars_protocol::client::ClientConfig;
use tars_protocol::packet::{ParamsWriter, RequestPacket, VERSION_TARS};
use tars_protocol::patch::{PatchClient, PATCH_SERVANT};

use crate::common::packages::{curl, make_package, md5sum, upload};
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::tasks::{add_task, item, wait_task};
use crate::common::{binary, free_port, Api, Backend, Platform, PlatformOptions};
use crate::fixtures::deploy;
use crate::on_every_backend;

const LIMIT: Duration = Duration::from_secs(30);

fn node_env(port: u16, extra: &[(&str, &str)]) -> PlatformOptions {
    let mut env = vec![
        ("TARS_NODE_PORT".to_string(), port.to_string()),
        ("TARS_NODE_TIMEOUT_MS".to_string(), "3000".to_string()),
        (
            "TARS_NODE_CONNECT_TIMEOUT_MS".to_string(),
            "500".to_string(),
        ),
        ("TARS_PATCH_TIMEOUT_MS".to_string(), "20000".to_string()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    PlatformOptions {
        env,
        ..PlatformOptions::default()
    }
}

fn package_files(p: &Platform) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![p.dir.path().join("data/patchs")];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

async fn patch_list(api: &Api) -> Value {
    api.get(
        "/api/server_patch_list",
        &[("application", "Shop"), ("module_name", "Cart")],
    )
    .await
    .ok()
    .clone()
}

async fn the_seed_curl_line_publishes_to_every_active_instance(backend: Backend) {
    let ips = fresh_ips(2);
    let port = free_port();
    let sim = Simulator::start(&ips, port, &[]);
    let p = Platform::start_with(backend, node_env(port, &[])).await;
    let mut ids = Vec::new();
    for ip in &ips {
        let id = deploy(&p.api, "Shop", "Cart", ip, 10001).await["id"]
            .as_i64()
            .unwrap();
        let started = wait_task(
            &p.api,
            &add_task(&p.api, true, vec![item(id, "start")]).await,
            LIMIT,
        )
        .await;
        assert_eq!(started["status"], 3, "{started}");
        ids.push(id);
    }
    let work = tempfile::tempdir().unwrap();
    let (path, md5) = make_package(work.path(), "CartServer.tgz", 3 << 20);
    let target = path.display().to_string();

    // The API document's line, as a CI pipeline runs it.
    let out = Command::new("bash")
        .arg("-c")
        .arg("curl http://${TARS_WEB_HOST}/api/upload_and_publish?ticket=${TARS_TOKEN} -Fsuse=@${TARGET}.tgz -Fapplication=${APP} -Fmodule_name=${ServerName} -Fcomment=developer-auto-upload")
        .env("TARS_WEB_HOST", p.api.host())
        .env("TARS_TOKEN", p.api.ticket().unwrap())
        .env("TARGET", target.trim_end_matches(".tgz"))
        .env("APP", "Shop")
        .env("ServerName", "Cart")
        .output()
        .expect("bash");
    assert!(out.status.success(), "{out:?}");
    let report = String::from_utf8(out.stdout).unwrap();

    let packages = patch_list(&p.api).await;
    assert_eq!(packages["count"], 1, "{packages}");
    let package = &packages["rows"][0];
    assert_eq!(package["server"], "Shop.Cart");
    assert_eq!(package["comment"], "developer-auto-upload");
    let tgz = package["tgz"].as_str().unwrap();
    assert!(
        tgz.starts_with("Shop.Cart_") && tgz != "CartServer.tgz",
        "{tgz}"
    );
    assert!(report.contains(tgz), "{report}");
    assert!(report.contains(&md5), "{report}");
    for ip in &ips {
        assert!(report.contains(ip.as_str()), "{report}");
    }
    let task_no = report
        .lines()
        .find_map(|l| l.strip_prefix("task ").and_then(|r| r.split(':').next()))
        .expect("a task number in the report")
        .to_string();
    assert!(report.contains("finished: success"), "{report}");

    let task = wait_task(&p.api, &task_no, LIMIT).await;
    assert_eq!(task["status"], 3, "{task}");
    assert_eq!(task["serial"], true);
    assert_eq!(task["items"].as_array().unwrap().len(), 2);
    for id in &ids {
        let server = p.api.get("/api/server", &[("id", &id.to_string())]).await;
        assert_eq!(server.ok()["patch_version"], package["id"].to_string());
    }
    // Each node downloaded the package through the Patch servant and found the MD5 right.
    let downloads = sim.calls_of("download");
    assert_eq!(downloads.len(), 2, "{downloads:?}");
    for d in &downloads {
        assert_eq!(d["md5"], md5.as_str(), "{d}");
        assert_eq!(d["ok"], true, "{d}");
        assert_eq!(d["bytes"], 3 << 20);
        assert_eq!(d["file"], "/TARSBatchPatching/Shop/Cart/Shop.Cart.tgz");
    }
    let mut nodes: Vec<&str> = downloads
        .iter()
        .map(|d| d["node"].as_str().unwrap())
        .collect();
    nodes.sort();
    let mut expected: Vec<&str> = ips.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(nodes, expected);
    // Kept in tarspatch's layout, under the generated name.
    assert!(p
        .dir
        .path()
        .join("data/patchs/tars.upload/Shop/Cart")
        .join(tgz)
        .exists());
}

async fn publishing_needs_a_deployed_and_active_server(backend: Backend) {
    let ips = fresh_ips(1);
    let port = free_port();
    let _sim = Simulator::start(&ips, port, &[]);
    let p = Platform::start_with(backend, node_env(port, &[])).await;
    let work = tempfile::tempdir().unwrap();
    let (path, _) = make_package(work.path(), "a.tgz", 1000);
    let url = p.api.url_for("/api/upload_and_publish", &[]);
    let fields = |app: &str| {
        vec![
            ("suse", format!("@{}", path.display())),
            ("application", app.to_string()),
            ("module_name", "Cart".to_string()),
        ]
    };
    let (status, text) = curl(&url, &fields("Shop"));
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("Shop.Cart is not deployed"), "{text}");
    assert_eq!(patch_list(&p.api).await["count"], 0, "nothing is kept");

    // Deployed but inactive: the package is kept, nothing is patched without restart=1.
    deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await;
    let (status, text) = curl(&url, &fields("Shop"));
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("no active instance"), "{text}");
    assert_eq!(patch_list(&p.api).await["count"], 1);
    let mut all = fields("Shop");
    all.push(("restart", "1".into()));
    let (status, text) = curl(&url, &all);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("finished: success"), "{text}");

    let (status, text) = curl(&url, &fields("Sh/op"));
    assert_eq!(status, 400, "{text}");
    let (status, text) = curl(
        &url,
        &[
            ("application", "Shop".into()),
            ("module_name", "Cart".into()),
        ],
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("suse"), "{text}");
}

async fn uploads_check_md5_size_and_fields(backend: Backend) {
    let p = Platform::start_with(
        backend,
        node_env(free_port(), &[("TARS_UPLOAD_MAX_BYTES", "1048576")]),
    )
    .await;
    let work = tempfile::tempdir().unwrap();
    let (path, md5) = make_package(work.path(), "pkg.tgz", 200_000);
    let file = format!("@{}", path.display());
    let fields = |extra: &[(&'static str, String)]| {
        let mut f = vec![
            ("suse", file.clone()),
            ("application", "Shop".to_string()),
            ("module_name", "Cart".to_string()),
            ("comment", "first".to_string()),
            ("task_id", "1700000000".to_string()),
        ];
        f.extend(extra.iter().cloned());
        f
    };

    // A wrong MD5 leaves neither file nor row behind.
    let (status, body) = upload(&p.api, &fields(&[("md5", "0".repeat(32))]));
    assert_eq!(status, 400, "{body}");
    assert!(body["err_msg"].as_str().unwrap().contains(&md5), "{body}");
    assert_eq!(patch_list(&p.api).await["count"], 0);
    assert_eq!(package_files(&p), Vec::<PathBuf>::new());

    // The right MD5 (any case) is accepted; the answer has the seed's shape.
    let (status, body) = upload(&p.api, &fields(&[("md5", md5.to_uppercase())]));
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    let keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["id", "server", "tgz", "comment", "posttime"]);
    assert_eq!(data["server"], "Shop.Cart");
    assert_eq!(data["comment"], "first");
    let kept = package_files(&p);
    assert_eq!(kept.len(), 1);
    assert_eq!(md5sum(&kept[0]), md5);
    assert_eq!(kept[0].file_name().unwrap(), data["tgz"].as_str().unwrap());

    // Without an MD5 nothing is checked; the list is newest first and paged.
    let (status, second) = upload(&p.api, &fields(&[("comment", "second".into())]));
    assert_eq!(status, 200, "{second}");
    let list = patch_list(&p.api).await;
    assert_eq!(list["count"], 2);
    assert_eq!(list["rows"][0]["comment"], "second");
    let page = p
        .api
        .get(
            "/api/server_patch_list",
            &[
                ("application", "Shop"),
                ("module_name", "Cart"),
                ("curr_page", "2"),
                ("page_size", "1"),
            ],
        )
        .await;
    assert_eq!(page.ok()["rows"][0]["comment"], "first");
    assert_eq!(page.ok()["count"], 2);

    // Over the limit: 413, nothing kept, nothing staged.
    let (big, _) = make_package(work.path(), "big.tgz", (1 << 20) + 1);
    let mut f = fields(&[]);
    f[0].1 = format!("@{}", big.display());
    let (status, body) = upload(&p.api, &f);
    assert_eq!(status, 413, "{body}");
    assert_eq!(package_files(&p).len(), 2);
    assert_eq!(patch_list(&p.api).await["count"], 2);

    // Missing fields and a bad name.
    for (drop, needle) in [
        ("suse", "suse"),
        ("application", "application"),
        ("module_name", "module_name"),
    ] {
        let f: Vec<_> = fields(&[])
            .into_iter()
            .filter(|(n, _)| *n != drop)
            .collect();
        let (status, body) = upload(&p.api, &f);
        assert_eq!(status, 400, "{body}");
        assert!(body["err_msg"].as_str().unwrap().contains(needle), "{body}");
    }
    let mut f = fields(&[]);
    f[1].1 = "../etc".into();
    assert_eq!(upload(&p.api, &f).0, 400);
    assert_eq!(package_files(&p).len(), 2, "refusals keep nothing");
    // Not multipart at all.
    p.api
        .post_json("/api/upload_patch_package", &json!({"application": "Shop"}))
        .await
        .err(415, "multipart");
    p.api
        .get("/api/server_patch_list", &[("application", "Shop")])
        .await
        .err(400, "module_name");
}

async fn nodes_refuse_a_package_whose_md5_does_not_match(backend: Backend) {
    let ips = fresh_ips(1);
    let port = free_port();
    let sim = Simulator::start(&ips, port, &[]);
    let p = Platform::start_with(backend, node_env(port, &[])).await;
    let id = deploy(&p.api, "Shop", "Cart", &ips[0], 10001).await["id"]
        .as_i64()
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let (path, _) = make_package(work.path(), "pkg.tgz", 50_000);
    let (_, body) = upload(
        &p.api,
        &[
            ("suse", format!("@{}", path.display())),
            ("application", "Shop".into()),
            ("module_name", "Cart".into()),
        ],
    );
    let patch_id = body["data"]["id"].as_i64().unwrap();
    // The record says another MD5 than the file has (a corrupted store).
    p.db()
        .await
        .execute(&format!(
            "UPDATE t_server_patchs SET md5 = '{}' WHERE id = {patch_id}",
            "f".repeat(32)
        ))
        .await;
    let patch = json!({"server_id": id, "command": "patch_tars",
        "parameters": {"patch_id": patch_id, "bak_flag": false, "update_text": ""}});
    let task = wait_task(&p.api, &add_task(&p.api, true, vec![patch]).await, LIMIT).await;
    assert_eq!(task["status"], 4, "{task}");
    let info = task["items"][0]["execute_info"].as_str().unwrap();
    assert!(info.contains("md5 mismatch"), "{info}");
    let downloads = sim.calls_of("download");
    assert_eq!(downloads.len(), 1);
    assert_eq!(downloads[0]["ok"], false);
    let server = p.api.get("/api/server", &[("id", &id.to_string())]).await;
    assert_eq!(
        server.ok()["patch_version"],
        "",
        "a failed patch records no version"
    );
}

/// Peak resident memory of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Memory does not depend on the database, so this runs once, on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mb_upload_keeps_memory_flat() {
    let p = Platform::start(Backend::Sqlite).await;
    // Warm the upload path so the baseline includes its fixed costs.
    let work = tempfile::tempdir().unwrap();
    let (small, _) = make_package(work.path(), "small.tgz", 1 << 20);
    let fields = |path: &Path| {
        vec![
            ("suse", format!("@{}", path.display())),
            ("application", "Shop".to_string()),
            ("module_name", "Cart".to_string()),
        ]
    };
    assert_eq!(upload(&p.api, &fields(&small)).0, 200);
    let pid = p.processes[0].pid();
    let before = peak_rss(pid);
    let (big, md5) = make_package(work.path(), "big.tgz", 200 << 20);
    let (status, body) = upload(&p.api, &[fields(&big), vec![("md5", md5.clone())]].concat());
    assert_eq!(status, 200, "{body}");
    let growth = peak_rss(pid).saturating_sub(before);
    assert!(
        growth < 32 << 20,
        "peak RSS grew by {} MiB during a 200 MiB upload",
        growth >> 20
    );
    let kept = p
        .dir
        .path()
        .join("data/patchs/tars.upload/Shop/Cart")
        .join(body["data"]["tgz"].as_str().unwrap());
    assert_eq!(std::fs::metadata(&kept).unwrap().len(), 200 << 20);
}

async fn the_tarspatch_mode_uploads_into_another_patch_server(backend: Backend) {
    // Platform A keeps packages and serves Patch; gateway B has no disk of its own for them.
    let patch_port = free_port();
    let a = Platform::start_with(
        backend,
        PlatformOptions {
            env: vec![("TARS_PATCH_ADDR".into(), format!("127.0.0.1:{patch_port}"))],
            ..PlatformOptions::default()
        },
    )
    .await;
    let b = Platform::start_with(
        backend,
        PlatformOptions {
            env: vec![
                ("TARS_PACKAGE_STORE".into(), "tarspatch".into()),
                (
                    "TARS_PACKAGE_PATCH_OBJ".into(),
                    format!("tars.tarspatch.PatchObj@tcp -h 127.0.0.1 -p {patch_port} -t 60000"),
                ),
            ],
            ..PlatformOptions::default()
        },
    )
    .await;
    let work = tempfile::tempdir().unwrap();
    // Over one upload chunk, so it travels in several.
    let (path, md5) = make_package(work.path(), "pkg.tgz", (5 << 20) / 2);
    let (status, body) = upload(
        &b.api,
        &[
            ("suse", format!("@{}", path.display())),
            ("application", "Shop".into()),
            ("module_name", "Cart".into()),
            ("md5", md5.clone()),
        ],
    );
    assert_eq!(status, 200, "{body}");
    let tgz = body["data"]["tgz"].as_str().unwrap();
    let on_a = a
        .dir
        .path()
        .join("data/patchs/tars.upload/Shop/Cart")
        .join(tgz);
    assert_eq!(
        md5sum(&on_a),
        md5,
        "the package arrived whole on the patch server"
    );
    assert!(package_files(&b).is_empty(), "B kept nothing locally");
    let staging = b.dir.path().join("data/upload-staging");
    assert_eq!(
        std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0),
        0
    );
    assert_eq!(patch_list(&b.api).await["count"], 1);
}

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
    let patch_port = free_port();
    let p = Platform::start_with(
        Backend::Sqlite,
        PlatformOptions {
            env: vec![
                ("TARS_PATCH_ADDR".into(), format!("127.0.0.1:{patch_port}")),
                // Short, so the connection that stops reading is closed within the test.
                ("TARS_PATCH_IDLE_TIMEOUT_MS".into(), "2000".into()),
            ],
            ..PlatformOptions::default()
        },
    )
    .await;
    let addr = format!("127.0.0.1:{patch_port}");
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

on_every_backend!(
    the_seed_curl_line_publishes_to_every_active_instance,
    publishing_needs_a_deployed_and_active_server,
    uploads_check_md5_size_and_fields,
    nodes_refuse_a_package_whose_md5_does_not_match,
    the_tarspatch_mode_uploads_into_another_patch_server,
);
