//! TARS endpoint strings: `tcp -h 10.0.0.5 -p 19385 -t 60000`, optionally behind an
//! object name (`tars.tarsnode.NodeObj@tcp -h … -p …`), several joined by `:`.

use std::fmt;

/// One network endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// `tcp`, `udp` or `ssl`.
    pub transport: String,
    /// Host name or IP (`-h`).
    pub host: String,
    /// Port (`-p`).
    pub port: u16,
    /// Idle timeout in milliseconds (`-t`), when given.
    pub timeout_ms: Option<u64>,
}

impl Endpoint {
    /// `host:port`, for connecting.
    pub fn socket_addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -h {} -p {}", self.transport, self.host, self.port)?;
        if let Some(t) = self.timeout_ms {
            write!(f, " -t {t}")?;
        }
        Ok(())
    }
}

/// Why an endpoint string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid TARS endpoint {input:?}: {reason}")]
pub struct EndpointError {
    input: String,
    reason: String,
}

fn error(input: &str, reason: impl Into<String>) -> EndpointError {
    EndpointError {
        input: input.to_string(),
        reason: reason.into(),
    }
}

/// Parses one endpoint (`tcp -h host -p port [-t ms] [other flags]`).
pub fn parse_endpoint(input: &str) -> Result<Endpoint, EndpointError> {
    let mut words = input.split_whitespace();
    let transport = words
        .next()
        .ok_or_else(|| error(input, "empty"))?
        .to_ascii_lowercase();
    if !matches!(transport.as_str(), "tcp" | "udp" | "ssl") {
        return Err(error(input, "transport must be tcp, udp or ssl"));
    }
    let (mut host, mut port, mut timeout_ms) = (None, None, None);
    while let Some(flag) = words.next() {
        if !flag.starts_with('-') {
            return Err(error(input, format!("unexpected word {flag:?}")));
        }
        // Flags without a value (e.g. `-d`) are followed directly by the next flag.
        let value = match words.clone().next() {
            Some(next) if !next.starts_with('-') || next.parse::<i64>().is_ok() => words.next(),
            _ => None,
        };
        match flag {
            "-h" => {
                host = Some(
                    value
                        .ok_or_else(|| error(input, "-h needs a host"))?
                        .to_string(),
                )
            }
            "-p" => {
                let v = value.ok_or_else(|| error(input, "-p needs a port"))?;
                port = Some(
                    v.parse::<u16>()
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or_else(|| error(input, format!("bad port {v:?}")))?,
                );
            }
            "-t" => {
                let v = value.ok_or_else(|| error(input, "-t needs milliseconds"))?;
                timeout_ms = Some(
                    v.parse::<u64>()
                        .map_err(|_| error(input, format!("bad timeout {v:?}")))?,
                );
            }
            _ => {}
        }
    }
    Ok(Endpoint {
        transport,
        host: host.ok_or_else(|| error(input, "no -h <host>"))?,
        port: port.ok_or_else(|| error(input, "no -p <port>"))?,
        timeout_ms,
    })
}

/// A servant proxy string: an object name and its endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjProxy {
    /// e.g. `tars.tarsnode.NodeObj`.
    pub obj: String,
    /// Where it listens.
    pub endpoints: Vec<Endpoint>,
}

/// Parses `Obj@ep1:ep2`.
pub fn parse_obj_proxy(input: &str) -> Result<ObjProxy, EndpointError> {
    let (obj, rest) = input
        .split_once('@')
        .ok_or_else(|| error(input, "no `@` between object and endpoints"))?;
    let obj = obj.trim();
    if obj.is_empty() {
        return Err(error(input, "empty object name"));
    }
    let endpoints = rest
        .split(':')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_endpoint(s.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    if endpoints.is_empty() {
        return Err(error(input, "no endpoint"));
    }
    Ok(ObjProxy {
        obj: obj.to_string(),
        endpoints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_node_object_proxy() {
        let p = parse_obj_proxy("tars.tarsnode.NodeObj@tcp -h 10.0.0.5 -p 19385 -t 60000").unwrap();
        assert_eq!(p.obj, "tars.tarsnode.NodeObj");
        assert_eq!(
            p.endpoints,
            vec![Endpoint {
                transport: "tcp".into(),
                host: "10.0.0.5".into(),
                port: 19385,
                timeout_ms: Some(60000)
            }]
        );
        assert_eq!(p.endpoints[0].socket_addr(), "10.0.0.5:19385");
    }

    #[test]
    fn several_endpoints_and_extra_flags() {
        let p = parse_obj_proxy("A.B.C@tcp -h a -p 1 -e 0:udp -h b -t 5 -p 2").unwrap();
        assert_eq!(p.endpoints.len(), 2);
        assert_eq!(p.endpoints[1].port, 2);
        assert_eq!(p.endpoints[1].transport, "udp");
    }

    #[test]
    fn refuses_malformed_strings() {
        for bad in [
            "",
            "tcp -h a",
            "tcp -p 1",
            "http -h a -p 1",
            "tcp -h a -p 0",
            "tcp -h a -p x",
            "tcp -h a -p 1 junk",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad:?}");
        }
        assert!(parse_obj_proxy("tcp -h a -p 1").is_err());
        assert!(parse_obj_proxy("@tcp -h a -p 1").is_err());
    }
}
