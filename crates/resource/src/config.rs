//! The resource module's settings, from environment variables. The module is on when
//! `TARS_NODE_PACKAGE` is set; everything else has a default or is checked here, at
//! start, so a misconfigured deployer refuses to start naming the variable instead of
//! failing machine after machine.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;
use tars_common::env::{var, var_or, var_parsed, EnvError};
use tars_protocol::endpoint::parse_endpoint;

/// The install directory when `TARS_NODE_INSTALL_DIR` is not set (TARS's own).
pub const DEFAULT_INSTALL_DIR: &str = "/usr/local/app/tars";

/// What `{ip}` in `TARS_NODE_INSTALL_DIR` is replaced with.
pub const IP_PLACEHOLDER: &str = "{ip}";

/// How to log in to a machine.
#[derive(Clone)]
pub struct SshAuth {
    /// `TARS_SSH_KEY`: the private key, and the file it came from (for messages).
    pub key: Option<(Arc<PrivateKey>, PathBuf)>,
    /// `TARS_SSH_PASSWORD`: tried only when set (after the key, if both are).
    pub password: Option<String>,
}

impl fmt::Debug for SshAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshAuth")
            .field("key", &self.key.as_ref().map(|(_, path)| path))
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// How machines are reached over SSH.
#[derive(Debug, Clone)]
pub struct SshConfig {
    /// `TARS_SSH_USER`, default `root`.
    pub user: String,
    /// `TARS_SSH_PORT`, default 22.
    pub port: u16,
    /// How to log in: `TARS_SSH_KEY`, `TARS_SSH_PASSWORD`.
    pub auth: SshAuth,
    /// `TARS_SSH_KNOWN_HOSTS`, default `~/.ssh/known_hosts`: host keys are checked
    /// against it.
    pub known_hosts: PathBuf,
    /// `TARS_SSH_ACCEPT_NEW=1`: a host with no key in `known_hosts` is trusted on first
    /// sight and its key recorded; a changed key is never accepted.
    pub accept_new: bool,
    /// `TARS_SSH_CONNECT_TIMEOUT_MS`, default 10000: connecting, the SSH handshake and
    /// logging in, together.
    pub connect_timeout: Duration,
    /// `TARS_SSH_COMMAND_TIMEOUT_MS`, default 60000: each command run on a machine.
    pub command_timeout: Duration,
    /// `TARS_SSH_UPLOAD_TIMEOUT_MS`, default 300000: uploading the package.
    pub upload_timeout: Duration,
}

/// Everything the resource module needs.
#[derive(Debug, Clone)]
pub struct ResourceConfig {
    /// `TARS_NODE_PACKAGE`: the tarsnode `.tgz` to install (a `tarsnode/` directory with
    /// `conf/tars.tarsnode.config.conf`, `util/start.sh` and `util/stop.sh`).
    pub package: PathBuf,
    /// `TARS_NODE_INSTALL_DIR`, default `/usr/local/app/tars`: where `tarsnode/` goes on
    /// a machine; `{ip}` in it is replaced by the machine's IP.
    pub install_dir: String,
    /// `TARS_REGISTRY_LOCATOR`: what replaces `registryAddress` in the package
    /// (`tcp -h 10.0.0.1 -p 17890:tcp -h 10.0.0.2 -p 17890`); unset, it is built from
    /// `t_registry_info` as TarsWeb does.
    pub registry_locator: Option<String>,
    /// How machines are reached (`TARS_SSH_*`).
    pub ssh: SshConfig,
    /// `TARS_SSH_CONCURRENCY`, default 8: machines worked on at once.
    pub concurrency: usize,
    /// `TARS_NODE_START_TIMEOUT_MS`, default 30000: how long a started node may take to
    /// answer (and a stopped one to stop answering).
    pub start_timeout: Duration,
}

fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> EnvError {
    EnvError {
        name,
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn millis(name: &'static str, default: u64) -> Result<Duration, EnvError> {
    let ms: u64 = var_parsed(name, default)?;
    if ms == 0 {
        return Err(invalid(name, "0", "must be more than 0 milliseconds"));
    }
    Ok(Duration::from_millis(ms))
}

impl ResourceConfig {
    /// The settings, or `None` when `TARS_NODE_PACKAGE` is not set (the module is off).
    ///
    /// # Errors
    /// A variable that is set but unusable, or no way to log in; the error names it.
    pub fn from_env() -> Result<Option<ResourceConfig>, EnvError> {
        let Some(package) = var("TARS_NODE_PACKAGE") else {
            return Ok(None);
        };
        let install_dir = var_or("TARS_NODE_INSTALL_DIR", DEFAULT_INSTALL_DIR);
        check_install_dir(&install_dir)
            .map_err(|reason| invalid("TARS_NODE_INSTALL_DIR", &install_dir, reason))?;
        let registry_locator = var("TARS_REGISTRY_LOCATOR")
            .map(|l| {
                check_locator(&l).map_err(|reason| invalid("TARS_REGISTRY_LOCATOR", &l, reason))?;
                Ok(l.trim().to_string())
            })
            .transpose()?;
        let key = match var("TARS_SSH_KEY") {
            Some(path) => {
                let passphrase = var("TARS_SSH_KEY_PASSPHRASE");
                let key =
                    russh::keys::load_secret_key(&path, passphrase.as_deref()).map_err(|e| {
                        invalid("TARS_SSH_KEY", &path, format!("cannot load the key: {e}"))
                    })?;
                Some((Arc::new(key), PathBuf::from(path)))
            }
            None => None,
        };
        let password = var("TARS_SSH_PASSWORD");
        if key.is_none() && password.is_none() {
            return Err(invalid(
                "TARS_SSH_KEY",
                "",
                "TARS_NODE_PACKAGE turns the resource module on, which logs in to machines \
                 over SSH: set TARS_SSH_KEY to a private key file (or TARS_SSH_PASSWORD)",
            ));
        }
        let known_hosts = match var("TARS_SSH_KNOWN_HOSTS") {
            Some(path) => PathBuf::from(path),
            None => match std::env::var_os("HOME") {
                Some(home) => Path::new(&home).join(".ssh").join("known_hosts"),
                None => {
                    return Err(invalid(
                        "TARS_SSH_KNOWN_HOSTS",
                        "",
                        "HOME is not set, so there is no ~/.ssh/known_hosts: name the file",
                    ))
                }
            },
        };
        let accept_new = match var("TARS_SSH_ACCEPT_NEW").as_deref().map(str::trim) {
            None | Some("0") | Some("false") | Some("no") => false,
            Some("1") | Some("true") | Some("yes") => true,
            Some(other) => return Err(invalid("TARS_SSH_ACCEPT_NEW", other, "must be 1 or 0")),
        };
        let port: u16 = var_parsed("TARS_SSH_PORT", 22)?;
        if port == 0 {
            return Err(invalid("TARS_SSH_PORT", "0", "must be a port number"));
        }
        let user = var_or("TARS_SSH_USER", "root");
        if !user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(invalid("TARS_SSH_USER", &user, "must be a user name"));
        }
        let concurrency: usize = var_parsed("TARS_SSH_CONCURRENCY", 8)?;
        if concurrency == 0 {
            return Err(invalid("TARS_SSH_CONCURRENCY", "0", "must be at least 1"));
        }
        Ok(Some(ResourceConfig {
            package: PathBuf::from(package),
            install_dir,
            registry_locator,
            ssh: SshConfig {
                user,
                port,
                auth: SshAuth { key, password },
                known_hosts,
                accept_new,
                connect_timeout: millis("TARS_SSH_CONNECT_TIMEOUT_MS", 10_000)?,
                command_timeout: millis("TARS_SSH_COMMAND_TIMEOUT_MS", 60_000)?,
                upload_timeout: millis("TARS_SSH_UPLOAD_TIMEOUT_MS", 300_000)?,
            },
            concurrency,
            start_timeout: millis("TARS_NODE_START_TIMEOUT_MS", 30_000)?,
        }))
    }

    /// The install directory on the machine `ip` (its text form).
    pub fn install_dir_for(&self, ip: &str) -> String {
        self.install_dir.replace(IP_PLACEHOLDER, ip)
    }
}

/// An install directory is an absolute path of plain characters (it is put into shell
/// commands, quoted, and must not be `/` or climb with `..`).
pub fn check_install_dir(dir: &str) -> Result<(), String> {
    let plain = dir.replace(IP_PLACEHOLDER, "");
    if !dir.starts_with('/') {
        return Err("must be an absolute path".into());
    }
    if !plain
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
    {
        return Err(
            "may hold only letters, digits, `/`, `.`, `_`, `-` and the placeholder `{ip}`".into(),
        );
    }
    if dir.split('/').any(|part| part == "..") {
        return Err("must not contain `..`".into());
    }
    if dir.trim_end_matches('/').is_empty() {
        return Err("must not be `/`".into());
    }
    Ok(())
}

/// A registry locator is TARS endpoints joined by `:` (`tcp -h 10.0.0.1 -p 17890`), of
/// plain characters (it is substituted into the node's files with `sed`).
pub fn check_locator(locator: &str) -> Result<(), String> {
    let locator = locator.trim();
    if locator.is_empty() {
        return Err("is empty".into());
    }
    if !locator
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | ':' | '_' | '-'))
    {
        return Err(
            "may hold only endpoints such as `tcp -h 10.0.0.1 -p 17890`, joined by `:`".into(),
        );
    }
    for part in locator.split(':') {
        parse_endpoint(part.trim()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_dirs_are_absolute_plain_paths() {
        for good in ["/usr/local/app/tars", "/tmp/t/{ip}/tars", "/opt/x_y-z.1/"] {
            assert_eq!(check_install_dir(good), Ok(()), "{good}");
        }
        for bad in [
            "usr/local",
            "/",
            "//",
            "/a/../b",
            "/a b",
            "/a;rm",
            "/a/$HOME",
            "/a'b",
            "/a/{host}",
        ] {
            assert!(check_install_dir(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn locators_are_endpoints() {
        assert_eq!(check_locator("tcp -h 10.0.0.1 -p 17890"), Ok(()));
        assert_eq!(
            check_locator("tcp -h 10.0.0.1 -p 17890:tcp -h 10.0.0.2 -p 17890 -t 10000"),
            Ok(())
        );
        for bad in [
            "",
            "10.0.0.1:17890",
            "tcp -h a -p 1|x",
            "tcp -h a -p 1&",
            "tcp -h a -p 1\\n",
        ] {
            assert!(check_locator(bad).is_err(), "{bad}");
        }
    }
}
