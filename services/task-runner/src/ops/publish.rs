//! `upload_and_publish` once the gateway has kept the file: record the package, patch
//! the server's instances with it in one serial task, wait for the task (bounded) and
//! write the report CI pipelines show. Failures before the package is recorded fail the
//! call, so the gateway discards the file; once recorded, the package stays and every
//! outcome is a reply.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use tars_proto::deployer::AddPackageRequest;
use tars_proto::task_runner::{
    AddTaskItem, AddTaskRequest, PublishOutcome, PublishReply, PublishRequest, TaskParameters,
    TaskStatus, TaskView,
};
use tars_store::server_conf::{ServerConfRow, ServerFilter};
use tars_store::{PageWindow, Store};
use tokio::sync::Notify;
use tonic::Status;

use super::{add_task, views};
use crate::error::TaskError;
use crate::status;

/// How often the task is looked at while waiting.
const POLL: Duration = Duration::from_millis(300);

/// Publishes `request`'s package; see the module documentation.
pub async fn publish(
    store: &Store,
    wake: &Notify,
    request: PublishRequest,
) -> Result<PublishReply, Status> {
    let (app, module) = (&request.application, &request.module_name);
    tars_common::authz::require(tars_common::authz::Role::Operator, app, Some(module))
        .map_err(TaskError::from)?;
    let instances = instances_of(store, app, module)
        .await
        .map_err(TaskError::from)?;
    if instances.is_empty() {
        return Err(TaskError::NotFound(format!(
            "{app}.{module} is not deployed on any node; deploy it first \
             (/api/deploy_server), then publish"
        ))
        .into());
    }
    // The deployer's own rules for t_server_patchs, so both upload endpoints record alike.
    let package = tars_deployer::ops::packages::upload_patch_package(
        store,
        AddPackageRequest {
            application: app.clone(),
            module_name: module.clone(),
            tgz: request.tgz.clone(),
            md5: request.md5.clone(),
            comment: request.comment.clone(),
            user: request.user.clone(),
        },
    )
    .await?;
    let mut report = format!(
        "package {} uploaded for {} as id {} ({} bytes, md5 {})\n",
        package.tgz, package.server, package.id, request.size, request.md5
    );

    let targets: Vec<&ServerConfRow> = instances
        .iter()
        .filter(|s| request.all_instances || s.setting_state == "active")
        .collect();
    if targets.is_empty() {
        let _ = writeln!(
            report,
            "no active instance of {app}.{module} to patch ({} inactive); start one first, or \
             send restart=1 to patch every instance",
            instances.len()
        );
        return Ok(reply(PublishOutcome::NoTarget, report));
    }
    let items = targets
        .iter()
        .map(|s| AddTaskItem {
            server_id: s.id,
            command: "patch_tars".into(),
            parameters: Some(TaskParameters {
                patch_id: Some(package.id),
                bak_flag: Some(s.bak_flag != 0),
                update_text: Some(request.comment.clone()),
            }),
        })
        .collect();
    let task = AddTaskRequest {
        serial: true,
        items,
        user: request.user.clone(),
    };
    let task_no = match add_task::add_task(store, task).await {
        Ok(task_no) => task_no,
        Err(err) => return Ok(aborted(err.into())),
    };
    wake.notify_one();
    let _ = writeln!(
        report,
        "task {task_no}: patch_tars to package {} on {} instance(s), one at a time:",
        package.id,
        targets.len()
    );
    for s in &targets {
        let _ = writeln!(report, "  {} (server id {})", s.node_name, s.id);
    }

    let wait = Duration::from_millis(request.wait_ms);
    let task = match wait_for(store, &task_no, wait).await {
        Ok(Some(task)) => task,
        Ok(None) => {
            let _ = writeln!(
                report,
                "task {task_no} is still running after {} s; follow it with \
                 /api/task?task_no={task_no}",
                wait.as_secs()
            );
            return Ok(reply(PublishOutcome::Running, report));
        }
        Err(err) => return Ok(aborted(err.into())),
    };
    let outcome = match task.status() {
        TaskStatus::Success => "success",
        TaskStatus::Partial => "partly failed",
        _ => "failed",
    };
    let _ = writeln!(report, "task {task_no} finished: {outcome}");
    for item in &task.items {
        let _ = writeln!(
            report,
            "  {} {}: {} {}",
            item.node_name, item.server_name, item.status_info, item.execute_info
        );
    }
    let outcome = if task.status() == TaskStatus::Success {
        PublishOutcome::Succeeded
    } else {
        PublishOutcome::Failed
    };
    Ok(reply(outcome, report))
}

fn reply(outcome: PublishOutcome, report: String) -> PublishReply {
    PublishReply {
        outcome: outcome as i32,
        report,
        ..PublishReply::default()
    }
}

fn aborted(status: Status) -> PublishReply {
    PublishReply {
        outcome: PublishOutcome::Aborted as i32,
        error_code: status.code() as i32,
        error_message: status.message().to_string(),
        ..PublishReply::default()
    }
}

/// The instances a publish patches: those outside any set, as the tree's `1App.5Server`
/// selects them, ordered by node.
async fn instances_of(
    store: &Store,
    application: &str,
    server_name: &str,
) -> tars_store::StoreResult<Vec<ServerConfRow>> {
    // Page by page, past the read cache: a server may run on many nodes, and another
    // process may have changed them a moment ago.
    const PAGE: i64 = 1000;
    let filter = ServerFilter {
        application: Some(application.to_string()),
        server_name: Some(server_name.to_string()),
        enable_set: Some(false),
        ..ServerFilter::default()
    };
    let mut servers = Vec::new();
    for page in 1.. {
        let rows = store
            .list_servers(&filter, PageWindow::from_page(page, PAGE))
            .await?;
        let last = (rows.len() as i64) < PAGE;
        servers.extend(rows);
        if last {
            break;
        }
    }
    Ok(servers)
}

/// The task once it has ended, or `None` when `wait` is over first.
async fn wait_for(
    store: &Store,
    task_no: &str,
    wait: Duration,
) -> Result<Option<TaskView>, TaskError> {
    let deadline = Instant::now() + wait;
    loop {
        let task = views::task(store, task_no).await?;
        if !task.queued && status::is_finished(task.status()) {
            return Ok(Some(task));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(POLL).await;
    }
}
