//! The directory store: packages kept under `tars.upload/<App>/<Server>/` of a local
//! directory, which the platform's Patch servant (or a tarspatch pointed at the same
//! directory) serves to nodes.

use std::path::PathBuf;

use crate::layout::{check_segment, upload_dir, UPLOAD_DIR};
use crate::{PackageResult, Staged};

/// A patch directory.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    /// The store over `root` (created on first use).
    pub fn new(root: PathBuf) -> DirStore {
        DirStore { root }
    }

    /// The patch directory.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    /// Staging lives inside the store so keeping a package is a rename, not a copy.
    pub fn staging_dir(&self) -> PathBuf {
        self.root.join(UPLOAD_DIR).join(".staging")
    }

    /// Moves a staged upload into place as package `name`.
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
        tokio::fs::rename(staged.path(), dir.join(name)).await?;
        staged.mark_kept();
        Ok(())
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
        let store = DirStore::new(root.path().to_path_buf());
        let mut writer = StagedWriter::create(&store.staging_dir(), 1 << 20)
            .await
            .unwrap();
        writer.write(b"package bytes").await.unwrap();
        let staged = writer.finish().await.unwrap();
        store
            .keep("Shop", "Cart", "Shop.Cart_1_x.tgz", staged)
            .await
            .unwrap();
        let kept = root.path().join("tars.upload/Shop/Cart/Shop.Cart_1_x.tgz");
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
