//! The call log: one JSON object per line per call received, plus one `download` line
//! per package fetched for a patch, flushed as written so a test can read it while the
//! simulator runs.

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

/// The package download behind one patchPro, logged when it ends (before the patch's
/// final state is visible to getPatchPercent, so a caller that saw the end finds it).
#[derive(Debug, Serialize)]
pub struct DownloadRecord<'a> {
    /// Milliseconds since the Unix epoch.
    pub ts_ms: u128,
    /// The node (IP) that downloaded.
    pub node: &'a str,
    /// Always `download`.
    pub method: &'a str,
    pub application: &'a str,
    pub server_name: &'a str,
    /// The remote path asked of the patch server.
    pub file: &'a str,
    /// Bytes received.
    pub bytes: u64,
    /// Lowercase hex MD5 of the bytes received.
    pub md5: &'a str,
    /// The request's md5.
    pub expected_md5: &'a str,
    /// Whether the whole file arrived and its MD5 matched.
    pub ok: bool,
    /// The request's version.
    pub version: &'a str,
    /// The patch's result text (`patch succ`, or why it failed).
    pub result: &'a str,
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

    /// Appends one record (a [`CallRecord`] or a [`DownloadRecord`]).
    pub fn record(&self, record: &impl Serialize) {
        let mut line = serde_json::to_vec(record).unwrap_or_default();
        line.push(b'\n');
        let mut file = self.file.lock().expect("log poisoned");
        if let Err(err) = file.write_all(&line) {
            tracing::warn!(error = %err, "cannot write the call log");
        }
    }
}
