//! The tick thread: the only owner of the simulation. At a fixed rate it drains the edge's channel into the
//! simulation, runs one tick, and hands the results to the connections: frames through each client's
//! bounded queue, snapshots split into datagrams straight to QUIC (`send_datagram` does not block).

use crate::game::{ClientId, Inbound, Outbound, Sim};
use crate::metrics::{Metrics, inc};
use crate::net::{ClientHandle, ToConn, ToTick};
use arena_shared::codec::encode_datagram;
use arena_shared::fragment::split;
use arena_shared::protocol::{ServerDatagram, TARGET_DATAGRAM_LEN, close_code};
use quinn::VarInt;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::{TryRecvError, TrySendError};

/// The tick loop's state.
pub struct TickLoop {
    sim: Sim,
    from_edge: mpsc::Receiver<ToTick>,
    clients: HashMap<ClientId, ClientHandle>,
    metrics: Arc<Metrics>,
    period: Duration,
    stop: Arc<AtomicBool>,
    outbox: Vec<Outbound>,
}

impl TickLoop {
    pub fn new(
        sim: Sim,
        from_edge: mpsc::Receiver<ToTick>,
        metrics: Arc<Metrics>,
        tick_rate: u16,
        stop: Arc<AtomicBool>,
    ) -> Self {
        let period = Duration::from_secs_f64(1.0 / f64::from(tick_rate.max(1)));
        Self {
            sim,
            from_edge,
            clients: HashMap::new(),
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
            self.dispatch();
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
                    self.clients.insert(client, handle);
                    self.sim.push(match resume {
                        Some(token) => Inbound::Resume { client, name, token },
                        None => Inbound::Join { client, name },
                    });
                }
                Ok(ToTick::Event(event)) => {
                    if let Inbound::Leave { client } | Inbound::Lost { client } = &event {
                        self.clients.remove(client);
                    }
                    self.sim.push(event);
                }
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }

    fn dispatch(&mut self) {
        for out in self.outbox.drain(..) {
            match out {
                Outbound::Frame { client, frame } => {
                    if let Some(handle) = self.clients.get(&client) {
                        send_frame(handle, ToConn::Frame(frame), &self.metrics);
                    }
                }
                Outbound::Broadcast { frame } => {
                    for handle in self.clients.values() {
                        send_frame(handle, ToConn::Frame(frame.clone()), &self.metrics);
                    }
                }
                Outbound::Snapshot { client, tick, bytes } => {
                    if let Some(handle) = self.clients.get(&client) {
                        send_snapshot(handle, tick, &bytes, &self.metrics);
                    }
                }
                Outbound::Delta { client, datagram, .. } => {
                    if let Some(handle) = self.clients.get(&client) {
                        send_one(handle, datagram, &self.metrics);
                    }
                }
                Outbound::Kick { client, reason } => {
                    if let Some(handle) = self.clients.get(&client) {
                        tracing::info!(?client, %reason, "kicking");
                        send_frame(handle, ToConn::Kick(reason), &self.metrics);
                    }
                }
            }
        }
    }
}

fn close_conn(handle: &ClientHandle, code: u32, reason: &str) {
    handle.conn.close(VarInt::from_u32(code), reason.as_bytes());
}

/// Queues a frame for a client's writer; a client whose queue is full is not reading and is disconnected.
fn send_frame(handle: &ClientHandle, message: ToConn, metrics: &Metrics) {
    if let Err(TrySendError::Full(_)) = handle.frames.try_send(message) {
        inc(&metrics.kicks);
        close_conn(
            handle,
            close_code::TOO_SLOW,
            "control stream backlog: client is not reading",
        );
    }
}

fn send_one(handle: &ClientHandle, datagram: bytes::Bytes, metrics: &Metrics) {
    let len = datagram.len() as u64;
    match handle.conn.send_datagram(datagram) {
        Ok(()) => {
            inc(&metrics.snapshot_datagrams_sent);
            metrics.snapshot_bytes_sent.fetch_add(len, Ordering::Relaxed);
        }
        Err(quinn::SendDatagramError::ConnectionLost(_)) => {}
        Err(_) => inc(&metrics.snapshot_send_errors),
    }
}

/// Splits a full snapshot (the naive baseline) to the path's datagram size and sends every part.
fn send_snapshot(handle: &ClientHandle, tick: u32, bytes: &[u8], metrics: &Metrics) {
    let Some(max) = handle.conn.max_datagram_size() else {
        inc(&metrics.snapshot_send_errors);
        return;
    };
    let parts = match split(tick, bytes, max.min(TARGET_DATAGRAM_LEN)) {
        Ok(parts) => parts,
        Err(e) => {
            tracing::warn!(error = %e, "snapshot not sent");
            inc(&metrics.snapshot_send_errors);
            return;
        }
    };
    for part in parts {
        match encode_datagram(&ServerDatagram::Snapshot(part)) {
            Ok(datagram) => send_one(handle, datagram.into(), metrics),
            Err(_) => inc(&metrics.snapshot_send_errors),
        }
    }
}
