//! The tick thread: the only owner of the simulation. At a fixed rate it drains the edge's channel into the
//! simulation, runs one tick, and hands the outbox to the [`crate::dispatch`] task, which sends it.

use crate::dispatch::{Dispatch, DispatchSender, close_conn};
use crate::game::{ClientId, Inbound, Outbound, Sim};
use crate::metrics::Metrics;
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
    from_edge: mpsc::Receiver<ToTick>,
    /// Every joined client, to close at shutdown.
    clients: HashMap<ClientId, ClientHandle>,
    to_dispatch: DispatchSender,
    metrics: Arc<Metrics>,
    period: Duration,
    stop: Arc<AtomicBool>,
    outbox: Vec<Outbound>,
}

impl TickLoop {
    pub fn new(
        sim: Sim,
        from_edge: mpsc::Receiver<ToTick>,
        to_dispatch: DispatchSender,
        metrics: Arc<Metrics>,
        tick_rate: u16,
        stop: Arc<AtomicBool>,
    ) -> Self {
        let period = Duration::from_secs_f64(1.0 / f64::from(tick_rate.max(1)));
        Self {
            sim,
            from_edge,
            clients: HashMap::new(),
            to_dispatch,
            metrics,
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
            if !self.drain_edge() {
                break;
            }
            self.sim.tick();
            self.sim.drain_outbox(&mut self.outbox);
            let capacity = self.outbox.len();
            let outbox = std::mem::replace(&mut self.outbox, Vec::with_capacity(capacity));
            self.to_dispatch.send(Dispatch::Out(outbox));
            self.metrics
                .players
                .store(u64::from(self.sim.stats().players), Ordering::Relaxed);
            self.metrics.record_tick(started.elapsed(), self.period);
            let now = Instant::now();
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

    /// Moves everything the edge queued into the simulation. False when the edge is gone.
    fn drain_edge(&mut self) -> bool {
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
