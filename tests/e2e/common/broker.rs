//! A real Kafka-protocol broker for the tests: Tansu on its own loopback port, keeping
//! its data in a SQLite file so that a restart loses nothing, as with a real Kafka.
//! `scripts/test.sh` (and `.ci/run`) install it when missing.

use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{free_port, Process};

fn tansu() -> PathBuf {
    let candidates = [
        std::env::var("TANSU_BIN").ok().map(PathBuf::from),
        std::env::var("HOME")
            .ok()
            .map(|h| PathBuf::from(h).join(".cargo/bin/tansu")),
        Some(PathBuf::from("/usr/local/bin/tansu")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .expect("the Kafka tests need Tansu: cargo install tansu --version 0.6.0 --features dynostore,libsql,postgres --locked (scripts/test.sh does this)")
}

/// A broker process on a fixed port, restartable.
pub struct Broker {
    pub port: u16,
    process: Option<Process>,
    dir: tempfile::TempDir,
    starts: u32,
}

impl Broker {
    /// A broker address with nothing listening yet.
    pub fn reserved() -> Broker {
        Broker {
            port: free_port(),
            process: None,
            dir: tempfile::tempdir().unwrap(),
            starts: 0,
        }
    }

    /// Starts a broker and waits until it accepts connections.
    pub fn started() -> Broker {
        let mut broker = Broker::reserved();
        broker.start();
        broker
    }

    /// `host:port` for `TARS_KAFKA_BROKERS`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts (or restarts) the broker on its port.
    pub fn start(&mut self) {
        assert!(self.process.is_none(), "broker already running");
        let url = format!("tcp://127.0.0.1:{}", self.port);
        self.starts += 1;
        let log = self.dir.path().join(format!("tansu-{}.log", self.starts));
        let process = Process::spawn_plain(
            "tansu",
            &tansu(),
            &[
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "sqlite://tansu.db",
            ],
            self.dir.path(),
            &log,
        );
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "tansu did not listen on {}: {}",
                self.port,
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.process = Some(process);
    }

    /// Kills the broker (its data file stays for the next start).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }
}
