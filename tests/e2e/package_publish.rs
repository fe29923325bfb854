//! Publishing packages (`upload_and_publish`, `patch_tars` tasks): the seed's curl line
//! publishes to every active instance (the simulated nodes download the package through
//! the platform's Patch servant and check its MD5), publishing needs a deployed and
//! active server, and nodes refuse a package whose MD5 does not match.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::common::packages::{curl, make_package, node_env, patch_list, upload};
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::tasks::{add_task, item, wait_task};
use crate::common::{Backend, Platform};
use crate::fixtures::deploy;
use crate::on_every_backend;

const LIMIT: Duration = Duration::from_secs(30);

async fn the_seed_curl_line_publishes_to_every_active_instance(backend: Backend) {
    let ips = fresh_ips(2);
    let sim = Simulator::on_free_port(&ips, &[]);
    let port = sim.port;
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
    let sim = Simulator::on_free_port(&ips, &[]);
    let port = sim.port;
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

async fn nodes_refuse_a_package_whose_md5_does_not_match(backend: Backend) {
    let ips = fresh_ips(1);
    let sim = Simulator::on_free_port(&ips, &[]);
    let port = sim.port;
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

on_every_backend!(
    the_seed_curl_line_publishes_to_every_active_instance,
    publishing_needs_a_deployed_and_active_server,
    nodes_refuse_a_package_whose_md5_does_not_match,
);
