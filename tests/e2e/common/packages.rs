//! Package helpers: test packages with known MD5s, and uploads through a real `curl`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::Api;

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
