//! Decoding and calling errors.

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// More bytes are needed; not a failure while a frame is still arriving.
    #[error("incomplete data")]
    Incomplete,
    /// A head carries a type id the protocol does not define.
    #[error("unknown type id {0}")]
    UnknownType(u8),
    /// A field has a type that cannot be read as the expected one.
    #[error("field at tag {tag}: expected {expected}, found type id {found}")]
    TypeMismatch {
        /// The field's tag.
        tag: u8,
        /// What was expected.
        expected: &'static str,
        /// The type id found.
        found: u8,
    },
    /// A required field is missing (the official message: "require field not exist").
    #[error("require field not exist, tag:{0}")]
    MissingField(u8),
    /// A length or count is negative or larger than the data that follows.
    #[error("invalid length {0}")]
    InvalidLength(i64),
    /// Structs nested deeper than the decoder allows.
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
    /// A string is not UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A frame's length prefix is impossible (too small or over the limit).
    #[error("frame length {length} outside 4..={max}")]
    FrameLength {
        /// The length the prefix claimed.
        length: u64,
        /// The largest accepted.
        max: usize,
    },
}

/// Why a remote call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Nothing accepts connections at the address.
    #[error("connection refused by {0}")]
    ConnectRefused(String),
    /// Connecting took longer than the connect timeout.
    #[error("connecting to {0} timed out")]
    ConnectTimeout(String),
    /// Any other failure to connect.
    #[error("cannot connect to {addr}: {reason}")]
    Connect {
        /// The address.
        addr: String,
        /// The OS error.
        reason: String,
    },
    /// No answer within the call's timeout.
    #[error("{addr} did not answer within {timeout_ms} ms")]
    Timeout {
        /// The address.
        addr: String,
        /// The timeout.
        timeout_ms: u64,
    },
    /// The connection broke before the answer arrived.
    #[error("connection to {addr} closed: {reason}")]
    ConnectionClosed {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The server answered with a framework error (iRet ≠ 0 in the response packet).
    #[error("{addr} returned error {ret}: {desc}")]
    Remote {
        /// The address.
        addr: String,
        /// The response packet's iRet.
        ret: i32,
        /// Its sResultDesc.
        desc: String,
    },
    /// The answer could not be decoded.
    #[error("malformed answer from {addr}: {error}")]
    Malformed {
        /// The address.
        addr: String,
        /// The decode error.
        error: DecodeError,
    },
}
