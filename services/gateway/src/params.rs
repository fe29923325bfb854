//! The one input extractor. Parameters are merged from the query string, then a JSON or
//! form body (body wins), as TarsWeb does; typed getters turn them into values or a 400
//! naming the parameter, so nothing malformed reaches a backend.

use axum::body::Body;
use axum::extract::FromRequest;
use http::header::CONTENT_TYPE;
use http::Request;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::middleware::BodyDeadline;
use crate::state::AppState;

/// Request parameters from every source, merged.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: Map<String, Value>,
    /// Prefix for error messages of nested objects (`adapters[0].`).
    prefix: String,
    /// Whether the body was JSON (endpoints marked POST-only require it).
    json_body: bool,
}

/// Parameters of an endpoint the API document marks "POST only, Content-Type:
/// application/json": any other body type is refused with 415.
#[derive(Debug, Clone)]
pub struct JsonParams(pub Params);

fn is_json(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    mime.eq_ignore_ascii_case("application/json") || mime.to_ascii_lowercase().ends_with("+json")
}

impl Params {
    /// Parameters from a JSON object, e.g. one element of an array parameter.
    pub fn from_object(values: Map<String, Value>, prefix: String) -> Params {
        Params {
            values,
            prefix,
            json_body: true,
        }
    }

    /// Parses query and body. `max_body` bounds what is read.
    pub async fn parse(request: Request<Body>, max_body: usize) -> ApiResult<Params> {
        let (parts, body) = request.into_parts();
        let mut values = Map::new();
        if let Some(query) = parts.uri.query() {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
                .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
            for (k, v) in pairs {
                values.insert(k, Value::String(v));
            }
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
                    ApiError::new(
                        http::StatusCode::REQUEST_TIMEOUT,
                        format!(
                            "the request body did not arrive within {} ms of its headers \
                             (TARS_HTTP_BODY_TIMEOUT_MS)",
                            deadline.timeout.as_millis()
                        ),
                    )
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
                match parsed {
                    Value::Object(map) => values.extend(map),
                    _ => {
                        return Err(ApiError::bad_request(
                            "JSON body must be an object of parameters",
                        ))
                    }
                }
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") && !bytes.is_empty()
        {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| ApiError::bad_request(format!("malformed form body: {e}")))?;
            for (k, v) in pairs {
                values.insert(k, Value::String(v));
            }
        }
        Ok(Params {
            values,
            prefix: String::new(),
            json_body,
        })
    }

    fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn bad(&self, name: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::bad_param(&self.name(name), reason)
    }

    /// The raw value, `None` when absent or JSON null.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.get(name).filter(|v| !v.is_null())
    }

    /// A text parameter; numbers and booleans are taken as their text.
    pub fn str(&self, name: &str) -> ApiResult<Option<String>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(self.bad(name, "must be a string")),
        }
    }

    /// A text parameter, empty when absent.
    pub fn str_or_empty(&self, name: &str) -> ApiResult<String> {
        Ok(self.str(name)?.unwrap_or_default())
    }

    /// A non-empty text parameter.
    pub fn required_str(&self, name: &str) -> ApiResult<String> {
        match self.str(name)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(self.bad(name, "is required")),
        }
    }

    /// A text parameter that must be present but may be empty (file contents).
    pub fn present_str(&self, name: &str) -> ApiResult<String> {
        self.str(name)?
            .ok_or_else(|| self.bad(name, "is required (it may be empty)"))
    }

    /// An integer parameter; numeric strings are accepted, as TarsWeb clients send them.
    /// An empty string counts as absent.
    pub fn i64(&self, name: &str) -> ApiResult<Option<i64>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.bad(name, format!("must be an integer, got {n}"))),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| self.bad(name, format!("must be an integer, got {s:?}"))),
            Some(other) => Err(self.bad(name, format!("must be an integer, got {other}"))),
        }
    }

    /// A required integer parameter.
    pub fn required_i64(&self, name: &str) -> ApiResult<i64> {
        self.i64(name)?.ok_or_else(|| self.bad(name, "is required"))
    }

    /// An integer parameter, 0 when absent.
    pub fn i64_or_zero(&self, name: &str) -> ApiResult<i64> {
        Ok(self.i64(name)?.unwrap_or(0))
    }

    /// A boolean parameter: JSON booleans, 0/1, and the strings true/false, 1/0, Y/N.
    pub fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" | "y" | "yes" => Ok(Some(true)),
                "false" | "0" | "n" | "no" => Ok(Some(false)),
                _ => Err(self.bad(name, format!("must be true or false, got {s:?}"))),
            },
            Some(other) => Err(self.bad(name, format!("must be true or false, got {other}"))),
        }
    }

    /// A list of objects, each as its own [`Params`] (errors name `name[i].field`).
    pub fn objects(&self, name: &str) -> ApiResult<Option<Vec<Params>>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(map) => Ok(Params::from_object(
                        map.clone(),
                        format!("{}[{i}].", self.name(name)),
                    )),
                    _ => Err(self.bad(&format!("{name}[{i}]"), "must be an object")),
                })
                .collect::<ApiResult<Vec<_>>>()
                .map(Some),
            Some(_) => Err(self.bad(name, "must be an array")),
        }
    }

    /// Ids as `1;2;3` (also `,`-separated) or a JSON array of numbers; at least one.
    pub fn id_list(&self, name: &str) -> ApiResult<Vec<i64>> {
        let bad = |v: &dyn std::fmt::Display| {
            self.bad(name, format!("must be ids separated by `;`, got {v}"))
        };
        let ids: Vec<i64> = match self.value(name) {
            None => return Err(self.bad(name, "is required")),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Number(n) => n.as_i64().ok_or_else(|| bad(n)),
                    Value::String(s) => s.trim().parse().map_err(|_| bad(s)),
                    other => Err(bad(other)),
                })
                .collect::<ApiResult<_>>()?,
            Some(Value::Number(n)) => vec![n.as_i64().ok_or_else(|| bad(n))?],
            Some(Value::String(s)) => s
                .split([';', ','])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| p.parse().map_err(|_| bad(&p)))
                .collect::<ApiResult<_>>()?,
            Some(other) => return Err(bad(other)),
        };
        if ids.is_empty() {
            return Err(self.bad(name, "is required"));
        }
        Ok(ids)
    }

    /// Texts as a JSON array of strings, or one string separated by `;` (also `,`) as
    /// TarsWeb takes node lists; blanks are dropped. Empty when absent.
    pub fn str_list(&self, name: &str) -> ApiResult<Vec<String>> {
        let items: Vec<String> = match self.value(name) {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.trim().to_string()),
                    other => Err(self.bad(
                        &format!("{name}[{i}]"),
                        format!("must be a string, got {other}"),
                    )),
                })
                .collect::<ApiResult<_>>()?,
            Some(Value::String(s)) => s.split([';', ',']).map(|p| p.trim().to_string()).collect(),
            Some(other) => {
                return Err(self.bad(
                    name,
                    format!("must be a list of strings or `;`-separated text, got {other}"),
                ))
            }
        };
        Ok(items.into_iter().filter(|s| !s.is_empty()).collect())
    }

    /// The 1-based page and page size (`curr_page`, also TarsWeb's `cur_page`, and
    /// `page_size`); zeros mean "all rows".
    pub fn page(&self) -> ApiResult<tars_proto::common::Page> {
        let curr_page = match self.i64("curr_page")? {
            Some(p) => p,
            None => self.i64_or_zero("cur_page")?,
        };
        let page_size = self.i64_or_zero("page_size")?;
        if curr_page < 0 {
            return Err(self.bad("curr_page", "must not be negative"));
        }
        if page_size < 0 {
            return Err(self.bad("page_size", "must not be negative"));
        }
        Ok(tars_proto::common::Page {
            curr_page,
            page_size,
        })
    }
}

