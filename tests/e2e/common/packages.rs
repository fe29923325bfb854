//! Package helpers: test packages with known MD5s, uploads through a real `curl`, what a
//! platform keeps on disk, and where its Patch servant listens.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{Api, Platform, PlatformOptions};

/// A package file of `size` bytes with varied content, and its MD5 (by `md5sum`).
pub fn make_package(dir: &Path, name: &str, size: usize) -> (PathBuf, String) {
    let path = dir.join(name);
    let mut bytes = Vec::with_capacity(size);
    let mut x: u32 = 2463534242;
    while bytes.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(size);
    std::fs::write(&path, &bytes).unwrap();
    (path.clone(), md5sum(&path))
}

pub fn md5sum(path: &Path) -> String {
    let out = Command::new("md5sum").arg(path).output().expect("md5sum");
    String::from_utf8(out.stdout).unwrap()[..32].to_string()
}

/// Runs curl with `-F` fields (a leading `@` uploads a file); answers status and body.
pub fn curl(url: &str, fields: &[(&str, String)]) -> (u16, String) {
    let mut command = Command::new("curl");
    command.args(["-sS", "-o", "-", "-w", "\n%{http_code}", url]);
    for (name, value) in fields {
        command.arg("-F").arg(format!("{name}={value}"));
    }
    let out = command.output().expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').expect("status line");
    (code.trim().parse().unwrap_or(0), body.to_string())
}

pub fn upload(api: &Api, fields: &[(&str, String)]) -> (u16, Value) {
    let (status, body) = curl(&api.url_for("/api/upload_patch_package", &[]), fields);
    let body: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body:?}"));
    assert_eq!(body["ret_code"], status, "{body}");
    (status, body)
}

/// Uploads a package of `size` bytes for `App.Server` and answers its id and MD5.
pub fn upload_package(
    api: &Api,
    dir: &Path,
    app: &str,
    server: &str,
    size: usize,
) -> (i64, String) {
    let (path, md5) = make_package(dir, &format!("{app}.{server}.tgz"), size);
    let (status, body) = upload(
        api,
        &[
            ("suse", format!("@{}", path.display())),
            ("application", app.to_string()),
            ("module_name", server.to_string()),
        ],
    );
    assert_eq!(status, 200, "{body}");
    (body["data"]["id"].as_i64().unwrap(), md5)
}

/// Options for a platform whose nodes are simulated on `port`.
pub fn node_env(port: u16, extra: &[(&str, &str)]) -> PlatformOptions {
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

/// Every file under the platform's package directory.
pub fn package_files(p: &Platform) -> Vec<PathBuf> {
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

/// `server_patch_list` of `Shop.Cart`.
pub async fn patch_list(api: &Api) -> Value {
    api.get(
        "/api/server_patch_list",
        &[("application", "Shop"), ("module_name", "Cart")],
    )
    .await
    .ok()
    .clone()
}

/// Peak resident memory of a process, in bytes.
pub fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// `host:port` of the Patch servant a standalone platform announced
/// (`… serving packages at <App.Server.Obj@tcp -h H -p P …>`): set `TARS_PATCH_ADDR` to
/// `127.0.0.1:0` to serve it on a port of its choosing.
pub fn patch_servant_addr(p: &Platform) -> String {
    let proxy = p.processes[0].announced("serving packages at ");
    let word_after = |flag: &str| {
        let mut words = proxy.split_whitespace();
        words.find(|w| *w == flag);
        words
            .next()
            .unwrap_or_else(|| panic!("no {flag} in {proxy:?}"))
            .to_string()
    };
    format!("{}:{}", word_after("-h"), word_after("-p"))
}
