//! The development stack (`docker-compose.yml`, `deploy/nginx.conf`,
//! `deploy/prometheus.yml`, `Dockerfile`) checked without a container engine: the file
//! follows the Compose Specification, every program it runs is in the image and accepts
//! its arguments, every variable it sets is read by the program it is set for, and every
//! address one service is given is one another service listens on.
//!
//! The schema is `tests/data/compose-spec.json`, vendored unchanged from
//! compose-spec/compose-spec (`schema/compose-spec.json`, Apache-2.0) at commit
//! 170098ba07d9f53c383a41bfd4c5166b0a4529a6; the file last changed in a08f8d51631b.
//!
//! The programs' `--help` is run from the directory of the built `tars-platform`, so the
//! workspace's binaries must be built (`cargo build --workspace --bins`, as
//! `scripts/test.sh` does).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use tars_common::networks::{contains, parse_networks, IpNet};

// ---------------------------------------------------------------------------------------
// The files
// ---------------------------------------------------------------------------------------

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// YAML as Compose reads it: merge keys (`<<`) applied, however deeply anchors that
/// merge other anchors are nested, then as JSON.
fn yaml(relative: &str) -> Value {
    let mut value: serde_norway::Value = serde_norway::from_str(&read(relative))
        .unwrap_or_else(|e| panic!("{relative} is not valid YAML: {e}"));
    // A merged mapping can bring its own `<<` along; apply until none is left.
    for _ in 0..16 {
        value
            .apply_merge()
            .unwrap_or_else(|e| panic!("{relative}: a merge key cannot be applied: {e}"));
        if !has_merge_key(&value) {
            return serde_json::to_value(&value)
                .unwrap_or_else(|e| panic!("{relative} does not map to JSON: {e}"));
        }
    }
    panic!("{relative}: merge keys nested more than 16 deep");
}

fn has_merge_key(value: &serde_norway::Value) -> bool {
    match value {
        serde_norway::Value::Mapping(m) => m.contains_key("<<") || m.values().any(has_merge_key),
        serde_norway::Value::Sequence(s) => s.iter().any(has_merge_key),
        serde_norway::Value::Tagged(t) => has_merge_key(&t.value),
        _ => false,
    }
}

