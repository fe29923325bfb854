//! Uploading packages (`upload_patch_package`, `server_patch_list`): uploads with a real
//! `curl`, MD5, size and field checks, flat memory on a 200 MB upload, and the
//! tarspatch store mode (one platform uploading into another's Patch servant).

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::common::packages::{
    make_package, md5sum, package_files, patch_list, patch_servant_addr, peak_rss, upload,
};
use crate::common::{Backend, Platform, PlatformOptions};
use crate::on_every_backend;

async fn uploads_check_md5_size_and_fields(backend: Backend) {
    let p = Platform::start_with(
        backend,
        PlatformOptions::with_env(&[("TARS_UPLOAD_MAX_BYTES", "1048576")]),
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
    let a = Platform::start_with(
        backend,
        PlatformOptions::with_env(&[("TARS_PATCH_ADDR", "127.0.0.1:0")]),
    )
    .await;
    let patch_addr = patch_servant_addr(&a);
    let (patch_host, patch_port) = patch_addr.rsplit_once(':').unwrap();
    let b = Platform::start_with(
        backend,
        PlatformOptions {
            env: vec![
                ("TARS_PACKAGE_STORE".into(), "tarspatch".into()),
                (
                    "TARS_PACKAGE_PATCH_OBJ".into(),
                    format!("tars.tarspatch.PatchObj@tcp -h {patch_host} -p {patch_port} -t 60000"),
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

on_every_backend!(
    uploads_check_md5_size_and_fields,
    the_tarspatch_mode_uploads_into_another_patch_server,
);
