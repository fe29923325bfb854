//! What each command does on a node, and what it records in `t_server_conf`, following
//! AdminRegistry: start/stop set the setting state first; restart is stop then start;
//! patch is patchPro, progress polling, then a restart unless the instance is a backup;
//! undeploy refuses a running server, destroys it on the node and removes its rows.
//!
//! Every node call is preceded by [`Item::guard`] (the claim and the instance lock still
//! hold) and every registry write is fenced by the claim: a runner that lost its task
//! stops between two calls instead of repeating what the new holder does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tars_nodes::{classify, NodeFailure};
use tars_protocol::node::{NodeClient, PatchRequest, ServerState};
use tars_store::task_effects::Instance;
use tars_store::tasks::TaskItemRow;

use super::claim::LiveClaim;
use super::instance_lock::InstanceLock;
use super::patch_source;
use super::{Executor, Stop};
use crate::parameters;
use crate::status::TaskItemStatus;
use tars_proto::task_runner::TaskParameters;

/// How long the patch servant may take to copy a package into place.
const PREPARE_TIMEOUT: Duration = Duration::from_secs(120);

type Outcome = (TaskItemStatus, String);

fn failed(log: impl Into<String>) -> Outcome {
    (TaskItemStatus::Failed, log.into())
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

impl Target<'_> {
    fn instance(&self) -> Instance<'_> {
        Instance {
            application: self.app,
            server_name: self.server,
            node_name: self.node,
        }
    }
}

/// One item being executed: what it may act on and the proofs it must keep holding.
struct Item<'a> {
    exec: &'a Executor,
    claim: &'a LiveClaim,
    lock: &'a InstanceLock,
    client: Arc<NodeClient>,
    t: Target<'a>,
    /// An earlier attempt (a runner that died or lost its claim) started this item: its
    /// node calls may have been made already.
    resumed: bool,
}

impl Item<'_> {
    /// Checked before every node call.
    async fn guard(&self) -> Result<(), Stop> {
        self.claim.ensure_held().await?;
        self.lock.ensure_held()
    }

    /// A fenced registry write's answer: false means the claim was lost.
    fn fenced(written: bool) -> Result<(), Stop> {
        if written {
            Ok(())
        } else {
            Err(Stop::LeaseLost)
        }
    }

    async fn set_setting(&self, state: &str) -> Result<(), Stop> {
        let written = self
            .exec
            .store
            .set_setting_state(&self.claim.fence, self.t.instance(), state)
            .await?;
        Item::fenced(written)
    }
}

/// Runs one item's command. A node's failure is the item's outcome (failed, with the
/// reason in its log); only a lost claim, a shutdown or a database failure stops it.
pub(super) async fn execute(
    exec: &Executor,
    claim: &LiveClaim,
    lock: &InstanceLock,
    it: &TaskItemRow,
    user: &str,
) -> Result<Outcome, Stop> {
    let t = Target {
        app: it.application.as_deref().unwrap_or_default(),
        server: it.server_name.as_deref().unwrap_or_default(),
        node: it.node_name.as_deref().unwrap_or_default(),
    };
    let params = parameters::from_stored(it.parameters.as_deref());
    let client = match exec.nodes.client(&exec.store, t.node).await {
        Ok(c) => c,
        Err(err) => return Ok(failed(format!("cannot find node {}: {err}", t.node))),
    };
    let item = Item {
        exec,
        claim,
        lock,
        client,
        t,
        resumed: it.status == Some(TaskItemStatus::Running as i64),
    };
    let x = &item;
    Ok(match it.command.as_deref().unwrap_or_default() {
        "start" => start(x).await?,
        "stop" => stop(x).await?,
        "restart" => restart(x).await?,
        "grace_restart" => grace_restart(x).await?,
        "patch_tars" | "grace_patch_tars" => {
            let grace = it.command.as_deref() == Some("grace_patch_tars");
            let (status, mut log) = patch(x, &params, user).await?;
            if status != TaskItemStatus::Success || params.bak_flag() {
                return Ok((status, log));
            }
            let (status, restart_log) = if grace {
                grace_restart(x).await?
            } else {
                restart(x).await?
            };
            log.push_str("; ");
            log.push_str(&restart_log);
            (status, log)
        }
        "undeploy_tars" => undeploy(x).await?,
        other => failed(format!("command {other} not supported")),
    })
}

async fn start(x: &Item<'_>) -> Result<Outcome, Stop> {
    let t = &x.t;
    x.set_setting("active").await?;
    x.guard().await?;
    Ok(match x.client.start_server(t.app, t.server, None).await {
        Ok(r) if r.ret == 0 => (TaskItemStatus::Success, format!("start: {}", r.result)),
        Ok(r) => failed(format!(
            "start failed on {} (ret {}): {}",
            t.node, r.ret, r.result
        )),
        Err(e) => call_error(t.node, e),
    })
}

async fn stop(x: &Item<'_>) -> Result<Outcome, Stop> {
    let t = &x.t;
    x.set_setting("inactive").await?;
    x.guard().await?;
    Ok(match x.client.stop_server(t.app, t.server, None).await {
        Ok(r) if r.ret == 0 => (TaskItemStatus::Success, format!("stop: {}", r.result)),
        Ok(r) => failed(format!(
            "stop failed on {} (ret {}): {}",
            t.node, r.ret, r.result
        )),
        Err(e) => call_error(t.node, e),
    })
}

async fn restart(x: &Item<'_>) -> Result<Outcome, Stop> {
    let t = &x.t;
    x.guard().await?;
    // A server that was not running cannot be stopped; restarting it still starts it.
    let stop_log = match x.client.stop_server(t.app, t.server, None).await {
        Ok(r) => format!("stop: ret {} {}", r.ret, r.result),
        Err(e) => return Ok(call_error(t.node, e)),
    };
    let (status, start_log) = start(x).await?;
    Ok((status, format!("{stop_log}; {start_log}")))
}

