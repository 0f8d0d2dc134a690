//! The report's arithmetic: nearest-rank percentiles of samples, quantiles of bucketed histograms, rates
//! and per-client bandwidth. Plain functions on plain numbers, so the tests can check them by hand.

use serde::Serialize;

/// The percentile `q` (0.0 to 1.0) of sorted samples by the nearest-rank method: the smallest sample with
/// at least `q` of all samples at or below it. 0 when there are no samples.
pub fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = rank(q, sorted.len() as u64);
    sorted[(rank - 1) as usize]
}

/// The 1-based nearest rank of quantile `q` among `n` samples (at least 1).
pub fn rank(q: f64, n: u64) -> u64 {
    ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).clamp(1, n.max(1))
}

/// p1, p50, p99 and the maximum of a set of durations, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Quantiles {
    pub p1: u64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
    /// How many samples the figures come from.
    pub samples: u64,
}

impl Quantiles {
    /// The quantiles of unsorted samples (sorted in place).
    pub fn of(samples: &mut [u64]) -> Self {
        samples.sort_unstable();
        Self {
            p1: percentile(samples, 0.01),
            p50: percentile(samples, 0.50),
            p99: percentile(samples, 0.99),
            max: samples.last().copied().unwrap_or(0),
            samples: samples.len() as u64,
        }
    }

    /// The quantiles of a bucketed histogram, see [`bucket_quantile`].
    pub fn of_buckets(buckets: &[(u64, u64)]) -> Self {
        Self {
            p1: bucket_quantile(buckets, 0.01),
            p50: bucket_quantile(buckets, 0.50),
            p99: bucket_quantile(buckets, 0.99),
            max: buckets.iter().rev().find(|b| b.1 > 0).map_or(0, |b| b.0),
            samples: buckets.iter().map(|b| b.1).sum(),
        }
    }
}

/// p50, p99 and the maximum of a set of measurements that are not durations (errors in units), rounded
/// to four decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spread {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub samples: u64,
}

impl Spread {
    /// The spread of unsorted samples (sorted in place); NaNs sort last.
    pub fn of(samples: &mut [f32]) -> Self {
        samples.sort_unstable_by(f32::total_cmp);
        let at = |q: f64| {
            let n = samples.len() as u64;
            samples
                .get(rank(q, n) as usize - 1)
                .map_or(0.0, |v| round(f64::from(*v), 4))
        };
        Self {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
            samples: samples.len() as u64,
        }
    }
}

/// Turns cumulative counts at increasing upper bounds (a Prometheus histogram) into a count per bucket.
pub fn decumulate(cumulative: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut below = 0;
    cumulative
        .iter()
        .map(|&(le, cum)| {
            let count = cum.saturating_sub(below);
            below = below.max(cum);
            (le, count)
        })
        .collect()
}

/// The cumulative count at `bound` in a histogram that lists only non-empty buckets: the count at the
/// largest listed bound at or below it (0 below the first).
pub fn cumulative_at(cumulative: &[(u64, u64)], bound: u64) -> u64 {
    match cumulative.partition_point(|&(le, _)| le <= bound) {
        0 => 0,
        i => cumulative[i - 1].1,
    }
}

/// What a histogram recorded between two scrapes: per-bucket counts (upper bound, count) of `end` minus
/// `start`. Exact because both list every non-empty bucket and counts only grow.
pub fn window(start: &[(u64, u64)], end: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let in_window: Vec<(u64, u64)> = end
        .iter()
        .map(|&(le, cum)| (le, cum.saturating_sub(cumulative_at(start, le))))
        .collect();
    decumulate(&in_window).into_iter().filter(|b| b.1 > 0).collect()
}

/// The quantile `q` of a histogram given as (inclusive upper bound, count) per bucket in increasing order:
/// the upper bound of the bucket holding the nearest-rank sample, so never below the true value (exact for
/// the server's one-microsecond buckets under 1,024 µs). 0 when empty.
pub fn bucket_quantile(buckets: &[(u64, u64)], q: f64) -> u64 {
    let total: u64 = buckets.iter().map(|b| b.1).sum();
    if total == 0 {
        return 0;
    }
    let rank = rank(q, total);
    let mut seen = 0;
    for &(le, count) in buckets {
        seen += count;
        if seen >= rank {
            return le;
        }
    }
    buckets.last().map_or(0, |b| b.0)
}

/// Events per second; 0 over an empty window.
pub fn rate(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 { count as f64 / seconds } else { 0.0 }
}

/// Bytes per client per second; 0 with no clients or an empty window.
pub fn per_client_per_s(bytes: u64, clients: usize, seconds: f64) -> f64 {
    if clients == 0 {
        return 0.0;
    }
    rate(bytes, seconds) / clients as f64
}

/// Rounds to `digits` decimals, so reports do not print 15 meaningless digits.
pub fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}
