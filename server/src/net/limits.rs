//! Rate limits for what one connection may send: token buckets with time as a parameter, and the per-IP
//! connection count.

use std::collections::HashMap;
use std::net::IpAddr;
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

/// Open connections per remote IP; a slot is released when its guard drops.
#[derive(Debug, Clone)]
pub struct PerIp {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// Holds one connection slot of an IP.
#[derive(Debug)]
pub struct IpSlot {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerIp {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            open: Arc::default(),
        }
    }

    /// A slot for `ip`, or `None` when it already has `limit` connections.
    pub fn acquire(&self, ip: IpAddr) -> Option<IpSlot> {
        let mut open = self.open.lock().ok()?;
        let n = open.entry(ip).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            ip,
            open: self.open.clone(),
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock()
            && let Some(n) = open.get_mut(&self.ip)
        {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
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
}
