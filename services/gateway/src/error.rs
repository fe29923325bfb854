//! The one error type of the HTTP API. It renders the same envelope as success,
//! `{ret_code, err_msg, data: {}}`, with `ret_code` equal to the HTTP status.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use tars_proto::ServiceErrorCode;

use crate::envelope::envelope;

/// A failed request, as the caller will see it: a row of the error table
/// ([`tars_proto::ERROR_TABLE`]) and what was wrong. Built only through the named
/// constructors below, so every status a client sees is one the table documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    code: ServiceErrorCode,
    message: String,
}

/// Result of every handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(code: ServiceErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// HTTP status and `ret_code`.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// What was wrong and what to do.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 400 naming the parameter at fault.
    pub fn bad_param(name: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::bad_request(format!("parameter `{name}` {reason}"))
    }

    /// 400 for a request that cannot be read at all.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ServiceErrorCode::BadRequest, message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(ServiceErrorCode::Unauthenticated, message)
    }

    /// 403: the caller lacks the role; the message names the role and the target.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(ServiceErrorCode::Forbidden, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ServiceErrorCode::NotFound, message)
    }

    /// 405.
    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(ServiceErrorCode::MethodNotAllowed, message)
    }

    /// 408.
    pub fn request_timeout(message: impl Into<String>) -> ApiError {
        ApiError::new(ServiceErrorCode::RequestTimeout, message)
    }

    /// 413 for a body over `TARS_MAX_BODY_BYTES`.
    pub fn payload_too_large(limit: usize) -> ApiError {
        ApiError::too_large(format!(
            "request body is larger than the {limit}-byte limit (TARS_MAX_BODY_BYTES)"
        ))
    }

    /// 413 with its reason.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(ServiceErrorCode::PayloadTooLarge, message)
    }

    /// 415.
    pub fn unsupported_media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(ServiceErrorCode::UnsupportedMediaType, message)
    }

    /// 429 (the caller adds `Retry-After`).
    pub fn too_many_requests(message: impl Into<String>) -> ApiError {
        ApiError::new(ServiceErrorCode::TooManyRequests, message)
    }

    /// 503 naming the backend that could not serve.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(ServiceErrorCode::Unavailable, message)
    }

    /// 500: a bug on our side. Detail goes to the log, not to the caller.
    pub fn internal() -> ApiError {
        ApiError::new(
            ServiceErrorCode::Internal,
            "internal error; the gateway log has the details",
        )
    }

    /// Maps a backend's gRPC status: the single, exhaustive translation of backend
    /// failures into HTTP. `backend` and `addr` name who failed for transport errors.
    pub fn from_backend(status: tonic::Status, backend: &str, addr: &str) -> ApiError {
        let code = ServiceErrorCode::from_grpc_code(status.code());
        match code {
            // Callers' tickets are checked here, never by a backend: a backend refusing
            // the gateway means the services disagree on TARS_INTERNAL_TOKEN / TLS.
            ServiceErrorCode::Unauthenticated => {
                tracing::error!(
                    backend,
                    addr,
                    message = status.message(),
                    "a backend refused this gateway"
                );
                ApiError::unavailable(format!(
                    "{backend} at {addr} refused this gateway: give gateways and backends the same \
                     TARS_INTERNAL_TOKEN (and TLS settings)"
                ))
            }
            ServiceErrorCode::BadRequest
            | ServiceErrorCode::Forbidden
            | ServiceErrorCode::NotFound
            | ServiceErrorCode::Conflict
            | ServiceErrorCode::PayloadTooLarge
            | ServiceErrorCode::BadGateway => ApiError::new(code, status.message()),
            ServiceErrorCode::Unavailable => {
                let detail = match status.code() {
                    tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
                        "did not answer in time (TARS_BACKEND_TIMEOUT_MS)".to_string()
                    }
                    _ => status.message().to_string(),
                };
                ApiError::unavailable(format!("{backend} at {addr} is unavailable: {detail}"))
            }
            ServiceErrorCode::Internal
            // A backend never sends the gateway's own codes; from_grpc_code cannot give them.
            | ServiceErrorCode::MethodNotAllowed
            | ServiceErrorCode::RequestTimeout
            | ServiceErrorCode::UnsupportedMediaType
            | ServiceErrorCode::TooManyRequests => {
                tracing::error!(backend, addr, code = ?status.code(), message = status.message(), "backend failed");
                ApiError::internal()
            }
        }
    }
}

impl From<tars_api::ParamError> for ApiError {
    fn from(err: tars_api::ParamError) -> ApiError {
        ApiError::bad_request(err.to_string())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status().as_u16(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        envelope(self.status(), &self.message, serde_json::json!({}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(code: tonic::Code) -> StatusCode {
        ApiError::from_backend(tonic::Status::new(code, "m"), "deployer", "http://x").status()
    }

    #[test]
    fn every_grpc_code_maps_to_the_contract_status() {
        use tonic::Code::*;
        let table = [
            (Ok, 500),
            (Cancelled, 503),
            (Unknown, 500),
            (InvalidArgument, 400),
            (DeadlineExceeded, 503),
            (NotFound, 404),
            (AlreadyExists, 409),
            // A backend may refuse the caller an operation.
            (PermissionDenied, 403),
            (ResourceExhausted, 413),
            (FailedPrecondition, 400),
            (Aborted, 502),
            (OutOfRange, 400),
            (Unimplemented, 500),
            (Internal, 500),
            (Unavailable, 503),
            (DataLoss, 500),
            // A backend refusing the gateway itself (internal token, TLS): the service
            // is unusable, not the caller's ticket.
            (Unauthenticated, 503),
        ];
        for (code, http) in table {
            assert_eq!(map(code).as_u16(), http, "{code:?}");
        }
    }

    #[test]
    fn client_errors_keep_the_backend_message_and_outages_name_the_backend() {
        let e = ApiError::from_backend(
            tonic::Status::not_found("no server with id 7"),
            "deployer",
            "http://a:1",
        );
        assert_eq!(e.message(), "no server with id 7");
        let e = ApiError::from_backend(
            tonic::Status::unavailable("tcp connect error"),
            "deployer",
            "http://a:1",
        );
        assert_eq!(
            e.message(),
            "deployer at http://a:1 is unavailable: tcp connect error"
        );
        let e = ApiError::from_backend(
            tonic::Status::internal("sql syntax near"),
            "deployer",
            "http://a:1",
        );
        assert!(!e.message().contains("sql"));
        let e = ApiError::from_backend(
            tonic::Status::unauthenticated("this backend requires the internal token"),
            "deployer",
            "https://a:1",
        );
        assert!(
            e.message().contains("TARS_INTERNAL_TOKEN"),
            "{}",
            e.message()
        );
    }
}
