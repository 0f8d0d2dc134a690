//! What the server counts: connections, bad packets, kicks, inputs dropped, snapshots sent, and a histogram
//! of tick durations. Counters are atomics any task may bump; only the tick thread records tick times.
//! [`http`] serves them in the Prometheus text format, with a health check.

pub mod http;
pub mod rooms;
pub mod rtt;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Exact microsecond buckets below this value; above it, 64 buckets per power of two (at most 1.6% error).
const LINEAR_US: u64 = 1_024;
const SUB_BUCKETS: u64 = 64;
/// Largest recordable duration: about 4,295 s (2^32 microseconds); longer ones are recorded as this.
const MAX_POW: u64 = 32;
const BUCKETS: usize = (LINEAR_US + (MAX_POW - 10) * SUB_BUCKETS) as usize;

/// A fixed-size log-linear histogram of microsecond durations; recording never allocates.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    max_us: u64,
    sum_us: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            max_us: 0,
            sum_us: 0,
        }
    }
}

impl Histogram {
    fn bucket(us: u64) -> usize {
        if us < LINEAR_US {
            return us as usize;
        }
        let us = us.min((1 << MAX_POW) - 1);
        let pow = 63 - u64::from(us.leading_zeros()); // >= 10
        let sub = (us >> (pow - 6)) & (SUB_BUCKETS - 1);
        (LINEAR_US + (pow - 10) * SUB_BUCKETS + sub) as usize
    }

    /// The smallest duration (in microseconds) that falls in bucket `i`.
    fn lower_bound(i: usize) -> u64 {
        let i = i as u64;
        if i < LINEAR_US {
            return i;
        }
        let pow = (i - LINEAR_US) / SUB_BUCKETS + 10;
        let sub = (i - LINEAR_US) % SUB_BUCKETS;
        (1 << pow) + (sub << (pow - 6))
    }

    pub fn record_us(&mut self, us: u64) {
        self.counts[Self::bucket(us)] += 1;
        self.total += 1;
        self.max_us = self.max_us.max(us);
        self.sum_us = self.sum_us.saturating_add(us);
    }

    /// Every recorded duration added up, in microseconds.
    pub fn sum_us(&self) -> u64 {
        self.sum_us
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max_us(&self) -> u64 {
        self.max_us
    }

    /// Cumulative counts at the upper bound (in microseconds, inclusive) of every non-empty bucket, in
    /// increasing order. Buckets left out are empty, so the cumulative count at any bound is the count at the
    /// largest listed bound below it: two scrapes can be subtracted exactly.
    pub fn cumulative(&self) -> Vec<(u64, u64)> {
        let mut seen = 0;
        let mut out = Vec::new();
        for (i, c) in self.counts.iter().enumerate() {
            if *c > 0 {
                seen += c;
                out.push((Self::lower_bound(i + 1) - 1, seen));
            }
        }
        out
    }

    /// The value at quantile `q` (0.0 to 1.0): the lower bound of the bucket holding that rank, so at most
    /// 1.6% under the true value; 0 when empty.
    pub fn quantile_us(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::lower_bound(i).min(self.max_us);
            }
        }
        self.max_us
    }
}

