//! One load-test run: start (or reach) the server, measure the floor, connect the bots, warm up, measure a
//! window, and put the bots' and the server's figures into a [`Report`].

use crate::bots::{self, Bot, GroupResult, Live, Phase};
use crate::figures::{Usage, add_bot_figures, add_notes, add_usage};
use crate::floor::Floor;
use crate::procstat::{self, Pid};
use crate::report::{Report, Run, Series};
use crate::stats::{Quantiles, rate};
use crate::target::{Server, Target};
use anyhow::{Context, bail};
use arena_client::{ConnectOptions, Verification};
use arena_shared::protocol::{Mode, RoomCode, RoomRequest};
use indicatif::{ProgressBar, ProgressStyle};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The name of the server's tick thread.
const TICK_THREAD: &str = "arena-tick";

/// Groups (each with its own input clock at a random phase) a run has at least, bots permitting, so the
/// latency figures do not hang on one phase between the bots' clock and the server's tick.
pub const MIN_GROUPS: usize = 8;

/// How a run is set up.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub bots: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Tick rate of a server this tool starts (a remote server's own rate is used otherwise).
    pub tick_rate: u16,
    pub seed: u64,
    /// Bots sharing one UDP socket.
    pub bots_per_endpoint: usize,
    /// Bots driven by one task (fewer when that leaves under [`MIN_GROUPS`] groups).
    pub bots_per_task: usize,
    /// Handshakes in flight at once.
    pub connect_concurrency: usize,
    /// Echo round trips for the floor, before the bots connect.
    pub floor_samples: usize,
    /// Show progress bars on stderr (hidden anyway when stderr is not a terminal).
    pub progress: bool,
    /// Rooms the bots are spread over (a server this tool starts gets rooms of `bots / rooms` seats).
    pub rooms: usize,
    /// Let the server place the bots (quick join) instead of one bot creating each room and the others
    /// joining by its code, round robin.
    pub quick_join: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            target: Target::Spawn {
                server_bin: None,
                server_args: Vec::new(),
            },
            bots: 8,
            warmup: Duration::from_secs(3),
            duration: Duration::from_secs(10),
            tick_rate: 60,
            seed: 1,
            bots_per_endpoint: 50,
            bots_per_task: 50,
            connect_concurrency: 16,
            floor_samples: 2_000,
            progress: true,
            rooms: 1,
            quick_join: false,
        }
    }
}

/// Runs the whole load test and stops whatever it started.
pub async fn run(options: &Options) -> anyhow::Result<Run> {
    if options.bots == 0 {
        bail!("--bots must be at least 1");
    }
    if matches!(options.target, Target::Spawn { .. } | Target::InProcess) && options.bots > 1024 {
        bail!("at most 1024 bots: the server takes at most 1024 players");
    }
    if options.rooms == 0 || options.rooms > options.bots {
        bail!("--rooms must be between 1 and the number of bots");
    }
    let room_size = options.bots.div_ceil(options.rooms);
    let server = Server::start(
        &options.target,
        options.bots,
        room_size,
        options.tick_rate,
        options.seed,
    )
    .await
    .context("the server could not start")?;
    let run = run_against(&server, options).await;
    server.stop().await;
    run
}

fn bar(options: &Options, len: u64, template: &str) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

