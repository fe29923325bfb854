//! Input rules shared by the operations: what a TARS name, node, set or port may be.
//!
//! Names end up in tree node ids (`1App.5Server`), servant names (`App.Server.Obj`) and
//! file paths on nodes, so dots, slashes and spaces are refused up front.

use super::limits::{self, Column};
use crate::error::{DeployerError, DeployerResult};

/// Server types TARS's `t_server_conf.server_type` accepts.
pub const SERVER_TYPES: [&str; 6] = [
    "tars_cpp",
    "tars_java",
    "tars_nodejs",
    "tars_php",
    "tars_go",
    "not_tars",
];

/// A non-empty application, server or object name of letters, digits and `_` / `-`, at
/// most as long as the widest column a name is kept in (names only looked up need no
/// more); a name that is written goes through [`stored_name`] with its column.
pub fn name(param: &str, value: &str) -> DeployerResult<()> {
    if value.is_empty() {
        return Err(DeployerError::bad_param(param, "is required"));
    }
    if value.len() > 128 {
        return Err(DeployerError::bad_param(
            param,
            "is longer than 128 characters",
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(DeployerError::bad_param(
            param,
            format!("`{value}` may contain only letters, digits, `_` and `-`"),
        ));
    }
    Ok(())
}

/// A [`name`] that fits `column`, where it is written.
pub fn stored_name(param: &str, value: &str, column: &Column) -> DeployerResult<()> {
    limits::text(param, value, column)?;
    name(param, value)
}

/// A node name: an IP address or host name, as long as the node columns hold (every
/// table keeping a node name gives it 50 characters).
pub fn node_name(param: &str, value: &str) -> DeployerResult<()> {
    limits::text(param, value, &limits::server_conf::NODE_NAME)?;
    host(param, value)
}

/// An IP address or host name of any length (an address that is only part of an
/// endpoint is limited by the endpoint's column).
pub fn host(param: &str, value: &str) -> DeployerResult<()> {
    if value.is_empty() {
        return Err(DeployerError::bad_param(param, "is required"));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return Err(DeployerError::bad_param(
            param,
            format!("`{value}` is not an IP address or host name"),
        ));
    }
    Ok(())
}

/// A server type TARS knows.
pub fn server_type(value: &str) -> DeployerResult<()> {
    if SERVER_TYPES.contains(&value) {
        Ok(())
    } else {
        Err(DeployerError::bad_param(
            "server_type",
            format!("`{value}` is not one of {}", SERVER_TYPES.join(", ")),
        ))
    }
}

/// The three set fields of a set-enabled server or of a file in a set, each fitting its
/// column in `columns` (name, area, group): name and area are letters and digits, the
/// group a number or `*` (TARS routes by `name.area.group`).
pub fn set_fields(
    set_name: &str,
    set_area: &str,
    set_group: &str,
    columns: &[Column; 3],
) -> DeployerResult<()> {
    let given = [
        ("set_name", set_name),
        ("set_area", set_area),
        ("set_group", set_group),
    ];
    for ((param, value), column) in given.iter().zip(columns) {
        if value.is_empty() {
            return Err(DeployerError::bad_param(
                param,
                "is required when enable_set is true",
            ));
        }
        limits::text(param, value, column)?;
    }
    for (param, value) in &given[..2] {
        if !value.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DeployerError::bad_param(
                param,
                format!("`{value}` must be letters or digits"),
            ));
        }
    }
    if set_group != "*" && !set_group.chars().all(|c| c.is_ascii_digit()) {
        return Err(DeployerError::bad_param(
            "set_group",
            format!("`{set_group}` must be a number or `*`"),
        ));
    }
    Ok(())
}

/// A TCP/UDP port.
pub fn port(param: &str, value: i64) -> DeployerResult<u16> {
    u16::try_from(value)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| DeployerError::bad_param(param, format!("{value} is not a port (1-65535)")))
}