/// The server's counters. Every field is a running total since start.
#[derive(Default)]
pub struct Metrics {
    /// QUIC connections that completed the TLS handshake.
    pub connections_accepted: AtomicU64,
    /// Connection attempts refused before the handshake (at the connection cap, or shutting down).
    pub connections_refused: AtomicU64,
    /// Connections that failed or timed out in the QUIC/TLS handshake or before `Hello` (evicted ones too).
    pub handshakes_failed: AtomicU64,
    /// Pending handshakes closed to make room for a newer one (the pending bound was reached).
    pub handshakes_evicted: AtomicU64,
    /// QUIC Retry packets sent: new connections asked to prove their address while many handshakes pend.
    pub retries_sent: AtomicU64,
    /// `Hello`s answered with `Reject`.
    pub rejected: AtomicU64,
    /// Players that joined the world (new players, not resumes).
    pub players_joined: AtomicU64,
    /// Players taken back by a new connection within the resume grace window.
    pub players_resumed: AtomicU64,
    /// Clients disconnected for breaking the protocol (malformed frames, too many bad datagrams, ...).
    pub protocol_violations: AtomicU64,
    /// Clients kicked by the game (invalid inputs) or for not reading their control stream.
    pub kicks: AtomicU64,
    /// Datagrams received from clients.
    pub datagrams_received: AtomicU64,
    /// Calls to the admin endpoint refused for a missing or wrong token.
    pub admin_refused: AtomicU64,
    /// Bytes of those datagrams (their payloads).
    pub datagram_bytes_received: AtomicU64,
    /// Bytes of control frames received from clients (length prefixes included).
    pub frame_bytes_received: AtomicU64,
    /// Bytes of control frames handed to the clients' control streams (length prefixes included).
    pub frame_bytes_sent: AtomicU64,
    /// The players' round-trip times, sampled once a second per connection.
    pub player_rtt: rtt::RttHistogram,
    /// Datagrams dropped because they did not decode.
    pub bad_datagrams: AtomicU64,
    /// Inputs dropped because the tick thread's queue was full.
    pub inputs_dropped: AtomicU64,
    /// Input datagrams dropped for coming faster than the per-client rate limit.
    pub inputs_rate_limited: AtomicU64,
    /// Chat lines dropped for coming faster than the per-client rate limit.
    pub chat_rate_limited: AtomicU64,
    /// Inputs a client sent that never arrived (lost beyond the redundancy window).
    pub inputs_lost: AtomicU64,
    /// Inputs dropped because a player's buffer overflowed (more inputs than ticks).
    pub inputs_overflowed: AtomicU64,
    /// Inputs dropped because a player's buffer stayed deeper than its target (latency, not jitter).
    pub inputs_drained: AtomicU64,
    /// Inputs refused by validation (impossible sequence jumps, non-finite aims).
    pub inputs_invalid: AtomicU64,
    /// Inputs that asked to move faster than allowed (clamped, not refused).
    pub inputs_too_fast: AtomicU64,
    /// Chat lines the game refused (empty or too long after cleaning).
    pub chat_refused: AtomicU64,
    /// Snapshot datagrams handed to QUIC.
    pub snapshot_datagrams_sent: AtomicU64,
    /// Snapshot bytes handed to QUIC (datagram payloads).
    pub snapshot_bytes_sent: AtomicU64,
    /// Snapshots that could not be split or sent.
    pub snapshot_send_errors: AtomicU64,
    /// Ticks run.
    pub ticks: AtomicU64,
    /// Ticks whose work took longer than the tick period.
    pub tick_overruns: AtomicU64,
    /// The game socket's inode, set at start: `arena_udp_receive_drops_total` is the kernel's count of
    /// datagrams it dropped there (a full receive buffer, see `--udp-buffer`), read when scraped.
    pub udp_socket: OnceLock<u64>,
    /// Each room's figures, and the rooms' counts.
    pub rooms: rooms::PerRoom,
    /// Tick durations (work only, not the sleep), in microseconds.
    pub tick_time: Mutex<Histogram>,
}

