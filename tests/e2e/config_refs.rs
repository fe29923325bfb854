//! References between configuration files, pushing files to a simulated fleet with a
//! dead node, and the refusals of the read endpoints.

use serde_json::json;

use crate::common::config_api::*;
use crate::common::sim::{fresh_ips, Simulator};
use crate::common::{Backend, Platform, PlatformOptions};
use crate::fixtures::deploy;
use crate::on_every_backend;

async fn references_follow_the_level_rules(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    deploy(api, "Shop", "Cart", "10.0.0.5", 10001).await;
    let app = add(api, app_file("Shop", "common.conf", "app")).await;
    let server = add(api, server_file("Shop", "Cart", "cart.conf", "server")).await;
    let other_server = add(api, server_file("Shop", "Cart", "other.conf", "other")).await;
    let node = node_files(api, id_of(&server)).await[0].clone();
    let bank = add(api, app_file("Bank", "common.conf", "bank")).await;
    let (a, s, s2, n, b) = (
        id_of(&app),
        id_of(&server),
        id_of(&other_server),
        id_of(&node),
        id_of(&bank),
    );

    let server_to_app = add_ref(api, s, a).await.ok().clone();
    assert_eq!(keys(&server_to_app), ["id", "config_id", "reference_id"]);
    assert_eq!(server_to_app["config_id"], s);
    assert_eq!(server_to_app["reference_id"], a);
    let merged = by(api, "merged_node_config", "id", s).await;
    assert_eq!(merged.ok(), &json!("app\r\n\r\nserver"));

    let node_to_server = add_ref(api, n, s).await.ok().clone();
    let node_to_app = add_ref(api, n, a).await.ok().clone();
    assert_eq!(node_to_app["config_id"], n);
    let refs = by(api, "config_ref_list", "config_id", n).await;
    assert_eq!(
        refs.ok(),
        &json!([
            {"id": node_to_app["id"], "config_id": n, "reference": app},
            {"id": node_to_server["id"], "config_id": n, "reference": server},
        ]),
        "newest reference first, each with its file"
    );
    let refs = by(api, "config_ref_list", "config_id", s).await;
    assert_eq!(ids(refs.ok()), [id_of(&server_to_app)]);
    assert_eq!(
        by(api, "config_ref_list", "config_id", a).await.ok(),
        &json!([])
    );

    // Only upwards (server or node to a higher level), within the application, once.
    for (from, to) in [(s, s), (n, n), (a, s), (a, n), (s, s2), (s, n)] {
        add_ref(api, from, to).await.err(400, "`reference_id`");
    }
    add_ref(api, s, b).await.err(400, "Bank");
    add_ref(api, s, 987654).await.err(404, "987654");
    add_ref(api, 987654, a).await.err(404, "987654");
    add_ref(api, s, a).await.err(409, &a.to_string());
    by(api, "add_config_ref", "config_id", s)
        .await
        .err(400, "`reference_id`");
    by(api, "add_config_ref", "reference_id", a)
        .await
        .err(400, "`config_id`");
    by(api, "config_ref_list", "config_id", 987654)
        .await
        .err(404, "987654");
    get(api, "config_ref_list", &[])
        .await
        .err(400, "`config_id`");
    let refs = by(api, "config_ref_list", "config_id", s).await;
    assert_eq!(
        ids(refs.ok()),
        [id_of(&server_to_app)],
        "refusals add nothing"
    );

    // A referenced file cannot be deleted; the message names who references it.
    let refused = by(api, "delete_config_file", "id", a).await;
    let message = refused.err(409, &format!("{s} ("));
    assert!(message.contains(&format!("{n} (")), "{message}");
    file(api, a).await.ok();

    // Removing a reference.
    let ref_id = id_of(&node_to_app);
    assert_eq!(
        by(api, "delete_config_ref", "id", ref_id).await.ok(),
        &json!([ref_id])
    );
    by(api, "delete_config_ref", "id", ref_id)
        .await
        .err(404, &ref_id.to_string());
    get(api, "delete_config_ref", &[]).await.err(400, "`id`");
    let refs = by(api, "config_ref_list", "config_id", n).await;
    assert_eq!(ids(refs.ok()), [id_of(&node_to_server)]);

    // The server file is referenced only by its own node file: both go, with the
    // references they held, and the application file is free again.
    by(api, "delete_config_file", "id", s).await.ok();
    file(api, n).await.err(404, &n.to_string());
    by(api, "config_ref_list", "config_id", n)
        .await
        .err(404, &n.to_string());
    let gone = id_of(&server_to_app);
    by(api, "delete_config_ref", "id", gone)
        .await
        .err(404, &gone.to_string());

    let other_to_app = add_ref(api, s2, a).await.ok().clone();
    by(api, "delete_config_file", "id", a)
        .await
        .err(409, &format!("{s2} ("));
    by(api, "delete_config_ref", "id", id_of(&other_to_app))
        .await
        .ok();
    assert_eq!(
        by(api, "delete_config_file", "id", a).await.ok(),
        &json!([a])
    );
}

fn node_env(port: u16) -> PlatformOptions {
    PlatformOptions {
        env: vec![
            ("TARS_NODE_PORT".into(), port.to_string()),
            ("TARS_NODE_TIMEOUT_MS".into(), "1000".into()),
            ("TARS_NODE_CONNECT_TIMEOUT_MS".into(), "500".into()),
        ],
        ..PlatformOptions::default()
    }
}

