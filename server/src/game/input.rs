//! Per-player input buffering and validation: which inputs are new, which are refused, and which ones a tick
//! applies.
//!
//! Each input datagram repeats the newest few inputs, so most inputs arrive several times: only sequence
//! numbers above the newest one seen are kept. The server applies one input per tick, up to
//! [`MAX_INPUTS_PER_TICK`] when a backlog builds, and repeats the last input when none arrived in time.

use arena_shared::rules::Input;
use bevy_ecs::prelude::*;
use std::collections::VecDeque;

/// Most inputs applied to one player in one tick (when the client is catching up after a stall).
pub const MAX_INPUTS_PER_TICK: usize = 3;
/// Buffered inputs above which a tick applies more than one (the client is ahead of the server).
pub const CATCH_UP_BACKLOG: usize = 2;
/// Most inputs buffered per player; past it the oldest are dropped (and counted).
pub const MAX_PENDING_INPUTS: usize = 16;
/// How far ahead of the newest seen sequence number an input may jump; a bigger jump is refused as invalid
/// (it would let a client skip the redundancy window or wrap the counter).
pub const MAX_SEQ_JUMP: u32 = 1_024;

/// What became of the inputs of one datagram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accepted {
    /// New inputs buffered.
    pub fresh: u32,
    /// Inputs already seen (the normal redundancy), ignored.
    pub duplicate: u32,
    /// Inputs refused: a sequence jump past [`MAX_SEQ_JUMP`], or a non-finite aim.
    pub invalid: u32,
    /// Old inputs dropped because the buffer was full.
    pub overflowed: u32,
    /// Inputs skipped over by a newer one: sent by the client but never received (lost beyond the
    /// redundancy window).
    pub lost: u32,
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

    /// Chooses the inputs this tick applies: one, a few when a backlog built up, or the last one again.
    pub fn select_for_tick(&mut self) {
        let n = if self.pending.len() > CATCH_UP_BACKLOG {
            MAX_INPUTS_PER_TICK
        } else {
            1
        };
        self.this_tick_len = 0;
        while self.this_tick_len < n {
            let Some(input) = self.pending.pop_front() else { break };
            self.this_tick[self.this_tick_len] = input;
            self.this_tick_len += 1;
            self.last = input;
            self.last_applied = input.seq;
        }
        if self.this_tick_len == 0 {
            self.this_tick[0] = self.last;
            self.this_tick_len = 1;
        }
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
    fn a_backlog_is_worked_off_a_few_inputs_per_tick() {
        let mut b = InputBuffer::default();
        b.accept(0, &(1..=8).map(inp).collect::<Vec<_>>());
        b.select_for_tick();
        assert_eq!(b.this_tick().len(), MAX_INPUTS_PER_TICK);
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