impl FromRequest<AppState> for Params {
    type Rejection = ApiError;

    async fn from_request(
        request: Request<Body>,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Params::parse(request, state.config.max_body_bytes).await
    }
}

impl FromRequest<AppState> for JsonParams {
    type Rejection = ApiError;

    async fn from_request(
        request: Request<Body>,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let params = Params::parse(request, state.config.max_body_bytes).await?;
        if !params.json_body {
            return Err(ApiError::new(
                http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "this endpoint accepts only POST with Content-Type: application/json",
            ));
        }
        Ok(JsonParams(params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(uri: &str, content_type: &str, body: &str) -> ApiResult<Params> {
        let request = Request::builder()
            .uri(uri)
            .header(CONTENT_TYPE, content_type)
            .body(Body::from(body.to_string()))
            .unwrap();
        Params::parse(request, 1024).await
    }

    #[tokio::test]
    async fn body_overrides_query_and_numbers_may_be_strings() {
        let p = parse(
            "/x?id=1&name=a",
            "application/json",
            r#"{"id":"42","flag":"Y"}"#,
        )
        .await
        .unwrap();
        assert_eq!(p.required_i64("id").unwrap(), 42);
        assert_eq!(p.required_str("name").unwrap(), "a");
        assert_eq!(p.bool("flag").unwrap(), Some(true));
    }

    #[tokio::test]
    async fn errors_name_the_parameter() {
        let p = parse("/x?id=abc", "", "").await.unwrap();
        let err = p.required_i64("id").unwrap_err();
        assert_eq!(err.status, http::StatusCode::BAD_REQUEST);
        assert!(err.message.contains("`id`"), "{}", err.message);
        assert!(p
            .required_str("missing")
            .unwrap_err()
            .message
            .contains("`missing` is required"));
    }

    #[tokio::test]
    async fn malformed_json_and_oversize_bodies_are_refused() {
        assert_eq!(
            parse("/x", "application/json", "{")
                .await
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            parse("/x", "application/json", "[1]")
                .await
                .unwrap_err()
                .status,
            400
        );
        let big = "x".repeat(2000);
        assert_eq!(
            parse("/x", "text/plain", &big).await.unwrap_err().status,
            413
        );
    }

    #[tokio::test]
    async fn string_lists_from_arrays_or_separated_text() {
        let p = parse("/x?n=a;%20b,,c", "", "").await.unwrap();
        assert_eq!(p.str_list("n").unwrap(), ["a", "b", "c"]);
        assert!(p.str_list("missing").unwrap().is_empty());
        let p = parse("/x", "application/json", r#"{"n":["a",""],"m":[1],"o":{}}"#)
            .await
            .unwrap();
        assert_eq!(p.str_list("n").unwrap(), ["a"]);
        assert!(p.str_list("m").unwrap_err().message.contains("`m[0]`"));
        assert!(p.str_list("o").is_err());
    }

    #[tokio::test]
    async fn form_bodies_and_nested_objects() {
        let p = parse("/x", "application/x-www-form-urlencoded", "a=1&b=two")
            .await
            .unwrap();
        assert_eq!(p.required_i64("a").unwrap(), 1);
        let p = parse("/x", "application/json", r#"{"adapters":[{"port":"x"}]}"#)
            .await
            .unwrap();
        let adapters = p.objects("adapters").unwrap().unwrap();
        let err = adapters[0].required_i64("port").unwrap_err();
        assert!(
            err.message.contains("`adapters[0].port`"),
            "{}",
            err.message
        );
    }
}
