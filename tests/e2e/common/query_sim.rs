//! The query-server double (`query-sim`) over the monitoring fixture
//! (`tests/e2e/data/monitor.json`), and what it was asked.

use serde_json::Value;

use super::{binary, Process};

/// A running double: its two proxy strings (for `TARS_STAT_QUERY_OBJ` and
/// `TARS_PROPERTY_QUERY_OBJ`), its query log, its process.
pub struct QuerySim {
    pub stat: String,
    pub property: String,
    log: std::path::PathBuf,
    _process: Process,
    _dir: tempfile::TempDir,
}

impl QuerySim {
    /// Starts the double with extra arguments (`--fail MSG`, `--delay-ms N`).
    pub fn start(extra: &[&str]) -> QuerySim {
        let dir = tempfile::tempdir().unwrap();
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/data/monitor.json");
        let log = dir.path().join("queries.jsonl");
        let log_arg = log.display().to_string();
        let mut args = vec!["--fixture", fixture, "--log", log_arg.as_str()];
        args.extend(extra);
        let (process, line) = Process::spawn(
            "query-sim",
            &binary("query-sim"),
            &args,
            &[],
            &dir.path().join("query-sim.log"),
        );
        let (stat, property) = line.split_once(';').expect("two proxies");
        QuerySim {
            stat: stat.to_string(),
            property: property.to_string(),
            log,
            _process: process,
            _dir: dir,
        }
    }

    /// Every query received so far.
    pub fn queries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl QuerySim {
    /// The environment pointing a platform at this double.
    pub fn env(&self) -> [(&'static str, &str); 2] {
        [
            ("TARS_STAT_QUERY_OBJ", self.stat.as_str()),
            ("TARS_PROPERTY_QUERY_OBJ", self.property.as_str()),
        ]
    }
}
