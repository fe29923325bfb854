//! What storing a package can fail with.

/// A package could not be received or kept.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The upload is larger than the configured limit.
    #[error("the package is larger than the {limit}-byte limit (TARS_UPLOAD_MAX_BYTES)")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The MD5 the client sent does not match the bytes received.
    #[error("md5 mismatch: the request says {expected}, the uploaded file has {actual}")]
    Md5Mismatch {
        /// What the client said.
        expected: String,
        /// What was received.
        actual: String,
    },
    /// A name that cannot be a path segment.
    #[error("{0}")]
    BadName(String),
    /// The local disk failed.
    #[error("package storage failed: {0}")]
    Io(String),
    /// The remote tarspatch refused or could not be reached.
    #[error("tarspatch upload failed: {0}")]
    Remote(String),
}

impl From<std::io::Error> for PackageError {
    fn from(err: std::io::Error) -> Self {
        PackageError::Io(err.to_string())
    }
}
