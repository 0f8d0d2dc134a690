//! Rate limits for what one connection may send: token buckets with time as a parameter, and the per-IP
//! connection count (an IPv6 client counted by its /64, the block one host or home is usually given).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A token bucket: `rate` tokens per second, holding at most `burst`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        Self {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Counts events in a fixed window and says when a limit is passed.
#[derive(Debug, Clone)]
pub struct WindowCounter {
    window: Duration,
    limit: u32,
    start: Instant,
    count: u32,
}

impl WindowCounter {
    pub fn new(window: Duration, limit: u32, now: Instant) -> Self {
        Self {
            window,
            limit,
            start: now,
            count: 0,
        }
    }

    /// Counts one event; true when this one passes the limit within the window.
    pub fn hit(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.start) > self.window {
            self.start = now;
            self.count = 0;
        }
        self.count += 1;
        self.count > self.limit
    }
}

/// What the per-IP cap counts a remote address under: an IPv4 address as itself, an IPv4-mapped IPv6
/// address (`::ffff:a.b.c.d`, what a dual-stack socket reports for an IPv4 peer) as that IPv4 address, and
/// any other IPv6 address as its /64 prefix (the rest zeroed). One host usually holds a whole /64, so
/// counting full IPv6 addresses would let it open a connection from each of 2^64 addresses.
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

/// Open connections per remote IP (IPv4 address, or IPv6 /64: see [`ip_key`]); a slot is released when its
/// guard drops.
#[derive(Debug, Clone)]
pub struct PerIp {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// Holds one connection slot of an IP (of its [`ip_key`]).
#[derive(Debug)]
pub struct IpSlot {
    key: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerIp {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            open: Arc::default(),
        }
    }

    /// A slot for `ip`, or `None` when its IPv4 address or IPv6 /64 already has `limit` connections.
    pub fn acquire(&self, ip: IpAddr) -> Option<IpSlot> {
        let key = ip_key(ip);
        let mut open = self.open.lock().ok()?;
        let n = open.entry(key).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            key,
            open: self.open.clone(),
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock()
            && let Some(n) = open.get_mut(&self.key)
        {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let t = Instant::now();
        let mut b = TokenBucket::new(10.0, 5.0, t);
        assert_eq!((0..10).filter(|_| b.take(t)).count(), 5, "the burst");
        assert_eq!(
            (0..10).filter(|_| b.take(t + Duration::from_millis(500))).count(),
            5,
            "0.5 s at 10/s"
        );
        let later = t + Duration::from_secs(100);
        assert_eq!(
            (0..10).filter(|_| b.take(later)).count(),
            5,
            "never more than the burst"
        );
    }

    #[test]
    fn a_window_counter_trips_past_its_limit_and_resets() {
        let t = Instant::now();
        let mut w = WindowCounter::new(Duration::from_secs(1), 3, t);
        assert!(!w.hit(t) && !w.hit(t) && !w.hit(t));
        assert!(w.hit(t));
        assert!(!w.hit(t + Duration::from_secs(2)));
    }

    #[test]
    fn per_ip_slots_are_limited_and_released() {
        let ips = PerIp::new(2);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let a = ips.acquire(ip).unwrap();
        let _b = ips.acquire(ip).unwrap();
        assert!(ips.acquire(ip).is_none());
        assert!(
            ips.acquire("10.0.0.2".parse().unwrap()).is_some(),
            "another IP is not affected"
        );
        drop(a);
        assert!(ips.acquire(ip).is_some());
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_addresses_in_one_slash_64_share_the_limit() {
        let ips = PerIp::new(2);
        let _a = ips.acquire(ip("2001:db8:1:2::1")).unwrap();
        let _b = ips.acquire(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")).unwrap();
        assert!(
            ips.acquire(ip("2001:db8:1:2:dead:beef:0:7")).is_none(),
            "a third address of the same /64 is over the limit"
        );
        assert_eq!(ip_key(ip("2001:db8:1:2:dead:beef:0:7")), ip("2001:db8:1:2::"));
    }

    #[test]
    fn different_slash_64s_do_not_share_the_limit() {
        let ips = PerIp::new(1);
        let _a = ips.acquire(ip("2001:db8:1:2::1")).unwrap();
        assert!(ips.acquire(ip("2001:db8:1:3::1")).is_some(), "the next /64");
        assert!(ips.acquire(ip("2001:db8:1:1:ffff::1")).is_some(), "the previous /64");
        assert!(ips.acquire(ip("2001:db9:1:2::1")).is_some(), "another prefix");
        assert!(
            ips.acquire(ip("2001:db8:1:2::2")).is_none(),
            "the first /64 is still full"
        );
    }

    #[test]
    fn an_ipv4_mapped_ipv6_address_counts_as_its_ipv4_address() {
        let ips = PerIp::new(1);
        let _a = ips.acquire(ip("::ffff:192.0.2.7")).unwrap();
        assert!(ips.acquire(ip("192.0.2.7")).is_none(), "mapped then plain");
        assert_eq!(ip_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        // IPv4 counts whole addresses, not a prefix: the neighbour is somebody else.
        assert!(ips.acquire(ip("192.0.2.8")).is_some());
        assert!(ips.acquire(ip("::ffff:192.0.2.9")).is_some());
        let _b = ips.acquire(ip("198.51.100.1")).unwrap();
        assert!(ips.acquire(ip("::ffff:198.51.100.1")).is_none(), "plain then mapped");
    }

    #[test]
    fn a_released_slot_frees_its_slash_64() {
        let ips = PerIp::new(1);
        let a = ips.acquire(ip("2001:db8::1")).unwrap();
        assert!(ips.acquire(ip("2001:db8::2")).is_none());
        drop(a);
        assert!(ips.acquire(ip("2001:db8::2")).is_some());
        assert!(ips.open.lock().unwrap().is_empty(), "no entry left behind");
    }
}