/// A TARS endpoint string such as `tcp -h 10.0.0.5 -t 60000 -p 10001 -e 0`: a transport
/// word followed by `-h <host>` and `-p <port>` at least.
pub fn endpoint(param: &str, value: &str) -> DeployerResult<()> {
    let mut words = value.split_whitespace();
    let transport = words.next().unwrap_or_default();
    if !matches!(transport, "tcp" | "udp" | "ssl") {
        return Err(DeployerError::bad_param(
            param,
            format!("`{value}` must start with tcp, udp or ssl, e.g. `tcp -h 10.0.0.5 -p 10001 -t 60000`"),
        ));
    }
    let mut host = None;
    let mut port_value = None;
    while let Some(flag) = words.next() {
        let arg = words.next();
        match flag {
            "-h" => host = arg,
            "-p" => port_value = arg,
            _ => {}
        }
    }
    if host.is_none_or(str::is_empty) {
        return Err(DeployerError::bad_param(
            param,
            format!("`{value}` has no `-h <host>`"),
        ));
    }
    match port_value.and_then(|p| p.parse::<u16>().ok()) {
        Some(p) if p != 0 => Ok(()),
        _ => Err(DeployerError::bad_param(
            param,
            format!("`{value}` has no valid `-p <port>`"),
        )),
    }
}

/// The port of an endpoint string, when it has one.
pub fn endpoint_port(endpoint: &str) -> Option<u16> {
    let mut words = endpoint.split_whitespace();
    while let Some(word) = words.next() {
        if word == "-p" {
            return words.next().and_then(|p| p.parse().ok());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_dots_and_slashes() {
        assert!(name("application", "Test_App-1").is_ok());
        assert!(name("application", "").is_err());
        assert!(name("application", "a.b").is_err());
        assert!(name("application", "../x").is_err());
    }

    #[test]
    fn endpoints_need_host_and_port() {
        assert!(endpoint("endpoint", "tcp -h 10.0.0.5 -t 60000 -p 10001 -e 0").is_ok());
        assert!(endpoint("endpoint", "tcp -h 10.0.0.5").is_err());
        assert!(endpoint("endpoint", "http -h a -p 1").is_err());
        assert!(endpoint("endpoint", "tcp -h a -p 70000").is_err());
        assert_eq!(endpoint_port("tcp -h a -t 1 -p 8080 -e 0"), Some(8080));
    }

    #[test]
    fn set_group_is_numeric_or_star() {
        let columns = &limits::SERVER_SET;
        assert!(set_fields("mtt", "sz", "1", columns).is_ok());
        assert!(set_fields("mtt", "sz", "*", columns).is_ok());
        assert!(set_fields("mtt", "sz", "x", columns).is_err());
        assert!(set_fields("", "sz", "1", columns).is_err());
    }

    #[test]
    fn set_fields_follow_their_columns() {
        let group = "1".repeat(64);
        assert!(set_fields("mtt", "sz", &group, &limits::SERVER_SET).is_ok());
        let err = set_fields("mtt", "sz", &group, &limits::CONFIG_SET).unwrap_err();
        assert!(
            err.to_string().contains("t_config_files.set_group"),
            "{err}"
        );
        let err = set_fields(&"m".repeat(17), "sz", "1", &limits::SERVER_SET).unwrap_err();
        assert!(err.to_string().contains("16 characters"), "{err}");
    }

    #[test]
    fn stored_names_follow_their_column() {
        let column = &limits::adapter_conf::APPLICATION;
        assert!(stored_name("application", &"A".repeat(50), column).is_ok());
        let err = stored_name("application", &"A".repeat(51), column).unwrap_err();
        assert!(
            err.to_string().contains("t_adapter_conf.application"),
            "{err}"
        );
        assert!(stored_name("application", "", column).is_err());
        assert!(node_name("node_name", &"n".repeat(51)).is_err());
        assert!(host("bind_ip", &"n".repeat(51)).is_ok());
    }
}
