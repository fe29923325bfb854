//! The single error-code table: every failure a client of the HTTP API can see, with the
//! HTTP status (and `ret_code`) it is answered with and, for the failures a backend
//! reports, the gRPC code that carries it from the backend to the gateway.
//!
//! Backends classify their failures into a [`ServiceErrorCode`] and send it as a gRPC
//! status; the gateway turns the gRPC status back into the code. Some failures are the
//! gateway's own (a wrong method, a slow body, a throttled client …): they have no gRPC
//! code. Keeping every row in one table is what lets the tests below prove both
//! directions agree and that no two codes share a status.

use tonic::Code;

/// What kind of failure a request met, independent of transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceErrorCode {
    /// A parameter is missing or malformed (HTTP 400).
    BadRequest,
    /// No valid ticket (HTTP 401).
    Unauthenticated,
    /// The caller may not do this (HTTP 403).
    Forbidden,
    /// The named entity or endpoint does not exist (HTTP 404).
    NotFound,
    /// The endpoint does not answer this method (HTTP 405; gateway only).
    MethodNotAllowed,
    /// The request body did not arrive in time (HTTP 408; gateway only).
    RequestTimeout,
    /// The request conflicts with existing state (HTTP 409).
    Conflict,
    /// The request body or a field is larger than allowed (HTTP 413).
    PayloadTooLarge,
    /// The body's content type is not one the endpoint takes (HTTP 415; gateway only).
    UnsupportedMediaType,
    /// Too many failed ticket checks from one client (HTTP 429; gateway only).
    TooManyRequests,
    /// A bug on our side (HTTP 500).
    Internal,
    /// A node answered, with a failure (HTTP 502).
    BadGateway,
    /// A backend, the database or a node is unreachable (HTTP 503).
    Unavailable,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorRow {
    /// The failure.
    pub code: ServiceErrorCode,
    /// The HTTP status and `ret_code` the caller sees.
    pub http: u16,
    /// The gRPC code a backend sends it with; `None` for the gateway's own failures.
    pub grpc: Option<Code>,
    /// When a caller meets it, for the API's documentation.
    pub meaning: &'static str,
}

use ServiceErrorCode as E;

/// Every failure a client can see, in status order.
pub const ERROR_TABLE: [ErrorRow; 13] = [
    row(
        E::BadRequest,
        400,
        Some(Code::InvalidArgument),
        "a parameter is missing or malformed, or the request is not valid",
    ),
    row(
        E::Unauthenticated,
        401,
        Some(Code::Unauthenticated),
        "missing, unknown, expired or revoked ticket",
    ),
    row(
        E::Forbidden,
        403,
        Some(Code::PermissionDenied),
        "the caller may not do this",
    ),
    row(
        E::NotFound,
        404,
        Some(Code::NotFound),
        "no such entity, or no such endpoint",
    ),
    row(
        E::MethodNotAllowed,
        405,
        None,
        "the endpoint does not answer this method",
    ),
    row(
        E::RequestTimeout,
        408,
        None,
        "the request body did not arrive in time (TARS_HTTP_BODY_TIMEOUT_MS)",
    ),
    row(
        E::Conflict,
        409,
        Some(Code::AlreadyExists),
        "the request conflicts with what exists",
    ),
    row(
        E::PayloadTooLarge,
        413,
        Some(Code::ResourceExhausted),
        "the body or a value is larger than allowed",
    ),
    row(
        E::UnsupportedMediaType,
        415,
        None,
        "the body's Content-Type is not one the endpoint takes",
    ),
    row(
        E::TooManyRequests,
        429,
        None,
        "too many failed ticket checks from this client; see Retry-After",
    ),
    row(
        E::Internal,
        500,
        Some(Code::Internal),
        "a bug: the details are in the log",
    ),
    row(
        E::BadGateway,
        502,
        Some(Code::Aborted),
        "a node answered with a failure",
    ),
    row(
        E::Unavailable,
        503,
        Some(Code::Unavailable),
        "a backend, the database or a node cannot be reached in time",
    ),
];

const fn row(
    code: ServiceErrorCode,
    http: u16,
    grpc: Option<Code>,
    meaning: &'static str,
) -> ErrorRow {
    ErrorRow {
        code,
        http,
        grpc,
        meaning,
    }
}

impl ServiceErrorCode {
    /// This code's row of [`ERROR_TABLE`].
    pub fn row(self) -> &'static ErrorRow {
        ERROR_TABLE
            .iter()
            .find(|r| r.code == self)
            .expect("every code has a row")
    }

    /// The gRPC code a backend answers for this failure; `None` for the gateway's own.
    pub fn grpc_code(self) -> Option<Code> {
        self.row().grpc
    }

    /// The HTTP status (and `ret_code`) the gateway answers for this failure.
    pub fn http_status(self) -> u16 {
        self.row().http
    }

    /// Classifies a gRPC code received from a backend.
    ///
    /// Codes no backend of ours sends on purpose map to `Internal`, except the
    /// transport-level ones (deadline, cancellation), which mean the backend could not
    /// be reached in time and so are `Unavailable`.
    pub fn from_grpc_code(code: Code) -> ServiceErrorCode {
        match code {
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => E::BadRequest,
            Code::Unauthenticated => E::Unauthenticated,
            Code::PermissionDenied => E::Forbidden,
            Code::NotFound => E::NotFound,
            Code::AlreadyExists => E::Conflict,
            Code::Aborted => E::BadGateway,
            Code::ResourceExhausted => E::PayloadTooLarge,
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => E::Unavailable,
            Code::Ok | Code::Unknown | Code::Unimplemented | Code::Internal | Code::DataLoss => {
                E::Internal
            }
        }
    }

    /// Builds the gRPC status a backend sends; `message` reaches the HTTP caller verbatim.
    /// The gateway's own codes never travel over gRPC; should one be used here, it goes
    /// as `Internal`.
    pub fn status(self, message: impl Into<String>) -> tonic::Status {
        tonic::Status::new(self.grpc_code().unwrap_or(Code::Internal), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backend_code_survives_the_grpc_round_trip() {
        for row in ERROR_TABLE {
            if let Some(grpc) = row.grpc {
                assert_eq!(ServiceErrorCode::from_grpc_code(grpc), row.code, "{row:?}");
            }
        }
    }

    #[test]
    fn statuses_are_distinct_errors_in_order() {
        let statuses: Vec<u16> = ERROR_TABLE.iter().map(|r| r.http).collect();
        assert!(statuses.windows(2).all(|w| w[0] < w[1]), "{statuses:?}");
        assert!(statuses.iter().all(|s| (400..600).contains(s)));
        assert_eq!(
            statuses,
            [400, 401, 403, 404, 405, 408, 409, 413, 415, 429, 500, 502, 503]
        );
    }

    #[test]
    fn transport_failures_are_unavailable_and_refusals_forbidden() {
        assert_eq!(
            ServiceErrorCode::from_grpc_code(Code::DeadlineExceeded),
            ServiceErrorCode::Unavailable
        );
        assert_eq!(
            ServiceErrorCode::from_grpc_code(Code::Unknown),
            ServiceErrorCode::Internal
        );
        assert_eq!(
            ServiceErrorCode::from_grpc_code(Code::PermissionDenied).http_status(),
            403
        );
        assert_eq!(
            ServiceErrorCode::MethodNotAllowed.status("x").code(),
            Code::Internal
        );
    }
}
