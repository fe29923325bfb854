//! Publishing a finished file into the served tree without ever replacing one.

use std::io::ErrorKind;
use std::path::Path;

/// What [`publish_new`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Published {
    /// `dest` now holds the file; the source is gone.
    Created,
    /// Something was at `dest` already and was left alone; the source is untouched.
    Exists,
}

/// Puts the complete file `src` at `dest` unless something is there already.
///
/// `src` is hard-linked to `dest` (an atomic create-if-absent: `dest` appears whole or not
/// at all, and an existing file is never replaced), then removed. Across file systems the
/// content is first copied to a hidden name beside `dest` (the Patch servant serves no
/// hidden names), synced, and linked from there.
pub(crate) async fn publish_new(src: &Path, dest: &Path) -> std::io::Result<Published> {
    match tokio::fs::hard_link(src, dest).await {
        Ok(()) => {
            remove_quietly(src).await;
            return Ok(Published::Created);
        }
        Err(err) if err.kind() == ErrorKind::AlreadyExists => return Ok(Published::Exists),
        // Another file system, or one without hard links: copy beside `dest` first.
        Err(_) => {}
    }
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dest.with_file_name(format!(".{name}.{:08x}.part", rand::random::<u32>()));
    let copied = async {
        tokio::fs::copy(src, &temp).await?;
        tokio::fs::File::open(&temp).await?.sync_all().await
    }
    .await;
    if let Err(err) = copied {
        remove_quietly(&temp).await;
        return Err(err);
    }
    let outcome = match tokio::fs::hard_link(&temp, dest).await {
        Ok(()) => Ok(Published::Created),
        Err(err) if err.kind() == ErrorKind::AlreadyExists => Ok(Published::Exists),
        // No hard links at all: a rename, after checking (not atomically) that `dest` is free.
        Err(_) => match tokio::fs::try_exists(dest).await {
            Ok(true) => Ok(Published::Exists),
            Ok(false) => tokio::fs::rename(&temp, dest)
                .await
                .map(|()| Published::Created),
            Err(err) => Err(err),
        },
    };
    remove_quietly(&temp).await;
    if let Ok(Published::Created) = outcome {
        remove_quietly(src).await;
    }
    outcome
}

/// Removes a file; a missing one is fine, other failures are logged.
pub(crate) async fn remove_quietly(path: &Path) {
    if let Err(err) = tokio::fs::remove_file(path).await {
        if err.kind() != ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %err, "cannot remove a file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_existing_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, dest) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("dest"),
        );
        std::fs::write(&a, b"first").unwrap();
        std::fs::write(&b, b"second").unwrap();
        assert_eq!(publish_new(&a, &dest).await.unwrap(), Published::Created);
        assert!(!a.exists(), "the source is moved, not copied");
        assert_eq!(publish_new(&b, &dest).await.unwrap(), Published::Exists);
        assert_eq!(std::fs::read(&dest).unwrap(), b"first");
        assert!(
            b.exists(),
            "the caller decides what to do with a refused source"
        );
    }
}