/// Compose's interpolation of a value: `${NAME:-default}` and `${NAME-default}` take the
/// default (the checks are of the file as it stands, without a caller's environment),
/// `$$` is a dollar. A variable without a default would make the stack depend on the
/// caller's environment, so it is refused.
fn interpolate(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(after) = rest.strip_prefix('{') {
            let end = after
                .find('}')
                .unwrap_or_else(|| panic!("unclosed ${{ in {text:?}"));
            let inner = &after[..end];
            let default = inner
                .split_once(":-")
                .or_else(|| inner.split_once('-'))
                .map(|(_, default)| default)
                .unwrap_or_else(|| {
                    panic!("{text:?} needs ${{{inner}}} from the environment; give it a default")
                });
            out.push_str(default);
            rest = &after[end + 1..];
        } else {
            panic!("{text:?}: write ${{NAME:-default}}, or $$ for a dollar");
        }
    }
    out.push_str(rest);
    out
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(interpolate(s)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => s.split_whitespace().map(interpolate).collect(),
        Value::Array(items) => items.iter().filter_map(scalar).collect(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// The stack: services, their programs, environments and addresses
// ---------------------------------------------------------------------------------------

/// One service of docker-compose.yml.
#[derive(Debug)]
struct Service {
    name: String,
    raw: Value,
    /// Built from this repository's Dockerfile: runs one of the workspace's programs.
    ours: bool,
    /// The command, or the image's `CMD` for ours without one.
    command: Vec<String>,
    env: BTreeMap<String, String>,
    ipv4: Option<Ipv4Addr>,
    aliases: Vec<String>,
}

impl Service {
    fn program(&self) -> &str {
        self.command.first().map(String::as_str).unwrap_or("")
    }

    fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    fn image(&self) -> &str {
        self.raw["image"].as_str().unwrap_or("")
    }

    /// `(what, address)` of every socket it listens on: the `TARS_*_ADDR` variables it is
    /// given and the socket addresses among its arguments (`--listen`, `--stat` …).
    fn listeners(&self) -> Vec<(String, SocketAddr)> {
        let mut found = Vec::new();
        for (name, value) in &self.env {
            if name.starts_with("TARS_") && name.ends_with("_ADDR") {
                let addr = value.parse().unwrap_or_else(|e| {
                    panic!(
                        "{}: {name}={value:?} is not a socket address: {e}",
                        self.name
                    )
                });
                found.push((name.clone(), addr));
            }
        }
        for (i, arg) in self.command.iter().enumerate().skip(1) {
            if let Ok(addr) = arg.parse::<SocketAddr>() {
                found.push((self.command[i - 1].clone(), addr));
            }
        }
        found
    }

    /// The address of the listener called `what` (a variable or a flag).
    fn listener(&self, what: &str) -> Option<SocketAddr> {
        self.listeners()
            .into_iter()
            .find(|(w, _)| w == what)
            .map(|(_, addr)| addr)
    }

    fn healthcheck(&self) -> Option<Vec<String>> {
        let check = &self.raw["healthcheck"];
        if check.is_null() || check["disable"] == Value::Bool(true) {
            return None;
        }
        let test = strings(&check["test"]);
        match test.first().map(String::as_str) {
            Some("CMD") => Some(test[1..].to_vec()),
            Some("CMD-SHELL") => Some(vec!["sh".into(), "-c".into(), test[1..].join(" ")]),
            Some("NONE") | None => None,
            Some(_) => Some(test),
        }
    }

    /// `(service, condition)` of `depends_on`.
    fn depends_on(&self) -> Vec<(String, String)> {
        match &self.raw["depends_on"] {
            Value::Array(names) => names
                .iter()
                .filter_map(Value::as_str)
                .map(|n| (n.to_string(), "service_started".to_string()))
                .collect(),
            Value::Object(map) => map
                .iter()
                .map(|(n, d)| {
                    let condition = d["condition"].as_str().unwrap_or("service_started");
                    (n.clone(), condition.to_string())
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `(host port, container port)` of every published port.
    fn published(&self) -> Vec<(u16, u16)> {
        let Some(ports) = self.raw["ports"].as_array() else {
            return Vec::new();
        };
        ports
            .iter()
            .map(|p| match p {
                Value::Object(long) => {
                    let target = scalar(&long["target"]).expect("ports: target");
                    let host = scalar(&long["published"]).unwrap_or_else(|| target.clone());
                    (port_number(&host), port_number(&target))
                }
                short => {
                    let text = scalar(short).expect("a port");
                    let text = text.split('/').next().unwrap();
                    let parts: Vec<&str> = text.rsplitn(3, ':').collect();
                    let container = parts[0];
                    let host = parts.get(1).copied().unwrap_or(container);
                    (port_number(host), port_number(container))
                }
            })
            .collect()
    }

    /// `(source, target)` of every volume: a source starting with `.` or `/` is a path
    /// on this machine (relative to the compose file), else a named volume.
    fn mounts(&self) -> Vec<(String, String)> {
        let Some(volumes) = self.raw["volumes"].as_array() else {
            return Vec::new();
        };
        volumes
            .iter()
            .filter_map(|v| match v {
                Value::Object(long) => Some((
                    scalar(&long["source"]).unwrap_or_default(),
                    scalar(&long["target"]).expect("volumes: target"),
                )),
                short => {
                    let text = scalar(short)?;
                    let mut parts = text.splitn(3, ':');
                    let source = parts.next()?.to_string();
                    let target = parts.next()?.to_string();
                    Some((source, target))
                }
            })
            .collect()
    }

    /// The file of this machine mounted at `target` in the container.
    fn host_file(&self, target: &str) -> Option<PathBuf> {
        self.mounts().into_iter().find_map(|(source, mount)| {
            let inside = Path::new(target).strip_prefix(&mount).ok()?;
            let host = root().join(&source);
            let file = if inside.as_os_str().is_empty() {
                host
            } else {
                host.join(inside)
            };
            is_host_path(&source).then_some(file)
        })
    }
}

fn is_host_path(source: &str) -> bool {
    source.starts_with('.') || source.starts_with('/')
}

fn port_number(text: &str) -> u16 {
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} is not a port number: {e}"))
}

/// The whole stack, read once.
struct Stack {
    doc: Value,
    services: BTreeMap<String, Service>,
    /// The Dockerfile's runtime image.
    image: Image,
}

/// What the runtime stage of the Dockerfile holds.
#[derive(Debug)]
struct Image {
    /// Programs copied into `/usr/local/bin` (the workspace's binaries).
    copied: BTreeSet<String>,
    /// Programs installed from Debian's packages, and the base image's shells.
    system: BTreeSet<String>,
    cmd: Vec<String>,
    env: BTreeMap<String, String>,
}

fn image() -> Image {
    let text = read("Dockerfile").replace("\\\n", " ");
    let runtime = text
        .rsplit_once("\nFROM ")
        .map(|(_, last)| last.to_string())
        .expect("the Dockerfile has a runtime stage");
    let mut image = Image {
        copied: BTreeSet::new(),
        // The Debian base image's shells.
        system: ["bash", "sh"].map(String::from).into(),
        cmd: Vec::new(),
        env: BTreeMap::new(),
    };
    for line in runtime.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().copied() {
            Some("COPY") if line.contains("--from=") => {
                let paths: Vec<&str> = words[1..]
                    .iter()
                    .copied()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let (dest, sources) = paths.split_last().expect("COPY sources and destination");
                assert_eq!(*dest, "/usr/local/bin/", "programs go to /usr/local/bin/");
                for source in sources {
                    image
                        .copied
                        .insert(source.rsplit('/').next().unwrap().to_string());
                }
            }
            Some("RUN") => {
                for command in line.split("&&") {
                    let words: Vec<&str> = command.split_whitespace().collect();
                    if let Some(at) = words.iter().position(|w| *w == "install") {
                        if words[..at].contains(&"apt-get") {
                            image.system.extend(
                                words[at + 1..]
                                    .iter()
                                    .filter(|w| !w.starts_with('-'))
                                    .map(|w| w.to_string()),
                            );
                        }
                    }
                }
            }
            Some("CMD") => {
                let list: Value = serde_json::from_str(line.trim_start_matches("CMD").trim())
                    .expect("CMD in exec form");
                image.cmd = strings(&list);
            }
            Some("ENV") => {
                let (name, value) = words[1].split_once('=').expect("ENV NAME=value");
                image.env.insert(name.to_string(), value.to_string());
            }
            _ => {}
        }
    }
    image
}

fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let doc = yaml("docker-compose.yml");
        let image = image();
        let mut services = BTreeMap::new();
        for (name, raw) in doc["services"].as_object().expect("services") {
            let ours = !raw["build"].is_null();
            let mut command = strings(&raw["command"]);
            if command.is_empty() && ours {
                command = image.cmd.clone();
            }
            let mut env = BTreeMap::new();
            match &raw["environment"] {
                Value::Object(map) => {
                    for (k, v) in map {
                        if let Some(v) = scalar(v) {
                            env.insert(k.clone(), v);
                        }
                    }
                }
                Value::Array(items) => {
                    for item in items.iter().filter_map(scalar) {
                        if let Some((k, v)) = item.split_once('=') {
                            env.insert(k.to_string(), v.to_string());
                        }
                    }
                }
                _ => {}
            }
            let network = &raw["networks"]["default"];
            let ipv4 = network["ipv4_address"].as_str().map(|ip| {
                ip.parse()
                    .unwrap_or_else(|e| panic!("{name}: ipv4_address {ip:?}: {e}"))
            });
            let aliases = strings(&network["aliases"]);
            services.insert(
                name.clone(),
                Service {
                    name: name.clone(),
                    raw: raw.clone(),
                    ours,
                    command,
                    env,
                    ipv4,
                    aliases,
                },
            );
        }
        Stack {
            doc,
            services,
            image,
        }
    })
}

impl Stack {
    fn ours(&self) -> impl Iterator<Item = &Service> {
        self.services.values().filter(|s| s.ours)
    }

    fn running(&self, program: &str) -> Vec<&Service> {
        self.ours().filter(|s| s.program() == program).collect()
    }

    fn service(&self, name: &str) -> &Service {
        self.services
            .get(name)
            .unwrap_or_else(|| panic!("docker-compose.yml has no service {name:?}"))
    }

    /// The one service whose image contains `word` (`nginx`, `jaeger` …).
    fn by_image(&self, word: &str) -> &Service {
        let found: Vec<&Service> = self
            .services
            .values()
            .filter(|s| s.image().contains(word))
            .collect();
        assert_eq!(found.len(), 1, "one service of image {word}: {found:?}");
        found[0]
    }

    /// The services a host name reaches on the compose network: by name, alias or fixed
    /// address.
    fn resolve(&self, host: &str) -> Vec<&Service> {
        let ip = host.parse::<Ipv4Addr>().ok();
        self.services
            .values()
            .filter(|s| {
                s.name == host
                    || s.aliases.iter().any(|a| a == host)
                    || (ip.is_some() && s.ipv4 == ip)
            })
            .collect()
    }

    /// The compose network's address block.
    fn subnet(&self) -> IpNet {
        let subnet = self.doc["networks"]["default"]["ipam"]["config"][0]["subnet"]
            .as_str()
            .expect("the default network has a fixed subnet (fixed addresses need one)");
        subnet.parse().expect("a CIDR subnet")
    }

    /// Asserts that `host:port`, given to `from` as `what`, reaches at least one service
    /// and that every service it reaches listens there on the compose network — on the
    /// listener `listener` (a variable or flag) when given. Answers those services.
    fn reach(
        &self,
        from: &str,
        what: &str,
        host: &str,
        port: u16,
        listener: Option<&str>,
    ) -> Vec<&Service> {
        let targets = self.resolve(host);
        assert!(
            !targets.is_empty(),
            "{from}: {what} names {host:?}, which is no service, alias or fixed address of docker-compose.yml"
        );
        for target in &targets {
            let listeners = target.listeners();
            let found = listeners
                .iter()
                .find(|(w, addr)| addr.port() == port && listener.is_none_or(|l| l == w.as_str()));
            let Some((_, addr)) = found else {
                panic!(
                    "{from}: {what} points at {host}:{port}, but {} listens on {listeners:?}{}",
                    target.name,
                    listener
                        .map(|l| format!(" (expected its {l})"))
                        .unwrap_or_default()
                );
            };
            assert!(
                addr.ip().is_unspecified() || Some(addr.ip()) == target.ipv4.map(IpAddr::V4),
                "{from}: {what} points at {}, which listens on {addr}: unreachable from other \
                 containers (bind 0.0.0.0 or the service's own address)",
                target.name
            );
        }
        targets
    }
}

/// `host` and `port` of `scheme://host:port/…`.
fn url_host_port(url: &str) -> (String, u16) {
    let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let authority = rest.split('/').next().unwrap();
    let authority = authority.rsplit('@').next().unwrap();
    let (host, port) = authority
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{url:?} names no port"));
    (host.to_string(), port_number(port))
}

/// `host` and `port` of a TARS proxy, `Obj@tcp -h host -p port …`.
fn proxy_host_port(proxy: &str) -> (String, u16) {
    let (_, endpoint) = proxy
        .split_once('@')
        .unwrap_or_else(|| panic!("{proxy:?} is no full proxy (Obj@tcp -h H -p P)"));
    let words: Vec<&str> = endpoint.split_whitespace().collect();
    let after = |flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .and_then(|at| words.get(at + 1))
            .unwrap_or_else(|| panic!("{proxy:?} has no {flag}"))
            .to_string()
    };
    (after("-h"), port_number(&after("-p")))
}

