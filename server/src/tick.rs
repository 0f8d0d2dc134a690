//! The tick threads: each runs a share of the rooms (at most one room's tick at a time), ticking each at its
//! own fixed rate; the rooms share the driver's pool, lent to one tick at a time on each thread. A room's
//! tick hands its outbox to the [`crate::dispatch`] task, which sends it. A panic in a room's tick closes
//! that room alone (its players told why); the other rooms play on.

use crate::dispatch::DispatchSender;
use crate::game::Pool;
use crate::game::resources::TickStats;
use crate::health::{Health, TickEnd};
use crate::metrics::{Metrics, add, inc};
use crate::rooms::{Directory, Room};
use arena_shared::protocol::close_code;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The longest a tick thread waits without a round: an idle thread still tells liveness it is there.
const IDLE_ROUND: Duration = Duration::from_millis(100);

/// What every tick thread shares.
pub struct Shared {
    /// The pool lent to each room's tick (a room that would split its work takes it; a small room never does).
    pub pool: Pool,
    pub to_dispatch: DispatchSender,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    pub directory: Arc<Directory>,
    pub period: Duration,
    /// How long a room stays open empty.
    pub room_idle: Duration,
    pub stop: Arc<AtomicBool>,
    /// Set when the server drains: by when every room must have closed.
    pub drain: Arc<OnceLock<Instant>>,
}

/// One tick thread's state.
pub struct TickLoop {
    index: usize,
    rooms: Vec<Room>,
    new_rooms: std::sync::mpsc::Receiver<Room>,
    shared: Arc<Shared>,
}

impl TickLoop {
    /// Tick thread `index`, taking its new rooms from `new_rooms`.
    pub fn new(index: usize, new_rooms: std::sync::mpsc::Receiver<Room>, shared: Arc<Shared>) -> Self {
        Self {
            index,
            rooms: Vec::new(),
            new_rooms,
            shared,
        }
    }

    /// Runs on the calling thread until `stop` is set or the directory is gone.
    pub fn run(mut self) {
        // Ready from the start: a thread with no rooms yet is ticking all it has to.
        self.shared.health.ticked(self.index, Instant::now(), 0);
        while !self.shared.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let due = self
                .rooms
                .iter()
                .enumerate()
                .min_by_key(|(_, r)| r.next)
                .map(|(i, r)| (i, r.next));
            match due {
                Some((i, next)) if next <= now => self.tick_room(i),
                _ => {
                    let wait = due.map_or(IDLE_ROUND, |(_, next)| (next - now).min(IDLE_ROUND));
                    match self.new_rooms.recv_timeout(wait) {
                        Ok(room) => {
                            inc(&self.shared.metrics.rooms.opened);
                            self.rooms.push(room);
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            }
            let players = self.rooms.iter().map(|r| r.sim().stats().players as usize).sum();
            self.shared.health.ticked(self.index, Instant::now(), players);
        }
        for room in &mut self.rooms {
            room.close_all(
                close_code::SHUTTING_DOWN,
                "server shutting down",
                &self.shared.to_dispatch,
            );
        }
    }

    /// Runs room `i`'s tick; closes it when it fails, or when it has been empty long enough.
    fn tick_room(&mut self, i: usize) {
        let shared = &*self.shared;
        let room = &mut self.rooms[i];
        let started = Instant::now();
        let ticked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            room.tick(started, &shared.pool, &shared.to_dispatch)
        }));
        let stats = match ticked {
            Ok(stats) => stats,
            Err(payload) => {
                let reason = format!("the room failed: {}", panic_message(payload.as_ref()));
                tracing::error!(room = %room.code, "{reason}; its players are sent away, the other rooms play on");
                inc(&shared.metrics.rooms.failed);
                shared.directory.remove(&room.code, self.index);
                return self.close_room(i, close_code::ROOM_FAILED, &reason);
            }
        };
        let took = started.elapsed();
        record_stats(&shared.metrics, &stats);
        shared.metrics.record_tick(took, shared.period);
        let code = room.code.clone();
        shared
            .metrics
            .rooms
            .record(code.as_str(), took, shared.period, stats.players);
        shared.directory.report(&code, stats.players, room.sim().match_state());
        let now = Instant::now();
        if took > shared.period {
            room.log_overrun(took, shared.period, now);
        }
        room.next += shared.period;
        if room.next < now {
            // Behind schedule: the next tick now, and never a burst to catch up.
            room.next = now;
        }
        let drain = shared.drain.get();
        if drain.is_some_and(|deadline| room.drained(*deadline, now, &shared.to_dispatch)) {
            tracing::info!(room = %code, "room closed: the server drains");
            shared.directory.remove(&code, self.index);
            self.close_room(i, close_code::SHUTTING_DOWN, "server shutting down");
        } else if room.idle_for(shared.room_idle, now) && shared.directory.close_if_empty(&code, self.index) {
            tracing::info!(room = %code, "room closed: empty for {} s", shared.room_idle.as_secs());
            inc(&shared.metrics.rooms.closed);
            self.close_room(i, close_code::SHUTTING_DOWN, "the room closed");
        }
    }

    /// Drops room `i` (already out of the directory): its players' connections closed with the reason.
    fn close_room(&mut self, i: usize, code: u32, reason: &str) {
        let mut room = self.rooms.swap_remove(i);
        room.close_all(code, reason, &self.shared.to_dispatch);
        self.shared.metrics.rooms.forget(room.code.as_str());
    }
}

