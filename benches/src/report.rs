//! What a load-test run reports: one JSON object ([`Report`]) with the figures of the measured window, the
//! series behind the plot ([`Series`]), and a short summary for people.

use crate::stats::{Quantiles, Spread, round};
use serde::Serialize;
use std::fmt::Write as _;

/// The figures of one run. Times are in microseconds, rates per second, sizes in bytes unless named.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Bots asked for.
    pub bots: usize,
    /// Bots that completed the handshake.
    pub bots_connected: usize,
    /// The measured window (after the warm-up), in seconds.
    pub duration_s: f64,
    pub warmup_s: f64,
    /// Ticks per second, from the server's `Welcome`.
    pub tick_rate: u16,
    /// "child process", "remote" or "in-process".
    pub server: String,
    /// Ticks the server ran in the window (every room's), and those whose work took longer than the tick
    /// period.
    pub ticks: u64,
    pub tick_overruns: u64,
    /// The server's own measurement of each tick's work (drain, simulate, snapshot, send), in the window.
    pub tick_us: Option<Quantiles>,
    /// From sending input `s` to receiving the first snapshot that reports `s` applied, as the bots saw it.
    pub input_to_snapshot_us: Quantiles,
    /// How early the bots' inputs reached the server for the tick that applied them, as its snapshots
    /// reported (the time-sync margin the bots' input clocks held; late inputs count as 0 here).
    pub input_margin_us: Quantiles,
    /// The share of those reports that said late (the input came after a tick that had to repeat the last).
    pub inputs_late_pct: f64,
    /// Each bot's own-movement prediction error at reconciliation, in units (0 is a perfect prediction).
    pub prediction_error: Spread,
    /// Inputs the server dropped from buffers that stayed deeper than their target.
    pub server_inputs_drained: u64,
    /// A plain QUIC datagram echo round trip on the same loopback, before the bots connected.
    pub floor_rtt_us: Quantiles,
    /// The same echo sampled during the window, next to the load (the loaded machine's floor).
    pub floor_rtt_loaded_us: Quantiles,
    /// Whole snapshots received per bot per second.
    pub snapshot_rate_hz: f64,
    /// Inputs sent per bot per second: below the tick rate, the load generator could not keep up.
    pub input_rate_hz: f64,
    /// UDP bytes (QUIC headers included) received and sent per bot per second.
    pub down_bytes_per_client_per_s: f64,
    pub up_bytes_per_client_per_s: f64,
    /// Snapshot datagram payload the server handed to QUIC per client per second (its own counter).
    pub snapshot_payload_bytes_per_client_per_s: Option<f64>,
    /// Players plus projectiles per snapshot received, on average.
    pub entities_per_snapshot: f64,
    /// Server CPU in percent of one core (200 = both cores of this machine), and resident memory at the end.
    pub server_cpu_pct: Option<f64>,
    pub server_rss_mb: Option<f64>,
    /// CPU of the server's tick threads together (each runs a share of the rooms): near 100 per thread
    /// while ticks overrun means the ticks' work is the bottleneck; well under it means the threads waited
    /// (for a core the bots held, or for a lock).
    pub tick_thread_cpu_pct: Option<f64>,
    /// The same for each tick thread apart, in the order the system lists them: rooms spread over the
    /// threads show as a share on each.
    pub each_tick_thread_cpu_pct: Vec<f64>,
    /// Rooms the bots played in (as their `Welcome`s named them).
    pub rooms: usize,
    /// Each room's tick time and overruns, by room code, over the room's life so far (its warm-up
    /// included: the server keeps a summary per room, not a histogram to take a window of).
    pub room_ticks: std::collections::BTreeMap<String, RoomTicks>,
    /// CPU of this process (the bots; with an in-process server, the server too).
    pub loadgen_cpu_pct: f64,
    /// Bots whose connection ended before the run did.
    pub disconnects: u64,
    /// Failed joins, kicks, undecodable snapshots, and the server's bad datagrams, protocol violations and
    /// snapshot send errors in the window.
    pub errors: u64,
    /// Inputs the server dropped because its tick queue was full; snapshots the bots' sessions dropped
    /// because the load generator did not take them in time.
    pub server_inputs_dropped: u64,
    pub client_snapshots_dropped: u64,
    /// A few distinct error messages.
    pub error_samples: Vec<String>,
    /// Warnings about how far to trust the figures.
    pub notes: Vec<String>,
}

/// One room's tick figures, from the server's `arena_room_*` metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RoomTicks {
    pub p50_us: u64,
    pub p99_us: u64,
    pub overruns: u64,
}

/// Input-to-snapshot latency in one slice of the window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencyPoint {
    /// Seconds since the window started (the middle of the slice).
    pub t_s: f64,
    pub p50_us: u64,
    pub p99_us: u64,
}

/// The series behind the plot.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Tick durations in the window: (inclusive upper bound µs, count) per non-empty bucket.
    pub tick_buckets: Vec<(u64, u64)>,
    pub latency: Vec<LatencyPoint>,
}

/// A finished run.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub report: Report,
    pub series: Series,
}