fn networks(service: &Service, variable: &str) -> Vec<IpNet> {
    let value = service
        .env(variable)
        .unwrap_or_else(|| panic!("{} does not set {variable}", service.name));
    parse_networks(value).unwrap_or_else(|e| panic!("{}: {variable}: {e}", service.name))
}

// ---------------------------------------------------------------------------------------
// The workspace: its programs and the variables each one reads
// ---------------------------------------------------------------------------------------

struct Workspace {
    /// Program name → the file its `main` is in and its package.
    bins: BTreeMap<String, (PathBuf, String)>,
    /// Package → (its directory, the workspace packages it depends on).
    packages: BTreeMap<String, (PathBuf, Vec<String>)>,
}

fn workspace() -> &'static Workspace {
    static WORKSPACE: OnceLock<Workspace> = OnceLock::new();
    WORKSPACE.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .current_dir(root())
            .output()
            .expect("cargo metadata");
        assert!(out.status.success(), "cargo metadata: {out:?}");
        let metadata: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
        let mut workspace = Workspace {
            bins: BTreeMap::new(),
            packages: BTreeMap::new(),
        };
        let mut by_dir = BTreeMap::new();
        for package in metadata["packages"].as_array().unwrap() {
            let name = package["name"].as_str().unwrap().to_string();
            let dir = Path::new(package["manifest_path"].as_str().unwrap())
                .parent()
                .unwrap()
                .to_path_buf();
            by_dir.insert(dir.clone(), name.clone());
            for target in package["targets"].as_array().unwrap() {
                if target["kind"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k == "bin")
                {
                    workspace.bins.insert(
                        target["name"].as_str().unwrap().to_string(),
                        (target["src_path"].as_str().unwrap().into(), name.clone()),
                    );
                }
            }
            let deps = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["path"].as_str().map(PathBuf::from))
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            workspace.packages.insert(name, (dir, deps));
        }
        // Dependencies by path → by package name.
        for (_, deps) in workspace.packages.values_mut() {
            *deps = deps
                .iter()
                .filter_map(|p| by_dir.get(Path::new(p)).cloned())
                .collect();
        }
        workspace
    })
}

impl Workspace {
    /// The source text of `program` and every workspace library it is built from
    /// (their `src/` directories: tests and benchmarks set variables too, they do not
    /// count).
    fn sources(&self, program: &str) -> String {
        let (_, package) = self
            .bins
            .get(program)
            .unwrap_or_else(|| panic!("{program} is not a binary of this workspace"));
        let mut seen = BTreeSet::new();
        let mut todo = vec![package.clone()];
        let mut text = String::new();
        while let Some(package) = todo.pop() {
            if !seen.insert(package.clone()) {
                continue;
            }
            let (dir, deps) = &self.packages[&package];
            rust_sources(&dir.join("src"), &mut text);
            todo.extend(deps.iter().cloned());
        }
        text
    }

