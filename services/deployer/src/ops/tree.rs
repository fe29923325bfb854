//! The business tree and its node ids.
//!
//! Ids concatenate typed segments with dots: `1<application>`, `2<set name>`,
//! `3<set area>`, `4<set group>`, `5<server>`, e.g. `1App.5Server` or
//! `1App.2mtt.3sz.41.5Server`. The tree holds one leaf per (application, server, set)
//! placement; a server deployed on several nodes is one leaf.

use std::collections::BTreeMap;

use tars_proto::deployer::TreeNode;
use tars_store::server_conf::{ServerFilter, TreeEntry};
use tars_store::Store;

use crate::error::{DeployerError, DeployerResult};

/// What a tree node id selects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeSelection {
    /// The application (`1App`), if the id selects one.
    pub application: Option<String>,
    /// The server (`5Server`), if selected.
    pub server_name: Option<String>,
    /// The set's name (`2Name`), if selected.
    pub set_name: Option<String>,
    /// The set's area (`3Area`), if selected.
    pub set_area: Option<String>,
    /// The set's group (`4Group`), if selected.
    pub set_group: Option<String>,
}

impl TreeSelection {
    /// Parses a tree node id.
    ///
    /// # Errors
    /// `InvalidArgument` naming `tree_node_id` when a segment is empty or has no 1-5 tag.
    pub fn parse(tree_node_id: &str) -> DeployerResult<TreeSelection> {
        let malformed = |why: &str| {
            DeployerError::bad_param(
                "tree_node_id",
                format!("`{tree_node_id}` is malformed ({why}); expected ids like `1App` or `1App.5Server` as /api/tree shows them"),
            )
        };
        if tree_node_id.trim().is_empty() {
            return Err(DeployerError::bad_param("tree_node_id", "is required"));
        }
        let mut selection = TreeSelection::default();
        for segment in tree_node_id.split('.') {
            let mut chars = segment.chars();
            let tag = chars.next().ok_or_else(|| malformed("empty segment"))?;
            let value = chars.as_str();
            if value.is_empty() {
                return Err(malformed("segment without a name"));
            }
            let slot = match tag {
                '1' => &mut selection.application,
                '2' => &mut selection.set_name,
                '3' => &mut selection.set_area,
                '4' => &mut selection.set_group,
                '5' => &mut selection.server_name,
                _ => return Err(malformed("segments start with 1 to 5")),
            };
            if slot.replace(value.to_string()).is_some() {
                return Err(malformed("a segment kind appears twice"));
            }
        }
        if selection.application.is_none() {
            return Err(malformed("no `1<application>` segment"));
        }
        Ok(selection)
    }

    /// The servers this selection covers.
    ///
    /// A set segment selects set-enabled servers of that set; an application and server
    /// without set segments select the server's non-set instances (its set instances sit
    /// under their set nodes); an application alone selects everything in it.
    pub fn server_filter(&self) -> ServerFilter {
        let in_set = self.set_name.is_some() || self.set_area.is_some() || self.set_group.is_some();
        let enable_set = if in_set {
            Some(true)
        } else if self.server_name.is_some() {
            Some(false)
        } else {
            None
        };
        ServerFilter {
            application: self.application.clone(),
            server_name: self.server_name.clone(),
            enable_set,
            set_name: self.set_name.clone(),
            set_area: self.set_area.clone(),
            set_group: self.set_group.clone(),
            ..ServerFilter::default()
        }
    }
}

/// The id of the leaf for one placement.
pub fn leaf_id(entry: &TreeEntry) -> String {
    let app = entry.application.as_deref().unwrap_or_default();
    let server = entry.server_name.as_deref().unwrap_or_default();
    if entry.enable_set == "Y" {
        format!(
            "1{app}.2{}.3{}.4{}.5{server}",
            entry.set_name.as_deref().unwrap_or_default(),
            entry.set_area.as_deref().unwrap_or_default(),
            entry.set_group.as_deref().unwrap_or_default(),
        )
    } else {
        format!("1{app}.5{server}")
    }
}

/// Builds the business tree of every deployed server.
pub async fn tree(store: &Store) -> DeployerResult<Vec<TreeNode>> {
    let mut entries = store.tree_entries().await?;
    // Only what the caller may read: whole applications, or their single servers.
    if let Some(within) = super::access::readable() {
        entries.retain(|e| {
            within.covers(
                e.application.as_deref().unwrap_or_default(),
                e.server_name.as_deref().unwrap_or_default(),
            )
        });
    }
    Ok(build_tree(entries))
}

