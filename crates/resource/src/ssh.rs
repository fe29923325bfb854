//! One SSH session with one machine: connect (host key checked, logged in), run a
//! command, upload a file over SFTP, each bounded by a timeout. Failures come back as
//! sentences an operator can act on: which machine, what went wrong, for how long, what
//! to check.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::client::{self, AuthResult, Handle};
use russh::keys::{PrivateKeyWithHashAlg, PublicKey};
use russh::{ChannelMsg, MethodKind};
use russh_sftp::client::SftpSession;
use tokio::io::AsyncWriteExt;

use crate::config::SshConfig;
use crate::known_hosts::{self, Verdict};

/// How much of a command's output is kept (its end).
const OUTPUT_KEPT: usize = 16 * 1024;

/// Lines of output a failure shows.
pub const TAIL_LINES: usize = 8;

/// What the handshake learned about the machine's host key.
#[derive(Default)]
struct Seen {
    key: Option<PublicKey>,
    verdict: Option<Verdict>,
}

/// The client side of the SSH protocol: it only decides on the host key.
struct Client {
    host: String,
    port: u16,
    known_hosts: PathBuf,
    accept_new: bool,
    seen: Arc<Mutex<Seen>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            // Host certificates would need a trusted CA; none is configured.
            self.seen.lock().expect("seen").verdict = Some(Verdict::Unreadable(
                "the machine presented a host certificate; only plain host keys listed in \
                 TARS_SSH_KNOWN_HOSTS are trusted"
                    .into(),
            ));
            return Ok(false);
        };
        let verdict = known_hosts::check_or_learn(
            &self.known_hosts,
            &self.host,
            self.port,
            key,
            self.accept_new,
        )
        .await;
        let trusted = verdict.trusted();
        let mut seen = self.seen.lock().expect("seen");
        seen.key = Some(key.clone());
        seen.verdict = Some(verdict);
        Ok(trusted)
    }
}

/// A logged-in session with one machine.
pub struct Session {
    handle: Handle<Client>,
    ip: IpAddr,
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// Its exit status (absent when it was killed by a signal or the server sent none).
    pub exit: Option<u32>,
    /// The signal that ended it, if one did.
    pub signal: Option<String>,
    /// The end of its standard output and error, interleaved as they came.
    pub output: String,
}

impl CommandOutput {
    /// Whether it exited 0.
    pub fn succeeded(&self) -> bool {
        self.exit == Some(0)
    }

    /// The last [`TAIL_LINES`] lines of its output, `a | b | c`, or a note that it
    /// printed nothing.
    pub fn tail(&self) -> String {
        tail(&self.output)
    }

    /// How it ended: `exit 2`, `killed by signal KILL`.
    pub fn ending(&self) -> String {
        match (&self.exit, &self.signal) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "no exit status".to_string(),
        }
    }
}

/// The last lines of `output`, joined with ` | `.
pub fn tail(output: &str) -> String {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        return "(no output)".to_string();
    }
    lines[lines.len().saturating_sub(TAIL_LINES)..].join(" | ")
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