    /// Whether `program` parses its command line (clap); the services take none.
    fn takes_arguments(&self, program: &str) -> bool {
        let (main, _) = &self.bins[program];
        let text = std::fs::read_to_string(main).expect("main source");
        text.contains("::parse()") || text.contains("env::args")
    }

    fn binary(&self, program: &str) -> PathBuf {
        let path = Path::new(env!("CARGO_BIN_EXE_tars-platform")).with_file_name(program);
        assert!(
            path.exists(),
            "{} is missing: run `cargo build --workspace --bins` before this test \
             (scripts/test.sh does)",
            path.display()
        );
        path
    }
}

fn rust_sources(dir: &Path, text: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_sources(&path, text);
        } else if path.extension().is_some_and(|e| e == "rs") {
            text.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            text.push('\n');
        }
    }
}

/// Whether `sources` read the variable `name`: it is named there as a string literal
/// (`var("TARS_…")`); `RUST_LOG` is also read by tracing-subscriber's
/// `EnvFilter::…from_default_env`.
fn reads(sources: &str, name: &str) -> bool {
    sources.contains(&format!("\"{name}\""))
        || (name == "RUST_LOG" && sources.contains("from_default_env"))
}

/// The default the code gives `name` in `var_parsed("NAME", default)`: `120_000`,
/// `1 << 30`.
fn code_default(program: &str, name: &str) -> u64 {
    let sources = workspace().sources(program);
    let needle = format!("var_parsed(\"{name}\",");
    let at = sources
        .find(&needle)
        .unwrap_or_else(|| panic!("{program} reads no {name} with var_parsed"));
    let expr: String = sources[at + needle.len()..]
        .chars()
        .take_while(|c| *c != ')')
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect();
    let number = |t: &str| -> u64 {
        t.parse()
            .unwrap_or_else(|e| panic!("{name}'s default {expr:?}: {e}"))
    };
    match expr.split_once("<<") {
        Some((a, b)) => number(a) << number(b),
        None => number(&expr),
    }
}

/// The value of a numeric variable on `service`: its own, else the code's default.
fn setting(service: &Service, name: &str) -> u64 {
    match service.env(name) {
        Some(v) => v
            .parse()
            .unwrap_or_else(|e| panic!("{}: {name}={v:?}: {e}", service.name)),
        None => code_default(service.program(), name),
    }
}

