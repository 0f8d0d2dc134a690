//! The input clock: when to send the next input so that it reaches the server a small margin before the
//! tick that applies it, neither late (the tick repeats the last input) nor early (it waits as latency).
//!
//! It knows the server's tick clock from the snapshots (a tick started about half a round trip before its
//! snapshot arrived) and starts there. Each delta then reports how early this client's newest input arrived
//! ([`arena_shared::protocol::Snapshot::input_margin`]); the clock holds that margin at a target that grows
//! with the jitter it sees: it jumps once the first margins show where it stands, then nudges its period
//! a few percent faster or slower, as Overwatch's client does. A margin of a tick or more means inputs
//! queue at the server, which drains such a queue itself; the clock takes it as "early by a tick" and
//! only nudges by it.
//!
//! Sans-IO: every method takes the time it happens at, so tests drive it with a clock of their own.

use arena_shared::protocol::MARGIN_UNIT;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The margin a perfectly steady link is given: room for the sender's timer and the server's wake-up.
pub const BASE_MARGIN: Duration = Duration::from_micros(1_000);
/// How many times the jitter (the margins' mean deviation from their median) the target adds.
pub const JITTER_FACTOR: f64 = 2.0;
/// The most the period is stretched or shortened while nudging.
pub const MAX_SLEW: f64 = 0.05;
/// Margins the jitter is measured over (a second at 60 Hz).
const JITTER_SAMPLES: usize = 60;
/// Reports over which a queue at the server is told from one that stays (half a second at 60 Hz: the
/// server drains a queue a stall left within 8 ticks).
const QUEUE_SAMPLES: usize = 30;
/// Recent margins whose median steers (a few, so one late input does not).
const STEER_SAMPLES: usize = 5;
/// Ticks over which a phase error is nudged away (the nudge is the error divided by this, per tick).
const NUDGE_TICKS: f64 = 10.0;

/// What the clock holds, for reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSync {
    /// The median of the recent margins the server reported.
    pub margin: Option<Duration>,
    /// The margin the clock aims at.
    pub target: Duration,
    /// The margins' mean deviation from their median.
    pub jitter: Duration,
    /// The period's stretch: 1.0 on time, above it slower.
    pub rate: f64,
}

/// When each input leaves (see the module's doc).
#[derive(Debug, Clone)]
pub struct InputClock {
    period: Duration,
    next: Instant,
    rate: f64,
    /// Recent margins (µs) for the jitter, newest last.
    margins: VecDeque<f64>,
    /// Recent margins (µs) that steer, newest last; emptied after a jump.
    steer: VecDeque<f64>,
    /// Whether each recent report said "queued" (a margin of a tick or more).
    queued: VecDeque<bool>,
    /// Whether the margins have placed the phase yet.
    placed: bool,
    /// The newest snapshot's tick and when that tick started, by this clock.
    server: Option<(u32, Instant)>,
    /// After a jump, margins arriving before this were measured on inputs sent before it: left out.
    settle_until: Option<Instant>,
}

impl InputClock {
    /// A clock for a server ticking at `tick_rate`, with its first input due at `now`.
    pub fn new(tick_rate: u16, now: Instant) -> Self {
        Self {
            period: Duration::from_secs(1) / u32::from(tick_rate.max(1)),
            next: now,
            rate: 1.0,
            margins: VecDeque::with_capacity(JITTER_SAMPLES),
            steer: VecDeque::with_capacity(STEER_SAMPLES),
            queued: VecDeque::with_capacity(QUEUE_SAMPLES),
            placed: false,
            server: None,
            settle_until: None,
        }
    }

    /// When the next input is due.
    pub fn due(&self) -> Instant {
        self.next
    }

    /// An input left at `now`: the next is due a (nudged) period after this one's due time; ticks the sender
    /// missed (it was busy) are skipped rather than sent in a burst.
    pub fn sent(&mut self, now: Instant) {
        let step = self.period.mul_f64(self.rate);
        self.next += step;
        while self.next + step / 2 < now {
            self.next += step;
        }
    }

    /// A snapshot of `tick` arrived at `at`, with the round trip `rtt` and the margin it reports.
    pub fn on_snapshot(&mut self, tick: u32, at: Instant, rtt: Duration, margin: Option<i16>) {
        let first = self.server.is_none();
        self.track_server(tick, at, rtt);
        if first && let Some(started) = self.tick_start(tick) {
            // Until the server's margins say better: arrive the target early, half a round trip after leaving.
            let lead = self.target() + rtt / 2;
            let mut next = started + self.period;
            while next < at + lead {
                next += self.period;
            }
            self.next = next - lead;
            self.settle_until = Some(at + rtt + self.period * 2);
        }
        let settled = self.settle_until.is_none_or(|until| at >= until);
        if let (Some(units), true) = (margin, settled) {
            let jumped = self.on_margin(f64::from(units) * MARGIN_UNIT.as_micros() as f64);
            if jumped {
                self.settle_until = Some(at + rtt + self.period * 2);
            }
        }
    }

