//! Package storage configuration, from environment variables.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tars_common::env::{var, var_or, var_parsed, EnvError};

use crate::writers::Writers;

/// Where packages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreMode {
    /// `TARS_PACKAGE_STORE=dir` (default): the directory `TARS_PACKAGE_DIR` (default
    /// `$TARS_DATA_DIR/patchs`), laid out as tarspatch's.
    Directory {
        /// The directory tarspatch would call its patch directory; the Patch servant
        /// serves everything in it.
        root: PathBuf,
        /// `TARS_PACKAGE_STAGING_DIR`, default `<TARS_PACKAGE_DIR>.staging` beside it:
        /// where uploads are spooled until complete. Always outside `root`, so nothing
        /// half-written is ever served; on the same file system as `root`, keeping a
        /// package is a link, not a copy.
        staging: PathBuf,
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
    /// Who may write through that servant, and its resource limits.
    pub patch: PatchServantSettings,
}

/// The Patch servant's access rule and limits (`TARS_PATCH_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchServantSettings {
    /// `TARS_PATCH_WRITERS`, default `127.0.0.0/8,::1`: peers allowed to call `upload`,
    /// `preparePatchFile` and `deletePatchFile` (comma-separated CIDR blocks or
    /// addresses, or `none`). Everyone may call `listFileInfo` and `download`.
    pub writers: Writers,
    /// `TARS_PATCH_MAX_CONNECTIONS`, default 1024: connections served at once; more are
    /// closed as soon as they are accepted.
    pub max_connections: usize,
    /// `TARS_PATCH_MAX_CALLS_PER_CONNECTION`, default 8: calls one connection may have
    /// in flight; past it the connection is not read until an answer is sent. With the
    /// 4 answers a connection may have queued, one connection pins at most about
    /// (this + 5) × 1 MiB of download answers.
    pub max_calls_per_connection: usize,
    /// `TARS_PATCH_IDLE_TIMEOUT_MS`, default 60000: a connection that neither sends nor
    /// receives a byte for this long (a node gone quiet, or a client not reading its
    /// answers) is closed.
    pub idle_timeout: Duration,
}

impl Default for PatchServantSettings {
    fn default() -> PatchServantSettings {
        PatchServantSettings {
            writers: Writers::default(),
            max_connections: 1024,
            max_calls_per_connection: 8,
            idle_timeout: Duration::from_secs(60),
        }
    }
}

impl PatchServantSettings {
    /// Reads the `TARS_PATCH_*` settings; errors name the variable at fault.
    pub fn from_env() -> Result<PatchServantSettings, EnvError> {
        let defaults = PatchServantSettings::default();
        let writers = match var("TARS_PATCH_WRITERS") {
            None => defaults.writers,
            Some(value) => Writers::parse(&value).map_err(|reason| EnvError {
                name: "TARS_PATCH_WRITERS",
                value: value.clone(),
                reason: format!(
                    "{reason} (expected comma-separated CIDR blocks or addresses, e.g. \
                     127.0.0.0/8,::1,10.0.0.7, or `none`)"
                ),
            })?,
        };
        Ok(PatchServantSettings {
            writers,
            max_connections: positive("TARS_PATCH_MAX_CONNECTIONS", defaults.max_connections)?,
            max_calls_per_connection: positive(
                "TARS_PATCH_MAX_CALLS_PER_CONNECTION",
                defaults.max_calls_per_connection,
            )?,
            idle_timeout: Duration::from_millis(positive(
                "TARS_PATCH_IDLE_TIMEOUT_MS",
                defaults.idle_timeout.as_millis() as u64,
            )?),
        })
    }
}

