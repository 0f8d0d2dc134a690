//! Per-player input buffering and validation: which inputs are new, which are refused, and which ones a tick
//! applies.
//!
//! Each input datagram repeats the newest few inputs, so most inputs arrive several times: only sequence
//! numbers above the newest one seen are kept. The server applies exactly one step per tick: the oldest
//! buffered input, or the last input again when none arrived in time. No tick applies two, so sending more
//! inputs never makes a player faster or fire more often; inputs that arrive early wait in the buffer (a
//! jitter buffer) and are applied once, in order.
//!
//! A buffer that stays deeper than it needs is latency, so it drains (each dropped input counted):
//! - an input that came late for a tick (which repeated the last input instead) is dropped when the next
//!   one is already there, rather than making every later input wait a tick;
//! - when, for a whole [`DRAIN_WINDOW_TICKS`], inputs were always left waiting after the tick's pick (the
//!   buffer never ran down to [`TARGET_DEPTH`]), the oldest of the excess are dropped: a buffer that absorbs
//!   jitter runs dry now and then and keeps its inputs, one that filled in a burst after a stall is back at
//!   its target within a window.
//!
//! The client's input clock (`arena_client::timesync`) keeps the arrival just ahead of the tick, by the
//! margin the snapshots report ([`InputBuffer::arrived`]).

use arena_shared::protocol::MARGIN_UNIT;
use arena_shared::rules::Input;
use bevy_ecs::prelude::*;
use std::collections::VecDeque;
use std::time::Duration;

/// Inputs applied to one player in one tick: one, whatever arrives.
pub const MAX_INPUTS_PER_TICK: usize = 1;
/// Most inputs buffered per player; past it the oldest are dropped (and counted).
pub const MAX_PENDING_INPUTS: usize = 16;
/// Inputs a buffer may keep waiting after the tick's pick without being drained: none, as a client whose
/// inputs arrive just before their tick has none waiting.
pub const TARGET_DEPTH: usize = 0;
/// Ticks (133 ms at 60 Hz) the buffer must stay above [`TARGET_DEPTH`] before its excess is dropped: long
/// enough that a buffer absorbing a jittery link touches its target within it, short enough that a burst
/// after a 200 ms stall stops costing latency well within a second.
pub const DRAIN_WINDOW_TICKS: u32 = 8;
/// How far ahead of the newest seen sequence number an input may jump; a bigger jump is refused as invalid
/// (it would let a client skip the redundancy window or wrap the counter).
pub const MAX_SEQ_JUMP: u32 = 1_024;

/// Why an input was not taken as sent: the server's decision, counted per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// It asked to move faster than the rules allow (a movement vector longer than one); clamped.
    TooFast,
    /// More inputs arrived than ticks pass (the buffer overflowed); the oldest were dropped.
    TooOften,
    /// Out of phase or impossible: a sequence jump past [`MAX_SEQ_JUMP`], or a non-finite aim; refused.
    OutOfPhase,
}

/// Violations a client may commit within [`CONDUCT_WINDOW_TICKS`] before it is kicked: a few per second are
/// tolerated (clock drift, a burst after a stall), a steady stream is not.
pub const MAX_VIOLATIONS_PER_WINDOW: u32 = 120;
/// The window (in ticks) over which violations are counted.
pub const CONDUCT_WINDOW_TICKS: u32 = 600;

/// A client's record of violations.
#[derive(Component, Debug, Default, Clone)]
pub struct Conduct {
    /// Totals since the player joined, by kind: too fast, too often, out of phase.
    pub totals: [u32; 3],
    window_start: u32,
    in_window: u32,
}

impl Conduct {
    /// Counts `n` violations of `kind` at `tick`; true when the client has now passed the limit.
    pub fn record(&mut self, kind: Violation, n: u32, tick: u32) -> bool {
        if n == 0 {
            return false;
        }
        let i = match kind {
            Violation::TooFast => 0,
            Violation::TooOften => 1,
            Violation::OutOfPhase => 2,
        };
        self.totals[i] = self.totals[i].saturating_add(n);
        if tick.wrapping_sub(self.window_start) >= CONDUCT_WINDOW_TICKS {
            self.window_start = tick;
            self.in_window = 0;
        }
        let before = self.in_window;
        self.in_window = self.in_window.saturating_add(n);
        before <= MAX_VIOLATIONS_PER_WINDOW && self.in_window > MAX_VIOLATIONS_PER_WINDOW
    }
}

/// What became of the inputs of one datagram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accepted {
    /// New inputs buffered.
    pub fresh: u32,
    /// Inputs already seen (the normal redundancy), ignored.
    pub duplicate: u32,
    /// Inputs refused: a sequence jump past [`MAX_SEQ_JUMP`], or a non-finite aim.
    pub invalid: u32,
    /// Inputs that asked to move faster than allowed (kept, clamped by the rules).
    pub too_fast: u32,
    /// Old inputs dropped because the buffer was full.
    pub overflowed: u32,
    /// Inputs skipped over by a newer one: sent by the client but never received (lost beyond the
    /// redundancy window).
    pub lost: u32,
}

/// Whether a movement vector is longer than one (the bytes' full scale, 127), with a 1% tolerance.
fn too_fast(move_x: i8, move_y: i8) -> bool {
    let (x, y) = (f32::from(move_x.max(-127)), f32::from(move_y.max(-127)));
    const LIMIT: f32 = 127.0 * 1.01;
    x * x + y * y > LIMIT * LIMIT
}

