//! The response envelope of every endpoint: `{"ret_code", "err_msg", "data"}`.
//!
//! Serialized straight from the typed payload into bytes, without an intermediate
//! `serde_json::Value`: building that tree for a 50-server list cost more than the
//! rest of the request.

use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use serde::Serialize;

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    ret_code: u16,
    err_msg: &'a str,
    data: T,
}

/// Builds an envelope response; `ret_code` is the HTTP status.
pub fn envelope(status: StatusCode, err_msg: &str, data: impl Serialize) -> Response {
    let body = Envelope {
        ret_code: status.as_u16(),
        err_msg,
        data,
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot serialize a response");
            let fallback = r#"{"ret_code":500,"err_msg":"internal error; the gateway log has the details","data":{}}"#;
            let mut response = (StatusCode::INTERNAL_SERVER_ERROR, fallback).into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
    }
}

/// A successful answer carrying `data`.
pub struct Data<T>(pub T);

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        envelope(StatusCode::OK, "", self.0)
    }
}
