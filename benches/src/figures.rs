//! The report's figures from one measured window: the bots' results, the server's counters and the CPU
//! time of the server, its tick threads and the load generator, each from two readings taken around it.

use crate::bots::{self, GroupResult};
use crate::procstat::{self, CpuSample, Pid};
use crate::prom::Scrape;
use crate::report::{Report, Series, latency_series};
use crate::stats::{Quantiles, Spread, per_client_per_s, rate, round};
use crate::target::Server;

/// The server's counters and the CPU time of the server, its tick threads and this process at one moment;
/// the window's figures are the differences between two.
pub struct Usage {
    metrics: Option<Scrape>,
    server_cpu: Option<CpuSample>,
    tick_cpu: Option<CpuSample>,
    each_tick_cpu: Vec<Option<CpuSample>>,
    own_cpu: CpuSample,
}

impl Usage {
    /// Reads them now (each where this tool can: a remote server gives no CPU time).
    pub async fn take(server: &Server, tick_threads: Option<&(Pid, Vec<u32>)>) -> anyhow::Result<Self> {
        let metrics = match &server.metrics {
            Some(source) => Some(source.scrape().await?),
            None => None,
        };
        Ok(Self {
            metrics,
            server_cpu: server.pid.map(procstat::cpu).transpose()?,
            tick_cpu: tick_threads.and_then(|(pid, tids)| procstat::threads_cpu(*pid, tids).ok()),
            each_tick_cpu: each_thread_cpu(tick_threads),
            own_cpu: procstat::cpu(Pid::This)?,
        })
    }
}

/// The server's figures and the CPU shares over the window between `before` and `after`.
pub fn add_usage(report: &mut Report, series: &mut Series, before: Usage, after: Usage, window_s: f64) {
    let ticks_per_s = procstat::clock_ticks_per_s();
    if let (Some(s0), Some(s1)) = (&before.metrics, &after.metrics) {
        add_server_figures(report, series, s0, s1, window_s);
    }
    if let (Some(c0), Some(c1)) = (before.server_cpu, after.server_cpu) {
        report.server_cpu_pct = Some(procstat::cpu_pct(c0, c1, ticks_per_s));
    }
    if let (Some(t0), Some(t1)) = (before.tick_cpu, after.tick_cpu) {
        report.tick_thread_cpu_pct = Some(procstat::cpu_pct(t0, t1, ticks_per_s));
    }
    report.each_tick_thread_cpu_pct = before
        .each_tick_cpu
        .into_iter()
        .zip(after.each_tick_cpu)
        .filter_map(|(t0, t1)| Some(round(procstat::cpu_pct(t0?, t1?, ticks_per_s), 1)))
        .collect();
    report.loadgen_cpu_pct = procstat::cpu_pct(before.own_cpu, after.own_cpu, ticks_per_s);
}

/// The bots' figures: rates, bytes, errors, input → snapshot latency, margins and prediction error.
pub fn add_bot_figures(report: &mut Report, series: &mut Series, groups: &[GroupResult], connect_errors: Vec<String>) {
    let bot_seconds: f64 = groups.iter().map(|g| g.bots.len() as f64 * g.window_s).sum();
    let sum = |f: fn(&GroupResult) -> u64| groups.iter().map(f).sum::<u64>();
    let snapshots = sum(|g| g.snapshots);
    report.snapshot_rate_hz = rate(snapshots, bot_seconds);
    report.input_rate_hz = rate(sum(|g| g.inputs_sent), bot_seconds);
    report.down_bytes_per_client_per_s = rate(sum(|g| g.down_bytes), bot_seconds);
    report.up_bytes_per_client_per_s = rate(sum(|g| g.up_bytes), bot_seconds);
    report.entities_per_snapshot = if snapshots > 0 {
        sum(|g| g.entities) as f64 / snapshots as f64
    } else {
        0.0
    };
    report.disconnects = sum(|g| g.disconnects);
    report.client_snapshots_dropped = sum(|g| g.snapshots_dropped);
    report.errors = sum(|g| g.errors) + connect_errors.len() as u64;
    let mut samples = connect_errors;
    samples.extend(groups.iter().flat_map(|g| g.error_samples.iter().cloned()));
    samples.dedup();
    samples.truncate(bots::MAX_ERROR_SAMPLES);
    report.error_samples = samples;
    let mut all: Vec<(u32, u32)> = groups.iter().flat_map(|g| g.latencies.iter().copied()).collect();
    let mut us: Vec<u64> = all.iter().map(|s| u64::from(s.1)).collect();
    report.input_to_snapshot_us = Quantiles::of(&mut us);
    let margins: Vec<i64> = groups.iter().flat_map(|g| g.margins.iter().copied()).collect();
    let late = margins.iter().filter(|m| **m < 0).count();
    report.inputs_late_pct = 100.0 * late as f64 / margins.len().max(1) as f64;
    report.input_margin_us = Quantiles::of(&mut margins.iter().map(|m| (*m).max(0) as u64).collect::<Vec<_>>());
    let mut errors: Vec<f32> = groups
        .iter()
        .flat_map(|g| g.prediction_errors.iter().copied())
        .collect();
    report.prediction_error = Spread::of(&mut errors);
    all.sort_unstable();
    let slice_ms = ((report.duration_s * 1e3 / 40.0) as u32).max(100);
    series.latency = latency_series(&all, slice_ms);
}