async fn run_against(server: &Server, options: &Options) -> anyhow::Result<Run> {
    let floor = Floor::start().await?;
    let idle = floor.measure(options.floor_samples).await;
    let Joined {
        endpoints,
        bots,
        connect_errors,
        tick_rate,
        rooms,
    } = join_bots(server, options).await?;
    let connected = bots.len();
    let (phase_tx, phase_rx) = watch::channel(Phase::Warmup);
    let live = Arc::new(Live::default());
    let groups = spawn_groups(bots, tick_rate, options, &phase_rx, &live);

    // Warm-up, then the measured window, with a progress bar over both.
    let mut progress = Progress::new(options, connected, live.clone());
    progress.run_for(options.warmup, "warm-up").await;
    let tick_threads = server.pid.map(|pid| (pid, procstat::threads_named(pid, TICK_THREAD)));
    let before = Usage::take(server, tick_threads.as_ref()).await?;
    let window_start = Instant::now();
    let _ = phase_tx.send(Phase::Measure(window_start));
    let (stop_floor, stop_floor_rx) = watch::channel(false);
    let loaded_floor = floor.sample_until(Duration::from_millis(20), stop_floor_rx);
    progress.run_for(options.duration, "measuring").await;
    let _ = phase_tx.send(Phase::Stop);
    let window_s = window_start.elapsed().as_secs_f64();
    let after = Usage::take(server, tick_threads.as_ref()).await?;
    let rss = server.pid.map(procstat::rss_mb).transpose()?;
    let _ = stop_floor.send(true);
    progress.bar.finish_and_clear();

    let results = collect_groups(groups).await?;
    let loaded = loaded_floor.await.unwrap_or_default();
    for bot in results.iter().flat_map(|g| &g.bots) {
        bot.close();
    }
    for endpoint in &endpoints {
        let _ = tokio::time::timeout(Duration::from_secs(1), endpoint.wait_idle()).await;
    }
    floor.close().await;

    let mut report = Report {
        bots: options.bots,
        bots_connected: connected,
        duration_s: window_s,
        warmup_s: options.warmup.as_secs_f64(),
        tick_rate,
        server: server.kind.to_owned(),
        floor_rtt_us: Quantiles::of(&mut idle.rtt_us.clone()),
        floor_rtt_loaded_us: Quantiles::of(&mut loaded.rtt_us.clone()),
        rooms,
        server_rss_mb: rss,
        ..Report::default()
    };
    let mut series = Series::default();
    add_bot_figures(&mut report, &mut series, &results, connect_errors);
    add_usage(&mut report, &mut series, before, after, window_s);
    if server.pid == Some(Pid::This) {
        report
            .notes
            .push("the server runs in this process: CPU and memory include the bots".into());
    }
    if idle.lost + loaded.lost > 0 {
        report
            .notes
            .push(format!("{} floor echoes were lost", idle.lost + loaded.lost));
    }
    add_notes(&mut report);
    Ok(Run {
        report: report.rounded(),
        series,
    })
}

/// The progress bar over the warm-up and the window: the phase, the bots' snapshot rate, the bots gone.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    /// The last update's time and snapshot count.
    last: (Instant, u64),
    connected: usize,
    live: Arc<Live>,
}

impl Progress {
    fn new(options: &Options, connected: usize, live: Arc<Live>) -> Self {
        let total = options.warmup + options.duration;
        let bar = bar(
            options,
            total.as_millis() as u64,
            "{msg:58} {bar:30} {elapsed}/{duration}",
        );
        let started = Instant::now();
        Self {
            bar,
            started,
            last: (started, 0),
            connected,
            live,
        }
    }

    /// Waits `length` from now, updating the bar four times a second.
    async fn run_for(&mut self, length: Duration, label: &str) {
        let from = Instant::now();
        while from.elapsed() < length {
            tokio::time::sleep(Duration::from_millis(250).min(length.saturating_sub(from.elapsed()))).await;
            let now = Instant::now();
            let snaps = self.live.snapshots.load(Ordering::Relaxed);
            let hz = rate(snaps - self.last.1, now.duration_since(self.last.0).as_secs_f64()) / self.connected as f64;
            self.last = (now, snaps);
            self.bar
                .set_position(now.duration_since(self.started).as_millis() as u64);
            self.bar.set_message(format!(
                "{label}: {} bots, {hz:.1} snapshots/s each, {} gone",
                self.connected,
                self.live.disconnects.load(Ordering::Relaxed)
            ));
        }
    }
}

/// The bots in the game, with the sockets they share.
struct Joined {
    endpoints: Vec<quinn::Endpoint>,
    bots: Vec<Bot>,
    connect_errors: Vec<String>,
    tick_rate: u16,
    /// Distinct rooms the bots were placed in.
    rooms: usize,
}

