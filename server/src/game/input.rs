//! Per-player input buffering and validation: which inputs are new, which are refused, and which ones a tick
//! applies.
//!
//! Each input datagram repeats the newest few inputs, so most inputs arrive several times: only sequence
//! numbers above the newest one seen are kept. The server applies exactly one step per tick: the oldest
//! buffered input, or the last input again when none arrived in time. No tick applies two, so sending more
//! inputs never makes a player faster or fire more often; late inputs wait in the buffer (a jitter buffer)
//! and are each applied once, in order.

use arena_shared::rules::Input;
use bevy_ecs::prelude::*;
use std::collections::VecDeque;

/// Inputs applied to one player in one tick: one, whatever arrives.
pub const MAX_INPUTS_PER_TICK: usize = 1;
/// Most inputs buffered per player; past it the oldest are dropped (and counted).
pub const MAX_PENDING_INPUTS: usize = 16;
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

    /// Chooses the input this tick applies: the oldest buffered one, or the last one again.
    pub fn select_for_tick(&mut self) {
        if let Some(input) = self.pending.pop_front() {
            self.last = input;
            self.last_applied = input.seq;
        }
        self.this_tick[0] = self.last;
        self.this_tick_len = 1;
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
    fn the_buffer_is_bounded() {
        let mut b = InputBuffer::default();
        let a = b.accept(0, &(1..=(MAX_PENDING_INPUTS as u32 + 4)).map(inp).collect::<Vec<_>>());
        assert_eq!(a.overflowed, 4);
        assert_eq!(b.pending_len(), MAX_PENDING_INPUTS);
    }
}
