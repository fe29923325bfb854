//! What answers an endpoint: most forward their input to one backend RPC through
//! [`forward`] (the handlers themselves are generated from the endpoint table, in
//! [`crate::router`]); the uploads ([`package`]) and the probes ([`health`]) are the
//! gateway's own.

pub mod health;
pub mod package;

use std::future::Future;
use std::time::Duration;

use tars_api::{FromReply, IntoRequest};

use crate::auth::Caller;
use crate::backends::Backend;
use crate::envelope::Data;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use tars_proto::deployer::AuditRow;

/// The whole of a forwarding endpoint: `input` as the backend's request, one RPC
/// (`call`, allowed `extra` time beyond the usual deadline), its reply as the answer.
pub async fn forward<C, I, Req, Rep, O, F, Fut>(
    state: &AppState,
    backend: &Backend<C>,
    caller: &Caller,
    input: I,
    extra: Duration,
    call: F,
) -> ApiResult<Data<O>>
where
    C: Clone + Send + 'static,
    I: IntoRequest<Req>,
    O: FromReply<Rep>,
    Req: Send + 'static,
    Rep: Send + 'static,
    F: FnOnce(C, tonic::Request<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<tonic::Response<Rep>, tonic::Status>> + Send + 'static,
{
    let request = match input.into_request(&caller.user) {
        Ok(request) => request,
        Err(err) => return Err(audit_refusal(state, caller, "", "", err.into()).await),
    };
    let reply = backend.call_as(Some(caller), extra, request, call).await?;
    Ok(Data(O::from_reply(reply)))
}

/// Records in the audit log a write the gateway refused or failed before any backend
/// saw it (the backends record the rest); answers the error. Reads are not recorded.
pub async fn audit_refusal(
    state: &AppState,
    caller: &Caller,
    application: &str,
    server_name: &str,
    err: ApiError,
) -> ApiError {
    if !caller.audited {
        return err;
    }
    let row = AuditRow {
        user_name: caller.user.clone(),
        token_id: caller.token_id.unwrap_or_default(),
        endpoint: caller.endpoint.to_string(),
        application: application.to_string(),
        server_name: server_name.to_string(),
        status: i32::from(err.status().as_u16()),
        message: err.message().to_string(),
        ..AuditRow::default()
    };
    let record = state
        .backends
        .deployer
        .call(row, |mut c, r| async move { c.record_audit(r).await });
    if let Err(failure) = record.await {
        tracing::error!(error = %failure, endpoint = caller.endpoint, user = %caller.user, "cannot record a refused write in the audit log");
    }
    err
}
