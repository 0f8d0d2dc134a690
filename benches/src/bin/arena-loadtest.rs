//! `arena-loadtest`: loads an Arena server with real QUIC bots and reports what the server and the bots
//! measured (see docs/BENCHMARKS.md). One run, or a sweep over player counts with `--sweep`.

use anyhow::Context;
use arena_benches::loadtest::{self, Options};
use arena_benches::target::Target;
use arena_benches::{plot, sweep};
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: arena_server::Allocator = arena_server::Allocator;

/// Load-test an Arena server with QUIC bots: tick time (the server's own), input-to-snapshot latency next to
/// the QUIC round-trip floor, snapshot rate, bandwidth, server CPU and memory.
#[derive(Parser, Debug)]
#[command(name = "arena-loadtest", version, about, long_about = None)]
struct Cli {
    /// Bots to connect (at most 1024 against a server this tool starts).
    #[arg(long, default_value_t = 8)]
    bots: usize,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    duration: f64,
    /// Seconds of play before the measurement starts.
    #[arg(long, default_value_t = 3.0, value_parser = seconds)]
    warmup: f64,
    /// Tick rate of the server this tool starts.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u16).range(1..=240))]
    tick_rate: u16,
    /// Seed of the server's game and of the bots' decisions.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Load a running server at this address instead of starting one (needs --cert-sha256).
    #[arg(long, requires = "cert_sha256")]
    server: Option<SocketAddr>,
    /// The SHA-256 of that server's certificate, as it printed it.
    #[arg(long, requires = "server")]
    cert_sha256: Option<String>,
    /// That server's metrics endpoint (its --metrics-bind), for tick times and counters.
    #[arg(long, requires = "server")]
    metrics: Option<SocketAddr>,
    /// That server's process id, for its CPU and memory (same machine only).
    #[arg(long, requires = "server")]
    server_pid: Option<u32>,
    /// The arena-server binary to start (default: next to this executable).
    #[arg(long, conflicts_with = "server")]
    server_bin: Option<PathBuf>,
    /// An extra argument for the server this tool starts (repeatable), e.g. --server-arg=--full-snapshots.
    #[arg(long, conflicts_with = "server", allow_hyphen_values = true)]
    server_arg: Vec<String>,
    /// Write the report as JSON here (with --sweep: one JSON object per line, one line per step).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Draw an SVG plot here.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Run once per player count, e.g. 50,100,200,500,1000, each against a fresh server.
    #[arg(long)]
    sweep: Option<String>,
    /// Echo round trips measured for the floor before the bots connect.
    #[arg(long, default_value_t = 2_000)]
    floor_samples: usize,
    /// Bots sharing one UDP socket.
    #[arg(long, default_value_t = 50, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    bots_per_endpoint: usize,
    /// Bots driven by one task.
    #[arg(long, default_value_t = 50, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    bots_per_task: usize,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Rooms to spread the bots over (one bot creates each, the others join by code, round robin); a
    /// server this tool starts gets rooms of bots / rooms seats.
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    rooms: usize,
    /// Let the server place every bot (quick join) instead.
    #[arg(long)]
    quick_join: bool,
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Ok(s),
        _ => Err(format!("{text:?} is not a number of seconds between 0 and 86400")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ARENA_LOG").unwrap_or_else(|_| "warn,quinn=error".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("arena-loadtest: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arena-loadtest: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let target = match (cli.server, cli.cert_sha256) {
        (Some(addr), Some(cert_sha256)) => Target::Remote {
            addr,
            cert_sha256,
            metrics: cli.metrics,
            pid: cli.server_pid,
        },
        _ => Target::Spawn {
            server_bin: cli.server_bin,
            server_args: cli.server_arg,
        },
    };
    let options = Options {
        target,
        bots: cli.bots,
        warmup: Duration::from_secs_f64(cli.warmup),
        duration: Duration::from_secs_f64(cli.duration),
        tick_rate: cli.tick_rate,
        seed: cli.seed,
        bots_per_endpoint: cli.bots_per_endpoint,
        bots_per_task: cli.bots_per_task,
        floor_samples: cli.floor_samples,
        progress: !cli.no_progress,
        rooms: cli.rooms,
        quick_join: cli.quick_join,
        ..Options::default()
    };
    if let Some(steps) = &cli.sweep {
        let steps = sweep::parse_steps(steps)?;
        let mut out = match &cli.json {
            Some(path) => {
                Some(std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?)
            }
            None => None,
        };
        let mut write_error = None;
        let rows = sweep::run(&options, &steps, |row| {
            println!("{}", row.summary());
            if let Some(file) = &mut out
                && let Err(e) = sweep::write_json_line(file, row)
            {
                write_error.get_or_insert(e);
            }
        })
        .await;
        if let Some(e) = write_error {
            return Err(e.context("cannot write the JSON lines"));
        }
        println!("{}", sweep::table(&rows));
        match sweep::first_overrun(&rows) {
            Some(n) => println!("first step with tick overruns: {n} players"),
            None => println!("no step overran its tick period"),
        }
        if let Some(path) = &cli.plot {
            write(path, &plot::sweep_svg(&rows))?;
        }
        return Ok(());
    }
    let run = loadtest::run(&options).await?;
    print!("{}", run.report.summary());
    if let Some(path) = &cli.json {
        write(path, &(serde_json::to_string_pretty(&run.report)? + "\n"))?;
    }
    if let Some(path) = &cli.plot {
        write(path, &plot::run_svg(&run.report, &run.series))?;
    }
    Ok(())
}

fn write(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
