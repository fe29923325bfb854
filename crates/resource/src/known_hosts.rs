//! Host keys: the key a machine presents is checked against a `known_hosts` file (lines
//! as `ssh` and `ssh-keyscan` write them: plain, wildcard or hashed host patterns,
//! `[ip]:port` for ports other than 22, `@revoked` markers). A key seen for the first time is trusted and recorded only with
//! `TARS_SSH_ACCEPT_NEW=1`; a key that differs from a recorded one, or a host known only
//! by keys of other types, is always refused.

use std::path::Path;

use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use russh::keys::{HashAlg, PublicKey};
use sha1::Sha1;
use tokio::sync::Mutex;

/// What was decided about a presented host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The file records this key for the host.
    Known,
    /// The host had no key; this one was recorded (accept-new).
    Learned,
    /// The host has no key in the file, and first-seen keys are not trusted.
    Unknown,
    /// The file records another key of the same type for the host, at this line.
    Changed {
        /// 1-based line of the recorded key.
        line: usize,
    },
    /// The file records keys of other types only for the host.
    OtherTypes {
        /// 1-based lines of those keys.
        lines: Vec<usize>,
    },
    /// The file is marked `@revoked` for this key, at this line.
    Revoked {
        /// 1-based line of the `@revoked` entry.
        line: usize,
    },
    /// The file could not be read or written.
    Unreadable(String),
}

impl Verdict {
    /// Whether the connection may go on.
    pub fn trusted(&self) -> bool {
        matches!(self, Verdict::Known | Verdict::Learned)
    }
}

/// `ssh-ed25519 SHA256:…`, as ssh shows a key.
pub fn describe(key: &PublicKey) -> String {
    format!("{} {}", key.algorithm(), key.fingerprint(HashAlg::Sha256))
}

/// One entry of the file that names the host: its line, marker and key.
struct Entry {
    line: usize,
    revoked: bool,
    key: Option<PublicKey>,
}

/// `host` as the file names it: `10.0.0.5` on port 22, `[10.0.0.5]:2222` otherwise.
pub fn host_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Whether one pattern of a hosts field (`10.0.0.*`, `|1|salt|hash`) names `name`.
fn pattern_matches(pattern: &str, name: &str) -> bool {
    if let Some(hashed) = pattern.strip_prefix("|1|") {
        let Some((salt, hash)) = hashed.split_once('|') else {
            return false;
        };
        let (Ok(salt), Ok(hash)) = (
            BASE64.decode(salt.as_bytes()),
            BASE64.decode(hash.as_bytes()),
        ) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(&salt) else {
            return false;
        };
        mac.update(name.as_bytes());
        return mac.verify_slice(&hash).is_ok();
    }
    glob(pattern.as_bytes(), name.as_bytes())
}

/// `*` and `?` wildcards, as ssh matches host patterns (case-insensitively).
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob(rest, &name[i..])),
        Some((b'?', rest)) => !name.is_empty() && glob(rest, &name[1..]),
        Some((c, rest)) => name
            .split_first()
            .is_some_and(|(n, tail)| n.eq_ignore_ascii_case(c) && glob(rest, tail)),
    }
}

/// Whether a hosts field (`a,b,!c`) names `name`: a pattern matches and no negated one.
fn hosts_match(field: &str, name: &str) -> bool {
    let mut matched = false;
    for pattern in field.split(',') {
        match pattern.strip_prefix('!') {
            Some(negated) if pattern_matches(negated, name) => return false,
            Some(_) => {}
            None => matched |= pattern_matches(pattern, name),
        }
    }
    matched
}

/// The entries of the file naming `host:port` (none when the file does not exist).
fn entries(path: &Path, host: &str, port: u16) -> Result<Vec<Entry>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let name = host_name(host, port);
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace().peekable();
        let mut revoked = false;
        match words.peek() {
            None => continue,
            Some(w) if w.starts_with('#') => continue,
            Some(&"@revoked") => {
                revoked = true;
                words.next();
            }
            // Certificate authorities vouch for host certificates, which are not used.
            Some(w) if w.starts_with('@') => continue,
            Some(_) => {}
        }
        let (Some(hosts), Some(_algorithm), Some(key)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        if revoked || hosts_match(hosts, &name) {
            found.push(Entry {
                line: i + 1,
                revoked,
                key: russh::keys::parse_public_key_base64(key).ok(),
            });
        }
    }
    Ok(found)
}

/// The verdict on `key`, presented by `host:port`, against the file alone.
pub fn check(path: &Path, host: &str, port: u16, key: &PublicKey) -> Verdict {
    let entries = match entries(path, host, port) {
        Ok(entries) => entries,
        Err(e) => return Verdict::Unreadable(e),
    };
    if let Some(e) = entries
        .iter()
        .find(|e| e.revoked && e.key.as_ref() == Some(key))
    {
        return Verdict::Revoked { line: e.line };
    }
    let recorded: Vec<(usize, &PublicKey)> = entries
        .iter()
        .filter(|e| !e.revoked)
        .filter_map(|e| e.key.as_ref().map(|k| (e.line, k)))
        .collect();
    if recorded.iter().any(|(_, k)| *k == key) {
        return Verdict::Known;
    }
    if let Some((line, _)) = recorded
        .iter()
        .find(|(_, k)| k.algorithm() == key.algorithm())
    {
        return Verdict::Changed { line: *line };
    }
    if !recorded.is_empty() {
        return Verdict::OtherTypes {
            lines: recorded.iter().map(|(line, _)| *line).collect(),
        };
    }
    Verdict::Unknown
}

