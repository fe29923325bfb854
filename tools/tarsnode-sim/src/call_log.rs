//! The call log: one JSON object per line per call received, flushed as written so a
//! test can read it while the simulator runs.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

/// One logged call.
#[derive(Debug, Serialize)]
pub struct CallRecord<'a> {
    /// Milliseconds since the Unix epoch.
    pub ts_ms: u128,
    /// The node (IP) that received the call.
    pub node: &'a str,
    /// The Node method.
    pub method: &'a str,
    pub application: &'a str,
    pub server_name: &'a str,
    /// notifyServer's command, patchPro's version, …
    #[serde(skip_serializing_if = "str::is_empty")]
    pub command: &'a str,
    /// What the simulator answered (return value).
    pub ret: i32,
}

/// An append-only log file.
pub struct CallLog {
    file: Mutex<File>,
}

impl CallLog {
    /// Opens (creating) `path` for appending.
    pub fn open(path: &Path) -> anyhow::Result<CallLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(CallLog {
            file: Mutex::new(file),
        })
    }

    /// Appends one record.
    pub fn record(&self, record: &CallRecord<'_>) {
        let mut line = serde_json::to_vec(record).unwrap_or_default();
        line.push(b'\n');
        let mut file = self.file.lock().expect("log poisoned");
        if let Err(err) = file.write_all(&line) {
            tracing::warn!(error = %err, "cannot write the call log");
        }
    }
}
