//! The machines of a request: IPv4 or IPv6 literals and nothing else, so no text a client
//! sends can reach a remote shell (an IP's canonical text is digits, hex, `.` and `:`).

use std::collections::HashSet;
use std::net::IpAddr;

/// The most machines one request may name.
pub const MAX_IPS: usize = 256;

/// One machine address, checked: an IPv4 or IPv6 literal that can be a machine (not
/// unspecified, multicast or broadcast).
pub fn parse_ip(text: &str) -> Result<IpAddr, String> {
    let ip: IpAddr = text.trim().parse().map_err(|_| {
        format!("`{text}` is not an IP address (an IPv4 or IPv6 literal such as 10.0.0.5)")
    })?;
    let unusable = ip.is_unspecified()
        || ip.is_multicast()
        || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    if unusable {
        return Err(format!("`{text}` is not the address of a machine"));
    }
    Ok(ip)
}

/// A request's list of machines: each an IP ([`parse_ip`]), none twice, at least one and
/// at most [`MAX_IPS`]. Errors say which entry is wrong.
pub fn parse_ips(items: &[String]) -> Result<Vec<IpAddr>, String> {
    if items.is_empty() {
        return Err("is required: machine IPs separated by `;`".into());
    }
    if items.len() > MAX_IPS {
        return Err(format!(
            "names {} machines; at most {MAX_IPS} at a time",
            items.len()
        ));
    }
    let mut seen = HashSet::new();
    items
        .iter()
        .map(|item| {
            let ip = parse_ip(item)?;
            if !seen.insert(ip) {
                return Err(format!("lists {ip} twice"));
            }
            Ok(ip)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_ip_literals() {
        let ips = parse_ips(&texts(&["10.0.0.5", " ::1 ", "fe80::1"])).unwrap();
        assert_eq!(
            ips.iter().map(IpAddr::to_string).collect::<Vec<_>>(),
            ["10.0.0.5", "::1", "fe80::1"]
        );
        for bad in [
            "host.example",
            "10.0.0.5; rm -rf /",
            "$(reboot)",
            "10.0.0.5 10.0.0.6",
            "10.0.0",
            "10.0.0.256",
            "fe80::1%eth0",
            "[::1]",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "255.255.255.255",
            "",
        ] {
            assert!(parse_ips(&texts(&[bad])).is_err(), "{bad:?}");
        }
        assert!(parse_ips(&[]).is_err());
        assert!(parse_ips(&texts(&["10.0.0.5", "10.0.0.5"]))
            .unwrap_err()
            .contains("twice"));
        let many: Vec<String> = (0..=MAX_IPS)
            .map(|i| format!("10.1.{}.{}", i / 200, i % 200 + 1))
            .collect();
        assert!(parse_ips(&many).is_err());
    }
}
