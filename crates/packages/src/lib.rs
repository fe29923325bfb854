//! Package storage for publishing: an upload is streamed to a staging file while its MD5
//! is computed (memory stays flat whatever the size), then kept in the layout tarspatch
//! uses (`tars.upload/<App>/<Server>/<package>.tgz`), either in a local directory or on a
//! remote tarspatch through TARS's `Patch.upload`.
//!
//! This crate owns files and their names; which packages exist is recorded in
//! `t_server_patchs` by the deployer.

pub mod config;
mod dir_store;
pub mod error;
pub mod layout;
mod publish;
pub mod servant;
pub mod staging;
mod tarspatch;
pub mod writers;

pub use config::{PackageConfig, PatchServantConfig, PatchServantSettings, StoreMode};
pub use dir_store::DirStore;
pub use error::PackageError;
pub use servant::{serve_patch, start_patch_servant, DirPatchServant, PatchService};
pub use staging::{Staged, StagedWriter};
pub use tars_protocol::patch::PATCH_SERVANT;
pub use tarspatch::TarspatchStore;
pub use writers::Writers;

/// Result of package operations.
pub type PackageResult<T> = Result<T, PackageError>;

/// Where packages are kept.
#[derive(Debug)]
pub enum PackageStore {
    /// A local directory laid out as tarspatch's.
    Directory(DirStore),
    /// A remote tarspatch, reached through `Patch.upload`.
    Tarspatch(TarspatchStore),
}

impl PackageStore {
    /// The store the configuration names.
    ///
    /// # Errors
    /// When the tarspatch address is unusable.
    pub fn new(config: &PackageConfig) -> Result<PackageStore, String> {
        Ok(match &config.mode {
            StoreMode::Directory { root, staging } => {
                PackageStore::Directory(DirStore::new(root.clone(), staging.clone()))
            }
            StoreMode::Tarspatch { patch_obj, staging } => {
                PackageStore::Tarspatch(TarspatchStore::new(patch_obj, staging.clone())?)
            }
        })
    }

    /// Where uploads are spooled before they are kept.
    pub fn staging_dir(&self) -> std::path::PathBuf {
        match self {
            PackageStore::Directory(dir) => dir.staging_dir(),
            PackageStore::Tarspatch(remote) => remote.staging_dir(),
        }
    }

    /// Keeps a staged upload as `app.server`'s package `name`.
    pub async fn keep(
        &self,
        application: &str,
        server_name: &str,
        name: &str,
        staged: Staged,
    ) -> PackageResult<()> {
        match self {
            PackageStore::Directory(dir) => dir.keep(application, server_name, name, staged).await,
            PackageStore::Tarspatch(remote) => {
                remote.keep(application, server_name, name, staged).await
            }
        }
    }

    /// Removes a kept package (after its record could not be written); best effort.
    pub async fn discard(&self, application: &str, server_name: &str, name: &str) {
        match self {
            PackageStore::Directory(dir) => dir.discard(application, server_name, name).await,
            PackageStore::Tarspatch(remote) => remote.discard(application, server_name, name).await,
        }
    }
}
