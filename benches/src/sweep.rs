//! The scaling sweep: one load-test run per player count, each against a fresh server, one JSON line per
//! step, a table for people and a plot of tick p99 and bandwidth per client against players.

use crate::loadtest::{self, Options};
use crate::report::Report;
use std::fmt::Write as _;

/// Parses `50,100,200` into player counts.
pub fn parse_steps(text: &str) -> anyhow::Result<Vec<usize>> {
    let steps: Vec<usize> = text
        .split(',')
        .map(|s| s.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("--sweep wants comma-separated player counts like 50,100,200: {e}"))?;
    if steps.is_empty() || steps.contains(&0) {
        anyhow::bail!("--sweep wants player counts of at least 1");
    }
    Ok(steps)
}

/// Runs every step in turn; a step that fails outright is written as a row with its error and the sweep
/// goes on. `on_row` gets each finished row (to write it at once).
pub async fn run(base: &Options, steps: &[usize], mut on_row: impl FnMut(&Report)) -> Vec<Report> {
    let mut rows = Vec::new();
    for &bots in steps {
        let options = Options { bots, ..base.clone() };
        let row = match loadtest::run(&options).await {
            Ok(run) => run.report,
            Err(e) => Report {
                bots,
                errors: 1,
                error_samples: vec![format!("{e:#}")],
                notes: vec!["this step failed; its figures are empty".into()],
                ..Report::default()
            },
        };
        on_row(&row);
        rows.push(row);
    }
    rows
}

/// Writes one JSON object per line.
pub fn write_json_line(out: &mut impl std::io::Write, row: &Report) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, row)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// The sweep as a Markdown table.
pub fn table(rows: &[Report]) -> String {
    let mut s = String::from(
        "| players | joined | tick p50 µs | tick p99 µs | overruns | in→snap p50 ms | in→snap p99 ms | floor p50 µs \
         | snapshots Hz | inputs Hz | down KB/s/client | up KB/s/client | server CPU % | tick thread CPU % \
         | load generator CPU % | errors |\n\
         | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in rows {
        let (t50, t99) = r
            .tick_us
            .map_or(("-".into(), "-".into()), |t| (t.p50.to_string(), t.p99.to_string()));
        let _ = writeln!(
            s,
            "| {} | {} | {t50} | {t99} | {}/{} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {:.0} | {} |",
            r.bots,
            r.bots_connected,
            r.tick_overruns,
            r.ticks,
            r.input_to_snapshot_us.p50 as f64 / 1e3,
            r.input_to_snapshot_us.p99 as f64 / 1e3,
            r.floor_rtt_us.p50,
            r.snapshot_rate_hz,
            r.input_rate_hz,
            r.down_bytes_per_client_per_s / 1e3,
            r.up_bytes_per_client_per_s / 1e3,
            r.server_cpu_pct.map_or("-".into(), |c| format!("{c:.0}")),
            r.tick_thread_cpu_pct.map_or("-".into(), |c| format!("{c:.0}")),
            r.loadgen_cpu_pct,
            r.errors
        );
    }
    s
}

/// The first step whose server overran its tick period, if any.
pub fn first_overrun(rows: &[Report]) -> Option<usize> {
    rows.iter().find(|r| r.tick_overruns > 0).map(|r| r.bots)
}