    /// The server tick running at `now`, with its fraction, as far as the snapshots tell.
    pub fn server_tick_at(&self, now: Instant) -> Option<f64> {
        let (tick, started) = self.server?;
        // One of the two is zero: how far `now` is past the tick's start, or before it.
        let since =
            now.saturating_duration_since(started).as_secs_f64() - started.saturating_duration_since(now).as_secs_f64();
        Some(f64::from(tick) + since / self.period.as_secs_f64())
    }

    /// What the clock holds now.
    pub fn stats(&self) -> TimeSync {
        TimeSync {
            margin: (!self.margins.is_empty()).then(|| Duration::from_micros(median(&self.margins).max(0.0) as u64)),
            target: self.target(),
            jitter: Duration::from_micros(self.jitter_us() as u64),
            rate: self.rate,
        }
    }

    /// The margin aimed at: the base plus the jitter's allowance, at most half a tick (a margin of a tick
    /// or more is a queue at the server).
    pub fn target(&self) -> Duration {
        let us = BASE_MARGIN.as_micros() as f64 + JITTER_FACTOR * self.jitter_us();
        Duration::from_micros(us as u64).min(self.period / 2)
    }

    fn jitter_us(&self) -> f64 {
        if self.margins.len() < STEER_SAMPLES {
            return 0.0;
        }
        let mid = median(&self.margins);
        self.margins.iter().map(|m| (m - mid).abs()).sum::<f64>() / self.margins.len() as f64
    }

    /// Takes one margin (µs); true when it made the clock jump.
    fn on_margin(&mut self, us: f64) -> bool {
        let period_us = self.period.as_micros() as f64;
        // A margin of a tick or more is a queue at the server. One that a stall left behind is the server's to
        // drain: left out. One that stays (most of the recent reports) says this clock runs fast: it counts
        // as "early by a tick" (left out, it would leave only the queue-less reports to steer by, which say
        // "late", and the clock would keep the queue full), but never makes the clock jump.
        let queued = us >= period_us;
        push_bounded(&mut self.queued, queued, QUEUE_SAMPLES);
        if queued && self.queued.iter().filter(|q| **q).count() * 2 <= self.queued.len() {
            return false;
        }
        if !queued {
            push_bounded(&mut self.margins, us, JITTER_SAMPLES);
        }
        push_bounded(&mut self.steer, us.min(period_us), STEER_SAMPLES);
        let error = median(&self.steer) - self.target().as_micros() as f64;
        let any_queued = self.steer.iter().any(|m| *m >= period_us);
        let far = self.steer.len() == STEER_SAMPLES && error.abs() > period_us / 3.0;
        if !any_queued && (!self.placed && self.steer.len() >= 3 || far) {
            // Far off (or never placed): jump there at once. Later inputs leave `error` later (early: later).
            self.shift(error);
            self.placed = true;
            self.steer.clear();
            self.rate = 1.0;
            return true;
        }
        if self.placed {
            self.rate = 1.0 + (error / (period_us * NUDGE_TICKS)).clamp(-MAX_SLEW, MAX_SLEW);
        }
        false
    }

    /// Moves the next input `us` microseconds later (earlier when negative).
    fn shift(&mut self, us: f64) {
        let by = Duration::from_micros(us.abs() as u64);
        self.next = if us >= 0.0 {
            self.next + by
        } else {
            self.next.checked_sub(by).unwrap_or(self.next)
        };
    }

    /// Follows the server's tick clock: the least delayed snapshot tells best (a tick started no later than
    /// half a round trip before its snapshot arrived); a later estimate is followed slowly, for drift.
    fn track_server(&mut self, tick: u32, at: Instant, rtt: Duration) {
        let seen = at.checked_sub(rtt / 2).unwrap_or(at);
        let start = match self.tick_start(tick) {
            Some(expected) if seen < expected => seen,
            Some(expected) => expected + (seen - expected) / 16,
            None => seen,
        };
        self.server = Some((tick, start));
    }

    /// When tick `tick` started, by this clock, as far as the snapshots tell.
    fn tick_start(&self, tick: u32) -> Option<Instant> {
        let (known, started) = self.server?;
        let ticks = i64::from(tick.wrapping_sub(known) as i32);
        let span = self.period * ticks.unsigned_abs() as u32;
        if ticks >= 0 {
            Some(started + span)
        } else {
            started.checked_sub(span)
        }
    }
}

fn push_bounded<T>(q: &mut VecDeque<T>, v: T, cap: usize) {
    if q.len() == cap {
        q.pop_front();
    }
    q.push_back(v);
}

fn median(q: &VecDeque<f64>) -> f64 {
    let mut v: Vec<f64> = q.iter().copied().collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests;
