//! Packages (发布包): the two uploads, the one place the gateway touches disk. The file is
//! streamed into the package store ([`crate::upload`]) and kept under a generated name;
//! then one backend call records it (the deployer) or records and publishes it (the
//! task-runner). A call that fails before recording takes the file away again.

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, StatusCode};
use tars_common::authz::Role;
use tars_packages::layout::package_name;
use tars_packages::Staged;
use tars_proto::deployer::{AddPackageRequest, Package};
use tars_proto::task_runner::{PublishOutcome, PublishRequest};
use tars_proto::ServiceErrorCode;

use crate::auth::Caller;
use crate::envelope::Data;
use crate::error::{ApiError, ApiResult};
use crate::handlers::audit_refusal;
use crate::state::AppState;
use crate::upload::{package_error, receive, UploadForm};

/// A received upload: whose package, and the rest of the form.
struct Upload {
    application: String,
    module_name: String,
    comment: String,
    form: UploadForm,
}

async fn upload(
    state: &AppState,
    caller: &Caller,
    request: Request<Body>,
) -> ApiResult<(Upload, Staged)> {
    let limit = state.config.packages.max_upload_bytes;
    let started = std::time::Instant::now();
    let received = receive(request, &state.packages, limit).await;
    crate::metrics::upload_received(caller.endpoint, started.elapsed(), &received);
    let mut form = match received {
        Ok(form) => form,
        Err(err) => return Err(audit_refusal(state, caller, "", "", err).await),
    };
    let (application, module_name) = match (
        form.required_name("application"),
        form.required_name("module_name"),
    ) {
        (Ok(app), Ok(module)) => (app, module),
        (Err(err), _) | (_, Err(err)) => {
            return Err(audit_refusal(state, caller, "", "", err).await)
        }
    };
    // The form is read whole before its fields can be checked; a refused package is
    // dropped from the staging area, never kept.
    if !caller
        .grants
        .allows(Role::Operator, &application, Some(&module_name))
    {
        let err = ApiError::forbidden(format!(
            "{} may not call {}: it needs the operator role on {application}.{module_name}; \
             an admin can grant it with `tars-platform auth grant {} operator {application}`",
            caller.user, caller.endpoint, caller.user
        ));
        return Err(audit_refusal(state, caller, &application, &module_name, err).await);
    }
    let staged = match form.take_package() {
        Ok(staged) => staged,
        Err(err) => {
            return Err(audit_refusal(state, caller, &application, &module_name, err).await)
        }
    };
    let comment = form.field("comment").unwrap_or_default().to_string();
    let upload = Upload {
        application,
        module_name,
        comment,
        form,
    };
    Ok((upload, staged))
}

/// Keeps the staged file as `name`, then awaits `record` (the backend call that records
/// it under that name) and takes the file away again when it fails.
async fn keep_and<T>(
    state: &AppState,
    upload: &Upload,
    staged: Staged,
    record: impl std::future::Future<Output = ApiResult<T>>,
    name: String,
) -> ApiResult<T> {
    let (app, module) = (&upload.application, &upload.module_name);
    state
        .packages
        .keep(app, module, &name, staged)
        .await
        .map_err(package_error)?;
    let recorded = record.await;
    if recorded.is_err() {
        state.packages.discard(app, module, &name).await;
    }
    recorded
}

fn new_name(application: &str, module_name: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    package_name(application, module_name, millis)
}

/// `/api/upload_patch_package`: stores the package, checking `md5` when given, and has
/// the deployer record it.
pub async fn upload_patch_package(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request<Body>,
) -> ApiResult<Data<Package>> {
    let caller = caller.acting_on("upload_patch_package", true);
    let (upload, staged) = upload(&state, &caller, request).await?;
    if let Err(err) = staged.check_md5(upload.form.field("md5")) {
        let err = package_error(err);
        return Err(audit_refusal(
            &state,
            &caller,
            &upload.application,
            &upload.module_name,
            err,
        )
        .await);
    }
    let (size, md5) = (staged.size, staged.md5.clone());
    let name = new_name(&upload.application, &upload.module_name);
    let record = AddPackageRequest {
        application: upload.application.clone(),
        module_name: upload.module_name.clone(),
        tgz: name.clone(),
        md5: md5.clone(),
        comment: upload.comment.clone(),
        user: caller.user.clone(),
    };
    let call = state.backends.deployer.call_as(
        Some(&caller),
        std::time::Duration::ZERO,
        record,
        |mut c, r| async move { c.add_package(r).await },
    );
    let package = keep_and(&state, &upload, staged, call, name).await?;
    tracing::info!(package = %package.tgz, id = package.id, bytes = size, md5 = %md5, "package uploaded");
    Ok(Data(package))
}

/// A plain-text answer: CI logs show it as is.
fn text(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `/api/upload_and_publish` (the seed's curl line): stores the package, then the
/// task-runner records it, patches the server's instances and reports, in one call.
pub async fn upload_and_publish(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    request: Request<Body>,
) -> Response {
    let caller = caller.acting_on("upload_and_publish", true);
    match publish(&state, &caller, request).await {
        Ok((status, report)) => text(status, report),
        Err(err) => text(
            err.status(),
            format!("upload and publish failed: {}\n", err.message()),
        ),
    }
}

async fn publish(
    state: &AppState,
    caller: &Caller,
    request: Request<Body>,
) -> ApiResult<(StatusCode, String)> {
    let (upload, staged) = upload(state, caller, request).await?;
    let wait = state.config.publish_wait;
    let name = new_name(&upload.application, &upload.module_name);
    let request = PublishRequest {
        application: upload.application.clone(),
        module_name: upload.module_name.clone(),
        tgz: name.clone(),
        md5: staged.md5.clone(),
        size: staged.size,
        comment: upload.comment.clone(),
        user: caller.user.clone(),
        all_instances: upload.form.field("restart") == Some("1"),
        wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
    };
    let runner = &state.backends.task_runner;
    let call = runner.call_as(Some(caller), wait, request, |mut c, r| async move {
        c.publish(r).await
    });
    let reply = keep_and(state, &upload, staged, call, name).await?;
    let status = match reply.outcome() {
        PublishOutcome::Succeeded => StatusCode::OK,
        PublishOutcome::Running => StatusCode::ACCEPTED,
        PublishOutcome::NoTarget => code(ServiceErrorCode::Conflict),
        PublishOutcome::Failed => code(ServiceErrorCode::BadGateway),
        PublishOutcome::Aborted | PublishOutcome::Unspecified => {
            let failed = tonic::Status::new(reply.error_code.into(), reply.error_message);
            return Err(runner.error(failed));
        }
    };
    Ok((status, reply.report))
}

fn code(code: ServiceErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