/// Appends `host:port key` to the file (created when missing).
fn learn(path: &Path, host: &str, port: u16, key: &PublicKey) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let io = |e: std::io::Error| format!("cannot record the key in {}: {e}", path.display());
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(io)?;
    let mut last = [0u8; 1];
    let needs_newline = file.seek(SeekFrom::End(-1)).is_ok()
        && file.read_exact(&mut last).is_ok()
        && last[0] != b'\n';
    let openssh = key
        .to_openssh()
        .map_err(|e| format!("cannot write the key: {e}"))?;
    // The key's own comment (the machine's user@host) is not kept.
    let mut fields = openssh.split_whitespace();
    let line = format!(
        "{}{} {} {}\n",
        if needs_newline { "\n" } else { "" },
        host_name(host, port),
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default()
    );
    file.write_all(line.as_bytes()).map_err(io)
}

/// Serializes learning within the process, so two first connections to one host record
/// its key once.
static LEARNING: Mutex<()> = Mutex::const_new(());

/// The verdict on `key`, recording it when the host is unknown and `accept_new` is set.
pub async fn check_or_learn(
    path: &Path,
    host: &str,
    port: u16,
    key: &PublicKey,
    accept_new: bool,
) -> Verdict {
    let verdict = check(path, host, port, key);
    if verdict != Verdict::Unknown || !accept_new {
        return verdict;
    }
    let _one_at_a_time = LEARNING.lock().await;
    // Another connection may have recorded it (or another key) meanwhile.
    match check(path, host, port, key) {
        Verdict::Unknown => match learn(path, host, port, key) {
            Ok(()) => {
                tracing::info!(host, port, key = %describe(key), file = %path.display(), "recorded a first-seen host key");
                Verdict::Learned
            }
            Err(e) => Verdict::Unreadable(e),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const KEY_B: &str = "AAAAC3NzaC1lZDI1NTE5AAAAILIG2T/B0l0gaqj3puu510tu9N1OkQ4znY3LYuEm5zCF";

    fn key(b64: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b64).unwrap()
    }

    #[tokio::test]
    async fn known_unknown_changed_and_learned() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        std::fs::write(
            &file,
            format!(
                "# comment\n[10.0.0.5]:2222 ssh-ed25519 {KEY_A}\n10.0.0.6 ssh-ed25519 {KEY_A}\n"
            ),
        )
        .unwrap();
        assert_eq!(check(&file, "10.0.0.5", 2222, &key(KEY_A)), Verdict::Known);
        assert_eq!(check(&file, "10.0.0.6", 22, &key(KEY_A)), Verdict::Known);
        assert_eq!(
            check(&file, "10.0.0.5", 2222, &key(KEY_B)),
            Verdict::Changed { line: 2 }
        );
        // Another port of the same IP is another host to ssh.
        assert_eq!(check(&file, "10.0.0.5", 22, &key(KEY_A)), Verdict::Unknown);
        assert_eq!(
            check_or_learn(&file, "10.0.0.7", 2222, &key(KEY_B), false).await,
            Verdict::Unknown
        );
        assert_eq!(
            check_or_learn(&file, "10.0.0.7", 2222, &key(KEY_B), true).await,
            Verdict::Learned
        );
        assert_eq!(check(&file, "10.0.0.7", 2222, &key(KEY_B)), Verdict::Known);
        // A changed key is never learned.
        assert_eq!(
            check_or_learn(&file, "10.0.0.7", 2222, &key(KEY_A), true).await,
            Verdict::Changed { line: 4 }
        );
        // As `ssh-keygen -H` hashed `[10.0.0.9]:2222`; wildcards and negations.
        std::fs::write(
            &file,
            format!(
                "|1|XbtNvnNcVTo1gVi9/XWEN/ZS3xA=|j3E4mmPgI77dqpazPveXkc6enhA= ssh-ed25519 {KEY_B}\n\
                 10.1.*,!10.1.0.3 ssh-ed25519 {KEY_A}\n"
            ),
        )
        .unwrap();
        assert_eq!(check(&file, "10.0.0.9", 2222, &key(KEY_B)), Verdict::Known);
        assert_eq!(check(&file, "10.0.0.9", 22, &key(KEY_B)), Verdict::Unknown);
        assert_eq!(check(&file, "10.1.0.2", 22, &key(KEY_A)), Verdict::Known);
        assert_eq!(check(&file, "10.1.0.3", 22, &key(KEY_A)), Verdict::Unknown);
        assert_eq!(
            check(&file, "10.1.0.2", 22, &key(KEY_B)),
            Verdict::Changed { line: 2 }
        );
        std::fs::write(&file, format!("@revoked * ssh-ed25519 {KEY_A}\n")).unwrap();
        assert_eq!(
            check_or_learn(&file, "10.0.0.5", 22, &key(KEY_A), true).await,
            Verdict::Revoked { line: 1 }
        );
    }
}