/// A variable that must be a positive number.
fn positive<T>(name: &'static str, default: T) -> Result<T, EnvError>
where
    T: std::str::FromStr + PartialOrd + Default + Copy,
    T::Err: std::fmt::Display,
{
    let value = var_parsed(name, default)?;
    if value <= T::default() {
        return Err(EnvError {
            name,
            value: var(name).unwrap_or_default(),
            reason: "must be at least 1".into(),
        });
    }
    Ok(value)
}

/// What the Patch servant serves, and how: see [`crate::start_patch_servant`].
#[derive(Debug, Clone)]
pub struct PatchServantConfig {
    /// The package directory served to nodes.
    pub root: PathBuf,
    /// Where uploads through `Patch.upload` are spooled (outside `root`).
    pub staging: PathBuf,
    /// Access rule and limits.
    pub settings: PatchServantSettings,
}

impl PackageConfig {
    /// The patch directory, when packages are kept locally.
    pub fn directory(&self) -> Option<&std::path::Path> {
        match &self.mode {
            StoreMode::Directory { root, .. } => Some(root),
            StoreMode::Tarspatch { .. } => None,
        }
    }

    /// What a Patch servant over the package directory needs, when packages are kept
    /// locally.
    pub fn patch_servant(&self) -> Option<PatchServantConfig> {
        match &self.mode {
            StoreMode::Directory { root, staging } => Some(PatchServantConfig {
                root: root.clone(),
                staging: staging.clone(),
                settings: self.patch.clone(),
            }),
            StoreMode::Tarspatch { .. } => None,
        }
    }

    /// Reads the settings; errors name the variable at fault.
    pub fn from_env() -> Result<PackageConfig, EnvError> {
        let data_dir = PathBuf::from(var_or("TARS_DATA_DIR", "./data"));
        let mode = match var_or("TARS_PACKAGE_STORE", "dir").as_str() {
            "dir" => {
                let root = var("TARS_PACKAGE_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("patchs"));
                let staging = match var("TARS_PACKAGE_STAGING_DIR") {
                    Some(dir) => PathBuf::from(dir),
                    None => beside(&root),
                };
                if inside(&staging, &root) {
                    return Err(EnvError {
                        name: "TARS_PACKAGE_STAGING_DIR",
                        value: staging.display().to_string(),
                        reason: format!(
                            "must lie outside the served package directory {} \
                             (TARS_PACKAGE_DIR): uploads in progress would be readable",
                            root.display()
                        ),
                    });
                }
                StoreMode::Directory { root, staging }
            }
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
            patch: PatchServantSettings::from_env()?,
        })
    }
}

/// `<dir>.staging`, beside `dir` (so usually on the same file system).
pub fn beside(dir: &Path) -> PathBuf {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => parent.join(format!("{}.staging", name.to_string_lossy())),
        // The file system's root: nothing is beside it.
        _ => std::env::temp_dir().join("tars-package-staging"),
    }
}

/// Whether `path` is `dir` or lies below it (lexically, after making both absolute).
fn inside(path: &Path, dir: &Path) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let normal = |p: PathBuf| -> PathBuf {
        let mut out = PathBuf::new();
        for part in p.components() {
            match part {
                std::path::Component::ParentDir => {
                    out.pop();
                }
                std::path::Component::CurDir => {}
                other => out.push(other),
            }
        }
        out
    };
    normal(absolute(path)).starts_with(normal(absolute(dir)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_is_beside_the_served_directory_never_inside() {
        assert_eq!(
            beside(Path::new("/var/lib/tars/patchs")),
            Path::new("/var/lib/tars/patchs.staging")
        );
        assert_eq!(
            beside(Path::new("/var/lib/tars/patchs/")),
            Path::new("/var/lib/tars/patchs.staging")
        );
        assert!(!inside(
            &beside(Path::new("data/patchs")),
            Path::new("data/patchs")
        ));
        assert!(inside(Path::new("/p/x/../y"), Path::new("/p")));
        assert!(inside(Path::new("/p"), Path::new("/p/")));
        assert!(!inside(Path::new("/p.staging"), Path::new("/p")));
        assert!(!inside(Path::new("/q/../r"), Path::new("/q")));
    }
}
