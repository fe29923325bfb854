//! The one input extractor. Every endpoint's parameters are merged from the query string,
//! then a JSON or form body (the body wins), as TarsWeb does, and read into the endpoint's
//! declared input type ([`tars_api::inputs`]); a parameter that does not fit is a 400
//! naming it, so nothing malformed reaches a backend.

use std::marker::PhantomData;

use axum::body::Body;
use axum::extract::FromRequest;
use http::header::CONTENT_TYPE;
use http::Request;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::middleware::BodyDeadline;
use crate::state::AppState;

/// Which bodies an endpoint takes: the document marks some POST-only with a JSON body.
pub trait BodyKind {
    /// Other content types are refused with 415.
    const JSON_ONLY: bool;
}

/// Query, form or JSON body.
pub struct AnyBody;
/// A JSON body only.
pub struct JsonBody;

impl BodyKind for AnyBody {
    const JSON_ONLY: bool = false;
}
impl BodyKind for JsonBody {
    const JSON_ONLY: bool = true;
}

/// An endpoint's declared input `T`, read from the request as `B` allows.
pub struct Input<T, B = AnyBody>(pub T, pub PhantomData<B>);

fn is_json(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    mime.eq_ignore_ascii_case("application/json") || mime.to_ascii_lowercase().ends_with("+json")
}

fn pairs(pairs: Vec<(String, String)>, into: &mut Map<String, Value>) {
    for (k, v) in pairs {
        into.insert(k, Value::String(v));
    }
}

/// The merged parameters of `request` (a JSON object), and whether its body was JSON.
/// `max_body` bounds what is read.
pub async fn merged(request: Request<Body>, max_body: usize) -> ApiResult<(Value, bool)> {
    let (parts, body) = request.into_parts();
    let mut values = Map::new();
    if let Some(query) = parts.uri.query() {
        let query = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
        pairs(query, &mut values);
    }
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // An announced length over the limit is refused before reading any of it.
    if http_body::Body::size_hint(&body).lower() > max_body as u64 {
        return Err(ApiError::payload_too_large(max_body));
    }
    let read = axum::body::to_bytes(body, max_body);
    let read = match parts.extensions.get::<BodyDeadline>() {
        Some(deadline) => tokio::time::timeout_at(deadline.at, read)
            .await
            .map_err(|_| {
                ApiError::request_timeout(format!(
                    "the request body did not arrive within {} ms of its headers \
                     (TARS_HTTP_BODY_TIMEOUT_MS)",
                    deadline.timeout.as_millis()
                ))
            })?,
        None => read.await,
    };
    let bytes = read.map_err(|err| {
        let too_large = std::error::Error::source(&err)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::payload_too_large(max_body)
        } else {
            ApiError::bad_request(format!("cannot read request body: {err}"))
        }
    })?;
    let json_body = is_json(&content_type);
    if json_body {
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            let parsed: Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))?;
            let Value::Object(map) = parsed else {
                return Err(ApiError::bad_request(
                    "JSON body must be an object of parameters",
                ));
            };
            values.extend(map);
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") && !bytes.is_empty() {
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| ApiError::bad_request(format!("malformed form body: {e}")))?;
        pairs(form, &mut values);
    }
    Ok((Value::Object(values), json_body))
}

impl<T: DeserializeOwned + 'static, B: BodyKind> FromRequest<AppState> for Input<T, B> {
    type Rejection = ApiError;

    async fn from_request(request: Request<Body>, state: &AppState) -> ApiResult<Self> {
        // Endpoints without parameters never read the request.
        if std::any::TypeId::of::<T>() == std::any::TypeId::of::<tars_api::inputs::NoInput>() {
            return Ok(Input(
                tars_api::from_params(&Value::Object(Map::new()))?,
                PhantomData,
            ));
        }
        let (params, json_body) = merged(request, state.config.max_body_bytes).await?;
        if B::JSON_ONLY && !json_body {
            return Err(ApiError::unsupported_media_type(
                "this endpoint accepts only POST with Content-Type: application/json",
            ));
        }
        Ok(Input(tars_api::from_params(&params)?, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(uri: &str, content_type: &str, body: &str) -> ApiResult<Value> {
        let request = Request::builder()
            .uri(uri)
            .header(CONTENT_TYPE, content_type)
            .body(Body::from(body.to_string()))
            .unwrap();
        merged(request, 1024).await.map(|(v, _)| v)
    }

    #[tokio::test]
    async fn body_overrides_query() {
        let p = parse("/x?id=1&name=a", "application/json", r#"{"id":"42"}"#)
            .await
            .unwrap();
        assert_eq!(p, serde_json::json!({"id": "42", "name": "a"}));
        let p = parse("/x?a=0", "application/x-www-form-urlencoded", "a=1&b=two")
            .await
            .unwrap();
        assert_eq!(p, serde_json::json!({"a": "1", "b": "two"}));
    }

    #[tokio::test]
    async fn malformed_json_and_oversize_bodies_are_refused() {
        let status = |r: ApiResult<Value>| r.unwrap_err().status().as_u16();
        assert_eq!(status(parse("/x", "application/json", "{").await), 400);
        assert_eq!(status(parse("/x", "application/json", "[1]").await), 400);
        let big = "x".repeat(2000);
        assert_eq!(status(parse("/x", "text/plain", &big).await), 413);
    }
}
