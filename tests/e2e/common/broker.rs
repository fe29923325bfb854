//! A real Kafka-protocol broker for the tests: Tansu on its own loopback port, keeping
//! its data in a SQLite file so that a restart loses nothing, as with a real Kafka.
//! `scripts/test.sh` (and `.ci/run`) install it when missing.
//!
//! Tansu cannot be given port 0: it advertises the address it was told to clients (who
//! then connect there), prints that address rather than the one bound, and a restart
//! must come back on the same port. So the port is chosen by the test and held with a
//! [`ReservedPort`] for the broker's life (nobody else can be handed it, and it refuses
//! connections while the broker is down); Tansu binds it with `SO_REUSEADDR`. Should
//! Tansu still fail to bind, a broker not yet announced to anyone is retried on another
//! port.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::ports::ReservedPort;
use super::Process;

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

/// What Tansu prints once its listener is bound.
const READY: &str = "ready in ";

/// Bind attempts of a broker whose port nobody was told yet.
const START_ATTEMPTS: usize = 5;

/// A broker process on a fixed port, restartable.
pub struct Broker {
    pub port: u16,
    /// Killed when dropped, before the port is released.
    process: Option<Process>,
    /// Holds the port while the broker is down and between restarts.
    _reservation: ReservedPort,
    dir: tempfile::TempDir,
    starts: u32,
}

impl Broker {
    /// A broker address with nothing listening yet (connections are refused).
    pub fn reserved() -> Broker {
        let reservation = ReservedPort::localhost();
        Broker {
            port: reservation.port,
            process: None,
            _reservation: reservation,
            dir: tempfile::tempdir().unwrap(),
            starts: 0,
        }
    }

    /// Starts a broker and waits until it listens; on a bind failure it tries another
    /// port (no one knows this one yet).
    pub fn started() -> Broker {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let mut broker = Broker::reserved();
            match broker.try_start() {
                Ok(()) => return broker,
                Err(log) => failures.push(format!("port {}:\n{log}", broker.port)),
            }
        }
        panic!(
            "tansu could not listen in {START_ATTEMPTS} attempts:\n{}",
            failures.join("\n")
        );
    }

    /// `host:port` for `TARS_KAFKA_BROKERS`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts (or restarts) the broker on its port and waits until it listens.
    pub fn start(&mut self) {
        if let Err(log) = self.try_start() {
            panic!("tansu could not listen on {}:\n{log}", self.port);
        }
    }

    /// Starts the broker; waits until it printed that it listens (`Ok`) or exited (its
    /// log as the error: a bind failure panics a task of Tansu's and it exits).
    fn try_start(&mut self) -> Result<(), String> {
        assert!(self.process.is_none(), "broker already running");
        let url = format!("tcp://127.0.0.1:{}", self.port);
        self.starts += 1;
        let log = self.dir.path().join(format!("tansu-{}.log", self.starts));
        let mut process = Process::spawn_plain(
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
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains(READY) {
                self.process = Some(process);
                return Ok(());
            }
            if process.has_exited() {
                return Err(std::fs::read_to_string(&log).unwrap_or_default());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "tansu did not listen on {} within 30 s: {text}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the broker (its data file stays for the next start).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }
}