async fn grace_restart(x: &Item<'_>) -> Result<Outcome, Stop> {
    let t = &x.t;
    x.guard().await?;
    Ok(
        match x
            .client
            .notify_server(t.app, t.server, "tars.gracerestart", None)
            .await
        {
            Ok(r) if r.ret == 0 => (
                TaskItemStatus::Success,
                format!("grace restart: {}", r.result),
            ),
            Ok(r) => failed(format!(
                "grace restart failed on {} (ret {}): {}",
                t.node, r.ret, r.result
            )),
            Err(e) => call_error(t.node, e),
        },
    )
}

async fn patch(x: &Item<'_>, params: &TaskParameters, user: &str) -> Result<Outcome, Stop> {
    let (exec, t) = (x.exec, &x.t);
    let Some(id) = params.patch_id else {
        return Ok(failed("parameters.patch_id is missing"));
    };
    let Some(package) = exec.store.patch_by_id(id).await? else {
        return Ok(failed(format!("no package with id {id}")));
    };
    let Some(server) = exec.store.server_by_name(t.app, t.server, t.node).await? else {
        return Ok(failed(format!(
            "{}.{} is no longer deployed on {}",
            t.app, t.server, t.node
        )));
    };
    let tgz = package.tgz.clone().unwrap_or_default();
    let source = match patch_source::resolve(&exec.store, &exec.config.patch_obj).await {
        Ok(source) => source,
        Err(e) => return Ok(failed(e)),
    };
    x.guard().await?;
    if let Err(e) = patch_source::prepare(&source, t.app, t.server, &tgz, PREPARE_TIMEOUT).await {
        return Ok(failed(e));
    }
    let request = PatchRequest {
        appname: t.app.to_string(),
        servername: t.server.to_string(),
        nodename: t.node.to_string(),
        groupname: t.server.to_string(),
        binname: t.server.to_string(),
        version: id.to_string(),
        user: user.to_string(),
        servertype: server.server_type,
        patchobj: source.proxy,
        md5: package.md5.clone().unwrap_or_default(),
        ostype: String::new(),
        filepath: tgz,
    };
    x.guard().await?;
    // Taken over from an attempt that died: if the node already has this patch (in
    // progress or done), follow it rather than send it a second time.
    let sent_before = x.resumed
        && matches!(
            x.client.get_patch_percent(t.app, t.server, None).await,
            Ok((0, ref info)) if info.version == id.to_string() && (info.patching || info.succ)
        );
    if sent_before {
        tracing::info!(
            node = t.node,
            version = id,
            "resuming a patch an earlier attempt sent"
        );
    } else {
        match x.client.patch_pro(&request, None).await {
            Ok(r) if r.ret == 0 => {}
            Ok(r) => {
                return Ok(failed(format!(
                    "patch refused by {} (ret {}): {}",
                    t.node, r.ret, r.result
                )))
            }
            Err(e) => return Ok(call_error(t.node, e)),
        }
    }
    let deadline = Instant::now() + exec.config.patch_timeout;
    loop {
        x.guard().await?;
        match x.client.get_patch_percent(t.app, t.server, None).await {
            Ok((0, info)) if info.succ && info.percent >= 100 => break,
            Ok((0, info))
                if !info.patching
                    && !info.succ
                    && !info.result.is_empty()
                    && info.version == id.to_string() =>
            {
                return Ok(failed(format!(
                    "patch failed on {}: {}",
                    t.node, info.result
                )));
            }
            Ok((0, _)) => {}
            Ok((ret, info)) => {
                return Ok(failed(format!(
                    "patch progress failed on {} (ret {ret}): {}",
                    t.node, info.result
                )))
            }
            Err(e) => return Ok(call_error(t.node, e)),
        }
        if Instant::now() >= deadline {
            return Ok(failed(format!(
                "patch did not finish on {} within {} s",
                t.node,
                exec.config.patch_timeout.as_secs()
            )));
        }
        tokio::select! {
            _ = x.claim.lost() => return Err(Stop::LeaseLost),
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    let now = tars_common::time::now_local();
    let written = exec
        .store
        .set_patch_version(&x.claim.fence, t.instance(), &id.to_string(), user, now)
        .await?;
    Item::fenced(written)?;
    Ok((TaskItemStatus::Success, format!("patched to version {id}")))
}

async fn undeploy(x: &Item<'_>) -> Result<Outcome, Stop> {
    let t = &x.t;
    x.guard().await?;
    match x.client.get_state_info(t.app, t.server, None).await {
        Ok((0, info, _)) if info.server_state != ServerState::Inactive => {
            return Ok(failed(format!(
                "{}.{} is {} on {}: stop it before undeploying",
                t.app,
                t.server,
                info.server_state.as_str(),
                t.node
            )))
        }
        Ok(_) => {}
        Err(e) => return Ok(call_error(t.node, e)),
    }
    x.set_setting("inactive").await?;
    x.guard().await?;
    // The node may not know the server (never loaded); the rows go all the same.
    let destroy_log = match x.client.destroy_server(t.app, t.server, None).await {
        Ok(r) => format!("destroy: ret {} {}", r.ret, r.result),
        Err(e) => return Ok(call_error(t.node, e)),
    };
    let written = x
        .exec
        .store
        .delete_server_instance(&x.claim.fence, t.instance())
        .await?;
    Item::fenced(written)?;
    Ok((
        TaskItemStatus::Success,
        format!("{destroy_log}; removed from the registry"),
    ))
}
