//! Receiving a package upload: a `multipart/form-data` body whose file part (`suse`) is
//! streamed into the package store's staging area while its MD5 is computed, and whose
//! text parts are collected with tight bounds. Nothing of the file is held in memory
//! beyond one chunk, whatever its size.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart};
use http::header::CONTENT_LENGTH;
use http::Request;
use tars_packages::{PackageError, PackageStore, Staged, StagedWriter};

use crate::error::{ApiError, ApiResult};

/// The form field that carries the package, as TarsWeb names it.
pub const FILE_FIELD: &str = "suse";
/// Largest text field; names and comments are short.
const MAX_TEXT_FIELD: usize = 64 * 1024;
/// Most parts in one form.
const MAX_PARTS: usize = 64;
/// Room for multipart headers and text fields beyond the file itself.
const FORM_OVERHEAD: u64 = 1 << 20;
/// A client that sends nothing for this long is dropped rather than holding a staging
/// file open forever.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A received form: text fields and the staged package.
pub struct UploadForm {
    fields: HashMap<String, String>,
    /// The package, spooled to the staging area (deleted unless kept).
    pub package: Option<Staged>,
}

impl UploadForm {
    /// A text field, trimmed; `None` when absent or blank.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A required text field.
    pub fn required(&self, name: &str) -> ApiResult<String> {
        self.field(name)
            .map(str::to_string)
            .ok_or_else(|| ApiError::bad_param(name, "is required"))
    }

    /// The package, which the form must carry.
    pub fn take_package(&mut self) -> ApiResult<Staged> {
        self.package.take().ok_or_else(|| {
            ApiError::bad_param(
                FILE_FIELD,
                "is required: the package file (-F suse=@file.tgz)",
            )
        })
    }

    /// A required application or server name: letters, digits, `_` and `-`, as TARS
    /// names are (they become directories of the package store).
    pub fn required_name(&self, name: &str) -> ApiResult<String> {
        let value = self.required(name)?;
        let plain = value.len() <= 128
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !plain {
            return Err(ApiError::bad_param(
                name,
                format!("`{value}` may contain only letters, digits, `_` and `-`"),
            ));
        }
        Ok(value)
    }
}

/// Maps storage failures to what the client sees.
pub fn package_error(err: PackageError) -> ApiError {
    match err {
        PackageError::TooLarge { .. } => ApiError::too_large(err.to_string()),
        PackageError::Md5Mismatch { .. } => ApiError::bad_param("md5", err.to_string()),
        PackageError::BadName(_) => ApiError::bad_request(err.to_string()),
        PackageError::Io(_) | PackageError::Remote(_) => {
            tracing::error!(error = %err, "package storage failed");
            ApiError::unavailable(format!("{err}; try again, or check the package storage"))
        }
    }
}

fn too_large(limit: u64) -> ApiError {
    package_error(PackageError::TooLarge { limit })
}

fn malformed(err: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "malformed multipart/form-data body: {err}; send the package as `-F {FILE_FIELD}=@file.tgz`"
    ))
}

/// Reads the whole form of `request`, staging the package in `store`.
pub async fn receive(
    request: Request<Body>,
    store: &PackageStore,
    limit: u64,
) -> ApiResult<UploadForm> {
    // Refuse an announced oversize body before reading any of it.
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit.saturating_add(FORM_OVERHEAD)) {
        return Err(too_large(limit));
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|rejection| {
            ApiError::unsupported_media_type(format!(
                    "{}; upload with Content-Type: multipart/form-data (curl -F {FILE_FIELD}=@file.tgz)",
                    rejection.body_text()
                ))
        })?;
    let mut form = UploadForm {
        fields: HashMap::new(),
        package: None,
    };
    let mut parts = 0;
    while let Some(mut field) = next(multipart.next_field()).await?.map_err(malformed)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::bad_request(format!(
                "the form has more than {MAX_PARTS} parts"
            )));
        }
        let name = field.name().unwrap_or_default().to_string();
        if name == FILE_FIELD {
            if form.package.is_some() {
                return Err(ApiError::bad_param(
                    FILE_FIELD,
                    "is given twice; send one package",
                ));
            }
            let mut writer = StagedWriter::create(&store.staging_dir(), limit)
                .await
                .map_err(package_error)?;
            while let Some(chunk) = next(field.chunk()).await?.map_err(malformed)? {
                writer.write(&chunk).await.map_err(package_error)?;
            }
            form.package = Some(writer.finish().await.map_err(package_error)?);
        } else if field.file_name().is_some() {
            return Err(ApiError::bad_request(format!(
                "unexpected file in field `{name}`; send the package in field `{FILE_FIELD}`"
            )));
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = next(field.chunk()).await?.map_err(malformed)? {
                if text.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(ApiError::bad_param(
                        &name,
                        format!("is longer than {MAX_TEXT_FIELD} bytes"),
                    ));
                }
                text.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(text)
                .map_err(|_| ApiError::bad_param(&name, "is not valid UTF-8"))?;
            form.fields.insert(name, text);
        }
    }
    Ok(form)
}

/// Awaits one step of the body, or fails when the client has gone quiet.
async fn next<T>(step: impl std::future::Future<Output = T>) -> ApiResult<T> {
    tokio::time::timeout(IDLE_TIMEOUT, step).await.map_err(|_| {
        ApiError::request_timeout(format!(
            "the upload sent nothing for {} s; try again",
            IDLE_TIMEOUT.as_secs()
        ))
    })
}
