//! The directory store: packages kept under `tars.upload/<App>/<Server>/` of a local
//! directory, which the platform's Patch servant (or a tarspatch pointed at the same
//! directory) serves to nodes.

use std::path::PathBuf;

use crate::layout::{check_segment, upload_dir};
use crate::publish::{publish_new, Published};
use crate::{PackageError, PackageResult, Staged};

/// A patch directory.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
    staging: PathBuf,
}

impl DirStore {
    /// The store over `root` (created on first use), spooling uploads in `staging`.
    pub fn new(root: PathBuf, staging: PathBuf) -> DirStore {
        DirStore { root, staging }
    }

    /// The patch directory.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    /// Where uploads are spooled: outside the served directory, so an upload in
    /// progress is never readable through the Patch servant (usually beside it, on the
    /// same file system, so keeping a package is a link, not a copy).
    pub fn staging_dir(&self) -> PathBuf {
        self.staging.clone()
    }

    /// Publishes a staged upload as package `name`: it appears complete or not at all,
    /// and never replaces an existing package.
    pub async fn keep(
        &self,
        application: &str,
        server_name: &str,
        name: &str,
        mut staged: Staged,
    ) -> PackageResult<()> {
        check_segment("package name", name)?;
        let dir = upload_dir(&self.root, application, server_name)?;
        tokio::fs::create_dir_all(&dir).await?;
        match publish_new(staged.path(), &dir.join(name)).await? {
            Published::Created => {
                staged.mark_kept();
                Ok(())
            }
            // Names are generated and unique: this is a bug or an outside writer.
            Published::Exists => Err(PackageError::Io(format!(
                "a package named {name} exists already"
            ))),
        }
    }

    /// Removes package `name`; a missing file is not an error.
    pub async fn discard(&self, application: &str, server_name: &str, name: &str) {
        let Ok(dir) = upload_dir(&self.root, application, server_name) else {
            return;
        };
        if check_segment("package name", name).is_err() {
            return;
        }
        if let Err(err) = tokio::fs::remove_file(dir.join(name)).await {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(package = name, error = %err, "cannot remove a package");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StagedWriter;

    #[tokio::test]
    async fn kept_packages_land_in_the_tarspatch_layout() {
        let root = tempfile::tempdir().unwrap();
        let store = DirStore::new(
            root.path().join("patchs"),
            root.path().join("patchs.staging"),
        );
        let mut writer = StagedWriter::create(&store.staging_dir(), 1 << 20)
            .await
            .unwrap();
        writer.write(b"package bytes").await.unwrap();
        let staged = writer.finish().await.unwrap();
        store
            .keep("Shop", "Cart", "Shop.Cart_1_x.tgz", staged)
            .await
            .unwrap();
        let kept = root
            .path()
            .join("patchs/tars.upload/Shop/Cart/Shop.Cart_1_x.tgz");
        assert_eq!(std::fs::read(&kept).unwrap(), b"package bytes");
        assert_eq!(std::fs::read_dir(store.staging_dir()).unwrap().count(), 0);
        // A name that exists already is never replaced.
        let mut writer = StagedWriter::create(&store.staging_dir(), 1 << 20)
            .await
            .unwrap();
        writer.write(b"other bytes").await.unwrap();
        let staged = writer.finish().await.unwrap();
        assert!(store
            .keep("Shop", "Cart", "Shop.Cart_1_x.tgz", staged)
            .await
            .is_err());
        assert_eq!(std::fs::read(&kept).unwrap(), b"package bytes");
        assert_eq!(std::fs::read_dir(store.staging_dir()).unwrap().count(), 0);
        store.discard("Shop", "Cart", "Shop.Cart_1_x.tgz").await;
        assert!(!kept.exists());
        // Names that would leave the directory are refused.
        let mut writer = StagedWriter::create(&store.staging_dir(), 1 << 20)
            .await
            .unwrap();
        writer.write(b"x").await.unwrap();
        let staged = writer.finish().await.unwrap();
        assert!(store.keep("..", "Cart", "a.tgz", staged).await.is_err());
        assert_eq!(std::fs::read_dir(store.staging_dir()).unwrap().count(), 0);
    }
}
