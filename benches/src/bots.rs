//! The load: real QUIC bot clients, connected over a few shared UDP endpoints and driven in groups (one
//! task per group, not per bot), each bot sending one input per tick chosen by [`arena_client::bot::decide`]
//! when its session's input clock says, timing every input until the first snapshot that reports it
//! applied, predicting its own movement as the real clients do (the prediction error at each
//! reconciliation), and keeping the input margins the server reported.

use arena_client::bot::decide;
use arena_client::predict::Predictor;
use arena_client::{ConnectOptions, Event, Session};
use arena_shared::protocol::MARGIN_UNIT;
use arena_shared::protocol::{ServerFrame, Snapshot, close_code};
use quinn::VarInt;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Inputs remembered per bot for timing; an input not applied within this many later inputs is not timed.
pub const SENT_RING: usize = 512;
/// Distinct error messages kept for the report.
pub const MAX_ERROR_SAMPLES: usize = 8;

/// Where the run is; groups measure only while it is `Measure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Warmup,
    /// The measured window, which started at this instant.
    Measure(Instant),
    Stop,
}

/// Running totals the progress bar shows.
#[derive(Debug, Default)]
pub struct Live {
    pub snapshots: AtomicU64,
    pub disconnects: AtomicU64,
}

/// One connected bot.
pub struct Bot {
    pub session: Session,
    me: u32,
    strafe: f32,
    latest: Option<Snapshot>,
    predictor: Predictor,
    /// (sequence number, send time) by `seq % SENT_RING`.
    sent: Vec<(u32, Instant)>,
    applied: u32,
    /// An event taken while waiting for any bot's next event.
    stash: Option<Option<Event>>,
    closed: bool,
    base: Counters,
}

/// A bot's connection counters at one moment.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    tx: u64,
    rx: u64,
    dropped: u64,
    bad: u64,
}

impl Bot {
    pub fn new(session: Session) -> Self {
        let me = session.player_id();
        let predictor = Predictor::new(session.arena().clone(), session.welcome().tick_rate);
        Self {
            session,
            me,
            strafe: 1.0,
            latest: None,
            predictor,
            sent: vec![(0, Instant::now()); SENT_RING],
            applied: 0,
            stash: None,
            closed: false,
            base: Counters::default(),
        }
    }

    fn counters(&self) -> Counters {
        let udp = self.session.connection().stats();
        let s = self.session.stats();
        Counters {
            tx: udp.udp_tx.bytes,
            rx: udp.udp_rx.bytes,
            dropped: s.snapshots_dropped.load(Ordering::Relaxed),
            bad: s.bad_datagrams.load(Ordering::Relaxed),
        }
    }

    /// Closes the connection without waiting (the caller waits for the shared endpoints once).
    pub fn close(&self) {
        self.session
            .connection()
            .close(VarInt::from_u32(close_code::LEFT), b"load test over");
    }
}

/// Connects the bots numbered `bots` (bot `i` named `bot{i}`, in the room `room_of(i)` asks for) over
/// `endpoints` (bot `i` uses endpoint `i % len`), at most `concurrency` handshakes at a time; `on_connect`
/// is called after each attempt. Returns the bots that joined, in order, and the errors of those that did
/// not.
pub async fn connect_all(
    template: &ConnectOptions,
    bots: std::ops::Range<usize>,
    endpoints: &[quinn::Endpoint],
    concurrency: usize,
    room_of: impl Fn(usize) -> arena_shared::protocol::RoomRequest,
    on_connect: impl Fn(),
) -> (Vec<Bot>, Vec<String>) {
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let n = bots.len();
    for i in bots {
        let Some(endpoint) = endpoints.get(i % endpoints.len().max(1)).cloned() else {
            break;
        };
        let mut options = template.clone();
        options.name = format!("bot{i}");
        options.room = room_of(i);
        let gate = gate.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            (i, Session::connect_on(&endpoint, &options).await)
        });
    }
    let mut joined = Vec::with_capacity(n);
    let mut errors = Vec::new();
    while let Some(done) = tasks.join_next().await {
        on_connect();
        match done {
            Ok((i, Ok(session))) => joined.push((i, Bot::new(session))),
            Ok((i, Err(e))) => errors.push(format!("bot{i} could not join: {e}")),
            Err(e) => errors.push(format!("a connect task failed: {e}")),
        }
    }
    joined.sort_by_key(|(i, _)| *i);
    (joined.into_iter().map(|(_, b)| b).collect(), errors)
}

