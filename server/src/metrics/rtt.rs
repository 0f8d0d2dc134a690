//! The players' round-trip times as a Prometheus histogram (`arena_player_rtt_seconds`): each connection's
//! QUIC RTT estimate, sampled once a second while it plays. Fixed buckets, atomics only: recording never
//! allocates or locks.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds (the last, `+Inf`, is implied).
pub const RTT_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0];
/// How often each connection's RTT is sampled.
pub const RTT_SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// The histogram: a count per bucket (not cumulative), and the sum and count of every sample.
#[derive(Default)]
pub struct RttHistogram {
    buckets: [AtomicU64; RTT_BUCKETS.len() + 1],
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl RttHistogram {
    pub fn record(&self, rtt: Duration) {
        let secs = rtt.as_secs_f64();
        let i = RTT_BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(RTT_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(rtt.as_micros() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The histogram in the Prometheus text format: cumulative buckets, `_sum` in seconds, `_count`.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# TYPE arena_player_rtt_seconds histogram");
        let mut seen = 0;
        for (i, le) in RTT_BUCKETS.iter().enumerate() {
            seen += self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "arena_player_rtt_seconds_bucket{{le=\"{le}\"}} {seen}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "arena_player_rtt_seconds_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "arena_player_rtt_seconds_sum {sum}");
        let _ = writeln!(out, "arena_player_rtt_seconds_count {count}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_fall_in_cumulative_buckets_with_their_sum_in_seconds() {
        let h = RttHistogram::default();
        for ms in [0, 3, 40, 40, 2_000] {
            h.record(Duration::from_millis(ms));
        }
        let mut text = String::new();
        h.render(&mut text);
        for line in [
            "arena_player_rtt_seconds_bucket{le=\"0.001\"} 1",
            "arena_player_rtt_seconds_bucket{le=\"0.005\"} 2",
            "arena_player_rtt_seconds_bucket{le=\"0.05\"} 4",
            "arena_player_rtt_seconds_bucket{le=\"1\"} 4",
            "arena_player_rtt_seconds_bucket{le=\"+Inf\"} 5",
            "arena_player_rtt_seconds_sum 2.083",
            "arena_player_rtt_seconds_count 5",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
