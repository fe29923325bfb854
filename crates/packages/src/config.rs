//! Package storage configuration, from environment variables.

use std::path::PathBuf;

use tars_common::env::{var, var_or, var_parsed, EnvError};

/// Where packages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreMode {
    /// `TARS_PACKAGE_STORE=dir` (default): the directory `TARS_PACKAGE_DIR` (default
    /// `$TARS_DATA_DIR/patchs`), laid out as tarspatch's.
    Directory {
        /// The directory tarspatch would call its patch directory.
        root: PathBuf,
    },
    /// `TARS_PACKAGE_STORE=tarspatch`: uploaded to the tarspatch at
    /// `TARS_PACKAGE_PATCH_OBJ` (`tars.tarspatch.PatchObj@tcp -h H -p P`), staged first in
    /// `$TARS_DATA_DIR/upload-staging`.
    Tarspatch {
        /// The tarspatch's proxy string.
        patch_obj: String,
        /// Where uploads are spooled before they are sent.
        staging: PathBuf,
    },
}

/// Package storage settings.
#[derive(Debug, Clone)]
pub struct PackageConfig {
    /// Where packages are kept.
    pub mode: StoreMode,
    /// `TARS_UPLOAD_MAX_BYTES`, default 1 GiB: largest package accepted (413 above).
    pub max_upload_bytes: u64,
    /// `TARS_PATCH_ADDR`: where the Patch servant over the directory store listens, so
    /// nodes can download packages (standalone default `127.0.0.1:0`, an ephemeral port;
    /// the gateway alone serves it only when set).
    pub patch_addr: Option<std::net::SocketAddr>,
}

impl PackageConfig {
    /// The patch directory, when packages are kept locally.
    pub fn directory(&self) -> Option<&std::path::Path> {
        match &self.mode {
            StoreMode::Directory { root } => Some(root),
            StoreMode::Tarspatch { .. } => None,
        }
    }

    /// Reads the settings; errors name the variable at fault.
    pub fn from_env() -> Result<PackageConfig, EnvError> {
        let data_dir = PathBuf::from(var_or("TARS_DATA_DIR", "./data"));
        let mode = match var_or("TARS_PACKAGE_STORE", "dir").as_str() {
            "dir" => StoreMode::Directory {
                root: var("TARS_PACKAGE_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("patchs")),
            },
            "tarspatch" => StoreMode::Tarspatch {
                patch_obj: var("TARS_PACKAGE_PATCH_OBJ").ok_or_else(|| EnvError {
                    name: "TARS_PACKAGE_PATCH_OBJ",
                    value: String::new(),
                    reason: "is required with TARS_PACKAGE_STORE=tarspatch, e.g. \
                             tars.tarspatch.PatchObj@tcp -h 10.0.0.9 -p 19399"
                        .into(),
                })?,
                staging: data_dir.join("upload-staging"),
            },
            other => {
                return Err(EnvError {
                    name: "TARS_PACKAGE_STORE",
                    value: other.to_string(),
                    reason: "must be `dir` or `tarspatch`".into(),
                })
            }
        };
        Ok(PackageConfig {
            mode,
            max_upload_bytes: var_parsed("TARS_UPLOAD_MAX_BYTES", 1 << 30)?,
            patch_addr: match var("TARS_PATCH_ADDR") {
                None => None,
                Some(_) => Some(var_parsed(
                    "TARS_PATCH_ADDR",
                    "127.0.0.1:0".parse().expect("valid"),
                )?),
            },
        })
    }
}