/// Runs `program args… --help`: clap checks every subcommand, flag and value up to the
/// `--help`, then prints the help and exits 0; anything it does not accept exits 2.
fn accepts(program: &str, args: &[String]) -> Result<(), String> {
    let workspace = workspace();
    if !workspace.takes_arguments(program) {
        return if args.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{program} takes no arguments (it is configured by environment variables), \
                 but is given {args:?}"
            ))
        };
    }
    let child = Command::new(workspace.binary(program))
        .args(args)
        .arg("--help")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.expect("wait for the program"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            return Err(format!(
                "{program} {args:?} --help did not exit within 60 s"
            ));
        }
    };
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} does not accept {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Asserts that `command`, run in `service`'s container, is a program of its image and
/// accepts its arguments.
fn assert_runs(service: &Service, command: &[String], context: &str) {
    let image = &stack().image;
    let (program, args) = command
        .split_first()
        .unwrap_or_else(|| panic!("{context}: no command"));
    if image.copied.contains(program) {
        assert!(
            workspace().bins.contains_key(program),
            "{context}: {program} is copied by the Dockerfile but is no binary of the workspace"
        );
        if let Err(e) = accepts(program, args) {
            panic!("{context}: {e}");
        }
    } else {
        assert!(
            image.system.contains(program),
            "{context}: {program} is not in the image of {} (the Dockerfile copies {:?} and \
             installs {:?})",
            service.name,
            image.copied,
            image.system
        );
    }
}

// ---------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------

#[test]
fn the_compose_file_follows_the_compose_specification() {
    let schema: Value =
        serde_json::from_str(&read("tests/data/compose-spec.json")).expect("the schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let doc = &stack().doc;
    let faults: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(faults.is_empty(), "docker-compose.yml: {faults:#?}");
    // Compose refuses what the schema cannot express: a dependency or a volume that does
    // not exist, a healthy-condition on a service without a healthcheck.
    let stack = stack();
    let volumes = doc["volumes"].as_object().cloned().unwrap_or_default();
    for service in stack.services.values() {
        for (dependency, condition) in service.depends_on() {
            let target = stack.service(&dependency);
            if condition == "service_healthy" {
                assert!(
                    target.healthcheck().is_some(),
                    "{} waits for {dependency} to be healthy, which has no healthcheck",
                    service.name
                );
            }
        }
        for (source, _) in service.mounts() {
            if is_host_path(&source) {
                assert!(
                    root().join(&source).exists(),
                    "{} mounts {source}, which does not exist",
                    service.name
                );
            } else {
                assert!(
                    volumes.contains_key(&source),
                    "{} mounts the volume {source}, which is not declared",
                    service.name
                );
            }
        }
    }
    let subnet = stack.subnet();
    let mut addresses = BTreeMap::new();
    for service in stack.services.values() {
        if let Some(ip) = service.ipv4 {
            assert!(
                subnet.contains(&IpAddr::V4(ip)),
                "{}: {ip} is outside {subnet}",
                service.name
            );
            if let Some(other) = addresses.insert(ip, &service.name) {
                panic!("{} and {other} both have {ip}", service.name);
            }
        }
    }
}

#[test]
fn every_program_the_stack_runs_is_in_the_image_and_accepts_its_arguments() {
    let stack = stack();
    for program in &stack.image.copied {
        assert!(
            workspace().bins.contains_key(program),
            "the Dockerfile copies {program}, which is no binary of the workspace"
        );
    }
    for service in stack.ours() {
        assert_runs(
            service,
            &service.command,
            &format!("{} (command)", service.name),
        );
        if let Some(check) = service.healthcheck() {
            assert_runs(service, &check, &format!("{} (healthcheck)", service.name));
        }
        // Paths given to a program that lie on a mount from this machine must exist.
        for arg in &service.command {
            if let Some(file) = arg
                .starts_with('/')
                .then(|| service.host_file(arg))
                .flatten()
            {
                assert!(
                    file.exists(),
                    "{}: {arg} is {}, which does not exist",
                    service.name,
                    file.display()
                );
            }
        }
    }
}

#[test]
fn every_variable_the_stack_sets_is_read_by_the_program_it_is_set_for() {
    let workspace = workspace();
    for service in stack().ours() {
        let sources = workspace.sources(service.program());
        for name in service.env.keys() {
            if name.starts_with("TARS_") || name.starts_with("OTEL_") || name == "RUST_LOG" {
                assert!(
                    reads(&sources, name),
                    "{} sets {name}, which {} never reads",
                    service.name,
                    service.program()
                );
            }
        }
    }
}

#[test]
fn the_healthchecks_probe_the_ports_the_services_listen_on() {
    let stack = stack();
    for service in stack.ours() {
        let Some(check) = service.healthcheck() else {
            continue;
        };
        let line = check.join(" ");
        let (port, path) = if let Some(at) = line.find("/dev/tcp/") {
            let rest = &line[at + "/dev/tcp/".len()..];
            let port: String = rest
                .split('/')
                .nth(1)
                .expect("/dev/tcp/HOST/PORT")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (port_number(&port), None)
        } else if let Some(url) = check.iter().find(|w| w.starts_with("http://")) {
            let (_, port) = url_host_port(url);
            let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}"));
            (port, path)
        } else {
            panic!("{}: cannot tell what {line:?} probes", service.name);
        };
        let listeners = service.listeners();
        assert!(
            listeners.iter().any(|(_, addr)| addr.port() == port),
            "{}: the healthcheck probes port {port}, but it listens on {listeners:?}",
            service.name
        );
        if let Some(path) = path {
            let sources = workspace().sources(service.program());
            assert!(
                sources.contains(&format!(".route(\"{path}\"")),
                "{}: the healthcheck asks for {path}, which {} does not serve",
                service.name,
                service.program()
            );
        }
    }
}

#[test]
fn the_gateways_reach_every_backend_on_its_grpc_port_with_one_internal_token() {
    let stack = stack();
    let gateways = stack.running("tars-gateway");
    assert!(
        gateways.len() >= 2,
        "two gateways behind nginx: {gateways:?}"
    );
    let mut platform = Vec::new();
    for gateway in &gateways {
        let urls: Vec<(&String, &String)> = gateway
            .env
            .iter()
            .filter(|(k, _)| k.starts_with("TARS_") && k.ends_with("_URL"))
            .collect();
        assert_eq!(
            urls.len(),
            3,
            "{}: the backends' URLs: {urls:?}",
            gateway.name
        );
        for (name, url) in urls {
            // TARS_DEPLOYER_URL → the deployer's TARS_DEPLOYER_GRPC_ADDR, …
            let listener = name.replace("_URL", "_GRPC_ADDR");
            let (host, port) = url_host_port(url);
            for backend in stack.reach(&gateway.name, name, &host, port, Some(&listener)) {
                platform.push(backend);
            }
        }
        platform.push(gateway);
    }
    let token = |s: &Service| {
        s.env("TARS_INTERNAL_TOKEN")
            .unwrap_or_else(|| panic!("{} has no TARS_INTERNAL_TOKEN", s.name))
            .to_string()
    };
    let expected = token(platform[0]);
    assert!(
        expected.chars().count() >= 16,
        "TARS_INTERNAL_TOKEN is too short"
    );
    for service in &platform {
        assert_eq!(
            token(service),
            expected,
            "{} has another TARS_INTERNAL_TOKEN than {}",
            service.name,
            platform[0].name
        );
    }
    // Every backend of the stack is one the gateways call.
    for backend in ["tars-deployer", "tars-task-runner", "tars-monitor"] {
        for service in stack.running(backend) {
            assert!(
                platform.iter().any(|p| p.name == service.name),
                "no gateway calls {}",
                service.name
            );
        }
    }
}

#[test]
fn the_task_runners_share_kafka_and_have_distinct_ids() {
    let stack = stack();
    let runners = stack.running("tars-task-runner");
    assert!(runners.len() >= 2, "two task-runners: {runners:?}");
    let kafka = stack
        .services
        .values()
        .find(|s| s.env.contains_key("KAFKA_ADVERTISED_LISTENERS"))
        .expect("a Kafka service");
    let advertised: BTreeSet<String> = kafka.env["KAFKA_ADVERTISED_LISTENERS"]
        .split(',')
        .map(|l| l.split_once("://").map_or(l, |(_, a)| a).to_string())
        .collect();
    let mut ids = BTreeMap::new();
    for runner in &runners {
        let brokers = runner
            .env("TARS_KAFKA_BROKERS")
            .unwrap_or_else(|| panic!("{} does not use Kafka", runner.name));
        for broker in brokers.split(',') {
            let (host, _) = url_host_port(broker);
            assert_eq!(
                stack
                    .resolve(&host)
                    .iter()
                    .map(|s| &s.name)
                    .collect::<Vec<_>>(),
                [&kafka.name],
                "{}: TARS_KAFKA_BROKERS names {host}",
                runner.name
            );
            assert!(
                advertised.contains(broker),
                "{}: TARS_KAFKA_BROKERS has {broker}, Kafka advertises {advertised:?}",
                runner.name
            );
        }
        if let Some(id) = runner.env("TARS_RUNNER_ID") {
            if let Some(other) = ids.insert(id.to_string(), &runner.name) {
                panic!("{} and {other} both claim tasks as {id}", runner.name);
            }
        }
    }
}

#[test]
fn the_backends_find_their_database_query_servers_and_jaeger() {
    let stack = stack();
    for service in stack.ours() {
        if let Some(url) = service.env("TARS_DATABASE_URL") {
            let (host, port) = url_host_port(url);
            let db = stack.resolve(&host);
            assert_eq!(
                db.len(),
                1,
                "{}: TARS_DATABASE_URL names {host}",
                service.name
            );
            let db = db[0];
            assert!(db.image().starts_with("mariadb") || db.image().starts_with("mysql"));
            assert_eq!(port, 3306, "{}: TARS_DATABASE_URL's port", service.name);
            let name = url.rsplit('/').next().unwrap();
            let created = db
                .env("MARIADB_DATABASE")
                .or(db.env("MYSQL_DATABASE"))
                .unwrap_or("");
            assert_eq!(
                name, created,
                "{}: the database {} creates",
                service.name, db.name
            );
            let credentials = url.split_once("://").unwrap().1.split_once('@').unwrap().0;
            match credentials.split_once(':') {
                Some((_, password)) => assert_eq!(
                    db.env("MARIADB_ROOT_PASSWORD"),
                    Some(password),
                    "{}: TARS_DATABASE_URL's password",
                    service.name
                ),
                None => assert!(
                    db.env("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD").is_some(),
                    "{}: TARS_DATABASE_URL has no password, {} requires one",
                    service.name,
                    db.name
                ),
            }
        }
        // A TARS proxy names the listener it must reach.
        for (name, listener) in [
            ("TARS_STAT_QUERY_OBJ", "--stat"),
            ("TARS_PROPERTY_QUERY_OBJ", "--property"),
            ("TARS_PATCH_OBJ", "TARS_PATCH_ADDR"),
        ] {
            if let Some(proxy) = service.env(name) {
                let (host, port) = proxy_host_port(proxy);
                stack.reach(&service.name, name, &host, port, Some(listener));
            }
        }
        let endpoint = service
            .env("OTEL_EXPORTER_OTLP_ENDPOINT")
            .unwrap_or_else(|| panic!("{} exports no traces", service.name));
        let (host, port) = url_host_port(endpoint);
        let jaeger = stack.by_image("jaeger");
        assert_eq!(
            stack
                .resolve(&host)
                .iter()
                .map(|s| &s.name)
                .collect::<Vec<_>>(),
            [&jaeger.name],
            "{}: OTEL_EXPORTER_OTLP_ENDPOINT names {host}",
            service.name
        );
        assert_eq!(
            port, 4317,
            "{}: Jaeger takes OTLP/gRPC on 4317",
            service.name
        );
    }
    assert_ne!(
        stack.by_image("jaeger").env("COLLECTOR_OTLP_ENABLED"),
        Some("false")
    );
}

#[test]
fn packages_uploaded_to_any_gateway_reach_the_nodes() {
    let stack = stack();
    let gateways = stack.running("tars-gateway");
    // Every gateway keeps packages on the one volume the Patch servant serves.
    let volume_of = |gateway: &Service| {
        let dir = gateway
            .env("TARS_PACKAGE_DIR")
            .map(String::from)
            .or_else(|| {
                stack
                    .image
                    .env
                    .get("TARS_DATA_DIR")
                    .map(|d| format!("{d}/patchs"))
            })
            .expect("a package directory");
        gateway
            .mounts()
            .into_iter()
            .find(|(source, target)| !is_host_path(source) && Path::new(&dir).starts_with(target))
            .map(|(source, _)| source)
            .unwrap_or_else(|| {
                panic!(
                    "{}: the package directory {dir} is on no volume",
                    gateway.name
                )
            })
    };
    let volumes: BTreeSet<String> = gateways.iter().map(|g| volume_of(g)).collect();
    assert_eq!(
        volumes.len(),
        1,
        "the gateways keep packages on {volumes:?}"
    );
    let runners = stack.running("tars-task-runner");
    for runner in &runners {
        let proxy = runner
            .env("TARS_PATCH_OBJ")
            .unwrap_or_else(|| panic!("{} names no Patch servant", runner.name));
        let (host, port) = proxy_host_port(proxy);
        for patch in stack.reach(
            &runner.name,
            "TARS_PATCH_OBJ",
            &host,
            port,
            Some("TARS_PATCH_ADDR"),
        ) {
            assert_eq!(patch.program(), "tars-gateway");
            let ip = runner.ipv4.unwrap_or_else(|| {
                panic!("{} needs a fixed address to be a Patch writer", runner.name)
            });
            assert!(
                contains(&networks(patch, "TARS_PATCH_WRITERS"), IpAddr::V4(ip)),
                "{}'s TARS_PATCH_WRITERS leaves out {} ({ip})",
                patch.name,
                runner.name
            );
        }
    }
    // The deployer and the task-runners find the nodes on TARS_NODE_PORT.
    let nodes = stack.running("tarsnode-sim");
    assert!(nodes.len() >= 2, "several simulated nodes: {nodes:?}");
    for caller in stack.running("tars-deployer").into_iter().chain(runners) {
        let port = setting(caller, "TARS_NODE_PORT");
        for node in &nodes {
            let ip = node
                .ipv4
                .unwrap_or_else(|| panic!("{} needs a fixed address: its node name", node.name));
            stack.reach(
                &caller.name,
                "TARS_NODE_PORT",
                &ip.to_string(),
                port as u16,
                None,
            );
        }
    }
}

/// A directive of nginx's configuration.
#[derive(Debug)]
struct Directive {
    name: String,
    args: Vec<String>,
    block: Vec<Directive>,
}

impl Directive {
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Directive> + 'a {
        self.block.iter().filter(move |d| d.name == name)
    }

    fn one(&self, name: &str) -> Option<&Directive> {
        self.block.iter().find(|d| d.name == name)
    }
}

