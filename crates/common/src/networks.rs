//! Lists of address blocks in configuration (`TARS_TRUSTED_PROXIES`,
//! `TARS_PATCH_WRITERS`, `TARS_METRICS_ALLOW`): CIDR blocks or single addresses,
//! separated by commas or spaces; [`AllowList`] for the ones that decide who may call.

use std::fmt;
use std::net::IpAddr;

pub use ipnet::IpNet;

/// Parses `10.0.0.0/8, 192.168.1.7 ::1`: a bare address is a block of one. A block with
/// address bits set past its prefix (`10.1.2.3/8`) is refused rather than silently
/// widened.
///
/// # Errors
/// Naming the first entry that is neither a block nor an address.
pub fn parse_networks(text: &str) -> Result<Vec<IpNet>, String> {
    text.split([',', ' ', '\t', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| {
                    item.trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<IpAddr>()
                        .map(IpNet::from)
                })
                .map_err(|_| {
                    format!("`{item}` is neither a CIDR block (10.0.0.0/8) nor an address")
                })?;
            if net != net.trunc() {
                return Err(format!(
                    "`{item}` has address bits set past its prefix; did you mean {}?",
                    net.trunc()
                ));
            }
            Ok(net)
        })
        .collect()
}

/// Whether `ip` lies in one of `nets` (an IPv4-mapped IPv6 address counts as IPv4, as a
/// dual-stack listener reports IPv4 peers).
pub fn contains(nets: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    nets.iter().any(|net| net.contains(&ip))
}

/// Who may call something, by TCP peer address: blocks and addresses, or nobody
/// (`none`). `TARS_PATCH_WRITERS` and `TARS_METRICS_ALLOW` are such lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList {
    nets: Vec<IpNet>,
}

impl Default for AllowList {
    /// Loopback only: [`AllowList::DEFAULT`].
    fn default() -> AllowList {
        AllowList::parse(AllowList::DEFAULT).expect("valid")
    }
}

impl AllowList {
    /// Loopback only, the default of every allow-list: `127.0.0.0/8` and `::1`.
    pub const DEFAULT: &'static str = "127.0.0.0/8,::1";

    /// Parses blocks and addresses ([`parse_networks`]); `none` allows nobody.
    ///
    /// # Errors
    /// Naming the first entry that is not an address or block, or an empty list.
    pub fn parse(text: &str) -> Result<AllowList, String> {
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(AllowList { nets: Vec::new() });
        }
        let nets = parse_networks(text)?;
        if nets.is_empty() {
            return Err("lists no address; give CIDR blocks or addresses, or `none`".into());
        }
        Ok(AllowList { nets })
    }

    /// Whether the peer `ip` is allowed.
    pub fn allows(&self, ip: IpAddr) -> bool {
        contains(&self.nets, ip)
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nets.is_empty() {
            return f.write_str("none");
        }
        for (i, net) in self.nets.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_and_bare_addresses() {
        let nets = parse_networks("10.0.0.0/8, 192.168.1.7 ::1,fd00::/8").unwrap();
        assert_eq!(nets.len(), 4);
        assert!(contains(&nets, ip("10.1.2.3")));
        assert!(contains(&nets, ip("192.168.1.7")));
        assert!(!contains(&nets, ip("192.168.1.8")));
        assert!(contains(&nets, ip("::1")));
        assert!(contains(&nets, ip("::ffff:10.0.0.9")), "IPv4-mapped");
        assert!(parse_networks("").unwrap().is_empty());
        let err = parse_networks("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
        let err = parse_networks("10.1.2.3/8").unwrap_err();
        assert!(err.contains("10.0.0.0/8"), "{err}");
        assert!(parse_networks("10.0.0.0/33").is_err());
    }
}
