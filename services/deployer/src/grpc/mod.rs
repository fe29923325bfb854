//! The gRPC face of the deployer: proto in, [`ops`](crate::ops) call, proto out, inside a
//! span named for the RPC. No rules live here: each RPC is one row of `traced_rpcs!`,
//! grouped by area in the submodules, naming the op it calls after the endpoint.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tars_common::propagation::traced_rpc;
use tars_nodes::Nodes;
use tars_proto::common::{Empty, ReadyReply};
use tars_proto::deployer as pb;
use tars_proto::deployer::deployer_server::Deployer;
use tars_store::Store;
use tonic::{Request, Response, Status};

use crate::config::Settings;
use crate::error::DeployerResult;
use crate::ops;

/// Writes each row `"Span" method(Request) -> Reply = |s, r| op;` as the [`Deployer`]
/// method `method`: `op`, a future of a [`DeployerResult`] over `s` (the service) and `r`
/// (the request message), runs in the span `Span` (the RPC's name, which traces show), and
/// its error becomes the status. An audited call (a write through the API) gets its audit
/// row here unless the write's own transaction wrote it. `-> Reply { field }` answers the op's value in that field.
///
/// The signature is the one `#[tonic::async_trait]` gives the trait's methods, spelled out
/// because the attribute does not look inside the macro calls that bring the areas' rows
/// into the one `impl Deployer` Rust allows.
macro_rules! traced_rpcs {
    ($($span:literal $method:ident($req:path) -> $reply:path $({ $field:ident })? =
        |$s:pat_param, $r:pat_param| $op:expr;)*) => {$(
        fn $method<'life0, 'async_trait>(
            &'life0 self,
            request: Request<$req>,
        ) -> Pin<Box<dyn Future<Output = Result<Response<$reply>, Status>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            let service = self;
            let $s = self;
            Box::pin(traced_rpc("deployer", $span, request, move |$r| async move {
                let answer: DeployerResult<_> = $op.await;
                crate::audit::finish(&service.store, &answer).await;
                // A path fragment cannot start a struct literal; an alias of it can.
                $(type Reply = $reply; let answer = answer.map(|value| Reply { $field: value });)?
                answer
            }))
        }
    )*};
}

/// Names an area's rows `rpcs!()`, for the one `impl Deployer` to bring in.
macro_rules! rpc_area {
    ($($rows:tt)*) => {
        macro_rules! rpcs {
            () => { traced_rpcs! { $($rows)* } };
        }
        pub(super) use rpcs;
    };
}

mod adapters;
mod auth;
mod config;
mod dictionaries;
mod expansion;
mod packages;
mod resource;
mod servers;
mod templates;
mod tokens;

#[cfg(test)]
mod tests;

/// The deployer service over one store.
#[derive(Debug, Clone)]
pub struct DeployerService {
    store: Store,
    nodes: Arc<Nodes>,
    settings: Settings,
}

impl DeployerService {
    /// Serves the given store, reaching nodes with `nodes`.
    pub fn new(store: Store, nodes: Arc<Nodes>, settings: Settings) -> DeployerService {
        DeployerService {
            store,
            nodes,
            settings,
        }
    }
}

impl Deployer for DeployerService {
    traced_rpcs! {
        "Ready" ready(Empty) -> ReadyReply =
            |s, _| async { Ok(ReadyReply::from_check(s.store.ping().await)) };
    }
    servers::rpcs!();
    adapters::rpcs!();
    templates::rpcs!();
    dictionaries::rpcs!();
    config::rpcs!();
    packages::rpcs!();
    expansion::rpcs!();
    resource::rpcs!();
    auth::rpcs!();
    tokens::rpcs!();
}
