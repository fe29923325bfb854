//! Throttling of failed ticket checks per client address.
//!
//! Each address has a bucket of `per_minute` failures, refilled evenly over a minute; a
//! failure takes one. While an address's bucket is empty its failures answer 429 with
//! `Retry-After`, and tickets the gateway does not hold in memory are not looked up for
//! it. Valid tickets are never refused by the throttle.
//!
//! IPv6 clients are counted by /64 (one host usually holds a whole /64), IPv4 clients by
//! address. The table holds at most `max_addresses` buckets: when it is full, buckets
//! that have refilled (equivalent to no entry) are dropped; if every entry is still in
//! use, failures from addresses not yet in the table are refused as throttled until room
//! frees up. Memory is therefore bounded whatever the number of addresses.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tars_common::networks::IpNet;

/// The most addresses tracked at once (about 100 bytes each).
pub const MAX_ADDRESSES: usize = 65_536;

/// How often a full table may be swept for refilled buckets.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// What the throttle allows for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on: check the ticket / answer 401.
    Allowed,
    /// Too many failures: answer 429, retry after this long.
    Throttled {
        /// Until the next failure is allowed again.
        retry_after: Duration,
    },
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    /// Whether this episode of throttling was logged (until the bucket is full again).
    logged: bool,
}

struct Table {
    buckets: HashMap<IpAddr, Bucket>,
    last_sweep: Option<Instant>,
}

/// Failed-authentication counters by client address.
pub struct FailureThrottle {
    /// Bucket size; 0 = off.
    capacity: f64,
    /// Tokens per second.
    refill: f64,
    max_addresses: usize,
    table: Mutex<Table>,
}

/// The key an address is counted under: IPv4 as is, IPv6 by /64.
fn key(addr: IpAddr) -> IpAddr {
    match addr.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(Ipv6Addr::from(segments))
        }
    }
}

