//! What the server says about itself to an orchestrator: liveness (the tick loop is there and ticking) and
//! readiness (a new player could join now). The tick thread and the edge write it; `/healthz` and `/readyz`
//! ([`crate::metrics::http`]) and the process's supervisor read it.
//!
//! A server that cannot tick cannot be played, whatever else still answers, so liveness is about the tick
//! alone: no tick completed within [`LIVENESS_BOUND`], or the tick thread gone, is "not alive".

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
    /// Microseconds from `started` to the end of the last tick, plus one (0: no tick yet).
    last_tick: AtomicU64,
    ended: Mutex<Option<TickEnd>>,
    draining: AtomicBool,
    max_players: usize,
    players: AtomicUsize,
}

impl Health {
    /// A server that has not ticked yet, for at most `max_players` players.
    pub fn new(max_players: usize) -> Self {
        Self {
            started: Instant::now(),
            last_tick: AtomicU64::new(0),
            ended: Mutex::new(None),
            draining: AtomicBool::new(false),
            max_players,
            players: AtomicUsize::new(0),
        }
    }

    /// The tick thread completed a tick at `now`; the world holds `players` (connected or away).
    pub fn ticked(&self, now: Instant, players: usize) {
        let us = now.saturating_duration_since(self.started).as_micros() as u64;
        self.last_tick.store(us + 1, Ordering::Relaxed);
        self.players.store(players, Ordering::Relaxed);
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

    /// Ok when the tick loop is running and completed a tick within [`LIVENESS_BOUND`] of `now` (or the
    /// server started less than that ago); else why not.
    pub fn liveness(&self, now: Instant) -> Result<(), String> {
        if let Some(end) = self.ended() {
            return Err(format!("{end}: nobody can play"));
        }
        let last = self.last_tick.load(Ordering::Relaxed);
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
        if self.last_tick.load(Ordering::Relaxed) == 0 {
            return Err("starting: no tick yet".into());
        }
        if self.draining.load(Ordering::Relaxed) {
            return Err("draining: not taking new players".into());
        }
        let players = self.players.load(Ordering::Relaxed);
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
        let h = Health::new(4);
        let t = h.started;
        assert!(h.liveness(t + Duration::from_millis(500)).is_ok(), "starting up");
        let e = h.liveness(t + Duration::from_millis(1_500)).unwrap_err();
        assert!(e.contains("no tick since the start"), "{e}");
        h.ticked(t + Duration::from_millis(1_400), 0);
        assert!(h.liveness(t + Duration::from_millis(1_500)).is_ok());
        assert!(h.liveness(t + Duration::from_millis(2_300)).is_ok());
        let e = h.liveness(t + Duration::from_millis(2_500)).unwrap_err();
        assert!(e.contains("no tick completed for 1100 ms"), "{e}");
    }

    #[test]
    fn a_tick_thread_that_ended_is_not_alive() {
        let h = Health::new(4);
        let t = h.started;
        h.ticked(t, 0);
        h.tick_ended(TickEnd::Panicked("boom".into()));
        h.tick_ended(TickEnd::Stopped);
        let e = h.liveness(t).unwrap_err();
        assert!(e.contains("panicked: boom"), "the first end is kept: {e}");
    }

    #[test]
    fn ready_only_when_ticking_not_draining_and_not_full() {
        let h = Health::new(2);
        let t = h.started;
        assert!(h.readiness(t).unwrap_err().contains("starting"));
        h.ticked(t, 1);
        assert!(h.readiness(t).is_ok());
        h.ticked(t, 2);
        assert!(h.readiness(t).unwrap_err().contains("full: 2 of 2"));
        h.ticked(t, 1);
        h.drain();
        assert!(h.readiness(t).unwrap_err().contains("draining"));
    }
}
