//! What the benchmarks share: the standalone platform built with the bench profile,
//! started on a fresh data directory with a ticket, and stopped when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running platform.
pub struct Platform {
    child: Child,
    /// `host:port` of its HTTP API.
    pub addr: String,
    /// A ticket for the API.
    pub ticket: String,
    dir: tempfile::TempDir,
}

impl Platform {
    /// Starts the platform with `env` on top of a fresh data directory and an ephemeral
    /// HTTP port; waits for its address line.
    pub fn start(env: &[(&str, String)]) -> Platform {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut all: Vec<(String, String)> = vec![
            (
                "TARS_DATA_DIR".into(),
                dir.path().join("data").display().to_string(),
            ),
            ("TARS_HTTP_ADDR".into(), "127.0.0.1:0".into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let binary = env!("CARGO_BIN_EXE_tars-platform");
        let token = Command::new(binary)
            .args(["token", "create", "--user", "bench"])
            .envs(all.iter().cloned())
            .output()
            .expect("token create");
        let ticket = String::from_utf8(token.stdout).unwrap().trim().to_string();
        let granted = Command::new(binary)
            .args(["auth", "grant", "bench", "admin"])
            .envs(all.iter().cloned())
            .output()
            .expect("auth grant");
        assert!(granted.status.success(), "auth grant bench admin failed");
        let mut child = Command::new(binary)
            .envs(all.iter().cloned())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start platform");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Keep reading after the address line: the platform prints more, and a closed
        // pipe would fail its writes.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(a) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(a.trim().to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("platform did not start");
        Platform {
            child,
            addr,
            ticket,
            dir,
        }
    }

    /// Where the platform keeps its data (the SQLite file `tars.db`).
    #[allow(dead_code)]
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// The process id.
    // Each bench compiles this module on its own; not all of them read the pid.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