impl Session {
    /// Connects to `ip` on the configured port, checks its host key and logs in, all
    /// within `TARS_SSH_CONNECT_TIMEOUT_MS`.
    ///
    /// # Errors
    /// A sentence naming the machine and what failed: unreachable (and after how long),
    /// host key unknown or changed, authentication refused.
    pub async fn connect(ip: IpAddr, ssh: &SshConfig) -> Result<Session, String> {
        let addr = SocketAddr::new(ip, ssh.port);
        let started = Instant::now();
        let limit = ssh.connect_timeout;
        let stream = match tokio::time::timeout(limit, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                return Err(format!(
                    "unreachable: cannot connect to {addr} over SSH ({e}, after {} ms); check \
                     that the machine is up, sshd listens on port {} (TARS_SSH_PORT) and no \
                     firewall is in the way",
                    ms(started.elapsed()),
                    ssh.port
                ))
            }
            Err(_) => {
                return Err(format!(
                    "unreachable: no answer from {addr} within {} ms \
                     (TARS_SSH_CONNECT_TIMEOUT_MS); check the address, that the machine is \
                     up and that port {} is open to this host",
                    ms(limit),
                    ssh.port
                ))
            }
        };
        let _ = stream.set_nodelay(true);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let handler = Client {
            host: ip.to_string(),
            port: ssh.port,
            known_hosts: ssh.known_hosts.clone(),
            accept_new: ssh.accept_new,
            seen: seen.clone(),
        };
        let config = Arc::new(client::Config {
            inactivity_timeout: None,
            ..client::Config::default()
        });
        let remaining = limit.saturating_sub(started.elapsed());
        let handshake =
            tokio::time::timeout(remaining, client::connect_stream(config, stream, handler)).await;
        let mut handle = match handshake {
            Ok(Ok(handle)) => handle,
            Ok(Err(e)) => return Err(handshake_failure(addr, ssh, &seen, &e)),
            Err(_) => {
                return Err(format!(
                    "unreachable: {addr} accepted the connection but did not complete the SSH \
                     handshake within {} ms (TARS_SSH_CONNECT_TIMEOUT_MS); is it an SSH server?",
                    ms(limit)
                ))
            }
        };
        let remaining = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(remaining, authenticate(&mut handle, ssh)).await {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => return Err(format!("authentication refused by {addr}: {reason}")),
            Err(_) => {
                return Err(format!(
                    "{addr} did not finish logging in user {} within {} ms \
                     (TARS_SSH_CONNECT_TIMEOUT_MS)",
                    ssh.user,
                    ms(limit)
                ))
            }
        }
        Ok(Session { handle, ip })
    }

    /// Runs `command` (through `/bin/sh -c`, in the C locale) within `limit`.
    ///
    /// # Errors
    /// The session broke, or the command did not end within `limit` (the message then
    /// carries the end of what it printed).
    pub async fn run(&self, command: &str, limit: Duration) -> Result<CommandOutput, String> {
        let wrapped = format!(
            "/usr/bin/env LC_ALL=C /bin/sh -c {}",
            crate::shell::quote(command)
        );
        let output = Arc::new(Mutex::new(String::new()));
        let run = self.run_collecting(wrapped, output.clone());
        match tokio::time::timeout(limit, run).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "did not finish within {} ms (TARS_SSH_COMMAND_TIMEOUT_MS); last output: {}",
                ms(limit),
                tail(&output.lock().expect("output"))
            )),
        }
    }

    async fn run_collecting(
        &self,
        command: String,
        output: Arc<Mutex<String>>,
    ) -> Result<CommandOutput, String> {
        let mut channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| format!("cannot open a session on {}: {e}", self.ip))?;
        channel
            .exec(true, command)
            .await
            .map_err(|e| format!("cannot start a command on {}: {e}", self.ip))?;
        let (mut exit, mut signal) = (None, None);
        while let Some(message) = channel.wait().await {
            match message {
                ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => {
                    let mut out = output.lock().expect("output");
                    out.push_str(&String::from_utf8_lossy(&data));
                    if out.len() > 2 * OUTPUT_KEPT {
                        let mut cut = out.len() - OUTPUT_KEPT;
                        while !out.is_char_boundary(cut) {
                            cut += 1;
                        }
                        out.drain(..cut);
                    }
                }
                ChannelMsg::ExitStatus { exit_status } => exit = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    signal = Some(format!("{signal_name:?}"))
                }
                ChannelMsg::Failure => {
                    return Err(format!("{} refused to run a command", self.ip));
                }
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        let output = std::mem::take(&mut *output.lock().expect("output"));
        Ok(CommandOutput {
            exit,
            signal,
            output,
        })
    }

    /// Uploads the file at `local` to `remote` over SFTP within `limit`, and checks the
    /// remote file's size; answers the bytes sent.
    ///
    /// # Errors
    /// The local file cannot be read, SFTP is refused, the remote file cannot be written,
    /// or it took longer than `limit`.
    pub async fn upload(&self, local: &Path, remote: &str, limit: Duration) -> Result<u64, String> {
        match tokio::time::timeout(limit, self.upload_unbounded(local, remote)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "uploading {} to {}:{remote} did not finish within {} ms \
                 (TARS_SSH_UPLOAD_TIMEOUT_MS)",
                local.display(),
                self.ip,
                ms(limit)
            )),
        }
    }

    async fn upload_unbounded(&self, local: &Path, remote: &str) -> Result<u64, String> {
        let mut file = tokio::fs::File::open(local).await.map_err(|e| {
            format!(
                "package missing: cannot read {}: {e} (TARS_NODE_PACKAGE)",
                local.display()
            )
        })?;
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| format!("cannot open a session on {}: {e}", self.ip))?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|e| format!("{} refused SFTP: {e}", self.ip))?;
        let sftp = SftpSession::new(channel.into_stream()).await.map_err(|e| {
            format!(
                "{} refused SFTP (is its sftp subsystem enabled?): {e}",
                self.ip
            )
        })?;
        let mut remote_file = sftp
            .create(remote)
            .await
            .map_err(|e| format!("cannot create {remote} on {}: {e}", self.ip))?;
        let sent = tokio::io::copy(&mut file, &mut remote_file)
            .await
            .map_err(|e| format!("writing {remote} on {} failed: {e}", self.ip))?;
        remote_file
            .shutdown()
            .await
            .map_err(|e| format!("writing {remote} on {} failed: {e}", self.ip))?;
        let size = sftp
            .metadata(remote)
            .await
            .map_err(|e| format!("cannot check {remote} on {}: {e}", self.ip))?
            .size
            .unwrap_or_default();
        let _ = sftp.close().await;
        if size != sent {
            return Err(format!(
                "{remote} on {} has {size} bytes after sending {sent}; the disk may be full",
                self.ip
            ));
        }
        Ok(sent)
    }

    /// Ends the session politely.
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// Why the handshake failed, preferring what the host-key check found.
fn handshake_failure(
    addr: SocketAddr,
    ssh: &SshConfig,
    seen: &Mutex<Seen>,
    error: &russh::Error,
) -> String {
    let seen = seen.lock().expect("seen");
    let key = seen
        .key
        .as_ref()
        .map(known_hosts::describe)
        .unwrap_or_else(|| "a key".to_string());
    let file = ssh.known_hosts.display();
    let (host, port) = (addr.ip(), addr.port());
    let keyscan = if port == 22 {
        format!("ssh-keyscan {host} >> {file}")
    } else {
        format!("ssh-keyscan -p {port} {host} >> {file}")
    };
    match &seen.verdict {
        Some(Verdict::Unknown) => format!(
            "host key unknown: {addr} presented {key}, which {file} (TARS_SSH_KNOWN_HOSTS) \
             does not list; check the fingerprint on the machine, then add it \
             (`{keyscan}`) or set TARS_SSH_ACCEPT_NEW=1 to trust first-seen keys"
        ),
        Some(Verdict::Changed { line }) => format!(
            "host key changed: {addr} presented {key}, but {file} line {line} records another \
             key for it; refusing to connect (someone may be impersonating the machine). If \
             the machine was reinstalled, remove line {line} and try again"
        ),
        Some(Verdict::OtherTypes { lines }) => format!(
            "host key changed: {addr} presented {key}, but {file} records only keys of other \
             types for it (line {}); refusing to connect. If the machine's keys changed, remove \
             those lines and try again",
            lines
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(Verdict::Revoked { line }) => format!(
            "host key revoked: {addr} presented {key}, marked @revoked in {file} line {line}; \
             refusing to connect"
        ),
        Some(Verdict::Unreadable(reason)) => {
            format!("cannot check the host key of {addr}: {reason}")
        }
        Some(Verdict::Known | Verdict::Learned) | None => {
            format!("SSH handshake with {addr} failed: {error}")
        }
    }
}

/// Logs in with the key, then the password, whichever are configured.
async fn authenticate(handle: &mut Handle<Client>, ssh: &SshConfig) -> Result<(), String> {
    let mut tried = Vec::new();
    let mut offered: Vec<&'static str> = Vec::new();
    if let Some((key, path)) = &ssh.auth.key {
        let hash = if key.algorithm().is_rsa() {
            handle
                .best_supported_rsa_hash()
                .await
                .map_err(|e| e.to_string())?
                .flatten()
        } else {
            None
        };
        let with_hash = PrivateKeyWithHashAlg::new(key.clone(), hash);
        match handle
            .authenticate_publickey(&ssh.user, with_hash)
            .await
            .map_err(|e| e.to_string())?
        {
            AuthResult::Success => return Ok(()),
            AuthResult::Failure {
                remaining_methods, ..
            } => {
                offered = remaining_methods.iter().map(<&str>::from).collect();
                tried.push(format!("the key {} ({})", path.display(), key.algorithm()));
            }
        }
    }
    if let Some(password) = &ssh.auth.password {
        match handle
            .authenticate_password(&ssh.user, password)
            .await
            .map_err(|e| e.to_string())?
        {
            AuthResult::Success => return Ok(()),
            AuthResult::Failure {
                remaining_methods, ..
            } => {
                offered = remaining_methods.iter().map(<&str>::from).collect();
                tried.push("the password (TARS_SSH_PASSWORD)".to_string());
            }
        }
    }
    let hint = if ssh.auth.key.is_some() && !offered.contains(&<&str>::from(&MethodKind::PublicKey))
    {
        "; the server does not accept keys for this user".to_string()
    } else if ssh.auth.key.is_some() {
        format!(
            "; add the key's public half to ~{}/.ssh/authorized_keys on the machine",
            ssh.user
        )
    } else {
        String::new()
    };
    Err(format!(
        "user {} was not let in with {} (the server offers: {}){hint}",
        ssh.user,
        tried.join(", then "),
        if offered.is_empty() {
            "nothing more".to_string()
        } else {
            offered.join(", ")
        }
    ))
}
