//! Names and paths as tarspatch lays them out: uploads under
//! `tars.upload/<App>/<Server>/`, the package a node downloads under
//! `TARSBatchPatching/<App>/<Server>/<App>.<Server>.tgz`.

use std::path::{Path, PathBuf};

use crate::{PackageError, PackageResult};

/// The upload directory's name inside the patch directory.
pub const UPLOAD_DIR: &str = "tars.upload";
/// Where `preparePatchFile` puts the package a node downloads.
pub const BATCH_DIR: &str = "TARSBatchPatching";

/// Refuses anything but a plain path segment: no separators, no `..`, nothing hidden.
pub fn check_segment(what: &str, value: &str) -> PackageResult<()> {
    let plain = !value.is_empty()
        && !value.starts_with('.')
        && !value.contains(['/', '\\', '\0'])
        && !value.contains("..");
    if plain {
        Ok(())
    } else {
        Err(PackageError::BadName(format!(
            "{what} {value:?} cannot be used in a path"
        )))
    }
}

/// `tars.upload/<App>/<Server>` under `root`.
pub fn upload_dir(root: &Path, application: &str, server_name: &str) -> PackageResult<PathBuf> {
    check_segment("application", application)?;
    check_segment("server name", server_name)?;
    Ok(root.join(UPLOAD_DIR).join(application).join(server_name))
}

/// `TARSBatchPatching/<App>/<Server>/<App>.<Server>.tgz` under `root`.
pub fn batch_file(root: &Path, application: &str, server_name: &str) -> PackageResult<PathBuf> {
    check_segment("application", application)?;
    check_segment("server name", server_name)?;
    Ok(root
        .join(BATCH_DIR)
        .join(application)
        .join(server_name)
        .join(format!("{application}.{server_name}.tgz")))
}

/// A new package name: `<App>.<Server>_<millis>_<random>.tgz`. Generated, never taken
/// from the client's file name; the random part keeps two uploads in one millisecond apart.
pub fn package_name(application: &str, server_name: &str, now_millis: u128) -> String {
    let random: u32 = rand::random();
    format!("{application}.{server_name}_{now_millis}_{random:08x}.tgz")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_escape_the_directory() {
        for bad in ["", "..", "../x", "a/b", "a\\b", ".hidden", "a\0b", "x..y"] {
            assert!(check_segment("name", bad).is_err(), "{bad:?}");
        }
        check_segment("name", "Shop").unwrap();
        check_segment("name", "Shop.Cart_1_ab.tgz").unwrap();
    }

    #[test]
    fn names_follow_tarspatch() {
        let root = Path::new("/p");
        assert_eq!(
            upload_dir(root, "Shop", "Cart").unwrap(),
            Path::new("/p/tars.upload/Shop/Cart")
        );
        assert_eq!(
            batch_file(root, "Shop", "Cart").unwrap(),
            Path::new("/p/TARSBatchPatching/Shop/Cart/Shop.Cart.tgz")
        );
        let name = package_name("Shop", "Cart", 1700000000123);
        assert!(name.starts_with("Shop.Cart_1700000000123_"), "{name}");
        assert!(name.ends_with(".tgz"));
        assert_ne!(name, package_name("Shop", "Cart", 1700000000123));
    }
}