/// What one group saw during the measured window.
#[derive(Default)]
pub struct GroupResult {
    pub bots: Vec<Bot>,
    /// The window as this group saw it, in seconds.
    pub window_s: f64,
    pub snapshots: u64,
    /// Players plus projectiles over all snapshots received.
    pub entities: u64,
    pub inputs_sent: u64,
    /// (milliseconds since the window started, input-to-snapshot latency in µs) per applied input.
    pub latencies: Vec<(u32, u32)>,
    /// The input margins the server reported, in µs (negative: late).
    pub margins: Vec<i64>,
    /// The prediction errors at each reconciliation, in units.
    pub prediction_errors: Vec<f32>,
    pub down_bytes: u64,
    pub up_bytes: u64,
    /// Snapshots the sessions dropped because this group did not take them fast enough.
    pub snapshots_dropped: u64,
    pub disconnects: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
}

impl GroupResult {
    fn error(&mut self, counted: bool, message: String) {
        self.errors += u64::from(counted);
        if self.error_samples.len() < MAX_ERROR_SAMPLES && !self.error_samples.contains(&message) {
            self.error_samples.push(message);
        }
    }
}

/// Plays `bots` until the phase turns `Stop`: one input per bot per tick, when its input clock says (the
/// group wakes for the earliest due), every event taken as it comes.
pub async fn run_group(
    mut bots: Vec<Bot>,
    tick_rate: u16,
    seed: u64,
    mut phase: watch::Receiver<Phase>,
    live: Arc<Live>,
) -> GroupResult {
    let mut rng = StdRng::seed_from_u64(seed);
    let flip_chance = 1.0 / f64::from(tick_rate.max(1));
    let idle = Duration::from_secs(1);
    let mut out = GroupResult::default();
    let mut window: Option<Instant> = None;
    let mut window_opened = None;
    enum Wake {
        Tick,
        Event,
        Phase,
        Orphaned,
    }
    loop {
        let due = bots
            .iter()
            .filter(|b| !b.closed)
            .map(|b| b.session.next_input_at())
            .min();
        let due = due.unwrap_or_else(|| Instant::now() + idle);
        let wake = tokio::select! {
            () = tokio::time::sleep_until(due.into()) => Wake::Tick,
            () = any_event(&mut bots) => Wake::Event,
            changed = phase.changed() => if changed.is_ok() { Wake::Phase } else { Wake::Orphaned },
        };
        match wake {
            Wake::Phase => match *phase.borrow() {
                Phase::Measure(start) => {
                    window = Some(start);
                    window_opened = Some(Instant::now());
                    for bot in &mut bots {
                        bot.base = bot.counters();
                    }
                }
                Phase::Warmup => {}
                Phase::Stop => break,
            },
            Wake::Orphaned => break,
            Wake::Tick => send_due(&mut bots, &mut rng, flip_chance, window.is_some(), &mut out, &live),
            Wake::Event => {}
        }
        for bot in bots.iter_mut().filter(|b| !b.closed) {
            while let Some(event) = bot.stash.take().or_else(|| bot.session.try_event().map(Some)) {
                if on_event(bot, event, window, &mut out, &live) {
                    break;
                }
            }
        }
    }
    if let Some(opened) = window_opened {
        count_window(&mut out, &bots, opened);
    }
    out.bots = bots;
    out
}