/// Bumps a counter by one.
pub fn inc(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Adds `n` to a counter.
pub fn add(counter: &AtomicU64, n: impl Into<u64>) {
    counter.fetch_add(n.into(), Ordering::Relaxed);
}

impl Metrics {
    /// Records one tick's duration (of any room) and whether it overran the period.
    pub fn record_tick(&self, took: Duration, period: Duration) {
        inc(&self.ticks);
        if took > period {
            inc(&self.tick_overruns);
        }
        if let Ok(mut h) = self.tick_time.lock() {
            h.record_us(took.as_micros() as u64);
        }
    }

    /// A copy of the tick-time histogram.
    pub fn tick_histogram(&self) -> Histogram {
        self.tick_time.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Every counter and the tick-time quantiles in the Prometheus text format.
    pub fn render_prometheus(&self) -> String {
        let counters: [(&str, &AtomicU64); 30] = [
            ("datagram_bytes_received_total", &self.datagram_bytes_received),
            ("frame_bytes_received_total", &self.frame_bytes_received),
            ("frame_bytes_sent_total", &self.frame_bytes_sent),
            ("inputs_overflowed_total", &self.inputs_overflowed),
            ("inputs_drained_total", &self.inputs_drained),
            ("inputs_rate_limited_total", &self.inputs_rate_limited),
            ("chat_rate_limited_total", &self.chat_rate_limited),
            ("inputs_lost_total", &self.inputs_lost),
            ("inputs_invalid_total", &self.inputs_invalid),
            ("inputs_too_fast_total", &self.inputs_too_fast),
            ("chat_refused_total", &self.chat_refused),
            ("connections_accepted_total", &self.connections_accepted),
            ("connections_refused_total", &self.connections_refused),
            ("handshakes_failed_total", &self.handshakes_failed),
            ("handshakes_evicted_total", &self.handshakes_evicted),
            ("retries_sent_total", &self.retries_sent),
            ("rejected_total", &self.rejected),
            ("players_joined_total", &self.players_joined),
            ("players_resumed_total", &self.players_resumed),
            ("protocol_violations_total", &self.protocol_violations),
            ("kicks_total", &self.kicks),
            ("admin_requests_refused_total", &self.admin_refused),
            ("datagrams_received_total", &self.datagrams_received),
            ("bad_datagrams_total", &self.bad_datagrams),
            ("inputs_dropped_total", &self.inputs_dropped),
            ("snapshot_datagrams_sent_total", &self.snapshot_datagrams_sent),
            ("snapshot_bytes_sent_total", &self.snapshot_bytes_sent),
            ("snapshot_send_errors_total", &self.snapshot_send_errors),
            ("ticks_total", &self.ticks),
            ("tick_overruns_total", &self.tick_overruns),
        ];
        let mut out = String::new();
        for (name, value) in counters {
            let _ = writeln!(
                out,
                "# TYPE arena_{name} counter\narena_{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        let drops = self
            .udp_socket
            .get()
            .and_then(|inode| crate::net::socket::receive_drops(*inode));
        if let Some(drops) = drops {
            let _ = writeln!(
                out,
                "# TYPE arena_udp_receive_drops_total counter\narena_udp_receive_drops_total {drops}"
            );
        }
        let _ = writeln!(
            out,
            "# TYPE arena_players gauge\narena_players {}",
            self.rooms.players()
        );
        self.rooms.render(&mut out);
        self.player_rtt.render(&mut out);
        let h = self.tick_histogram();
        let _ = writeln!(out, "# TYPE arena_tick_seconds summary");
        for q in [0.5, 0.9, 0.99, 0.999] {
            let _ = writeln!(
                out,
                "arena_tick_seconds{{quantile=\"{q}\"}} {}",
                h.quantile_us(q) as f64 / 1e6
            );
        }
        let _ = writeln!(out, "arena_tick_seconds_count {}", h.count());
        // Prometheus's conventions: seconds, cumulative buckets (the histogram's non-empty ones, at their
        // upper bounds), a sum and a count.
        let _ = writeln!(out, "# TYPE arena_tick_duration_seconds histogram");
        for (le_us, count) in h.cumulative() {
            let le = le_us as f64 / 1e6;
            let _ = writeln!(out, "arena_tick_duration_seconds_bucket{{le=\"{le}\"}} {count}");
        }
        let _ = writeln!(out, "arena_tick_duration_seconds_bucket{{le=\"+Inf\"}} {}", h.count());
        let _ = writeln!(out, "arena_tick_duration_seconds_sum {}", h.sum_us() as f64 / 1e6);
        let _ = writeln!(out, "arena_tick_duration_seconds_count {}", h.count());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_exact_below_a_millisecond_and_close_above() {
        let mut h = Histogram::default();
        for us in 1..=1000 {
            h.record_us(us);
        }
        assert_eq!(h.quantile_us(0.5), 500);
        assert_eq!(h.quantile_us(0.99), 990);
        assert_eq!(h.max_us(), 1000);
        let mut h = Histogram::default();
        h.record_us(123_456);
        let q = h.quantile_us(0.5);
        assert!(q <= 123_456 && q as f64 >= 123_456.0 * 0.984, "{q}");
    }

    #[test]
    fn cumulative_buckets_cover_every_value() {
        let mut h = Histogram::default();
        for us in [3, 3, 900, 5_000, 5_001] {
            h.record_us(us);
        }
        let c = h.cumulative();
        assert_eq!(c[0], (3, 2));
        assert_eq!(c[1], (900, 3));
        assert_eq!(c.last().map(|x| x.1), Some(5));
        assert!(c[2].0 >= 5_001 && c[2].0 < 5_100, "{c:?}");
    }

    #[test]
    fn huge_durations_are_clamped_not_lost() {
        let mut h = Histogram::default();
        h.record_us(u64::MAX);
        assert_eq!(h.count(), 1);
        assert!(h.quantile_us(1.0) > 0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_kernel_s_drops_on_the_game_socket_are_exported() {
        let m = Metrics::default();
        assert!(
            !m.render_prometheus().contains("arena_udp_receive_drops_total"),
            "no socket yet"
        );
        // The smallest buffer the kernel allows, and nobody reading it: a burst overflows it at once.
        let bound = crate::net::socket::bind("127.0.0.1:0".parse().unwrap(), 1).unwrap();
        let _ = m.udp_socket.set(bound.inode.unwrap());
        assert!(m.render_prometheus().contains("arena_udp_receive_drops_total 0\n"));
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..200 {
            sender
                .send_to(&[0u8; 1_000], bound.socket.local_addr().unwrap())
                .unwrap();
        }
        let text = m.render_prometheus();
        let drops = text
            .lines()
            .find_map(|l| l.strip_prefix("arena_udp_receive_drops_total "))
            .and_then(|v| v.parse::<u64>().ok());
        assert!(drops.is_some_and(|d| d > 100), "{text}");
    }

    #[test]
    fn prometheus_text_names_every_counter() {
        let m = Metrics::default();
        inc(&m.bad_datagrams);
        m.record_tick(Duration::from_micros(700), Duration::from_micros(500));
        let text = m.render_prometheus();
        assert!(text.contains("arena_bad_datagrams_total 1"));
        assert!(text.contains("arena_tick_overruns_total 1"));
        assert!(text.contains("arena_tick_seconds{quantile=\"0.5\"} 0.0007"));
        assert!(
            text.contains("arena_tick_duration_seconds_bucket{le=\"0.0007\"} 1"),
            "{text}"
        );
        assert!(text.contains("arena_tick_duration_seconds_sum 0.0007"), "{text}");
        assert!(text.contains("arena_tick_duration_seconds_count 1"), "{text}");
    }
}
