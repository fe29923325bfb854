//! Who may write through the Patch servant: an allow-list of peer addresses
//! (`TARS_PATCH_WRITERS`), as CIDR blocks or single addresses.

/// The peers allowed to call `upload`, `preparePatchFile` and `deletePatchFile`
/// (`none`: a read-only servant).
pub type Writers = tars_common::networks::AllowList;

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_default_is_loopback_only() {
        let w = Writers::default();
        for yes in ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"] {
            assert!(w.allows(ip(yes)), "{yes}");
        }
        for no in ["10.0.0.1", "128.0.0.1", "::2", "fe80::1", "0.0.0.0"] {
            assert!(!w.allows(ip(no)), "{no}");
        }
        assert_eq!(w.to_string(), "127.0.0.0/8,::1/128");
    }

    #[test]
    fn blocks_and_single_addresses() {
        let w = Writers::parse(" 10.1.0.0/16, 192.168.5.7 ,fd00::/8,[2001:db8::1]").unwrap();
        assert!(w.allows(ip("10.1.200.3")));
        assert!(!w.allows(ip("10.2.0.1")));
        assert!(w.allows(ip("192.168.5.7")));
        assert!(!w.allows(ip("192.168.5.8")));
        assert!(w.allows(ip("fd12::5")));
        assert!(w.allows(ip("2001:db8::1")));
        assert!(!w.allows(ip("127.0.0.1")), "loopback is not implied");
        assert!(Writers::parse("0.0.0.0/0").unwrap().allows(ip("8.8.8.8")));
        let none = Writers::parse("none").unwrap();
        assert!(!none.allows(ip("127.0.0.1")));
        assert_eq!(none.to_string(), "none");
    }

    #[test]
    fn mistakes_are_refused_with_the_entry_named() {
        for bad in [
            "10.0.0.0/33",
            "10.1.2.3/8",
            "host.example",
            "10.0.0.0/x",
            ",",
            "::1/129",
        ] {
            let err = Writers::parse(bad).unwrap_err();
            assert!(!err.is_empty(), "{bad}");
        }
        assert!(Writers::parse("10.0.0.0/8,nope")
            .unwrap_err()
            .contains("nope"));
    }
}
