//! A real OpenSSH server for the resource tests: Debian's `sshd`, started on loopback
//! addresses and one unprivileged port with a generated host key and an authorized user
//! key, so that `install_tars_node` logs in, uploads over SFTP and runs its steps exactly
//! as on a machine of a real installation. Each "machine" is a loopback IP the server
//! listens on. Killed (by PID) when dropped. [`Machines`] holds the package and the
//! machines' install directories, and stops what was installed when dropped.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::ports::ReservedPort;
use super::{binary, Process};

/// How long sshd may take to start listening.
const START_LIMIT: Duration = Duration::from_secs(20);

/// Generates an ed25519 key pair at `path` (`path.pub` beside it); answers the public
/// key line.
pub fn keygen(path: &Path) -> String {
    let output = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen (openssh-client; scripts/test.sh installs it)");
    assert!(
        output.status.success(),
        "ssh-keygen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(path.with_extension("pub"))
        .expect("the public key")
        .trim()
        .to_string()
}

/// A running sshd serving `ips` on one port.
pub struct Sshd {
    _process: Process,
    pub port: u16,
    /// The server's public host key line (`ssh-ed25519 AAAA… e2e`).
    pub host_key: String,
    /// A private key the server accepts for the current user.
    pub user_key: PathBuf,
    /// A private key it does not accept.
    pub stranger_key: PathBuf,
    pub dir: tempfile::TempDir,
    _port: ReservedPort,
}

impl Sshd {
    /// Starts sshd listening on each of `ips` (loopback addresses).
    pub fn start(ips: &[String]) -> Sshd {
        let sshd = Path::new("/usr/sbin/sshd");
        assert!(
            sshd.exists(),
            "/usr/sbin/sshd is missing: install openssh-server (scripts/test.sh does)"
        );
        // sshd refuses to start without its privilege-separation directory.
        std::fs::create_dir_all("/run/sshd").expect("create /run/sshd (tests run as root)");
        let dir = tempfile::tempdir().expect("temp dir");
        let host_key_path = dir.path().join("host_ed25519");
        let host_key = keygen(&host_key_path);
        let user_key = dir.path().join("user_ed25519");
        let authorized = keygen(&user_key);
        let stranger_key = dir.path().join("stranger_ed25519");
        keygen(&stranger_key);
        let authorized_keys = dir.path().join("authorized_keys");
        std::fs::write(&authorized_keys, format!("{authorized}\n")).expect("authorized_keys");

        // Held on the first address: sshd binds it with SO_REUSEADDR, nothing else can.
        let first: Ipv4Addr = ips[0].parse().expect("an IPv4 loopback address");
        let reserved = ReservedPort::on(first);
        let port = reserved.port;
        let mut config = format!(
            "Port {port}\nHostKey {}\nAuthorizedKeysFile {}\nPidFile none\nUsePAM no\n\
             StrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n\
             MaxStartups 100:30:200\n",
            host_key_path.display(),
            authorized_keys.display()
        );
        for ip in ips {
            config.push_str(&format!("ListenAddress {ip}:{port}\n"));
        }
        let config_path = dir.path().join("sshd_config");
        std::fs::write(&config_path, config).expect("sshd_config");
        let config_arg = config_path.display().to_string();
        let process = Process::spawn_plain(
            "sshd",
            sshd,
            &["-D", "-e", "-f", &config_arg],
            dir.path(),
            &dir.path().join("sshd.log"),
        );
        let started = Sshd {
            _process: process,
            port,
            host_key,
            user_key,
            stranger_key,
            dir,
            _port: reserved,
        };
        for ip in ips {
            started.wait_listening(ip);
        }
        started
    }

    /// Waits until sshd accepts connections on `ip` (it binds its addresses one by one).
    fn wait_listening(&self, ip: &str) {
        let addr: SocketAddr = format!("{ip}:{}", self.port).parse().expect("address");
        let deadline = Instant::now() + START_LIMIT;
        while std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not listen on {addr} within {START_LIMIT:?}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// sshd's log (what it said about each login).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Writes a known_hosts file naming this server's key for each of `ips`; answers
    /// its path.
    pub fn known_hosts(&self, name: &str, ips: &[String]) -> PathBuf {
        let path = self.dir.path().join(name);
        let lines: String = ips
            .iter()
            .map(|ip| format!("[{ip}]:{} {}\n", self.port, self.host_key))
            .collect();
        std::fs::write(&path, lines).expect("known_hosts");
        path
    }
}

/// Where an installed node listens on its machine's IP (tarsnode's own port).
pub const NODE_PORT: u16 = 19385;

/// The machines of one test: their install directories, and the nodes installed there
/// stopped (with the package's own util/stop.sh) when the test ends, however it ends.
pub struct Machines {
    root: tempfile::TempDir,
    ips: Vec<String>,
    /// The package, tarsnode-sim listening on [`NODE_PORT`].
    pub package: PathBuf,
}

impl Machines {
    /// Builds the package for machines `ips`.
    pub fn new(ips: Vec<String>) -> Machines {
        let root = tempfile::tempdir().expect("temp dir");
        let package = root.path().join("tarsnode.tgz");
        let output = Command::new("bash")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-node-package.sh"))
            .args(["--port", &NODE_PORT.to_string()])
            .arg(binary("tarsnode-sim"))
            .arg(&package)
            .output()
            .expect("run build-node-package.sh");
        assert!(
            output.status.success(),
            "build-node-package.sh failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Machines { root, ips, package }
    }

    /// `TARS_NODE_INSTALL_DIR` for these machines.
    pub fn install_dir(&self) -> String {
        format!("{}/{{ip}}/tars", self.root.path().display())
    }

    /// Where machine `ip`'s node is installed.
    pub fn home(&self, ip: &str) -> PathBuf {
        self.root.path().join(ip).join("tars").join("tarsnode")
    }
}

impl Drop for Machines {
    fn drop(&mut self) {
        for ip in &self.ips {
            let stop = self.home(ip).join("util/stop.sh");
            if stop.exists() {
                let _ = Command::new("sh").arg(&stop).output();
            }
        }
    }
}

/// The resource module's environment, pointing at `sshd` with `key` and `known_hosts`.
pub fn resource_env(
    machines: &Machines,
    sshd: &Sshd,
    key: &Path,
    known_hosts: &Path,
) -> Vec<(String, String)> {
    [
        ("TARS_NODE_PACKAGE", machines.package.display().to_string()),
        ("TARS_NODE_INSTALL_DIR", machines.install_dir()),
        ("TARS_SSH_USER", "root".to_string()),
        ("TARS_SSH_PORT", sshd.port.to_string()),
        ("TARS_SSH_KEY", key.display().to_string()),
        ("TARS_SSH_KNOWN_HOSTS", known_hosts.display().to_string()),
        ("TARS_SSH_CONNECT_TIMEOUT_MS", "5000".to_string()),
        ("TARS_NODE_START_TIMEOUT_MS", "20000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
