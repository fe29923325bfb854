use std::fmt::Write as _;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, StatusCode};
use tars_proto::common::Page;
use tars_proto::deployer::{ServerConf, ServerListRequest};
use tars_proto::task_runner::{AddTaskItem, AddTaskRequest, TaskNo, TaskView};

use super::store_package::store_package;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::upload::receive;

/// Task statuses as AdminReg.tars numbers them (`EMTaskStatus`).
const TASK_SUCCESS: i32 = 3;
const TASK_FAILED: i32 = 4;
const TASK_CANCELLED: i32 = 5;
const TASK_PARTIAL: i32 = 6;

/// A plain-text answer: CI logs show it as is.
fn text(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `/api/upload_and_publish` (multipart, the seed's curl line): stores the package in
/// field `suse` for `application`.`module_name`, then patches every active instance of
/// that server (every instance with `restart=1`) in one serial patch_tars task, waits for
/// it and answers a readable report. 200 when the task succeeded, 502 when it failed,
/// 202 when it is still running after `TARS_PUBLISH_WAIT_MS`.
pub async fn upload_and_publish(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request<Body>,
) -> Response {
    match publish(&state, &caller, request).await {
        Ok((status, report)) => text(status, report),
        Err(err) => text(
            err.status,
            format!("upload and publish failed: {}\n", err.message),
        ),
    }
}

async fn publish(
    state: &AppState,
    caller: &Caller,
    request: Request<Body>,
) -> ApiResult<(StatusCode, String)> {
    let limit = state.config.packages.max_upload_bytes;
    let mut form = receive(request, &state.packages, limit).await?;
    let application = form.required_name("application")?;
    let module_name = form.required_name("module_name")?;
    let staged = form.take_package()?;
    let restart_all = form.field("restart") == Some("1");

    let instances = instances_of(state, &application, &module_name).await?;
    if instances.is_empty() {
        return Err(ApiError::not_found(format!(
            "{application}.{module_name} is not deployed on any node; deploy it first \
             (/api/deploy_server), then publish"
        )));
    }
    let comment = form.field("comment").unwrap_or_default().to_string();
    let stored = store_package(
        state,
        &application,
        &module_name,
        &comment,
        &caller.user,
        staged,
    )
    .await?;
    let package = &stored.package;
    let mut report = format!(
        "package {} uploaded for {} as id {} ({} bytes, md5 {})\n",
        package.tgz, package.server, package.id, stored.size, stored.md5
    );

    let targets: Vec<&ServerConf> = instances
        .iter()
        .filter(|s| restart_all || s.setting_state == "active")
        .collect();
    if targets.is_empty() {
        let _ = writeln!(
            report,
            "no active instance of {application}.{module_name} to patch ({} inactive); start \
             one first, or send restart=1 to patch every instance",
            instances.len()
        );
        return Ok((StatusCode::CONFLICT, report));
    }
    let items = targets
        .iter()
        .map(|s| AddTaskItem {
            server_id: s.id,
            command: "patch_tars".into(),
            parameters_json: serde_json::json!({
                "patch_id": package.id,
                "bak_flag": s.bak_flag,
                "update_text": comment,
            })
            .to_string(),
        })
        .collect();
    let added = state
        .backends
        .task_runner
        .call(
            AddTaskRequest {
                serial: true,
                items,
                user: caller.user.clone(),
            },
            |mut c, r| async move { c.add_task(r).await },
        )
        .await?;
    let task_no = added.task_no;
    let _ = writeln!(
        report,
        "task {task_no}: patch_tars to package {} on {} instance(s), one at a time:",
        package.id,
        targets.len()
    );
    for s in &targets {
        let _ = writeln!(report, "  {} (server id {})", s.node_name, s.id);
    }

    let Some(task) = wait_for(state, &task_no).await? else {
        let _ = writeln!(
            report,
            "task {task_no} is still running after {} s; follow it with /api/task?task_no={task_no}",
            state.config.publish_wait.as_secs()
        );
        return Ok((StatusCode::ACCEPTED, report));
    };
    let outcome = match task.status {
        TASK_SUCCESS => "success",
        TASK_PARTIAL => "partly failed",
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
    let status = if task.status == TASK_SUCCESS {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    Ok((status, report))
}

/// Every instance of the server, whatever its set.
async fn instances_of(
    state: &AppState,
    application: &str,
    module_name: &str,
) -> ApiResult<Vec<ServerConf>> {
    // Page by page: a server may run on more nodes than one answer holds.
    const PAGE: i64 = 1000;
    let mut servers = Vec::new();
    for curr_page in 1.. {
        let request = ServerListRequest {
            tree_node_id: format!("1{application}.5{module_name}"),
            page: Some(Page {
                curr_page,
                page_size: PAGE,
            }),
        };
        let reply = state
            .backends
            .deployer
            .call(request, |mut c, r| async move { c.server_list(r).await })
            .await?;
        let last = (reply.servers.len() as i64) < PAGE;
        servers.extend(reply.servers);
        if last {
            break;
        }
    }
    Ok(servers)
}

/// Polls the task until it ends, or `None` once the publish wait is over.
async fn wait_for(state: &AppState, task_no: &str) -> ApiResult<Option<TaskView>> {
    let deadline = Instant::now() + state.config.publish_wait;
    loop {
        let task = state
            .backends
            .task_runner
            .call(
                TaskNo {
                    task_no: task_no.to_string(),
                },
                |mut c, r| async move { c.task(r).await },
            )
            .await?;
        if !task.queued
            && matches!(
                task.status,
                TASK_SUCCESS | TASK_FAILED | TASK_CANCELLED | TASK_PARTIAL
            )
        {
            return Ok(Some(task));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}
