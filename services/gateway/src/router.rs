//! The routes: every endpoint of the endpoint table ([`tars_api::endpoints!`]) with the
//! methods it answers, served under both `/api` and `/server/api` behind the ticket; the
//! OpenAPI document (`/api/openapi.json`) and its page (`/api/docs`) beside them, without
//! a ticket; the probes and `/metrics` (no ticket; only for `TARS_METRICS_ALLOW`).
//! Nothing else routes.

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, on, MethodFilter};
use axum::{Extension, Router};
use tars_api::contract::*;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{require_ticket, Caller};
use crate::envelope::Data;
use crate::error::{ApiError, ApiResult};
use crate::handlers::{forward, health, package};
use crate::input::{AnyBody, Input, JsonBody};
use crate::middleware::apply_middleware;
use crate::state::AppState;

/// A forwarding handler per table entry; the gateway's own are written elsewhere.
macro_rules! handler {
    (gateway . $rpc:ident, $($rest:tt)*) => {};
    ($backend:ident . $rpc:ident, $name:ident, $body:ident, $input:ty, $output:ty, $access:ident) => {
        pub async fn $name(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            input: Result<Input<$input, body_kind!($body)>, ApiError>,
        ) -> ApiResult<Data<$output>> {
            let caller = caller.acting_on(stringify!($name), access!($access));
            let Input(input, _) = match input {
                Ok(input) => input,
                // A write refused for its input is recorded too.
                Err(err) => {
                    return Err(crate::handlers::audit_refusal(&state, &caller, "", "", err).await)
                }
            };
            forward(
                &state,
                &state.backends.$backend,
                &caller,
                input,
                state.config.extra_wait(stringify!($name)),
                |mut c, r| async move { c.$rpc(r).await },
            )
            .await
        }
    };
}

macro_rules! access {
    (write) => {
        true
    };
    (read) => {
        false
    };
}

macro_rules! body_kind {
    (params) => {
        AnyBody
    };
    (json) => {
        JsonBody
    };
}

macro_rules! methods {
    ($first:ident $($method:ident)*) => {
        MethodFilter::$first$(.or(MethodFilter::$method))*
    };
}

/// Uploads stream to the package store under their own size limit.
macro_rules! route {
    (gateway, $name:ident, [$($method:ident)+]) => {
        on(methods!($($method)+), package::$name).layer(DefaultBodyLimit::disable())
    };
    ($backend:ident, $name:ident, [$($method:ident)+]) => {
        on(methods!($($method)+), forwarders::$name)
    };
}

macro_rules! api_routes {
    ($( $tag:literal {
        $( $(#[doc = $doc:literal])* $name:ident [$($method:ident)+] $body:ident
            $input:ty => $output:ty = $backend:ident . $rpc:ident : $role:ident $access:ident; )*
    } )*) => {
        mod forwarders {
            use super::*;
            $($(handler!($backend . $rpc, $name, $body, $input, $output, $access);)*)*
        }

        /// Every endpoint of the table, with the methods it answers.
        fn table_routes() -> Router<AppState> {
            Router::new()
                $($(.route(concat!("/", stringify!($name)), route!($backend, $name, [$($method)+])))*)*
        }

        /// What [`table_routes`] routes: each endpoint's name and methods.
        pub const ROUTED: &[(&str, &[&str])] = &[$($((stringify!($name), &[$(stringify!($method)),+]),)*)*];
    };
}

tars_api::endpoints!(api_routes);

/// The endpoints behind a ticket.
fn api_routes(state: &AppState) -> Router<AppState> {
    table_routes()
        .route_layer(from_fn_with_state(state.clone(), require_ticket))
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed(method: http::Method) -> impl IntoResponse {
    ApiError::method_not_allowed(format!(
        "method {method} is not allowed here; this endpoint accepts POST"
    ))
}

async fn unknown_route(uri: http::Uri) -> impl IntoResponse {
    ApiError::not_found(format!(
        "no endpoint at {}; endpoints are /api/<name> and /server/api/<name>",
        uri.path()
    ))
}

async fn probe_method_not_allowed(method: http::Method) -> impl IntoResponse {
    ApiError::method_not_allowed(format!(
        "method {method} is not allowed here; this probe accepts GET"
    ))
}

/// The whole HTTP application.
pub fn build_router(state: AppState) -> Router {
    let api = api_routes(&state);
    let body_timeout = state.config.http.body_timeout;
    let docs = SwaggerUi::new("/api/docs").url("/api/openapi.json", tars_api::openapi::document());
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::scrape))
        .method_not_allowed_fallback(probe_method_not_allowed)
        .nest("/api", api.clone())
        .nest("/server/api", api)
        .merge(docs)
        .fallback(unknown_route)
        .with_state(state);
    apply_middleware(router, body_timeout)
        .layer(axum::middleware::from_fn(crate::metrics::record_http))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::ROUTED;

    /// The document and the router are generated from one table; this catches an
    /// endpoint routed by hand, or documented without a route.
    #[test]
    fn every_routed_endpoint_is_documented_and_nothing_else() {
        let doc = serde_json::to_value(tars_api::openapi::document()).unwrap();
        let documented: BTreeMap<String, Vec<String>> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(path, item)| {
                let mut methods: Vec<String> = item
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(|m| m.to_uppercase())
                    .collect();
                methods.sort();
                (path.clone(), methods)
            })
            .collect();
        let routed: BTreeMap<String, Vec<String>> = ROUTED
            .iter()
            .map(|(name, methods)| {
                let mut methods: Vec<String> = methods.iter().map(|m| m.to_string()).collect();
                methods.sort();
                (format!("/api/{name}"), methods)
            })
            .collect();
        assert_eq!(routed, documented);
    }
}