/// Each tick thread's CPU time so far (`None` for one that could not be read).
fn each_thread_cpu(threads: Option<&(Pid, Vec<u32>)>) -> Vec<Option<CpuSample>> {
    threads.map_or_else(Vec::new, |(pid, tids)| {
        tids.iter()
            .map(|tid| procstat::threads_cpu(*pid, &[*tid]).ok())
            .collect()
    })
}

/// The server's figures from its metrics read before (`s0`) and after (`s1`) the window.
fn add_server_figures(report: &mut Report, series: &mut Series, s0: &Scrape, s1: &Scrape, window_s: f64) {
    report.ticks = s1.delta(s0, "arena_ticks_total");
    report.tick_overruns = s1.delta(s0, "arena_tick_overruns_total");
    series.tick_buckets = s1.tick_window(s0);
    report.tick_us = Some(Quantiles::of_buckets(&series.tick_buckets));
    report.snapshot_payload_bytes_per_client_per_s = Some(per_client_per_s(
        s1.delta(s0, "arena_snapshot_bytes_sent_total"),
        report.bots_connected,
        window_s,
    ));
    report.room_ticks = s1.rooms.clone();
    report.server_inputs_dropped = s1.delta(s0, "arena_inputs_dropped_total");
    report.server_inputs_drained = s1.delta(s0, "arena_inputs_drained_total");
    let limited = s1.delta(s0, "arena_inputs_rate_limited_total");
    if limited > 0 {
        report
            .notes
            .push(format!("the server rate-limited {limited} input datagrams"));
    }
    for (name, what) in [
        ("arena_bad_datagrams_total", "bad datagrams"),
        ("arena_protocol_violations_total", "protocol violations"),
        ("arena_snapshot_send_errors_total", "snapshot send errors"),
    ] {
        let n = s1.delta(s0, name);
        if n > 0 {
            report.errors += n;
            report.error_samples.push(format!("the server counted {n} {what}"));
        }
    }
}

/// Notes on what makes a run's figures doubtful: bots that did not join, a load generator that fell behind,
/// missing snapshots, overruns.
pub fn add_notes(report: &mut Report) {
    let rate = f64::from(report.tick_rate);
    if report.bots_connected < report.bots {
        report
            .notes
            .push(format!("only {} of {} bots joined", report.bots_connected, report.bots));
    }
    if report.input_rate_hz < 0.9 * rate {
        report.notes.push(format!(
            "the bots sent {:.1} inputs/s each, under the {rate} Hz tick rate: the load generator could not keep up",
            report.input_rate_hz
        ));
    }
    if report.snapshot_rate_hz < 0.9 * rate {
        report.notes.push(format!(
            "the bots received {:.1} whole snapshots/s each, under the {rate} Hz tick rate",
            report.snapshot_rate_hz
        ));
    }
    if report.tick_overruns > 0 {
        report.notes.push(format!(
            "{} of {} ticks overran the {:.0} µs period",
            report.tick_overruns,
            report.ticks,
            1e6 / rate.max(1.0)
        ));
    }
}