async fn push_tells_every_instance_and_a_dead_node_fails_alone(backend: Backend) {
    let ips = fresh_ips(3);
    // ips[2] runs no tarsnode: calls to it are refused.
    let sim = Simulator::on_free_port(&ips[..2], &[]);
    let port = sim.port;
    let p = Platform::start_with(backend, node_env(port)).await;
    let api = &p.api;
    for ip in &ips {
        deploy(api, "Shop", "Cart", ip, 10001).await;
    }
    deploy(api, "Shop", "Other", &ips[0], 10002).await;
    let server = add(api, server_file("Shop", "Cart", "cart.conf", "x=1")).await;
    let app = add(api, app_file("Shop", "app.conf", "")).await;
    let nodes = node_files(api, id_of(&server)).await;
    let nodes = nodes.as_array().unwrap();
    let on_second = nodes
        .iter()
        .find(|f| f["node_name"] == ips[1].as_str())
        .unwrap()
        .clone();

    let pushed = by(api, "push_config_file", "ids", id_of(&server)).await;
    let rows = pushed.ok().as_array().unwrap().clone();
    assert_eq!(rows.len(), 3, "one row per instance: {rows:?}");
    for row in &rows {
        assert_eq!(
            keys(row),
            [
                "application",
                "server_name",
                "node_name",
                "ret_code",
                "err_msg"
            ]
        );
        assert_eq!(row["application"], "Shop");
        assert_eq!(row["server_name"], "Cart");
    }
    let row_of = |ip: &str| {
        let row = rows.iter().find(|r| r["node_name"] == ip);
        row.unwrap_or_else(|| panic!("no row for {ip}: {rows:?}"))
            .clone()
    };
    for ip in &ips[..2] {
        let row = row_of(ip);
        assert_eq!(row["ret_code"], 0, "{row}");
        let message = row["err_msg"].as_str().unwrap();
        assert!(message.contains("tars.loadconfig cart.conf"), "{row}");
    }
    let dead = row_of(&ips[2]);
    assert_eq!(dead["ret_code"], -1, "{dead}");
    assert!(
        dead["err_msg"].as_str().unwrap().contains("refused"),
        "{dead}"
    );

    let calls = sim.calls_of("notifyServer");
    let mut notified: Vec<&str> = calls.iter().map(|c| c["node"].as_str().unwrap()).collect();
    notified.sort();
    let mut expected = vec![ips[0].as_str(), ips[1].as_str()];
    expected.sort();
    assert_eq!(notified, expected);
    for call in &calls {
        assert_eq!(call["application"], "Shop");
        assert_eq!(call["server_name"], "Cart");
        assert_eq!(call["command"], "tars.loadconfig cart.conf");
    }

    // A node file reaches its own instance only.
    let pushed = by(api, "push_config_file", "ids", id_of(&on_second)).await;
    let rows = pushed.ok().clone();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["node_name"], ips[1].as_str());
    assert_eq!(rows[0]["ret_code"], 0);
    let calls = sim.calls_of("notifyServer");
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2]["node"], ips[1].as_str());
    assert_eq!(calls[2]["command"], "tars.loadconfig cart.conf");

    // `,` separates too; each instance hears about each file once.
    let both = format!("{},{}", id_of(&server), id_of(&on_second));
    let rows = by(api, "push_config_file", "ids", both).await;
    assert_eq!(rows.ok().as_array().unwrap().len(), 3, "{}", rows.body);
    assert_eq!(sim.calls_of("notifyServer").len(), 5);

    // Refusals: nothing is sent.
    let unknown = format!("{};987654", id_of(&server));
    by(api, "push_config_file", "ids", unknown)
        .await
        .err(404, "987654");
    by(api, "push_config_file", "ids", id_of(&app))
        .await
        .err(400, "`ids`");
    for garbage in ["1;x", "", ";", "abc"] {
        by(api, "push_config_file", "ids", garbage)
            .await
            .err(400, "`ids`");
    }
    get(api, "push_config_file", &[]).await.err(400, "`ids`");
    assert_eq!(sim.calls_of("notifyServer").len(), 5);
}

async fn reads_and_lists_refuse_bad_input(backend: Backend) {
    let p = Platform::start(backend).await;
    let api = &p.api;
    for endpoint in ["config_file", "delete_config_file", "merged_node_config"] {
        get(api, endpoint, &[]).await.err(400, "`id`");
        by(api, endpoint, "id", "abc").await.err(400, "`id`");
        by(api, endpoint, "id", "1.5").await.err(400, "`id`");
        by(api, endpoint, "id", 987654).await.err(404, "987654");
    }

    for level in ["0", "6", "x"] {
        let query = [("level", level), ("application", "Shop")];
        get(api, "config_file_list", &query)
            .await
            .err(400, "`level`");
    }
    let no_level = [("application", "Shop")];
    get(api, "config_file_list", &no_level)
        .await
        .err(400, "`level`");
    get(api, "config_file_list", &[("level", "1")])
        .await
        .err(400, "`application`");
    for (query, field) in [
        (vec![("level", "2")], "set_name"),
        (vec![("level", "3"), ("set_name", "sh")], "set_area"),
        (
            vec![("level", "4"), ("set_name", "sh"), ("set_area", "a")],
            "set_group",
        ),
        (vec![("level", "5")], "server_name"),
    ] {
        let mut query = query;
        query.push(("application", "Shop"));
        get(api, "config_file_list", &query)
            .await
            .err(400, &format!("`{field}`"));
    }
    assert_eq!(
        list(api, SHOP).await,
        json!([]),
        "an application without files lists nothing"
    );
}

on_every_backend!(
    references_follow_the_level_rules,
    push_tells_every_instance_and_a_dead_node_fails_alone,
    reads_and_lists_refuse_bad_input,
);
