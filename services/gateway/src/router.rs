//! The route table: every endpoint of the API document, once, grouped as the document
//! groups them, served under both `/api` and `/server/api`. Nothing else routes.

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use http::StatusCode;

use crate::auth::require_ticket;
use crate::error::ApiError;
use crate::handlers::{
    adapter, config, dict, expand, health, other, package, server, task, template,
};
use crate::middleware::apply_middleware;
use crate::state::AppState;

/// The endpoints behind a ticket. Reads answer GET and POST, as TarsWeb clients use
/// both; writes the document marks POST-only answer POST alone.
fn api_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        // 业务树
        .route("/tree", get(server::tree).post(server::tree))
        // 服务管理
        .route("/deploy_server", post(server::deploy_server))
        .route("/update_server", post(server::update_server))
        .route("/server", get(server::server).post(server::server))
        .route(
            "/server_list",
            get(server::server_list).post(server::server_list),
        )
        .route(
            "/inactive_server_list",
            get(server::inactive_server_list).post(server::inactive_server_list),
        )
        .route(
            "/server_notify_list",
            get(server::server_notify_list).post(server::server_notify_list),
        )
        .route(
            "/get_realtime_state",
            get(server::get_realtime_state).post(server::get_realtime_state),
        )
        .route(
            "/load_server",
            get(server::load_server).post(server::load_server),
        )
        .route(
            "/expand_server_preview",
            post(expand::expand_server_preview),
        )
        .route("/expand_server", post(expand::expand_server))
        .route("/auto_port", get(expand::auto_port).post(expand::auto_port))
        .route("/add_adapter_conf", post(adapter::add_adapter_conf))
        .route(
            "/delete_adapter_conf",
            get(adapter::delete_adapter_conf).post(adapter::delete_adapter_conf),
        )
        .route("/update_adapter_conf", post(adapter::update_adapter_conf))
        .route(
            "/adapter_conf",
            get(adapter::adapter_conf).post(adapter::adapter_conf),
        )
        .route(
            "/adapter_conf_list",
            get(adapter::adapter_conf_list).post(adapter::adapter_conf_list),
        )
        // 服务配置
        .route("/add_config_file", post(config::add_config_file))
        .route(
            "/delete_config_file",
            get(config::delete_config_file).post(config::delete_config_file),
        )
        .route("/update_config_file", post(config::update_config_file))
        .route(
            "/config_file",
            get(config::config_file).post(config::config_file),
        )
        .route(
            "/config_file_list",
            get(config::config_file_list).post(config::config_file_list),
        )
        .route(
            "/node_config_file_list",
            post(config::node_config_file_list),
        )
        .route(
            "/config_file_history",
            get(config::config_file_history).post(config::config_file_history),
        )
        .route(
            "/config_file_history_list",
            get(config::config_file_history_list).post(config::config_file_history_list),
        )
        .route(
            "/add_config_ref",
            get(config::add_config_ref).post(config::add_config_ref),
        )
        .route(
            "/delete_config_ref",
            get(config::delete_config_ref).post(config::delete_config_ref),
        )
        .route(
            "/config_ref_list",
            get(config::config_ref_list).post(config::config_ref_list),
        )
        .route(
            "/merged_node_config",
            get(config::merged_node_config).post(config::merged_node_config),
        )
        .route(
            "/push_config_file",
            get(config::push_config_file).post(config::push_config_file),
        )
        // 任务管理
        .route("/add_task", post(task::add_task))
        .route("/task", get(task::task).post(task::task))
        .route("/task_list", get(task::task_list).post(task::task_list))
        // 发布包: uploads stream to the package store under their own size limit.
        .route(
            "/upload_patch_package",
            post(package::upload_patch_package).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/upload_and_publish",
            post(package::upload_and_publish).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/server_patch_list",
            get(package::server_patch_list).post(package::server_patch_list),
        )
        // 模板
        .route(
            "/add_profile_template",
            post(template::add_profile_template),
        )
        .route(
            "/delete_profile_template",
            get(template::delete_profile_template).post(template::delete_profile_template),
        )
        .route(
            "/update_profile_template",
            post(template::update_profile_template),
        )
        .route(
            "/profile_template",
            get(template::profile_template).post(template::profile_template),
        )
        .route(
            "/query_profile_template",
            get(template::query_profile_template).post(template::query_profile_template),
        )
        // 字典
        .route(
            "/server_type_list",
            get(dict::server_type_list).post(dict::server_type_list),
        )
        .route(
            "/template_name_list",
            get(dict::template_name_list).post(dict::template_name_list),
        )
        .route(
            "/cascade_select_server",
            get(dict::cascade_select_server).post(dict::cascade_select_server),
        )
        // 其他
        .route(
            "/send_command",
            get(other::send_command).post(other::send_command),
        )
        .route_layer(from_fn_with_state(state.clone(), require_ticket))
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed(method: http::Method) -> impl IntoResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed here; this endpoint accepts POST"),
    )
}

async fn unknown_route(uri: http::Uri) -> impl IntoResponse {
    ApiError::not_found(format!(
        "no endpoint at {}; endpoints are /api/<name> and /server/api/<name>",
        uri.path()
    ))
}

async fn probe_method_not_allowed(method: http::Method) -> impl IntoResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed here; this probe accepts GET"),
    )
}

/// The whole HTTP application.
pub fn build_router(state: AppState) -> Router {
    let api = api_routes(&state);
    let body_timeout = state.config.http.body_timeout;
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .method_not_allowed_fallback(probe_method_not_allowed)
        .nest("/api", api.clone())
        .nest("/server/api", api)
        .fallback(unknown_route)
        .with_state(state);
    apply_middleware(router, body_timeout)
}
