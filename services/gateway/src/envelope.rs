//! The response envelope of every endpoint: `{"ret_code", "err_msg", "data"}`.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use serde::Serialize;

/// Builds an envelope response; `ret_code` is the HTTP status.
pub fn envelope(status: StatusCode, err_msg: &str, data: impl Serialize) -> Response {
    let body = serde_json::json!({
        "ret_code": status.as_u16(),
        "err_msg": err_msg,
        "data": data,
    });
    (status, Json(body)).into_response()
}

/// A successful answer carrying `data`.
pub struct Data<T>(pub T);

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        envelope(StatusCode::OK, "", self.0)
    }
}