/// Sends the input of every bot whose input clock says it is due (the strafe flips about once a second);
/// a bot whose send fails is closed and counted.
fn send_due(bots: &mut [Bot], rng: &mut StdRng, flip_chance: f64, measuring: bool, out: &mut GroupResult, live: &Live) {
    let now = Instant::now();
    for bot in bots
        .iter_mut()
        .filter(|b| !b.closed && b.session.next_input_at() <= now)
    {
        if rng.random_bool(flip_chance) {
            bot.strafe = -bot.strafe;
        }
        match bot.session.send_input(decide(bot.latest.as_ref(), bot.me, bot.strafe)) {
            Ok(input) => {
                bot.predictor.apply_local(input);
                bot.sent[input.seq as usize % SENT_RING] = (input.seq, Instant::now());
                out.inputs_sent += u64::from(measuring);
            }
            Err(e) => {
                bot.closed = true;
                out.disconnects += 1;
                live.disconnects.fetch_add(1, Ordering::Relaxed);
                out.error(false, format!("sending an input failed: {e}"));
            }
        }
    }
}

/// The window's length and the bots' byte and drop counters over it (from the readings at its start).
fn count_window(out: &mut GroupResult, bots: &[Bot], opened: Instant) {
    out.window_s = opened.elapsed().as_secs_f64();
    for bot in bots {
        let now = bot.counters();
        out.up_bytes += now.tx - bot.base.tx;
        out.down_bytes += now.rx - bot.base.rx;
        out.snapshots_dropped += now.dropped - bot.base.dropped;
        let bad = now.bad - bot.base.bad;
        if bad > 0 {
            out.errors += bad;
            out.error(false, format!("{bad} snapshot datagrams did not decode or reassemble"));
        }
    }
}

/// Handles one event of one bot; true when the bot's connection is over.
fn on_event(bot: &mut Bot, event: Option<Event>, window: Option<Instant>, out: &mut GroupResult, live: &Live) -> bool {
    let now = Instant::now();
    let reason = match event {
        Some(Event::Snapshot(snap)) => {
            live.snapshots.fetch_add(1, Ordering::Relaxed);
            if window.is_some() {
                out.snapshots += 1;
                out.entities += (snap.players.len() + snap.projectiles.len()) as u64;
                if let Some(m) = snap.input_margin {
                    out.margins.push(i64::from(m) * MARGIN_UNIT.as_micros() as i64);
                }
            }
            if let Some(mine) = snap.players.iter().find(|p| p.id == bot.me) {
                let error = bot.predictor.reconcile(&mine.state, snap.last_input_seq);
                if let (Some(e), true) = (error, window.is_some()) {
                    out.prediction_errors.push(e);
                }
            }
            if snap.last_input_seq > bot.applied {
                let first = bot.applied.max(snap.last_input_seq.saturating_sub(SENT_RING as u32)) + 1;
                for seq in first..=snap.last_input_seq {
                    let (sent_seq, at) = bot.sent[seq as usize % SENT_RING];
                    if let (true, Some(start)) = (sent_seq == seq, window) {
                        let since = now.saturating_duration_since(start).as_millis() as u32;
                        let us = now.saturating_duration_since(at).as_micros().min(u128::from(u32::MAX)) as u32;
                        out.latencies.push((since, us));
                    }
                }
                bot.applied = snap.last_input_seq;
            }
            bot.latest = Some(snap);
            return false;
        }
        Some(Event::Frame(ServerFrame::Kick { reason })) => {
            out.error(true, format!("kicked: {reason}"));
            return false;
        }
        Some(Event::Frame(_)) => return false,
        Some(Event::Closed(reason)) => reason,
        None => "the connection ended".into(),
    };
    bot.closed = true;
    out.disconnects += 1;
    live.disconnects.fetch_add(1, Ordering::Relaxed);
    out.error(false, format!("disconnected: {reason}"));
    true
}

/// Resolves when any open bot has an event (kept in its stash). Every open bot's queue is polled, so
/// each registers this task's waker and the group wakes on the first event of any of them.
async fn any_event(bots: &mut [Bot]) {
    std::future::poll_fn(|cx| {
        for bot in bots.iter_mut().filter(|b| !b.closed) {
            if bot.stash.is_some() {
                return Poll::Ready(());
            }
            let next = pin!(bot.session.next_event());
            if let Poll::Ready(event) = next.poll(cx) {
                bot.stash = Some(event);
                return Poll::Ready(());
            }
        }
        Poll::Pending
    })
    .await;
}
