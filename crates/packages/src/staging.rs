//! Spooling an upload to disk: bytes go to a staging file as they arrive while the MD5
//! and size are computed, so a package of any size costs a fixed amount of memory. A
//! staged file that is not kept is deleted when dropped.

use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use tokio::fs::File;
use tokio::io::{AsyncWriteExt, BufWriter};

use crate::{PackageError, PackageResult};

/// An upload being written.
pub struct StagedWriter {
    file: BufWriter<File>,
    staged: Staged,
    hasher: Md5,
    limit: u64,
}

/// A complete upload in the staging directory: its size and MD5 (lowercase hex).
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
    /// Bytes received.
    pub size: u64,
    /// MD5 of the bytes, lowercase hex.
    pub md5: String,
    kept: bool,
}

impl StagedWriter {
    /// Starts a staging file in `dir` (created if missing); more than `limit` bytes is
    /// refused.
    pub async fn create(dir: &Path, limit: u64) -> PackageResult<StagedWriter> {
        tokio::fs::create_dir_all(dir).await?;
        let random: u64 = rand::random();
        let path = dir.join(format!("upload-{}-{random:016x}.part", std::process::id()));
        let file = File::create(&path).await?;
        Ok(StagedWriter {
            file: BufWriter::with_capacity(256 * 1024, file),
            staged: Staged {
                path,
                size: 0,
                md5: String::new(),
                kept: false,
            },
            hasher: Md5::new(),
            limit,
        })
    }

    /// Appends a chunk. Past the limit the upload is refused (and its file deleted when
    /// this writer is dropped).
    pub async fn write(&mut self, chunk: &[u8]) -> PackageResult<()> {
        let size = self.staged.size + chunk.len() as u64;
        if size > self.limit {
            return Err(PackageError::TooLarge { limit: self.limit });
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await?;
        self.staged.size = size;
        Ok(())
    }

    /// Flushes the file to disk and answers what was received.
    pub async fn finish(mut self) -> PackageResult<Staged> {
        self.file.flush().await?;
        self.file.get_ref().sync_all().await?;
        let mut staged = std::mem::replace(
            &mut self.staged,
            Staged {
                path: PathBuf::new(),
                size: 0,
                md5: String::new(),
                kept: true,
            },
        );
        staged.md5 = hex::encode(self.hasher.clone().finalize());
        Ok(staged)
    }
}

impl Staged {
    /// The staging file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Refuses the upload when `expected` (hex, any case) is given and differs.
    pub fn check_md5(&self, expected: Option<&str>) -> PackageResult<()> {
        match expected.map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) if !e.eq_ignore_ascii_case(&self.md5) => Err(PackageError::Md5Mismatch {
                expected: e.to_string(),
                actual: self.md5.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Marks the file as moved elsewhere, so dropping does not delete it.
    pub(crate) fn mark_kept(&mut self) {
        self.kept = true;
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.kept && !self.path.as_os_str().is_empty() {
            if let Err(err) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), error = %err, "cannot remove a staged upload");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_while_writing_and_cleans_up_what_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = StagedWriter::create(dir.path(), 10).await.unwrap();
        writer.write(b"hello ").await.unwrap();
        writer.write(b"tars").await.unwrap();
        let staged = writer.finish().await.unwrap();
        assert_eq!(staged.size, 10);
        // md5("hello tars"), computed independently.
        assert_eq!(staged.md5, "184161c1caff52fddad725b15d2cca0f");
        assert!(staged.path().exists());
        staged.check_md5(None).unwrap();
        staged.check_md5(Some(&staged.md5.to_uppercase())).unwrap();
        assert!(matches!(
            staged.check_md5(Some("0123")),
            Err(PackageError::Md5Mismatch { .. })
        ));
        let path = staged.path().to_path_buf();
        drop(staged);
        assert!(!path.exists(), "an upload that is not kept is deleted");

        let mut writer = StagedWriter::create(dir.path(), 4).await.unwrap();
        writer.write(b"1234").await.unwrap();
        assert!(matches!(
            writer.write(b"5").await,
            Err(PackageError::TooLarge { limit: 4 })
        ));
        drop(writer);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