/// Slices (ms since start, µs) samples into `slice_ms` slices and takes p50/p99 of each non-empty one.
pub fn latency_series(samples: &[(u32, u32)], slice_ms: u32) -> Vec<LatencyPoint> {
    let slice_ms = slice_ms.max(1);
    let Some(last) = samples.iter().map(|s| s.0).max() else {
        return Vec::new();
    };
    let mut slices: Vec<Vec<u64>> = vec![Vec::new(); (last / slice_ms) as usize + 1];
    for &(t, us) in samples {
        slices[(t / slice_ms) as usize].push(u64::from(us));
    }
    slices
        .iter_mut()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(i, s)| {
            let q = Quantiles::of(s);
            LatencyPoint {
                t_s: (i as f64 + 0.5) * f64::from(slice_ms) / 1e3,
                p50_us: q.p50,
                p99_us: q.p99,
            }
        })
        .collect()
}

fn ms(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.1} ms", us as f64 / 1e3)
    } else if us >= 1_000 {
        format!("{:.2} ms", us as f64 / 1e3)
    } else {
        format!("{us} µs")
    }
}

fn ratio(us: u64, floor: u64) -> String {
    if floor == 0 {
        return "-".into();
    }
    format!("×{:.0}", us as f64 / floor as f64)
}

impl Report {
    /// A few lines for people.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let period_us = 1e6 / f64::from(self.tick_rate.max(1));
        let _ = writeln!(
            s,
            "{} bots ({} joined), {:.1} s measured after {:.1} s warm-up, {} Hz, server: {}",
            self.bots, self.bots_connected, self.duration_s, self.warmup_s, self.tick_rate, self.server
        );
        let _ = writeln!(s, "  ticks            {} ({} overruns)", self.ticks, self.tick_overruns);
        match &self.tick_us {
            Some(t) => {
                let _ = writeln!(
                    s,
                    "  tick work        p50 {}  p99 {}  max {}  (budget {})",
                    ms(t.p50),
                    ms(t.p99),
                    ms(t.max),
                    ms(period_us as u64)
                );
            }
            None => {
                let _ = writeln!(s, "  tick work        unknown (no metrics endpoint)");
            }
        }
        let (l, f) = (&self.input_to_snapshot_us, &self.floor_rtt_us);
        let _ = writeln!(
            s,
            "  input→snapshot   p50 {}  p99 {}   floor RTT p50 {}  p99 {} ({} / {} of it); loaded floor p50 {}",
            ms(l.p50),
            ms(l.p99),
            ms(f.p50),
            ms(f.p99),
            ratio(l.p50, f.p50),
            ratio(l.p99, f.p99),
            ms(self.floor_rtt_loaded_us.p50)
        );
        let m = &self.input_margin_us;
        let e = &self.prediction_error;
        let _ = writeln!(
            s,
            "  input margin     p50 {}  p1 {}  late {:.2}%; server drained {} inputs; prediction error p50 {:.4}  p99 {:.4} units",
            ms(m.p50),
            ms(m.p1),
            self.inputs_late_pct,
            self.server_inputs_drained,
            e.p50,
            e.p99
        );
        let _ = writeln!(
            s,
            "  snapshots        {:.1} Hz per bot, {:.1} entities each; inputs sent {:.1} Hz per bot",
            self.snapshot_rate_hz, self.entities_per_snapshot, self.input_rate_hz
        );
        let _ = writeln!(
            s,
            "  per client       down {:.1} KB/s, up {:.1} KB/s",
            self.down_bytes_per_client_per_s / 1e3,
            self.up_bytes_per_client_per_s / 1e3
        );
        let cpu = self.server_cpu_pct.map_or("?".into(), |c| format!("{c:.0}%"));
        let rss = self.server_rss_mb.map_or("?".into(), |r| format!("{r:.1} MiB"));
        let each: Vec<String> = self
            .each_tick_thread_cpu_pct
            .iter()
            .map(|c| format!("{c:.0}%"))
            .collect();
        let tick = self
            .tick_thread_cpu_pct
            .map_or("?".into(), |c| format!("{c:.0}%: {}", each.join(" + ")));
        let _ = writeln!(
            s,
            "  CPU              server {cpu} of one core (tick threads {tick}), load generator {:.0}%; server RSS {rss}",
            self.loadgen_cpu_pct
        );
        if !self.room_ticks.is_empty() {
            let rooms: Vec<String> = self
                .room_ticks
                .iter()
                .map(|(code, r)| format!("{code} {}/{} µs", r.p50_us, r.p99_us))
                .collect();
            let _ = writeln!(s, "  rooms {}: tick p50/p99 {}", self.rooms, rooms.join(", "));
        }
        let _ = writeln!(
            s,
            "  disconnects {}, errors {}, inputs dropped by the server {}, snapshots dropped by the bots {}",
            self.disconnects, self.errors, self.server_inputs_dropped, self.client_snapshots_dropped
        );
        for e in &self.error_samples {
            let _ = writeln!(s, "  error: {e}");
        }
        for n in &self.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        s
    }

    /// Rounds the floating-point figures for the JSON.
    pub fn rounded(mut self) -> Self {
        for v in [
            &mut self.duration_s,
            &mut self.warmup_s,
            &mut self.snapshot_rate_hz,
            &mut self.input_rate_hz,
            &mut self.down_bytes_per_client_per_s,
            &mut self.up_bytes_per_client_per_s,
            &mut self.entities_per_snapshot,
            &mut self.loadgen_cpu_pct,
            &mut self.inputs_late_pct,
        ] {
            *v = round(*v, 2);
        }
        for v in [
            &mut self.snapshot_payload_bytes_per_client_per_s,
            &mut self.server_cpu_pct,
            &mut self.server_rss_mb,
            &mut self.tick_thread_cpu_pct,
        ]
        .into_iter()
        .flatten()
        {
            *v = round(*v, 2);
        }
        self
    }
}
