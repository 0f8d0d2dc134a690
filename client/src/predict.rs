//! Client-side prediction and reconciliation of the player's own character.
//!
//! Every input is applied locally with the shared rules the moment it is sent, so the player moves without
//! waiting a round trip. When a snapshot says which input the server applied last, the predictor restarts
//! from the server's state and replays the inputs the server has not applied yet. A small difference between
//! what was shown and the corrected state is blended away over [`SMOOTHING`]; a large one snaps at once.
//! After each step the state is snapped to the wire grid ([`snap_player`]), as the server does every tick,
//! so prediction and server compute the same numbers.

use arena_shared::Vec2;
use arena_shared::arena::Arena;
use arena_shared::quant::snap_player;
use arena_shared::rules::{Input, PlayerState, Shot, step_player};
use std::collections::VecDeque;
use std::time::Duration;

/// Inputs kept for replay (about 4 s at 60 Hz); older ones are forgotten (the server has long applied them
/// or never will).
pub const MAX_PENDING: usize = 256;
/// Time over which a small correction is blended away (the visual offset falls to 1/e).
pub const SMOOTHING: Duration = Duration::from_millis(100);
/// A correction longer than this (in units) is shown at once instead of blended (a respawn, a teleport).
pub const SNAP_DISTANCE: f32 = 2.0;

/// The predicted state of the player's own character.
#[derive(Debug, Clone)]
pub struct Predictor {
    arena: Arena,
    dt: f32,
    state: Option<PlayerState>,
    /// Inputs sent but not yet reported applied, oldest first, with the state predicted after each.
    pending: VecDeque<(Input, PlayerState)>,
    /// What is drawn minus the predicted position; decays to zero.
    offset: Vec2,
}

impl Predictor {
    pub fn new(arena: Arena, tick_rate: u16) -> Self {
        Self {
            arena,
            dt: 1.0 / f32::from(tick_rate.max(1)),
            state: None,
            pending: VecDeque::new(),
            offset: Vec2::ZERO,
        }
    }

    /// The predicted state (none before the first snapshot).
    pub fn state(&self) -> Option<&PlayerState> {
        self.state.as_ref()
    }

    /// Where to draw the player: the prediction plus what is left of the last correction.
    pub fn display_pos(&self) -> Option<Vec2> {
        self.state.map(|s| s.pos + self.offset)
    }

    /// Applies an input the moment it is sent; the shot it fires, if it does (see [`crate::shots`]).
    pub fn apply_local(&mut self, input: Input) -> Option<Shot> {
        let state = self.state.as_mut()?;
        let shot = step_player(state, &input, self.dt, &self.arena);
        *state = snap_player(state);
        if self.pending.len() == MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back((input, *state));
        shot
    }

    /// Takes the server's state for this player after input `last_seq`. Returns the prediction error for
    /// that input (distance between what was predicted after it and what the server computed), when the
    /// prediction for it is still known.
    pub fn reconcile(&mut self, server: &PlayerState, last_seq: u32) -> Option<f32> {
        let shown = self.display_pos();
        let mut error = None;
        while let Some((input, predicted)) = self.pending.front() {
            if input.seq > last_seq {
                break;
            }
            if input.seq == last_seq {
                error = Some(predicted.pos.distance(server.pos));
            }
            self.pending.pop_front();
        }
        let mut state = *server;
        for (input, predicted) in &mut self.pending {
            step_player(&mut state, input, self.dt, &self.arena);
            state = snap_player(&state);
            *predicted = state;
        }
        self.state = Some(state);
        self.offset = match shown {
            Some(shown) if shown.distance(state.pos) <= SNAP_DISTANCE => shown - state.pos,
            _ => Vec2::ZERO,
        };
        error
    }

    /// Blends the visual correction away as frames pass.
    pub fn advance_frame(&mut self, frame: Duration) {
        let k = (-frame.as_secs_f32() / SMOOTHING.as_secs_f32()).exp();
        self.offset = self.offset * k;
    }

    /// Inputs sent and not yet applied by the server.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests;