impl FailureThrottle {
    /// Allows `per_minute` failures per address and minute (0: no throttle), tracking at
    /// most `max_addresses` addresses.
    pub fn new(per_minute: u32, max_addresses: usize) -> FailureThrottle {
        FailureThrottle {
            capacity: f64::from(per_minute),
            refill: f64::from(per_minute) / 60.0,
            max_addresses: max_addresses.max(1),
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    fn enabled(&self) -> bool {
        self.capacity > 0.0
    }

    /// How long until a bucket holding `tokens` has one.
    fn wait_for_one(&self, tokens: f64) -> Duration {
        let seconds = ((1.0 - tokens) / self.refill).max(0.0);
        // Whole seconds for Retry-After, never 0 while throttled.
        Duration::from_secs((seconds.ceil() as u64).max(1))
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> Bucket {
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        let tokens = (bucket.tokens + elapsed * self.refill).min(self.capacity);
        Bucket {
            tokens,
            updated: now,
            logged: bucket.logged && tokens < self.capacity,
        }
    }

    /// Whether `addr` may fail now, without counting anything.
    pub fn check(&self, addr: IpAddr, now: Instant) -> Verdict {
        if !self.enabled() {
            return Verdict::Allowed;
        }
        let table = self.table.lock().expect("throttle table poisoned");
        match table.buckets.get(&key(addr)) {
            Some(bucket) => {
                let bucket = self.refilled(*bucket, now);
                if bucket.tokens >= 1.0 {
                    Verdict::Allowed
                } else {
                    Verdict::Throttled {
                        retry_after: self.wait_for_one(bucket.tokens),
                    }
                }
            }
            // A new address: even with the table full, room may be found by a sweep.
            None => Verdict::Allowed,
        }
    }

    /// Counts one failed ticket check of `addr`: `Allowed` when it was within the
    /// budget (answer 401), `Throttled` when not (answer 429).
    pub fn record_failure(&self, addr: IpAddr, now: Instant) -> Verdict {
        if !self.enabled() {
            return Verdict::Allowed;
        }
        let key = key(addr);
        let mut table = self.table.lock().expect("throttle table poisoned");
        if !table.buckets.contains_key(&key) && table.buckets.len() >= self.max_addresses {
            let due = table
                .last_sweep
                .is_none_or(|last| now.saturating_duration_since(last) >= SWEEP_INTERVAL);
            if due {
                table.last_sweep = Some(now);
                let capacity = self.capacity;
                table
                    .buckets
                    .retain(|_, bucket| self.refilled(*bucket, now).tokens < capacity);
            }
            if table.buckets.len() >= self.max_addresses {
                return Verdict::Throttled {
                    retry_after: self.wait_for_one(0.0),
                };
            }
        }
        let bucket = table.buckets.entry(key).or_insert(Bucket {
            tokens: self.capacity,
            updated: now,
            logged: false,
        });
        *bucket = self.refilled(*bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            if bucket.tokens < 1.0 && !bucket.logged {
                bucket.logged = true;
                tracing::warn!(
                    client = %addr,
                    per_minute = self.capacity,
                    "too many failed ticket checks from one address; its failures now answer 429"
                );
            }
            Verdict::Allowed
        } else {
            Verdict::Throttled {
                retry_after: self.wait_for_one(bucket.tokens),
            }
        }
    }

    /// Addresses currently tracked.
    pub fn tracked(&self) -> usize {
        self.table
            .lock()
            .expect("throttle table poisoned")
            .buckets
            .len()
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the last
/// address of `X-Forwarded-For` that is not a trusted proxy (the rightmost entries are
/// the ones our proxies appended; anything left of the first untrusted hop is the
/// client's word and is ignored). An entry that is not an address ends the walk at the
/// hop before it.
pub fn client_address(
    peer: Option<SocketAddr>,
    headers: &http::HeaderMap,
    trusted: &[IpNet],
) -> IpAddr {
    let peer = peer
        .map(|p| p.ip().to_canonical())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = ip;
        if !is_trusted(&ip) {
            return ip;
        }
    }
    client
}

/// `203.0.113.7`, `2001:db8::1`, `203.0.113.7:4711` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_is_allowed_then_failures_are_throttled_until_refilled() {
        let throttle = FailureThrottle::new(6, 100);
        let t0 = Instant::now();
        let a = ip("192.0.2.1");
        for _ in 0..6 {
            assert_eq!(throttle.check(a, t0), Verdict::Allowed);
            assert_eq!(throttle.record_failure(a, t0), Verdict::Allowed);
        }
        // 6 per minute: one every 10 s.
        let throttled = Verdict::Throttled {
            retry_after: Duration::from_secs(10),
        };
        assert_eq!(throttle.check(a, t0), throttled);
        assert_eq!(throttle.record_failure(a, t0), throttled);
        // Another address is not affected.
        assert_eq!(
            throttle.record_failure(ip("192.0.2.2"), t0),
            Verdict::Allowed
        );
        let later = t0 + Duration::from_secs(4);
        assert_eq!(
            throttle.check(a, later),
            Verdict::Throttled {
                retry_after: Duration::from_secs(6)
            }
        );
        let refilled = t0 + Duration::from_secs(10);
        assert_eq!(throttle.check(a, refilled), Verdict::Allowed);
        assert_eq!(throttle.record_failure(a, refilled), Verdict::Allowed);
        assert!(matches!(
            throttle.record_failure(a, refilled),
            Verdict::Throttled { .. }
        ));
    }

    #[test]
    fn zero_per_minute_turns_the_throttle_off() {
        let throttle = FailureThrottle::new(0, 10);
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(
                throttle.record_failure(ip("192.0.2.1"), now),
                Verdict::Allowed
            );
        }
        assert_eq!(throttle.tracked(), 0);
    }

    #[test]
    fn ipv6_is_counted_by_64_prefix() {
        let throttle = FailureThrottle::new(2, 100);
        let now = Instant::now();
        assert_eq!(
            throttle.record_failure(ip("2001:db8:1:2::1"), now),
            Verdict::Allowed
        );
        assert_eq!(
            throttle.record_failure(ip("2001:db8:1:2:ffff::9"), now),
            Verdict::Allowed
        );
        assert!(matches!(
            throttle.record_failure(ip("2001:db8:1:2::abcd"), now),
            Verdict::Throttled { .. }
        ));
        assert_eq!(
            throttle.record_failure(ip("2001:db8:1:3::1"), now),
            Verdict::Allowed
        );
        // IPv4-mapped IPv6 is the IPv4 address.
        assert_eq!(
            throttle.record_failure(ip("192.0.2.9"), now),
            Verdict::Allowed
        );
        assert_eq!(
            throttle.record_failure(ip("::ffff:192.0.2.9"), now),
            Verdict::Allowed
        );
        assert!(matches!(
            throttle.record_failure(ip("192.0.2.9"), now),
            Verdict::Throttled { .. }
        ));
    }

    #[test]
    fn the_table_never_grows_past_its_bound() {
        let throttle = FailureThrottle::new(60, 1000);
        let t0 = Instant::now();
        for i in 0..5000u32 {
            let addr = IpAddr::from((0x0a00_0000u32 + i).to_be_bytes());
            throttle.record_failure(addr, t0);
            assert!(throttle.tracked() <= 1000);
        }
        assert_eq!(throttle.tracked(), 1000);
        // A new address while every tracked one is still counting: refused, not added.
        assert!(matches!(
            throttle.record_failure(ip("192.0.2.1"), t0),
            Verdict::Throttled { .. }
        ));
        // Once the tracked addresses have refilled (one failure each: a second), the
        // sweep frees their room.
        let later = t0 + Duration::from_secs(2);
        assert_eq!(
            throttle.record_failure(ip("192.0.2.1"), later),
            Verdict::Allowed
        );
        assert_eq!(throttle.tracked(), 1);
    }

    #[test]
    fn forwarded_for_is_used_only_behind_trusted_proxies() {
        let trusted = tars_common::networks::parse_networks("10.0.0.0/8, ::1").unwrap();
        let peer = |s: &str| Some(SocketAddr::new(ip(s), 4000));
        let headers = |values: &[&str]| {
            let mut map = http::HeaderMap::new();
            for v in values {
                map.append("x-forwarded-for", v.parse().unwrap());
            }
            map
        };
        let xff = headers(&["198.51.100.1, 203.0.113.5"]);
        // Not from a proxy: the header is the client's word, ignored.
        assert_eq!(
            client_address(peer("192.0.2.7"), &xff, &trusted),
            ip("192.0.2.7")
        );
        assert_eq!(
            client_address(peer("192.0.2.7"), &xff, &[]),
            ip("192.0.2.7")
        );
        // From a proxy: the last untrusted hop, not the leftmost (spoofable) one.
        assert_eq!(
            client_address(peer("10.0.0.2"), &xff, &trusted),
            ip("203.0.113.5")
        );
        // Trusted hops are skipped, across several headers.
        let chain = headers(&["198.51.100.1", "203.0.113.5, 10.1.1.1", "10.2.2.2"]);
        assert_eq!(
            client_address(peer("10.0.0.2"), &chain, &trusted),
            ip("203.0.113.5")
        );
        // Every hop trusted: the leftmost.
        let inner = headers(&["10.9.9.9, 10.1.1.1"]);
        assert_eq!(
            client_address(peer("10.0.0.2"), &inner, &trusted),
            ip("10.9.9.9")
        );
        // Garbage ends the walk at the hop before it.
        let garbage = headers(&["203.0.113.5, unknown, 10.1.1.1"]);
        assert_eq!(
            client_address(peer("10.0.0.2"), &garbage, &trusted),
            ip("10.1.1.1")
        );
        // Ports and brackets are tolerated; no header means the proxy itself.
        let ported = headers(&["[2001:db8::7]:5000"]);
        assert_eq!(
            client_address(peer("::1"), &ported, &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_address(peer("10.0.0.2"), &headers(&[]), &trusted),
            ip("10.0.0.2")
        );
        // A dual-stack listener sees IPv4 peers as mapped IPv6.
        assert_eq!(
            client_address(peer("::ffff:10.0.0.2"), &xff, &trusted),
            ip("203.0.113.5")
        );
    }
}
