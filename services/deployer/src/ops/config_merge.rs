//! The text tarsconfig serves a server for one of its files, assembled the way its
//! `loadConfigByHost`/`loadAppConfigByInfo` do: the server-level file's references (each
//! an application file overlaid by its set variant), then the server-level file, then the
//! node-level file's references and the node-level file, non-empty parts joined by a
//! blank CRLF line. References are read in reference-id order, the order tarsconfig's
//! lookup through the (config_id, reference_id) index yields.

use tars_store::config_files::{ConfigFileRow, ConfigPlace, LEVEL_APP, LEVEL_NODE, LEVEL_SERVER};
use tars_store::Store;

use super::config_files::{describe, load};
use crate::error::{DeployerError, DeployerResult};

/// What tarsconfig puts between two non-empty parts.
pub const SEPARATOR: &str = "\r\n\r\n";

/// `high` appended to `low`, as tarsconfig's `mergeConfig` does: an empty side adds
/// nothing, two parts are separated by [`SEPARATOR`].
pub fn merge(low: &str, high: &str) -> String {
    match (low.is_empty(), high.is_empty()) {
        (true, _) => high.to_string(),
        (_, true) => low.to_string(),
        _ => format!("{low}{SEPARATOR}{high}"),
    }
}

/// A set as `name.area.group`; `None` for a file outside any set.
type SetDivision = Option<[String; 3]>;

fn set_division(file: &ConfigFileRow) -> DeployerResult<SetDivision> {
    let fields = [&file.set_name, &file.set_area, &file.set_group];
    if fields.iter().all(|f| f.is_empty()) {
        return Ok(None);
    }
    if fields.iter().any(|f| f.is_empty()) {
        // tarsconfig refuses a set division with an empty part; so do we.
        return Err(DeployerError::Conflict(format!(
            "configuration file {} has an incomplete set ({}.{}.{}); tarsconfig cannot serve it",
            describe(file),
            file.set_name,
            file.set_area,
            file.set_group
        )));
    }
    Ok(Some(fields.map(String::clone)))
}

fn place(
    server_name: &str,
    filename: &str,
    host: &str,
    level: i64,
    set: &SetDivision,
) -> ConfigPlace {
    let [set_name, set_area, set_group] = set.clone().unwrap_or_default();
    ConfigPlace {
        server_name: server_name.to_string(),
        set_name,
        set_area,
        set_group,
        host: host.to_string(),
        level,
        filename: filename.to_string(),
    }
}

/// `own`, followed by the set's variant of the application file `server_name`/`filename`
/// when the server is in a set (tarsconfig's application-file overlay).
async fn with_set_variant(
    store: &Store,
    own: &str,
    server_name: &str,
    filename: &str,
    set: &SetDivision,
) -> DeployerResult<String> {
    let variant = match set {
        Some(_) => store
            .config_file_at(&place(server_name, filename, "", LEVEL_APP, set))
            .await?
            .and_then(|(_, config)| config)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(merge(own, &variant))
}

/// A referenced file's content, overlaid by its set variant when the server is in a set.
async fn referenced(store: &Store, id: i64, set: &SetDivision) -> DeployerResult<String> {
    let Some(file) = store.config_file_by_id(id).await? else {
        return Ok(String::new());
    };
    with_set_variant(
        store,
        file.config.as_deref().unwrap_or_default(),
        file.server_name.as_deref().unwrap_or_default(),
        file.filename.as_deref().unwrap_or_default(),
        set,
    )
    .await
}

/// One layer: the file's references in order, then the file itself.
async fn layer(store: &Store, at: &ConfigPlace, set: &SetDivision) -> DeployerResult<String> {
    let Some((id, own)) = store.config_file_at(at).await? else {
        return Ok(String::new());
    };
    let mut text = String::new();
    for reference in store.reference_ids(id).await? {
        let part = referenced(store, reference, set).await?;
        if !part.is_empty() {
            text = merge(&text, &part);
        }
    }
    Ok(merge(&text, own.as_deref().unwrap_or_default()))
}

/// The merged text for the server (and node) of file `id`.
pub async fn merged_node_config(store: &Store, id: i64) -> DeployerResult<String> {
    let file = load(store, id).await?;
    super::access::config_file(tars_common::authz::Role::Developer, &file)?;
    let set = set_division(&file)?;
    let server_name = file.server_name.as_deref().unwrap_or_default();
    let filename = file.filename.as_deref().unwrap_or_default();
    match file.level {
        Some(LEVEL_APP) => {
            // What a server of the application (in that set) loads as an application file.
            let app = store
                .config_file_at(&place(server_name, filename, "", LEVEL_APP, &None))
                .await?
                .and_then(|(_, config)| config)
                .unwrap_or_default();
            with_set_variant(store, &app, server_name, filename, &set).await
        }
        Some(LEVEL_SERVER) | Some(LEVEL_NODE) => {
            let server = layer(
                store,
                &place(server_name, filename, "", LEVEL_SERVER, &set),
                &set,
            )
            .await?;
            let node = layer(
                store,
                &place(server_name, filename, &file.host, LEVEL_NODE, &set),
                &set,
            )
            .await?;
            Ok(merge(&server, &node))
        }
        other => Err(DeployerError::Conflict(format!(
            "configuration file {} has level {other:?}, which tarsconfig does not serve",
            describe(&file)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_skips_empty_sides_and_separates_with_a_blank_crlf_line() {
        assert_eq!(merge("", ""), "");
        assert_eq!(merge("a", ""), "a");
        assert_eq!(merge("", "b"), "b");
        assert_eq!(merge("a", "b"), "a\r\n\r\nb");
        assert_eq!(merge(&merge("a", "b"), "c"), "a\r\n\r\nb\r\n\r\nc");
    }
}