/// Opens the bots' sockets and connects them (an error only when none could join).
async fn join_bots(server: &Server, options: &Options) -> anyhow::Result<Joined> {
    let local: SocketAddr = if server.addr.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }.parse()?;
    let endpoints = (0..options.bots.div_ceil(options.bots_per_endpoint.max(1)))
        .map(|_| quinn::Endpoint::client(local))
        .collect::<Result<Vec<_>, _>>()
        .context("cannot open a UDP socket for the bots")?;
    let template = ConnectOptions {
        server: server.addr,
        server_name: "localhost".into(),
        verification: Verification::from_sha256_hex(&server.cert_sha256)?,
        name: String::new(),
        room: Default::default(),
    };
    let connecting = bar(
        options,
        options.bots as u64,
        "connecting {bar:40} {pos}/{len} bots {elapsed}",
    );
    let (bots, connect_errors) = connect_bots(&template, options, &endpoints, || connecting.inc(1)).await;
    connecting.finish_and_clear();
    let Some(tick_rate) = bots.first().map(|b| b.session.welcome().tick_rate) else {
        bail!(
            "no bot could join: {}",
            connect_errors.first().map_or("no error given", String::as_str)
        );
    };
    let rooms: std::collections::BTreeSet<_> = bots.iter().map(|b| b.session.welcome().room.clone()).collect();
    Ok(Joined {
        endpoints,
        rooms: rooms.len(),
        bots,
        connect_errors,
        tick_rate,
    })
}

/// Splits the bots into groups, each driven by one task with its own input clock.
fn spawn_groups(
    bots: Vec<Bot>,
    tick_rate: u16,
    options: &Options,
    phase: &watch::Receiver<Phase>,
    live: &Arc<Live>,
) -> tokio::task::JoinSet<GroupResult> {
    let mut groups = tokio::task::JoinSet::new();
    let per_task = options.bots_per_task.max(1).min(bots.len().div_ceil(MIN_GROUPS));
    let mut pending = bots.into_iter().peekable();
    let mut group_index = 0u64;
    while pending.peek().is_some() {
        let group: Vec<Bot> = pending.by_ref().take(per_task).collect();
        let seed = options.seed.wrapping_mul(1_000_003).wrapping_add(group_index);
        groups.spawn(bots::run_group(group, tick_rate, seed, phase.clone(), live.clone()));
        group_index += 1;
    }
    groups
}

/// Every group's result, once all have stopped (at most 10 s after being told to).
async fn collect_groups(mut groups: tokio::task::JoinSet<GroupResult>) -> anyhow::Result<Vec<GroupResult>> {
    let mut results = Vec::new();
    let collect = async {
        while let Some(done) = groups.join_next().await {
            results.push(done);
        }
    };
    if tokio::time::timeout(Duration::from_secs(10), collect).await.is_err() {
        bail!("the bot groups did not stop within 10 s");
    }
    Ok(results.into_iter().collect::<Result<_, _>>()?)
}

/// Connects the bots: each room created by one bot, one room at a time, then the others joining the rooms
/// by their codes, round robin; or, with `quick_join`, every bot placed by the server.
async fn connect_bots(
    template: &ConnectOptions,
    options: &Options,
    endpoints: &[quinn::Endpoint],
    on_connect: impl Fn() + Copy,
) -> (Vec<Bot>, Vec<String>) {
    let concurrency = options.connect_concurrency;
    if options.quick_join {
        let quick = |_| RoomRequest::default();
        return bots::connect_all(template, 0..options.bots, endpoints, concurrency, quick, on_connect).await;
    }
    let create = |_| RoomRequest::Create {
        mode: Mode::Deathmatch,
        private: false,
    };
    let (mut bots, mut errors) = bots::connect_all(template, 0..options.rooms, endpoints, 1, create, on_connect).await;
    let codes: Vec<RoomCode> = bots.iter().map(|b| b.session.welcome().room.clone()).collect();
    if codes.is_empty() {
        return (bots, errors);
    }
    let by_code = |i: usize| RoomRequest::Code(codes[i % codes.len()].clone());
    let rest = options.rooms..options.bots;
    let (others, more_errors) = bots::connect_all(template, rest, endpoints, concurrency, by_code, on_connect).await;
    bots.extend(others);
    errors.extend(more_errors);
    (bots, errors)
}
