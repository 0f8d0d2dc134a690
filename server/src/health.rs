//! What the server says about itself to an orchestrator: liveness (the tick loop is there and ticking) and
//! readiness (a new player could join now). The tick thread and the edge write it; `/healthz` and `/readyz`
//! ([`crate::metrics::http`]) and the process's supervisor read it.
//!
//! A server that cannot tick cannot be played, whatever else still answers, so liveness is about the ticks
//! alone: a tick thread that completed no round (its rooms' due ticks, or its idle wait) within
//! [`LIVENESS_BOUND`], or a tick thread gone, is "not alive".

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest a live server goes without completing a tick (60 ticks at the default rate; a tick that takes
/// this long is stuck, not slow).
pub const LIVENESS_BOUND: Duration = Duration::from_secs(1);

/// How the tick thread ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TickEnd {
    /// It was asked to stop (shutdown).
    Stopped,
    /// It panicked; the panic's message.
    Panicked(String),
}

impl std::fmt::Display for TickEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stopped => f.write_str("the tick thread stopped"),
            Self::Panicked(message) => write!(f, "the tick thread panicked: {message}"),
        }
    }
}

/// The server's liveness and readiness.
#[derive(Debug)]
pub struct Health {
    started: Instant,
    /// Per tick thread: microseconds from `started` to the end of its last round, plus one (0: none yet).
    last_tick: Vec<AtomicU64>,
    ended: Mutex<Option<TickEnd>>,
    draining: AtomicBool,
    max_players: usize,
    /// Per tick thread: players in its rooms.
    players: Vec<AtomicUsize>,
}

impl Health {
    /// A server of `threads` tick threads that have not ticked yet, for at most `max_players` players.
    pub fn new(max_players: usize, threads: usize) -> Self {
        Self {
            started: Instant::now(),
            last_tick: (0..threads.max(1)).map(|_| AtomicU64::new(0)).collect(),
            ended: Mutex::new(None),
            draining: AtomicBool::new(false),
            max_players,
            players: (0..threads.max(1)).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// Tick thread `thread` completed a round at `now` (every tick that was due); its rooms hold `players`
    /// (connected or away).
    pub fn ticked(&self, thread: usize, now: Instant, players: usize) {
        let us = now.saturating_duration_since(self.started).as_micros() as u64;
        if let (Some(last), Some(held)) = (self.last_tick.get(thread), self.players.get(thread)) {
            last.store(us + 1, Ordering::Relaxed);
            held.store(players, Ordering::Relaxed);
        }
    }

    /// The tick thread is gone, and how.
    pub fn tick_ended(&self, end: TickEnd) {
        if let Ok(mut ended) = self.ended.lock() {
            ended.get_or_insert(end);
        }
    }

    /// How the tick thread ended, if it did.
    pub fn ended(&self) -> Option<TickEnd> {
        self.ended.lock().ok().and_then(|e| e.clone())
    }

    /// The server takes no new players from now on (shutting down).
    pub fn drain(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether the server drains (takes no new players).
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Whether every tick thread has completed a round since the start.
    pub fn ticking(&self) -> bool {
        self.last_tick.iter().all(|t| t.load(Ordering::Relaxed) != 0)
    }

    /// Players in all rooms, as the tick threads last reported them.
    pub fn players(&self) -> usize {
        self.players.iter().map(|p| p.load(Ordering::Relaxed)).sum()
    }

    /// Seats free in the whole server.
    pub fn free_seats(&self) -> usize {
        self.max_players.saturating_sub(self.players())
    }

    /// Ok when the tick loop is running and completed a tick within [`LIVENESS_BOUND`] of `now` (or the
    /// server started less than that ago); else why not.
    pub fn liveness(&self, now: Instant) -> Result<(), String> {
        if let Some(end) = self.ended() {
            return Err(format!("{end}: nobody can play"));
        }
        // The tick thread heard from least recently.
        let last = self
            .last_tick
            .iter()
            .map(|t| t.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0);
        let since = match last {
            0 => now.saturating_duration_since(self.started),
            us => now.saturating_duration_since(self.started + Duration::from_micros(us - 1)),
        };
        if since > LIVENESS_BOUND {
            let what = if last == 0 {
                "no tick since the start"
            } else {
                "no tick completed"
            };
            return Err(format!(
                "{what} for {} ms (bound {} ms)",
                since.as_millis(),
                LIVENESS_BOUND.as_millis()
            ));
        }
        Ok(())
    }

    /// Ok when a new player could join now: alive, ticking already, not draining, and a seat free.
    pub fn readiness(&self, now: Instant) -> Result<(), String> {
        self.liveness(now)?;
        if !self.ticking() {
            return Err("starting: no tick yet".into());
        }
        if self.draining() {
            return Err("draining: not taking new players".into());
        }
        let players = self.players();
        if players >= self.max_players {
            return Err(format!("full: {players} of {} players", self.max_players));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_while_ticking_and_not_after_a_second_without_a_tick() {
        let h = Health::new(4, 1);
        let t = h.started;
        assert!(h.liveness(t + Duration::from_millis(500)).is_ok(), "starting up");
        let e = h.liveness(t + Duration::from_millis(1_500)).unwrap_err();
        assert!(e.contains("no tick since the start"), "{e}");
        h.ticked(0, t + Duration::from_millis(1_400), 0);
        assert!(h.liveness(t + Duration::from_millis(1_500)).is_ok());
        assert!(h.liveness(t + Duration::from_millis(2_300)).is_ok());
        let e = h.liveness(t + Duration::from_millis(2_500)).unwrap_err();
        assert!(e.contains("no tick completed for 1100 ms"), "{e}");
    }

    #[test]
    fn one_stuck_tick_thread_of_two_makes_the_server_not_alive_and_players_add_up() {
        let h = Health::new(5, 2);
        let t = h.started;
        h.ticked(0, t, 2);
        assert!(
            h.readiness(t).unwrap_err().contains("starting"),
            "thread 1 has not ticked"
        );
        h.ticked(1, t, 3);
        assert!(h.readiness(t).unwrap_err().contains("full: 5 of 5"), "2 + 3 players");
        h.ticked(0, t + Duration::from_millis(1_500), 2);
        let e = h.liveness(t + Duration::from_millis(1_500)).unwrap_err();
        assert!(e.contains("no tick completed for 1500 ms"), "thread 1 is stuck: {e}");
        h.ticked(1, t + Duration::from_millis(1_500), 1);
        assert!(h.readiness(t + Duration::from_millis(1_500)).is_ok());
    }

    #[test]
    fn a_tick_thread_that_ended_is_not_alive() {
        let h = Health::new(4, 1);
        let t = h.started;
        h.ticked(0, t, 0);
        h.tick_ended(TickEnd::Panicked("boom".into()));
        h.tick_ended(TickEnd::Stopped);
        let e = h.liveness(t).unwrap_err();
        assert!(e.contains("panicked: boom"), "the first end is kept: {e}");
    }

    #[test]
    fn ready_only_when_ticking_not_draining_and_not_full() {
        let h = Health::new(2, 1);
        let t = h.started;
        assert!(h.readiness(t).unwrap_err().contains("starting"));
        h.ticked(0, t, 1);
        assert!(h.readiness(t).is_ok());
        h.ticked(0, t, 2);
        assert!(h.readiness(t).unwrap_err().contains("full: 2 of 2"));
        h.ticked(0, t, 1);
        h.drain();
        assert!(h.readiness(t).unwrap_err().contains("draining"));
    }
}
