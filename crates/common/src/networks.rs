//! Lists of address blocks in configuration (`TARS_TRUSTED_PROXIES`,
//! `TARS_PATCH_WRITERS`): CIDR blocks or single addresses, separated by commas or spaces.

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
