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
mod tests {
    use super::*;

    fn inp(seq: u32) -> Input {
        Input {
            seq,
            ..Input::default()
        }
    }

    #[test]
    fn too_fast_without_a_square_root_is_too_fast_with_one() {
        for x in i8::MIN..=i8::MAX {
            for y in i8::MIN..=i8::MAX {
                let with_root = f32::hypot(f32::from(x.max(-127)), f32::from(y.max(-127))) > 127.0 * 1.01;
                assert_eq!(too_fast(x, y), with_root, "{x} {y}");
            }
        }
    }

    #[test]
    fn redundant_inputs_are_applied_once_and_in_order() {
        let mut b = InputBuffer::default();
        let mut applied = vec![];
        assert_eq!(b.accept(0, &[inp(1), inp(2)]).fresh, 2);
        b.select_for_tick();
        applied.extend(b.this_tick().iter().map(|i| i.seq));
        let a = b.accept(0, &[inp(1), inp(2), inp(3)]);
        assert_eq!((a.fresh, a.duplicate), (1, 2));
        for _ in 0..2 {
            b.select_for_tick();
            applied.extend(b.this_tick().iter().map(|i| i.seq));
        }
        assert_eq!(applied, vec![1, 2, 3]);
        assert_eq!(b.last_applied, 3);
    }

    #[test]
    fn a_missing_input_repeats_the_last_one_without_counting_it_applied() {
        let mut b = InputBuffer::default();
        b.accept(
            0,
            &[Input {
                seq: 1,
                move_x: 127,
                ..Input::default()
            }],
        );
        b.select_for_tick();
        b.select_for_tick();
        assert_eq!(
            b.this_tick(),
            &[Input {
                seq: 1,
                move_x: 127,
                ..Input::default()
            }]
        );
        assert_eq!(b.last_applied, 1);
    }

    #[test]
    fn a_backlog_is_applied_one_input_per_tick_each_exactly_once() {
        let mut b = InputBuffer::default();
        b.accept(0, &(1..=8).map(inp).collect::<Vec<_>>());
        let mut applied = vec![];
        for _ in 0..10 {
            b.select_for_tick();
            assert_eq!(b.this_tick().len(), MAX_INPUTS_PER_TICK);
            applied.push(b.last_applied);
        }
        assert_eq!(applied, vec![1, 2, 3, 4, 5, 6, 7, 8, 8, 8]);
    }

    #[test]
    fn wild_sequence_jumps_and_nan_aims_are_refused() {
        let mut b = InputBuffer::default();
        let a = b.accept(
            0,
            &[
                inp(MAX_SEQ_JUMP + 5),
                Input {
                    seq: 1,
                    aim: f32::NAN,
                    ..Input::default()
                },
            ],
        );
        assert_eq!((a.fresh, a.invalid), (0, 2));
        assert_eq!(b.invalid_total, 2);
    }

    #[test]
    fn inputs_skipped_over_count_as_lost() {
        let mut b = InputBuffer::default();
        b.accept(0, &[inp(1), inp(2)]);
        assert_eq!(b.accept(0, &[inp(6), inp(7)]).lost, 3);
        assert_eq!(b.accept(0, &[inp(7), inp(8)]).lost, 0);
    }

    #[test]
    fn a_buffer_that_stays_deep_drains_to_its_target_one_input_per_tick() {
        let mut b = InputBuffer::default();
        // A stall: twelve inputs arrive at once, then one per tick as before.
        b.accept(0, &(1..=12).map(inp).collect::<Vec<_>>());
        let mut drained = 0;
        let mut next = 13;
        for _ in 0..DRAIN_WINDOW_TICKS {
            b.accept(0, &[inp(next)]);
            next += 1;
            let before = b.last_applied;
            drained += b.select_for_tick();
            assert_eq!(b.this_tick().len(), 1);
            assert!(b.last_applied > before, "one new input a tick");
        }
        // Twelve waited after every pick of the window (one picked and one arriving each tick): all drained.
        assert_eq!(drained, 12);
        assert_eq!(b.pending_len(), TARGET_DEPTH);
        b.accept(0, &[inp(next)]);
        b.select_for_tick();
        assert_eq!(
            b.last_applied, next,
            "the newest input is applied on the tick it arrives for"
        );
    }

