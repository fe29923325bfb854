//! TARS configuration files (the `TC_Config` format every TARS server reads, e.g.
//! tarsnode's `conf/tars.tarsnode.config.conf`): nested `<section>` … `</section>` blocks
//! of `key=value` lines (a bare `key` has an empty value), `#` comments. Values are read
//! by path, as TARS names them: `/tars/application/server/NodeAdapter<endpoint>`.

/// One `<section>`: its values in file order and its subsections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// The section's name (empty for the file's root).
    pub name: String,
    /// `key=value` lines, in file order.
    pub values: Vec<(String, String)>,
    /// Nested sections, in file order.
    pub children: Vec<Section>,
}

/// Why a configuration file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ConfError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub reason: String,
}

impl Section {
    /// The subsection called `name`, if any (the first one).
    pub fn child(&self, name: &str) -> Option<&Section> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The value of `key` in this section (the last one, as TARS reads duplicates).
    pub fn value(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The section at `path` (`/tars/application/server`) below this one.
    pub fn section(&self, path: &str) -> Option<&Section> {
        path.split('/')
            .filter(|p| !p.is_empty())
            .try_fold(self, |section, name| section.child(name))
    }

    /// The value at a TARS path `/a/b/c<key>`.
    pub fn get(&self, path: &str) -> Option<&str> {
        let (sections, key) = path.strip_suffix('>')?.split_once('<')?;
        self.section(sections)?.value(key)
    }
}

/// Parses a configuration file into its root section.
pub fn parse(text: &str) -> Result<Section, ConfError> {
    let mut stack = vec![Section::default()];
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let error = |reason: String| ConfError {
            line: index + 1,
            reason,
        };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix("</").and_then(|l| l.strip_suffix('>')) {
            let name = name.trim();
            if stack.len() == 1 || stack.last().map(|s| s.name.as_str()) != Some(name) {
                return Err(error(format!("`</{name}>` closes no open section")));
            }
            let done = stack.pop().expect("an open section");
            stack.last_mut().expect("the root").children.push(done);
        } else if let Some(name) = line.strip_prefix('<').and_then(|l| l.strip_suffix('>')) {
            let name = name.trim();
            if name.is_empty() || name.contains(['<', '>', '/', '=']) {
                return Err(error(format!("`{line}` is not a section name")));
            }
            stack.push(Section {
                name: name.to_string(),
                ..Section::default()
            });
        } else {
            let (key, value) = line.split_once('=').unwrap_or((line, ""));
            stack
                .last_mut()
                .expect("the root")
                .values
                .push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    if stack.len() > 1 {
        let open: Vec<String> = stack[1..].iter().map(|s| format!("<{}>", s.name)).collect();
        return Err(ConfError {
            line: text.lines().count(),
            reason: format!("{} is never closed", open.join(" ")),
        });
    }
    Ok(stack.pop().expect("the root"))
}

/// Where tarsnode's `Node` servant listens in its configuration file.
pub const NODE_ENDPOINT_PATH: &str = "/tars/application/server/NodeAdapter<endpoint>";

#[cfg(test)]
mod tests {
    use super::*;

    const NODE_CONF: &str = "<tars>\n  <application>\n    enableset=n\n    <client>\n      \
        locator=tars.tarsregistry.QueryObj@tcp -h 10.0.0.1 -p 17890\n    </client>\n    \
        <server>\n      app=tars\n      # the node servant\n      <NodeAdapter>\n        \
        endpoint=tcp -h 10.0.0.5 -p 19385 -t 60000\n        allow\n        \
        servant=tars.tarsnode.NodeObj\n      </NodeAdapter>\n    </server>\n  \
        </application>\n</tars>\n";

    #[test]
    fn reads_values_by_tars_path() {
        let root = parse(NODE_CONF).unwrap();
        assert_eq!(
            root.get(NODE_ENDPOINT_PATH),
            Some("tcp -h 10.0.0.5 -p 19385 -t 60000")
        );
        assert_eq!(
            root.get("/tars/application/client<locator>"),
            Some("tars.tarsregistry.QueryObj@tcp -h 10.0.0.1 -p 17890")
        );
        assert_eq!(
            root.get("/tars/application/server/NodeAdapter<allow>"),
            Some("")
        );
        assert_eq!(root.get("/tars/application/server<nope>"), None);
        assert_eq!(root.get("/tars/nope<app>"), None);
    }

    #[test]
    fn refuses_unbalanced_sections() {
        assert_eq!(parse("<a>\n</b>\n").unwrap_err().line, 2);
        assert!(parse("<a>\nx=1\n")
            .unwrap_err()
            .reason
            .contains("never closed"));
        assert!(parse("</a>\n").is_err());
        assert!(parse("<a/b>\n</a/b>\n").is_err());
    }
}
