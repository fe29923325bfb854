//! What each command does on a node, and what it records in `t_server_conf`, following
//! AdminRegistry: start/stop set the setting state first; restart is stop then start;
//! patch is patchPro, progress polling, then a restart unless the instance is a backup;
//! undeploy refuses a running server, destroys it on the node and removes its rows.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tars_nodes::{classify, NodeFailure};
use tars_protocol::node::{NodeClient, PatchRequest, ServerState};
use tars_store::tasks::TaskItemRow;

use super::patch_source;
use super::Executor;
use crate::ops::add_task::{bak_flag, patch_id};
use crate::status::item;

/// How long the patch servant may take to copy a package into place.
const PREPARE_TIMEOUT: Duration = Duration::from_secs(120);

type Outcome = (i64, String);

fn failed(log: impl Into<String>) -> Outcome {
    (item::FAILED, log.into())
}

fn call_error(node: &str, err: tars_protocol::CallError) -> Outcome {
    match classify(node, err) {
        NodeFailure::Unreachable(m) | NodeFailure::Failed(m) => failed(m),
    }
}

struct Target<'a> {
    app: &'a str,
    server: &'a str,
    node: &'a str,
}

/// Runs one item's command; never fails outright: every problem is the item's log.
pub(super) async fn execute(exec: &Executor, it: &TaskItemRow, user: &str) -> Outcome {
    let t = Target {
        app: it.application.as_deref().unwrap_or_default(),
        server: it.server_name.as_deref().unwrap_or_default(),
        node: it.node_name.as_deref().unwrap_or_default(),
    };
    let params: Map<String, Value> = it
        .parameters
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    let client = match exec.nodes.client(&exec.store, t.node).await {
        Ok(c) => c,
        Err(err) => return failed(format!("cannot find node {}: {err}", t.node)),
    };
    match it.command.as_deref().unwrap_or_default() {
        "start" => start(exec, &client, &t).await,
        "stop" => stop(exec, &client, &t).await,
        "restart" => restart(exec, &client, &t).await,
        "grace_restart" => grace_restart(&client, &t).await,
        "patch_tars" | "grace_patch_tars" => {
            let grace = it.command.as_deref() == Some("grace_patch_tars");
            let (status, mut log) = patch(exec, &client, &t, &params, user).await;
            if status != item::SUCCESS || bak_flag(&params) {
                return (status, log);
            }
            let (status, restart_log) = if grace {
                grace_restart(&client, &t).await
            } else {
                restart(exec, &client, &t).await
            };
            log.push_str("; ");
            log.push_str(&restart_log);
            (status, log)
        }
        "undeploy_tars" => undeploy(exec, &client, &t).await,
        other => failed(format!("command {other} not supported")),
    }
}

async fn set_setting(exec: &Executor, t: &Target<'_>, state: &str) -> Result<(), Outcome> {
    exec.store
        .set_setting_state(t.app, t.server, t.node, state)
        .await
        .map_err(|e| failed(format!("cannot record setting state: {e}")))
}

async fn start(exec: &Executor, client: &NodeClient, t: &Target<'_>) -> Outcome {
    if let Err(o) = set_setting(exec, t, "active").await {
        return o;
    }
    match client.start_server(t.app, t.server, None).await {
        Ok(r) if r.ret == 0 => (item::SUCCESS, format!("start: {}", r.result)),
        Ok(r) => failed(format!(
            "start failed on {} (ret {}): {}",
            t.node, r.ret, r.result
        )),
        Err(e) => call_error(t.node, e),
    }
}

async fn stop(exec: &Executor, client: &NodeClient, t: &Target<'_>) -> Outcome {
    if let Err(o) = set_setting(exec, t, "inactive").await {
        return o;
    }
    match client.stop_server(t.app, t.server, None).await {
        Ok(r) if r.ret == 0 => (item::SUCCESS, format!("stop: {}", r.result)),
        Ok(r) => failed(format!(
            "stop failed on {} (ret {}): {}",
            t.node, r.ret, r.result
        )),
        Err(e) => call_error(t.node, e),
    }
}

async fn restart(exec: &Executor, client: &NodeClient, t: &Target<'_>) -> Outcome {
    // A server that was not running cannot be stopped; restarting it still starts it.
    let stop_log = match client.stop_server(t.app, t.server, None).await {
        Ok(r) => format!("stop: ret {} {}", r.ret, r.result),
        Err(e) => return call_error(t.node, e),
    };
    let (status, start_log) = start(exec, client, t).await;
    (status, format!("{stop_log}; {start_log}"))
}