/// nginx's configuration as a tree of directives: words, quoted strings, `{ … }` and `;`,
/// comments removed.
fn parse_nginx(text: &str) -> Directive {
    let mut tokens = Vec::new();
    for line in text.lines() {
        let mut chars = line.chars().peekable();
        let mut word = String::new();
        while let Some(c) = chars.next() {
            match c {
                '#' => break,
                '"' | '\'' => {
                    for q in chars.by_ref() {
                        if q == c {
                            break;
                        }
                        word.push(q);
                    }
                }
                '{' | '}' | ';' => {
                    if !word.is_empty() {
                        tokens.push(std::mem::take(&mut word));
                    }
                    tokens.push(c.to_string());
                }
                c if c.is_whitespace() => {
                    if !word.is_empty() {
                        tokens.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            tokens.push(word);
        }
    }
    fn block(tokens: &mut std::vec::IntoIter<String>, name: &str) -> Vec<Directive> {
        let mut out = Vec::new();
        let mut words = Vec::new();
        while let Some(token) = tokens.next() {
            match token.as_str() {
                ";" => {
                    let mut words = std::mem::take(&mut words).into_iter();
                    let name = words.next().expect("a directive before ;");
                    out.push(Directive {
                        name,
                        args: words.collect(),
                        block: Vec::new(),
                    });
                }
                "{" => {
                    let mut words = std::mem::take(&mut words).into_iter();
                    let name = words.next().expect("a directive before {");
                    let inner = block(tokens, &name);
                    out.push(Directive {
                        name,
                        args: words.collect(),
                        block: inner,
                    });
                }
                "}" => {
                    assert!(words.is_empty(), "nginx.conf: {words:?} lacks a ;");
                    return out;
                }
                _ => words.push(token),
            }
        }
        assert!(words.is_empty(), "nginx.conf: {words:?} lacks a ;");
        assert_eq!(name, "", "nginx.conf: the {name} block is not closed");
        out
    }
    Directive {
        name: String::new(),
        args: Vec::new(),
        block: block(&mut tokens.into_iter(), ""),
    }
}

/// nginx's size (`1g`, `512m`, `0`) in bytes.
fn nginx_size(text: &str) -> u64 {
    let (digits, unit) =
        text.split_at(text.find(|c: char| c.is_alphabetic()).unwrap_or(text.len()));
    let n: u64 = digits.parse().expect("a size");
    n * match unit.to_ascii_lowercase().as_str() {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        other => panic!("nginx.conf: unknown size unit {other:?}"),
    }
}

/// nginx's time (`620s`, `10m`, `60`) in milliseconds.
fn nginx_time_ms(text: &str) -> u64 {
    let (digits, unit) =
        text.split_at(text.find(|c: char| c.is_alphabetic()).unwrap_or(text.len()));
    let n: u64 = digits.parse().expect("a time");
    n * match unit {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        other => panic!("nginx.conf: unknown time unit {other:?}"),
    }
}

#[test]
fn nginx_balances_over_every_gateway_and_lets_uploads_and_long_calls_through() {
    let stack = stack();
    let nginx = stack.by_image("nginx");
    let file = nginx
        .host_file("/etc/nginx/nginx.conf")
        .expect("nginx mounts its configuration at /etc/nginx/nginx.conf");
    let conf = parse_nginx(&std::fs::read_to_string(&file).expect("nginx.conf"));
    let http = conf.one("http").expect("nginx.conf: an http block");
    let servers: Vec<&Directive> = http.all("server").collect();
    assert_eq!(servers.len(), 1, "nginx.conf: one server");
    let server = servers[0];

    // Published: the port nginx listens on, and only that.
    let listen = server.one("listen").expect("nginx.conf: listen");
    let listen_port = port_number(listen.args[0].rsplit(':').next().unwrap());
    let published = nginx.published();
    assert!(
        !published.is_empty() && published.iter().all(|(_, inside)| *inside == listen_port),
        "nginx listens on {listen_port}, the compose file publishes {published:?}"
    );

    // `location /` proxies to an upstream of exactly the gateways, round-robin.
    let root_location = server
        .all("location")
        .find(|l| l.args == ["/"])
        .expect("nginx.conf: location /");
    let pass = root_location.one("proxy_pass").expect("location / proxies");
    let upstream_name = pass.args[0]
        .strip_prefix("http://")
        .expect("proxy_pass http://<upstream>");
    let upstream = http
        .all("upstream")
        .find(|u| u.args == [upstream_name])
        .unwrap_or_else(|| panic!("nginx.conf: no upstream {upstream_name}"));
    for method in ["ip_hash", "hash", "least_conn", "random", "least_time"] {
        assert!(upstream.one(method).is_none(), "round-robin, not {method}");
    }
    let mut upstreams = BTreeSet::new();
    for entry in upstream.all("server") {
        let (host, port) = url_host_port(&entry.args[0]);
        for gateway in stack.reach("nginx", "its upstream", &host, port, Some("TARS_HTTP_ADDR")) {
            assert_eq!(gateway.program(), "tars-gateway", "nginx's upstream {host}");
            upstreams.insert(gateway.name.clone());
        }
        // nginx resolves its upstreams once, at start: they must exist by then.
        assert!(
            nginx.depends_on().iter().any(|(d, _)| *d == host),
            "nginx must wait for {host}"
        );
    }
    let gateways: BTreeSet<String> = stack
        .running("tars-gateway")
        .iter()
        .map(|g| g.name.clone())
        .collect();
    assert_eq!(upstreams, gateways, "nginx balances over every gateway");

    // The gateways count clients by X-Forwarded-For, which they take only from nginx.
    // proxy_set_header of a level replaces all of the levels above it.
    let headers = [root_location, server, http]
        .into_iter()
        .map(|level| level.all("proxy_set_header").collect::<Vec<_>>())
        .find(|h| !h.is_empty())
        .unwrap_or_default();
    assert!(
        headers
            .iter()
            .any(|h| h.args[0].eq_ignore_ascii_case("X-Forwarded-For")
                && h.args[1] == "$proxy_add_x_forwarded_for"),
        "nginx.conf: location / must set X-Forwarded-For"
    );
    let nginx_ip = nginx
        .ipv4
        .expect("nginx needs a fixed address to be a trusted proxy");
    for gateway in stack.running("tars-gateway") {
        assert!(
            contains(
                &networks(gateway, "TARS_TRUSTED_PROXIES"),
                IpAddr::V4(nginx_ip)
            ),
            "{}'s TARS_TRUSTED_PROXIES leaves out nginx ({nginx_ip})",
            gateway.name
        );
    }

    // What a level does not set it inherits; then nginx's defaults.
    let effective = |name: &str, default: &str| -> String {
        [root_location, server, http]
            .into_iter()
            .find_map(|level| level.one(name))
            .map(|d| d.args[0].clone())
            .unwrap_or_else(|| default.to_string())
    };
    let body = nginx_size(&effective("client_max_body_size", "1m"));
    let read_timeout = nginx_time_ms(&effective("proxy_read_timeout", "60s"));
    for gateway in stack.running("tars-gateway") {
        let upload = setting(gateway, "TARS_UPLOAD_MAX_BYTES");
        assert!(
            body == 0 || body >= upload,
            "nginx refuses bodies over {body} bytes, {} takes packages up to {upload}",
            gateway.name
        );
        let longest = setting(gateway, "TARS_BACKEND_TIMEOUT_MS")
            + setting(gateway, "TARS_PUBLISH_WAIT_MS")
                .max(setting(gateway, "TARS_RESOURCE_WAIT_MS"));
        assert!(
            read_timeout > longest,
            "nginx gives up after {read_timeout} ms, {} may answer after {longest} ms",
            gateway.name
        );
    }

    // /metrics is for Prometheus on the compose network, not for the clients of nginx.
    let metrics = server
        .all("location")
        .find(|l| l.args.last().map(String::as_str) == Some("/metrics"))
        .expect("nginx.conf: a location for /metrics that refuses it");
    let refused = metrics.one("deny").is_some_and(|d| d.args == ["all"])
        || metrics
            .one("return")
            .is_some_and(|r| r.args[0] == "403" || r.args[0] == "404");
    assert!(refused, "nginx.conf: /metrics must be refused: {metrics:?}");
}

#[test]
fn prometheus_scrapes_every_gateway_and_backend() {
    let stack = stack();
    let prometheus = stack.by_image("prometheus");
    let file = prometheus
        .host_file("/etc/prometheus/prometheus.yml")
        .expect("prometheus mounts its configuration at /etc/prometheus/prometheus.yml");
    let relative = file
        .strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let conf = yaml(&relative);
    let mut scraped = BTreeSet::new();
    for job in conf["scrape_configs"].as_array().expect("scrape_configs") {
        let path = job["metrics_path"].as_str().unwrap_or("/metrics");
        assert_eq!(job["scheme"].as_str().unwrap_or("http"), "http");
        for group in job["static_configs"].as_array().expect("static_configs") {
            for target in group["targets"].as_array().expect("targets") {
                let target = target.as_str().expect("host:port");
                let (host, port) = url_host_port(target);
                let services = stack.reach("prometheus", "a target", &host, port, None);
                assert_eq!(
                    services.len(),
                    1,
                    "{target} is one service, not {services:?}"
                );
                scraped.insert(format!("{target}{path}"));
            }
        }
    }
    let mut expected = BTreeSet::new();
    for service in stack.ours() {
        let listener = if service.program() == "tars-gateway" {
            service.listener("TARS_HTTP_ADDR")
        } else {
            service.listener("TARS_METRICS_ADDR")
        };
        if let Some(addr) = listener {
            expected.insert(format!("{}:{}/metrics", service.name, addr.port()));
            // TARS_METRICS_ALLOW must let Prometheus in; it has no fixed address.
            let allowed = networks(service, "TARS_METRICS_ALLOW");
            let from = prometheus
                .ipv4
                .map(|ip| IpNet::from(IpAddr::V4(ip)))
                .unwrap_or(stack.subnet());
            assert!(
                allowed.iter().any(|net| net.contains(&from)),
                "{}: TARS_METRICS_ALLOW {allowed:?} does not let Prometheus ({from}) in",
                service.name
            );
        }
    }
    for backend in ["tars-deployer", "tars-task-runner", "tars-monitor"] {
        for service in stack.running(backend) {
            assert!(
                service.listener("TARS_METRICS_ADDR").is_some(),
                "{} has no TARS_METRICS_ADDR",
                service.name
            );
        }
    }
    assert_eq!(scraped, expected, "prometheus.yml's targets");
}

#[test]
fn only_nginx_and_the_two_web_interfaces_are_published() {
    let stack = stack();
    let nginx = stack.by_image("nginx").name.clone();
    let allowed: BTreeMap<String, Vec<u16>> = [
        (stack.by_image("jaeger").name.clone(), vec![16686]),
        (stack.by_image("prometheus").name.clone(), vec![9090]),
    ]
    .into();
    for service in stack.services.values() {
        let inside: Vec<u16> = service.published().iter().map(|(_, c)| *c).collect();
        if service.name == nginx || inside.is_empty() {
            continue;
        }
        assert_eq!(
            allowed.get(&service.name),
            Some(&inside),
            "{} publishes {inside:?}",
            service.name
        );
    }
}

/// The README's "The development stack": the section's text.
fn walkthrough() -> String {
    let readme = read("README.md");
    let start = readme
        .find("\n## The development stack")
        .expect("README.md has a section \"The development stack\"");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    rest[..end].to_string()
}

#[test]
fn the_readme_walkthrough_runs_against_the_stack() {
    let stack = stack();
    let text = walkthrough();
    let mut execs = 0;
    for line in text.lines() {
        let mut rest = line;
        while let Some(at) = rest
            .find("docker compose exec ")
            .or_else(|| rest.find("docker compose run "))
        {
            rest = &rest[at..];
            let words: Vec<String> = rest
                .split_whitespace()
                .skip(3)
                .map(|w| w.trim_matches(['"', '\'']).to_string())
                .take_while(|w| !w.starts_with(')') && w != "|" && w != "&&" && w != ";")
                .map(|w| w.trim_end_matches(')').to_string())
                .collect();
            let mut words = words.into_iter().peekable();
            // Options of exec/run; some take a value.
            while let Some(option) = words.next_if(|w| w.starts_with('-')) {
                if ["-e", "--env", "-u", "--user", "-w", "--workdir", "--index"]
                    .contains(&option.as_str())
                {
                    words.next();
                }
            }
            let service = words.next().expect("a service after docker compose exec");
            let command: Vec<String> = words.collect();
            let service = stack.service(&service);
            assert!(
                service.ours,
                "{line}: {} runs none of our programs",
                service.name
            );
            assert_runs(service, &command, line);
            execs += 1;
            rest = &rest[1..];
        }
    }
    assert!(
        execs >= 2,
        "the walk-through creates a ticket and grants a role"
    );
    // Every address of this machine it opens is one the stack publishes.
    let published: BTreeSet<u16> = stack
        .services
        .values()
        .flat_map(|s| s.published())
        .map(|(host, _)| host)
        .collect();
    for prefix in ["http://127.0.0.1:", "http://localhost:"] {
        for (at, _) in text.match_indices(prefix) {
            let digits: String = text[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let port = port_number(&digits);
            assert!(
                published.contains(&port),
                "the walk-through opens port {port}, the stack publishes {published:?}"
            );
        }
    }
}
