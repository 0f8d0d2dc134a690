//! The tick thread: the only owner of the simulation and of the threads it is lent. At a fixed rate it
//! drains the edge's channel into the simulation, runs one tick, and hands the outbox to the
//! [`crate::dispatch`] task, which sends it.

use crate::dispatch::{Dispatch, DispatchSender, close_conn};
use crate::game::resources::TickStats;
use crate::game::{ClientId, Inbound, Outbound, Pool, Sim};
use crate::health::{Health, TickEnd};
use crate::metrics::{Metrics, add};
use crate::net::{ClientHandle, ToTick};
use arena_shared::protocol::close_code;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

/// The tick loop's state.
pub struct TickLoop {
    sim: Sim,
    /// The threads lent to each tick (the simulation's `replication.threads`, the calling thread included).
    pool: Pool,
    from_edge: mpsc::Receiver<ToTick>,
    /// Every joined client, to close at shutdown.
    clients: HashMap<ClientId, ClientHandle>,
    to_dispatch: DispatchSender,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    period: Duration,
    stop: Arc<AtomicBool>,
    outbox: Vec<Outbound>,
}

impl TickLoop {
    /// A loop ticking `sim` at `tick_rate`, on a pool of the threads its replication asks for (started here).
    pub fn new(
        sim: Sim,
        from_edge: mpsc::Receiver<ToTick>,
        to_dispatch: DispatchSender,
        metrics: Arc<Metrics>,
        health: Arc<Health>,
        tick_rate: u16,
        stop: Arc<AtomicBool>,
    ) -> Self {
        let period = Duration::from_secs_f64(1.0 / f64::from(tick_rate.max(1)));
        let pool = Pool::new(usize::from(sim.replication().threads));
        Self {
            sim,
            pool,
            from_edge,
            clients: HashMap::new(),
            to_dispatch,
            metrics,
            health,
            period,
            stop,
            outbox: Vec::new(),
        }
    }

    /// Runs on the calling thread until `stop` is set or the edge is gone.
    pub fn run(mut self) {
        let mut next = Instant::now() + self.period;
        while !self.stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            if !self.drain_edge(started) {
                break;
            }
            self.sim.tick(&self.pool);
            self.sim.drain_outbox(&mut self.outbox);
            let capacity = self.outbox.len();
            let outbox = std::mem::replace(&mut self.outbox, Vec::with_capacity(capacity));
            self.to_dispatch.send(Dispatch::Out(outbox));
            let stats = self.sim.stats();
            record_stats(&self.metrics, &stats);
            self.metrics.record_tick(started.elapsed(), self.period);
            let now = Instant::now();
            self.health.ticked(now, stats.players as usize);
            if now < next {
                std::thread::sleep(next - now);
                next += self.period;
            } else {
                // Behind schedule: start the next tick now, and never try to catch up in a burst.
                next = now + self.period;
            }
        }
        for handle in self.clients.values() {
            close_conn(handle, close_code::SHUTTING_DOWN, "server shutting down");
        }
    }

    /// Moves everything the edge queued into the simulation, for the tick that starts at `started`. False when
    /// the edge is gone.
    fn drain_edge(&mut self, started: Instant) -> bool {
        loop {
            match self.from_edge.try_recv() {
                Ok(ToTick::Join {
                    client,
                    name,
                    resume,
                    handle,
                }) => {
                    self.clients.insert(client, handle.clone());
                    self.to_dispatch.send(Dispatch::Joined(client, handle));
                    self.sim.push(match resume {
                        Some(token) => Inbound::Resume { client, name, token },
                        None => Inbound::Join { client, name },
                    });
                }
                Ok(ToTick::Input {
                    client,
                    datagram,
                    received,
                }) => self.sim.push(Inbound::Input {
                    client,
                    datagram,
                    waited: started.saturating_duration_since(received),
                }),
                Ok(ToTick::Event(event)) => {
                    if let Inbound::Leave { client } | Inbound::Lost { client } = &event {
                        self.clients.remove(client);
                        self.to_dispatch.send(Dispatch::Left(*client));
                    }
                    self.sim.push(event);
                }
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }
}

/// Runs the tick loop `run` on the calling thread and says how it ended: a panic is caught here (after the
/// panic hook printed it) so the process can report it and exit instead of lingering without a tick.
pub fn supervise(run: impl FnOnce()) -> TickEnd {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(()) => TickEnd::Stopped,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            TickEnd::Panicked(message)
        }
    }
}

/// Adds what one tick counted to the server's running totals.
fn record_stats(metrics: &Metrics, stats: &TickStats) {
    metrics.players.store(u64::from(stats.players), Ordering::Relaxed);
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
            "arena_players 9",
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