/// Runs the tick loop `run` on the calling thread and says how it ended: a panic is caught here (after the
/// panic hook printed it) so the process can report it and exit instead of lingering without a tick.
pub fn supervise(run: impl FnOnce()) -> TickEnd {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(()) => TickEnd::Stopped,
        Err(payload) => TickEnd::Panicked(panic_message(payload.as_ref())),
    }
}

/// A panic's message, as `panic!` was given it.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Adds what one tick counted to the server's running totals.
fn record_stats(metrics: &Metrics, stats: &TickStats) {
    add(&metrics.players_joined, stats.players_joined);
    add(&metrics.players_resumed, stats.players_resumed);
    // The edge counts the refusals it makes itself; these are the world's (full), counted here because the
    // connection may end before its writer has finished sending the `Reject`.
    add(&metrics.rejected, stats.rejected_full);
    add(&metrics.inputs_invalid, stats.inputs_invalid);
    add(&metrics.inputs_overflowed, stats.inputs_overflowed);
    add(&metrics.inputs_lost, stats.inputs_lost);
    add(&metrics.inputs_drained, stats.inputs_drained);
    add(&metrics.inputs_too_fast, stats.inputs_too_fast);
    add(&metrics.chat_refused, stats.chat_refused);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_loop_is_reported_with_its_message() {
        assert_eq!(supervise(|| {}), TickEnd::Stopped);
        assert_eq!(
            supervise(|| panic!("the world fell over at tick {}", 7)),
            TickEnd::Panicked("the world fell over at tick 7".into())
        );
        assert_eq!(supervise(|| panic!("plain")), TickEnd::Panicked("plain".into()));
    }

    #[test]
    fn every_counter_of_a_tick_reaches_the_metrics() {
        let m = Metrics::default();
        let stats = TickStats {
            players: 9,
            players_joined: 1,
            players_resumed: 2,
            rejected_full: 3,
            inputs_invalid: 4,
            inputs_overflowed: 5,
            inputs_lost: 6,
            inputs_too_fast: 7,
            chat_refused: 8,
            inputs_drained: 9,
            ..TickStats::default()
        };
        record_stats(&m, &stats);
        record_stats(&m, &stats);
        let text = m.render_prometheus();
        for line in [
            "arena_players_joined_total 2",
            "arena_players_resumed_total 4",
            "arena_rejected_total 6",
            "arena_inputs_invalid_total 8",
            "arena_inputs_overflowed_total 10",
            "arena_inputs_lost_total 12",
            "arena_inputs_too_fast_total 14",
            "arena_chat_refused_total 16",
            "arena_inputs_drained_total 18",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
