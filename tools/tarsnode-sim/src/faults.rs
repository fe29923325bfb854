//! Injected faults: which node (and optionally which method) fails or hangs.

/// One rule: a node IP and an optional method.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    ip: String,
    method: Option<String>,
}

impl Rule {
    fn parse(spec: &str) -> anyhow::Result<Rule> {
        let (ip, method) = match spec.split_once(':') {
            Some((ip, method)) => (ip, Some(method.to_string())),
            None => (spec, None),
        };
        anyhow::ensure!(!ip.is_empty(), "fault rule {spec:?} has no IP");
        Ok(Rule {
            ip: ip.to_string(),
            method,
        })
    }

    fn matches(&self, ip: &str, method: &str) -> bool {
        self.ip == ip && self.method.as_deref().is_none_or(|m| m == method)
    }
}

/// The fault rules of this simulator.
#[derive(Debug, Default)]
pub struct Faults {
    fail: Vec<Rule>,
    hang: Vec<Rule>,
}

impl Faults {
    /// Parses `--fail` and `--hang` values.
    pub fn parse(fail: &[String], hang: &[String]) -> anyhow::Result<Faults> {
        Ok(Faults {
            fail: fail
                .iter()
                .map(|s| Rule::parse(s))
                .collect::<anyhow::Result<_>>()?,
            hang: hang
                .iter()
                .map(|s| Rule::parse(s))
                .collect::<anyhow::Result<_>>()?,
        })
    }

    /// Whether calls of `method` on node `ip` fail.
    pub fn fails(&self, ip: &str, method: &str) -> bool {
        self.fail.iter().any(|r| r.matches(ip, method))
    }

    /// Whether calls of `method` on node `ip` never answer.
    pub fn hangs(&self, ip: &str, method: &str) -> bool {
        self.hang.iter().any(|r| r.matches(ip, method))
    }
}