/// A player's inputs between the network and the rules.
#[derive(Component, Debug, Default)]
pub struct InputBuffer {
    pending: VecDeque<Input>,
    /// The newest sequence number received.
    newest_seq: u32,
    /// The newest sequence number applied; snapshots report it so the client can reconcile.
    pub last_applied: u32,
    /// The last input applied, repeated when a tick has none.
    last: Input,
    /// The newest snapshot tick the client says it received.
    pub ack_tick: u32,
    /// Inputs refused since the player joined.
    pub invalid_total: u32,
    /// The inputs this tick applies (filled by `select_inputs`, consumed by `move_players`).
    this_tick: [Input; MAX_INPUTS_PER_TICK],
    this_tick_len: usize,
    /// The fewest inputs left waiting after a pick in this drain window, and the window's ticks so far.
    lowest_depth: usize,
    window_ticks: u32,
    /// How early the inputs arrived for the tick that applies them (µs; negative: late): the least since
    /// the last report.
    margin_us: Option<i64>,
    /// Whether the last pick found the buffer empty (and repeated the last input).
    starved: bool,
}

impl InputBuffer {
    /// Buffers the new inputs of one datagram (oldest first) and records its ack.
    pub fn accept(&mut self, ack_tick: u32, inputs: &[Input]) -> Accepted {
        let mut out = Accepted::default();
        self.ack_tick = self.ack_tick.max(ack_tick);
        for input in inputs {
            if input.seq <= self.newest_seq {
                out.duplicate += 1;
            } else if input.seq - self.newest_seq > MAX_SEQ_JUMP || !input.aim.is_finite() {
                out.invalid += 1;
            } else {
                // Squared, without a square root: the sums of two squared bytes are far enough from the
                // limit's square that the two comparisons never differ (checked for every pair of bytes).
                if too_fast(input.move_x, input.move_y) {
                    out.too_fast += 1;
                }
                if self.newest_seq != 0 {
                    out.lost += input.seq - self.newest_seq - 1;
                }
                self.newest_seq = input.seq;
                self.pending.push_back(*input);
                out.fresh += 1;
                if self.pending.len() > MAX_PENDING_INPUTS {
                    self.pending.pop_front();
                    out.overflowed += 1;
                }
            }
        }
        self.invalid_total = self.invalid_total.saturating_add(out.invalid);
        out
    }

    /// Records when the newest buffered input arrived (the report keeps the least margin until taken): `waited` before the start of this tick, whose pick
    /// comes next; inputs ahead of it wait a `tick_period` each. When it is the only one and the last pick
    /// found none, it came late for that tick: by `tick_period - waited`.
    pub fn arrived(&mut self, waited: Duration, tick_period: Duration) {
        let ahead = self.pending.len().saturating_sub(1) as u32;
        let us = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        let margin = if ahead == 0 && self.starved {
            us(waited) - us(tick_period)
        } else {
            us(waited + tick_period * ahead)
        };
        // The least since the last report: a late input followed by one on time is reported late.
        self.margin_us = Some(self.margin_us.map_or(margin, |m| m.min(margin)));
    }

    /// The least margin since the last call, in [`MARGIN_UNIT`]s (saturated to an `i16`): what
    /// this client's next snapshot reports.
    pub fn take_margin(&mut self) -> Option<i16> {
        let units = self.margin_us.take()? / MARGIN_UNIT.as_micros() as i64;
        Some(units.clamp(i16::MIN.into(), i16::MAX.into()) as i16)
    }

    /// Chooses the input this tick applies: the oldest buffered one, or the last one again. Returns how many
    /// inputs the buffer drained (dropped as excess depth, see the module's doc).
    pub fn select_for_tick(&mut self) -> u32 {
        // After a tick that found none, the input that came late for it was stood in for (the last one
        // repeated): when the next one is here as well, the late one goes rather than making every later
        // input wait a tick.
        let mut drained = 0;
        if self.starved
            && self.pending.len() >= 2
            && let Some(late) = self.pending.pop_front()
        {
            self.last_applied = late.seq;
            drained = 1;
        }
        let next = self.pending.pop_front();
        self.starved = next.is_none();
        if let Some(input) = next {
            self.last = input;
            self.last_applied = input.seq;
        }
        self.this_tick[0] = self.last;
        self.this_tick_len = 1;
        self.lowest_depth = if self.window_ticks == 0 {
            self.pending.len()
        } else {
            self.lowest_depth.min(self.pending.len())
        };
        self.window_ticks += 1;
        if self.window_ticks < DRAIN_WINDOW_TICKS {
            return drained;
        }
        self.window_ticks = 0;
        let excess = self.lowest_depth.saturating_sub(TARGET_DEPTH);
        // The oldest go: the client predicted them long ago, and what it sends now is what it means now.
        for dropped in self.pending.drain(..excess) {
            self.last_applied = dropped.seq;
        }
        drained + excess as u32
    }

    /// The inputs chosen for this tick.
    pub fn this_tick(&self) -> &[Input] {
        &self.this_tick[..self.this_tick_len]
    }

    /// Inputs buffered and not yet applied.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests;
