//! The end-to-end harness: starts the real binaries (standalone `tars-platform`, or
//! `tars-gateway` + `tars-deployer` apart) against SQLite or a throw-away MariaDB
//! database, and talks HTTP to them. Children are killed by PID when dropped.

pub mod broker;
pub mod bulk;
pub mod certs;
pub mod chaos;
pub mod config_api;
pub mod db;
pub mod expansion;
pub mod http;
pub mod otlp;
pub mod packages;
pub mod ports;
pub mod query_sim;
pub mod raw;
pub mod sim;
pub mod sshd;
pub mod tasks;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub use self::http::Api;
use db::TestDatabase;

/// Which database a platform under test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MariaDb,
}

/// Path of a workspace binary, built by `cargo build --workspace --bins`.
pub fn binary(name: &str) -> PathBuf {
    let platform = Path::new(env!("CARGO_BIN_EXE_tars-platform"));
    let path = platform.with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` before the tests (scripts/test.sh does)",
        path.display()
    );
    path
}

/// How long a process may take to print a line the harness waits for.
const ANNOUNCE_LIMIT: Duration = Duration::from_secs(60);

/// A child process killed (by PID) when dropped.
pub struct Process {
    child: Child,
    pub name: String,
    /// What it printed on stdout (the programs announce their addresses there).
    stdout: Arc<Printed>,
    log: PathBuf,
}

/// Lines a process printed, and whether its stdout has ended.
#[derive(Default)]
struct Printed {
    state: Mutex<(Vec<String>, bool)>,
    changed: Condvar,
}

impl Printed {
    /// Waits until a line containing `needle` was printed, answers the text after it;
    /// `None` when stdout ended (the process exited) or `limit` passed without it.
    fn wait_for(&self, needle: &str, limit: Duration) -> Option<String> {
        let deadline = Instant::now() + limit;
        let mut state = self.state.lock().unwrap();
        loop {
            if let Some(found) = state.0.iter().find_map(|l| l.split(needle).nth(1)) {
                return Some(found.trim().to_string());
            }
            let now = Instant::now();
            if state.1 || now >= deadline {
                return None;
            }
            state = self.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
    }
}

impl Process {
    /// Starts `program` with `env`, logging to `log`, and waits for the line announcing
    /// its address (`… listening on <addr>`); returns the process and that address (the
    /// one it bound, so `…:0` in its environment is fine and race-free).
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[&str],
        env: &[(String, String)],
        log: &Path,
    ) -> (Process, String) {
        let log_file = std::fs::File::create(log).expect("create log file");
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn,tars=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file.try_clone().expect("clone log")))
            .stdin(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let mut process = Process {
            child,
            name: name.to_string(),
            stdout: Arc::default(),
            log: log.to_path_buf(),
        };
        let stdout = process.child.stdout.take().expect("piped stdout");
        let printed = process.stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                printed.state.lock().unwrap().0.push(line);
                printed.changed.notify_all();
            }
            printed.state.lock().unwrap().1 = true;
            printed.changed.notify_all();
        });
        let addr = process.announced("listening on ");
        let addr = addr.trim_start_matches("http://").to_string();
        (process, addr)
    }

    /// Waits for the line of stdout containing `needle` and answers the text after it
    /// (e.g. `serving packages at ` → the Patch servant's proxy string). Panics, showing
    /// the log, if the process exits or takes a minute without printing it (the process
    /// is killed as the panic drops it).
    pub fn announced(&self, needle: &str) -> String {
        match self.stdout.wait_for(needle, ANNOUNCE_LIMIT) {
            Some(found) => found,
            None => {
                let log_text = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!(
                    "{} did not print {needle:?} (it exited or took over {ANNOUNCE_LIMIT:?}); its log:\n{log_text}",
                    self.name
                );
            }
        }
    }

    /// Starts `program` in `cwd` without waiting for an address line (third-party
    /// programs); its stdout and stderr go to `log`.
    pub fn spawn_plain(
        name: &str,
        program: &Path,
        args: &[&str],
        cwd: &Path,
        log: &Path,
    ) -> Process {
        let log_file = std::fs::File::create(log).expect("create log file");
        let child = Command::new(program)
            .current_dir(cwd)
            .args(args)
            .stdout(Stdio::from(log_file.try_clone().expect("clone log")))
            .stderr(Stdio::from(log_file))
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let printed = Printed::default();
        printed.state.lock().unwrap().1 = true;
        Process {
            child,
            name: name.to_string(),
            stdout: Arc::new(printed),
            log: log.to_path_buf(),
        }
    }

    /// Whether the process has exited (it is reaped if so).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process now (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.kill();
        panic!("{} did not exit within 10 s of SIGTERM", self.name);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A platform under test and what it needs: its data directory, database and ticket.
pub struct Platform {
    pub api: Api,
    pub processes: Vec<Process>,
    pub env: Vec<(String, String)>,
    pub backend: Backend,
    pub database: Option<TestDatabase>,
    pub dir: tempfile::TempDir,
}

/// Options for starting a platform.
#[derive(Default)]
pub struct PlatformOptions {
    /// Extra environment for the services.
    pub env: Vec<(String, String)>,
    /// Route the database through this URL instead of the real one (chaos proxy).
    pub database_url_override: Option<String>,
}

impl PlatformOptions {
    /// Options with these extra environment variables.
    pub fn with_env(env: &[(&str, &str)]) -> PlatformOptions {
        PlatformOptions {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..PlatformOptions::default()
        }
    }
}

impl Platform {
    /// Starts a standalone platform on `backend` with a fresh database and a ticket.
    pub async fn start(backend: Backend) -> Platform {
        Platform::start_with(backend, PlatformOptions::default()).await
    }

    /// The environment every process of this platform shares.
    fn base_env(
        backend: Backend,
        dir: &Path,
        database: Option<&TestDatabase>,
        options: &PlatformOptions,
    ) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "TARS_DATA_DIR".to_string(),
                dir.join("data").display().to_string(),
            ),
            ("TARS_TOKEN_REFRESH_SECS".to_string(), "1".to_string()),
            ("TARS_HTTP_ADDR".to_string(), "127.0.0.1:0".to_string()),
        ];
        if backend == Backend::MariaDb {
            let url = options
                .database_url_override
                .clone()
                .unwrap_or_else(|| database.expect("mariadb database").url.clone());
            env.push(("TARS_DATABASE_URL".to_string(), url));
        }
        env.extend(options.env.iter().cloned());
        env
    }

    /// Starts a standalone platform with options.
    pub async fn start_with(backend: Backend, options: PlatformOptions) -> Platform {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = match backend {
            Backend::Sqlite => None,
            Backend::MariaDb => Some(db::create_database().await),
        };
        let env = Platform::base_env(backend, dir.path(), database.as_ref(), &options);
        let ticket = create_token(&env, "e2e", None);
        grant(&env, "e2e", "admin", None);
        let (process, addr) = Process::spawn(
            "tars-platform",
            &binary("tars-platform"),
            &[],
            &env,
            &dir.path().join("platform.log"),
        );
        Platform {
            api: Api::new(&addr, Some(ticket)),
            processes: vec![process],
            env,
            backend,
            database,
            dir,
        }
    }

    /// Starts the deployer, task-runner and monitor and a gateway as separate processes
    /// (the fleet layout). Each backend binds `127.0.0.1:0` and announces the address it
    /// got; the gateway is pointed at those. `env` then names the bound addresses, so a
    /// backend restarted with it (outage tests) comes back where the gateway looks.
    pub async fn start_split(backend: Backend, options: PlatformOptions) -> Platform {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = match backend {
            Backend::Sqlite => None,
            Backend::MariaDb => Some(db::create_database().await),
        };
        let mut env = Platform::base_env(backend, dir.path(), database.as_ref(), &options);
        let ticket = create_token(&env, "e2e", None);
        grant(&env, "e2e", "admin", None);
        let mut processes = Vec::new();
        // The deployer is first: outage tests replace it.
        for (name, log, var_listen, var_url) in [
            (
                "tars-deployer",
                "deployer",
                "TARS_DEPLOYER_GRPC_ADDR",
                "TARS_DEPLOYER_URL",
            ),
            (
                "tars-task-runner",
                "task-runner",
                "TARS_TASK_RUNNER_GRPC_ADDR",
                "TARS_TASK_RUNNER_URL",
            ),
            (
                "tars-monitor",
                "monitor",
                "TARS_MONITOR_GRPC_ADDR",
                "TARS_MONITOR_URL",
            ),
        ] {
            let mut own = env.clone();
            own.push((var_listen.into(), "127.0.0.1:0".into()));
            let (process, addr) = Process::spawn(
                name,
                &binary(name),
                &[],
                &own,
                &dir.path().join(format!("{log}.log")),
            );
            processes.push(process);
            env.push((var_listen.into(), addr.clone()));
            env.push((var_url.into(), format!("http://{addr}")));
        }
        let (gateway, addr) = Process::spawn(
            "tars-gateway",
            &binary("tars-gateway"),
            &[],
            &env,
            &dir.path().join("gateway.log"),
        );
        processes.push(gateway);
        Platform {
            api: Api::new(&addr, Some(ticket)),
            // deployer, task-runner, monitor, gateway
            processes,
            env,
            backend,
            database,
            dir,
        }
    }

    /// Runs `tars-platform token …` against this platform's database.
    pub fn token_command(&self, args: &[&str]) -> std::process::Output {
        token_command(&self.env, args)
    }

    /// Gives `user` `role` on `flag` (none for admin), as an operator would.
    pub fn grant(&self, user: &str, role: &str, flag: Option<&str>) {
        grant(&self.env, user, role, flag)
    }

    /// Runs `tars-platform auth …` against this platform's database.
    pub fn auth_command(&self, args: &[&str]) -> std::process::Output {
        let mut command = Command::new(binary("tars-platform"));
        command
            .arg("auth")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in &self.env {
            command.env(k, v);
        }
        command.output().expect("run tars-platform auth")
    }

    /// Creates another ticket for `user`.
    pub fn create_token(&self, user: &str, expires_days: Option<u32>) -> String {
        create_token(&self.env, user, expires_days)
    }

    /// A direct database connection, to play the parts of other TARS components
    /// (tarsnotify writing notifications) and to check what was stored.
    pub async fn db(&self) -> db::DirectDb {
        match self.backend {
            Backend::Sqlite => {
                db::DirectDb::sqlite(&self.dir.path().join("data").join("tars.db")).await
            }
            Backend::MariaDb => {
                db::DirectDb::mysql(&self.database.as_ref().expect("database").url).await
            }
        }
    }
}

/// Runs `tars-platform token …` with `env`.
pub fn token_command(env: &[(String, String)], args: &[&str]) -> std::process::Output {
    let mut command = Command::new(binary("tars-platform"));
    command
        .arg("token")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run tars-platform token")
}

/// Runs `tars-platform auth grant <user> <role> [<flag>]` with `env`.
pub fn grant(env: &[(String, String)], user: &str, role: &str, flag: Option<&str>) {
    let mut command = Command::new(binary("tars-platform"));
    command
        .args(["auth", "grant", user, role])
        .args(flag)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().expect("run tars-platform auth grant");
    assert!(
        output.status.success(),
        "auth grant {user} {role} {flag:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn create_token(env: &[(String, String)], user: &str, expires_days: Option<u32>) -> String {
    let days = expires_days.map(|d| d.to_string());
    let mut args = vec!["create", "--user", user];
    if let Some(d) = days.as_deref() {
        args.extend(["--expires-days", d]);
    }
    let output = token_command(env, &args);
    assert!(
        output.status.success(),
        "token create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf8 ticket")
        .trim()
        .to_string()
}

/// The first line of the log at `path` that contains every one of `needles`.
pub fn log_line(path: &Path, needles: &[&str]) -> Option<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find(|line| needles.iter().all(|n| line.contains(n)))
        .map(str::to_string)
}

/// Waits until the log at `path` has a line containing every one of `needles` (a
/// service's record that something happened) and answers it; panics after `limit`,
/// showing the log.
pub async fn wait_for_log_line(path: &Path, needles: &[&str], limit: Duration) -> String {
    let started = Instant::now();
    loop {
        if let Some(line) = log_line(path, needles) {
            return line;
        }
        assert!(
            started.elapsed() < limit,
            "no line with {needles:?} in {} within {limit:?}:\n{}",
            path.display(),
            std::fs::read_to_string(path).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP port free at the time of the call, released before it is used: another
/// process may take it in between. Only `recorded.rs` (the refactor's guard, which must
/// not change) still uses it; bind `127.0.0.1:0` and read the address back instead
/// ([`Process::spawn`], [`sim::Simulator::on_free_port`]), or hold a
/// [`ports::ReservedPort`].
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Generates one `#[tokio::test]` per backend for each listed `async fn(Backend)`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod mariadb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::MariaDb).await
                }
            )*
        }
    };
}