/// Builds the forest from placements: each prefix of a leaf id is a parent node, created
/// the first time it is seen; siblings are sorted by name (case-insensitive) so the
/// answer is stable.
pub fn build_tree(entries: Vec<TreeEntry>) -> Vec<TreeNode> {
    // id → (node without children, child ids)
    let mut nodes: BTreeMap<String, (TreeNode, Vec<String>)> = BTreeMap::new();
    let mut roots: Vec<String> = Vec::new();
    for entry in &entries {
        if entry.application.as_deref().unwrap_or_default().is_empty() {
            continue;
        }
        let leaf = leaf_id(entry);
        let segments: Vec<&str> = leaf.split('.').collect();
        let mut id = String::new();
        let mut parent: Option<String> = None;
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                id.push('.');
            }
            id.push_str(segment);
            if !nodes.contains_key(&id) {
                let node = TreeNode {
                    id: id.clone(),
                    // The tag digit is ASCII, so slicing after one byte is safe.
                    name: segment.get(1..).unwrap_or_default().to_string(),
                    pid: parent.clone().unwrap_or_else(|| "root".to_string()),
                    open: false,
                    is_parent: i + 1 < segments.len(),
                    children: Vec::new(),
                };
                nodes.insert(id.clone(), (node, Vec::new()));
                match &parent {
                    Some(p) => nodes
                        .get_mut(p)
                        .expect("parents are created first")
                        .1
                        .push(id.clone()),
                    None => roots.push(id.clone()),
                }
            }
            parent = Some(id.clone());
        }
    }
    let mut forest: Vec<TreeNode> = roots.iter().map(|id| assemble(id, &mut nodes)).collect();
    sort_by_name(&mut forest);
    forest
}

fn assemble(id: &str, nodes: &mut BTreeMap<String, (TreeNode, Vec<String>)>) -> TreeNode {
    let (mut node, child_ids) = nodes.remove(id).expect("every referenced node exists");
    node.children = child_ids.iter().map(|c| assemble(c, nodes)).collect();
    sort_by_name(&mut node.children);
    node
}

fn sort_by_name(nodes: &mut [TreeNode]) {
    nodes.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(app: &str, server: &str, set: Option<(&str, &str, &str)>) -> TreeEntry {
        TreeEntry {
            application: Some(app.into()),
            server_name: Some(server.into()),
            enable_set: if set.is_some() { "Y" } else { "N" }.into(),
            set_name: set.map(|s| s.0.into()),
            set_area: set.map(|s| s.1.into()),
            set_group: set.map(|s| s.2.into()),
        }
    }

    #[test]
    fn parses_plain_and_set_ids() {
        let s = TreeSelection::parse("1App.5Server").unwrap();
        assert_eq!(s.application.as_deref(), Some("App"));
        assert_eq!(s.server_name.as_deref(), Some("Server"));
        assert_eq!(s.server_filter().enable_set, Some(false));
        let s = TreeSelection::parse("1App.2mtt.3sz.41.5Server").unwrap();
        assert_eq!(s.set_group.as_deref(), Some("1"));
        assert_eq!(s.server_filter().enable_set, Some(true));
        assert_eq!(
            TreeSelection::parse("1App")
                .unwrap()
                .server_filter()
                .enable_set,
            None
        );
    }

    #[test]
    fn refuses_malformed_ids() {
        for bad in ["", "App", "1App.", "1App.9x", "5Server", "1A.1B"] {
            assert!(
                TreeSelection::parse(bad).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn builds_nested_set_nodes_under_one_application() {
        let forest = build_tree(vec![
            entry("App", "Zeta", None),
            entry("App", "alpha", None),
            entry("App", "Beta", Some(("mtt", "sz", "1"))),
            entry("App", "Gamma", Some(("mtt", "sz", "1"))),
            entry("Other", "X", None),
        ]);
        assert_eq!(forest.len(), 2);
        let app = &forest[0];
        assert_eq!(
            (app.id.as_str(), app.name.as_str(), app.pid.as_str()),
            ("1App", "App", "root")
        );
        assert!(app.is_parent);
        let names: Vec<&str> = app.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["alpha", "mtt", "Zeta"]);
        let set = &app.children[1];
        assert_eq!(set.id, "1App.2mtt");
        let area = &set.children[0];
        assert_eq!(area.id, "1App.2mtt.3sz");
        let group = &area.children[0];
        assert_eq!(group.id, "1App.2mtt.3sz.41");
        let leaves: Vec<&str> = group.children.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            leaves,
            vec!["1App.2mtt.3sz.41.5Beta", "1App.2mtt.3sz.41.5Gamma"]
        );
        assert!(!group.children[0].is_parent);
        assert_eq!(group.children[0].pid, "1App.2mtt.3sz.41");
    }
}
