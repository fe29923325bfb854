//! The single error-code table shared by every service.
//!
//! Backends classify their failures into a [`ServiceErrorCode`] and send it as a gRPC
//! status; the gateway turns the gRPC status back into the code and answers the HTTP
//! status of the contract (`ret_code` equals the HTTP status). Keeping both directions
//! in one table is what lets the round-trip test below prove they agree.

use tonic::Code;

/// What kind of failure a request met, independent of transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceErrorCode {
    /// A parameter is missing or malformed (HTTP 400).
    BadRequest,
    /// No valid ticket (HTTP 401).
    Unauthenticated,
    /// The named entity does not exist (HTTP 404).
    NotFound,
    /// The request conflicts with existing state (HTTP 409).
    Conflict,
    /// The request body or a field is larger than allowed (HTTP 413).
    PayloadTooLarge,
    /// A backend, the database or a node is unreachable (HTTP 503).
    Unavailable,
    /// A node answered, with a failure (HTTP 502).
    BadGateway,
    /// A bug on our side (HTTP 500).
    Internal,
}

impl ServiceErrorCode {
    /// Every code, for exhaustive tests.
    pub const ALL: [ServiceErrorCode; 8] = [
        ServiceErrorCode::BadRequest,
        ServiceErrorCode::Unauthenticated,
        ServiceErrorCode::NotFound,
        ServiceErrorCode::Conflict,
        ServiceErrorCode::PayloadTooLarge,
        ServiceErrorCode::Unavailable,
        ServiceErrorCode::BadGateway,
        ServiceErrorCode::Internal,
    ];

    /// The gRPC code a backend answers for this failure.
    pub fn grpc_code(self) -> Code {
        match self {
            ServiceErrorCode::BadRequest => Code::InvalidArgument,
            ServiceErrorCode::Unauthenticated => Code::Unauthenticated,
            ServiceErrorCode::NotFound => Code::NotFound,
            ServiceErrorCode::Conflict => Code::AlreadyExists,
            ServiceErrorCode::PayloadTooLarge => Code::ResourceExhausted,
            ServiceErrorCode::Unavailable => Code::Unavailable,
            ServiceErrorCode::BadGateway => Code::Aborted,
            ServiceErrorCode::Internal => Code::Internal,
        }
    }

    /// The HTTP status (and `ret_code`) the gateway answers for this failure.
    pub fn http_status(self) -> u16 {
        match self {
            ServiceErrorCode::BadRequest => 400,
            ServiceErrorCode::Unauthenticated => 401,
            ServiceErrorCode::NotFound => 404,
            ServiceErrorCode::Conflict => 409,
            ServiceErrorCode::PayloadTooLarge => 413,
            ServiceErrorCode::Unavailable => 503,
            ServiceErrorCode::BadGateway => 502,
            ServiceErrorCode::Internal => 500,
        }
    }

    /// Classifies a gRPC code received from a backend.
    ///
    /// Codes no backend of ours sends on purpose map to `Internal`, except the
    /// transport-level ones (deadline, cancellation), which mean the backend could not
    /// be reached in time and so are `Unavailable`.
    pub fn from_grpc_code(code: Code) -> ServiceErrorCode {
        match code {
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
                ServiceErrorCode::BadRequest
            }
            Code::Unauthenticated | Code::PermissionDenied => ServiceErrorCode::Unauthenticated,
            Code::NotFound => ServiceErrorCode::NotFound,
            Code::AlreadyExists => ServiceErrorCode::Conflict,
            Code::Aborted => ServiceErrorCode::BadGateway,
            Code::ResourceExhausted => ServiceErrorCode::PayloadTooLarge,
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                ServiceErrorCode::Unavailable
            }
            Code::Ok | Code::Unknown | Code::Unimplemented | Code::Internal | Code::DataLoss => {
                ServiceErrorCode::Internal
            }
        }
    }

    /// Builds the gRPC status a backend sends; `message` reaches the HTTP caller verbatim.
    pub fn status(self, message: impl Into<String>) -> tonic::Status {
        tonic::Status::new(self.grpc_code(), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_survives_the_grpc_round_trip() {
        for code in ServiceErrorCode::ALL {
            assert_eq!(ServiceErrorCode::from_grpc_code(code.grpc_code()), code);
        }
    }

    #[test]
    fn http_statuses_match_the_contract() {
        let pairs: Vec<(ServiceErrorCode, u16)> = ServiceErrorCode::ALL
            .iter()
            .map(|c| (*c, c.http_status()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                (ServiceErrorCode::BadRequest, 400),
                (ServiceErrorCode::Unauthenticated, 401),
                (ServiceErrorCode::NotFound, 404),
                (ServiceErrorCode::Conflict, 409),
                (ServiceErrorCode::PayloadTooLarge, 413),
                (ServiceErrorCode::Unavailable, 503),
                (ServiceErrorCode::BadGateway, 502),
                (ServiceErrorCode::Internal, 500),
            ]
        );
    }

    #[test]
    fn transport_failures_are_unavailable() {
        assert_eq!(
            ServiceErrorCode::from_grpc_code(Code::DeadlineExceeded),
            ServiceErrorCode::Unavailable
        );
        assert_eq!(
            ServiceErrorCode::from_grpc_code(Code::Unknown),
            ServiceErrorCode::Internal
        );
    }
}