async fn grace_restart(client: &NodeClient, t: &Target<'_>) -> Outcome {
    match client
        .notify_server(t.app, t.server, "tars.gracerestart", None)
        .await
    {
        Ok(r) if r.ret == 0 => (item::SUCCESS, format!("grace restart: {}", r.result)),
        Ok(r) => failed(format!(
            "grace restart failed on {} (ret {}): {}",
            t.node, r.ret, r.result
        )),
        Err(e) => call_error(t.node, e),
    }
}

async fn patch(
    exec: &Executor,
    client: &NodeClient,
    t: &Target<'_>,
    params: &Map<String, Value>,
    user: &str,
) -> Outcome {
    let Some(id) = patch_id(params) else {
        return failed("parameters.patch_id is missing");
    };
    let package = match exec.store.patch_by_id(id).await {
        Ok(Some(p)) => p,
        Ok(None) => return failed(format!("no package with id {id}")),
        Err(e) => return failed(format!("cannot read package {id}: {e}")),
    };
    let server_type = match exec.store.server_by_name(t.app, t.server, t.node).await {
        Ok(Some(s)) => s.server_type,
        Ok(None) => {
            return failed(format!(
                "{}.{} is no longer deployed on {}",
                t.app, t.server, t.node
            ))
        }
        Err(e) => return failed(format!("cannot read the server: {e}")),
    };
    let tgz = package.tgz.clone().unwrap_or_default();
    let source = match patch_source::resolve(&exec.store, &exec.config.patch_obj).await {
        Ok(source) => source,
        Err(e) => return failed(e),
    };
    if let Err(e) = patch_source::prepare(&source, t.app, t.server, &tgz, PREPARE_TIMEOUT).await {
        return failed(e);
    }
    let request = PatchRequest {
        appname: t.app.to_string(),
        servername: t.server.to_string(),
        nodename: t.node.to_string(),
        groupname: t.server.to_string(),
        binname: t.server.to_string(),
        version: id.to_string(),
        user: user.to_string(),
        servertype: server_type,
        patchobj: source.proxy,
        md5: package.md5.clone().unwrap_or_default(),
        ostype: String::new(),
        filepath: tgz,
    };
    match client.patch_pro(&request, None).await {
        Ok(r) if r.ret == 0 => {}
        Ok(r) => {
            return failed(format!(
                "patch refused by {} (ret {}): {}",
                t.node, r.ret, r.result
            ))
        }
        Err(e) => return call_error(t.node, e),
    }
    let deadline = Instant::now() + exec.config.patch_timeout;
    loop {
        match client.get_patch_percent(t.app, t.server, None).await {
            Ok((0, info)) if info.succ && info.percent >= 100 => break,
            Ok((0, info))
                if !info.patching
                    && !info.succ
                    && !info.result.is_empty()
                    && info.version == id.to_string() =>
            {
                return failed(format!("patch failed on {}: {}", t.node, info.result));
            }
            Ok((0, _)) => {}
            Ok((ret, info)) => {
                return failed(format!(
                    "patch progress failed on {} (ret {ret}): {}",
                    t.node, info.result
                ))
            }
            Err(e) => return call_error(t.node, e),
        }
        if Instant::now() >= deadline {
            return failed(format!(
                "patch did not finish on {} within {} s",
                t.node,
                exec.config.patch_timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let now = tars_common::time::now_local();
    if let Err(e) = exec
        .store
        .set_patch_version(t.app, t.server, t.node, &id.to_string(), user, now)
        .await
    {
        return failed(format!("patched, but cannot record the version: {e}"));
    }
    (item::SUCCESS, format!("patched to version {id}"))
}

async fn undeploy(exec: &Executor, client: &NodeClient, t: &Target<'_>) -> Outcome {
    match client.get_state_info(t.app, t.server, None).await {
        Ok((0, info, _)) if info.server_state != ServerState::Inactive => {
            return failed(format!(
                "{}.{} is {} on {}: stop it before undeploying",
                t.app,
                t.server,
                info.server_state.as_str(),
                t.node
            ))
        }
        Ok(_) => {}
        Err(e) => return call_error(t.node, e),
    }
    if let Err(o) = set_setting(exec, t, "inactive").await {
        return o;
    }
    // The node may not know the server (never loaded); the rows go all the same.
    let destroy_log = match client.destroy_server(t.app, t.server, None).await {
        Ok(r) => format!("destroy: ret {} {}", r.ret, r.result),
        Err(e) => return call_error(t.node, e),
    };
    match exec
        .store
        .delete_server_instance(t.app, t.server, t.node)
        .await
    {
        Ok(()) => (
            item::SUCCESS,
            format!("{destroy_log}; removed from the registry"),
        ),
        Err(e) => failed(format!("{destroy_log}; cannot remove the rows: {e}")),
    }
}