    #[test]
    fn a_jittery_buffer_that_runs_dry_now_and_then_keeps_every_input() {
        let mut b = InputBuffer::default();
        let mut next = 1;
        let mut applied = vec![];
        // Inputs arrive 2, 0, 1, 1, 2, 0, … a tick: as many as ticks pass, some early, bunched by jitter.
        for t in 0..(DRAIN_WINDOW_TICKS * 8) {
            let arriving = [2, 0, 1, 1, 2, 0][t as usize % 6];
            for _ in 0..arriving {
                b.accept(0, &[inp(next)]);
                next += 1;
            }
            assert_eq!(b.select_for_tick(), 0, "tick {t}");
            applied.push(b.last_applied);
        }
        applied.dedup();
        assert_eq!(
            applied,
            (1..=b.last_applied).collect::<Vec<_>>(),
            "each applied once, in order"
        );
        assert_eq!(
            b.last_applied as usize + b.pending_len(),
            next as usize - 1,
            "the rest still waiting"
        );
    }

    #[test]
    fn an_input_late_for_its_tick_goes_when_the_next_is_there() {
        let mut b = InputBuffer::default();
        b.accept(0, &[inp(1)]);
        assert_eq!(b.select_for_tick(), 0);
        assert_eq!(b.select_for_tick(), 0, "none came: 1 again");
        assert_eq!(b.last_applied, 1);
        b.accept(0, &[inp(2), inp(3)]);
        assert_eq!(b.select_for_tick(), 1, "2 came late, 3 on time: 2 dropped");
        assert_eq!(b.this_tick()[0].seq, 3);
        assert_eq!(b.pending_len(), 0);
        // Late alone, it is applied: the tick after it has the next one on time.
        assert_eq!(b.select_for_tick(), 0);
        b.accept(0, &[inp(4)]);
        assert_eq!(b.select_for_tick(), 0);
        assert_eq!(b.this_tick()[0].seq, 4);
    }

    #[test]
    fn the_margin_is_the_wait_until_the_tick_that_applies_the_newest_input() {
        let tick = Duration::from_micros(16_667);
        let mut b = InputBuffer::default();
        assert_eq!(b.take_margin(), None);
        b.accept(0, &[inp(1)]);
        b.arrived(Duration::from_micros(2_340), tick);
        assert_eq!(b.take_margin(), Some(23), "applied by this tick: 2.3 ms");
        assert_eq!(b.take_margin(), None, "reported once");
        b.select_for_tick();
        b.accept(0, &[inp(2)]);
        b.arrived(Duration::from_micros(500), tick);
        b.accept(0, &[inp(3)]);
        b.arrived(Duration::from_micros(300), tick);
        assert_eq!(
            b.take_margin(),
            Some(5),
            "the least of the two (0.5 ms, and 0.3 ms plus a tick)"
        );
        b.select_for_tick();
        b.select_for_tick();
        b.accept(0, &[inp(4), inp(5), inp(6)]);
        b.arrived(Duration::from_micros(1_000), tick);
        assert_eq!(b.take_margin(), Some(343), "two inputs ahead of it: 1 ms and two ticks");
        b.arrived(Duration::from_secs(60), tick);
        assert_eq!(b.take_margin(), Some(i16::MAX), "saturated");
        b.take_margin();
        for _ in 0..4 {
            b.select_for_tick(); // 4, 5, 6, then none
        }
        b.accept(0, &[inp(7)]);
        b.arrived(Duration::from_micros(4_000), tick);
        assert_eq!(
            b.take_margin(),
            Some(-126),
            "late for the tick that found none, by 12.7 ms"
        );
    }

    #[test]
    fn the_buffer_is_bounded() {
        let mut b = InputBuffer::default();
        let a = b.accept(0, &(1..=(MAX_PENDING_INPUTS as u32 + 4)).map(inp).collect::<Vec<_>>());
        assert_eq!(a.overflowed, 4);
        assert_eq!(b.pending_len(), MAX_PENDING_INPUTS);
    }
}
