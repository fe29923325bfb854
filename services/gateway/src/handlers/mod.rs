//! What answers an endpoint: most forward their input to one backend RPC through
//! [`forward`] (the handlers themselves are generated from the endpoint table, in
//! [`crate::router`]); the uploads ([`package`]) and the probes ([`health`]) are the
//! gateway's own.

pub mod health;
pub mod package;

use std::future::Future;

use tars_api::{FromReply, IntoRequest};

use crate::auth::Caller;
use crate::backends::Backend;
use crate::envelope::Data;
use crate::error::ApiResult;

/// The whole of a forwarding endpoint: `input` as the backend's request, one RPC
/// (`call`), its reply as the answer.
pub async fn forward<C, I, Req, Rep, O, F, Fut>(
    backend: &Backend<C>,
    caller: &Caller,
    input: I,
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
    let request = input.into_request(&caller.user)?;
    let reply = backend.call(request, call).await?;
    Ok(Data(O::from_reply(reply)))
}
