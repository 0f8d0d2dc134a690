//! The hand-off from the tick thread to the connections. The tick thread only queues each tick's outbox
//! (and who joined or left) on a channel; a task on the network runtime does the per-client work: frames
//! into each client's bounded queue, snapshots to QUIC's `send_datagram`. So a tick's time is the
//! simulation's, not one wake-up of a connection per client, and those wake-ups happen on the runtime that
//! runs the connections.

use crate::admin::{PlayerLine, Request};
use crate::fleet::Lifecycle;
use crate::game::{ClientId, Outbound};
use crate::metrics::{Metrics, inc};
use crate::net::{ClientHandle, ToConn};
use arena_shared::codec::{encode_datagram, encode_frame};
use arena_shared::fragment::split;
use arena_shared::protocol::{RoomCode, ServerDatagram, ServerFrame, TARGET_DATAGRAM_LEN, close_code};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use web_transport_quinn::{SessionError, WebTransportError};

/// Ticks of outboxes the channel holds; a tick thread this far ahead of the runtime waits for it.
const QUEUED_TICKS: usize = 64;

/// What the tick threads tell the dispatcher, in order for each room (rooms are numbered by the process).
#[derive(Debug)]
pub enum Dispatch {
    /// A client joined a room: where its connection is, and who it is.
    Joined(u64, ClientId, ClientHandle, Seated),
    /// A client left a room: nothing more goes to it.
    Left(u64, ClientId),
    /// One tick's outbox of a room (its broadcasts go to that room's clients).
    Out(u64, Vec<Outbound>),
    /// A room closed: nothing more goes to any of its clients.
    Closed(u64),
    /// The admin endpoint asks (list, kick, broadcast).
    Admin(Request),
}

/// Who a client is, for the admin endpoint's list.
#[derive(Debug, Clone)]
pub struct Seated {
    pub name: String,
    pub room: RoomCode,
}

/// The tick thread's end of the hand-off.
#[derive(Debug, Clone)]
pub struct DispatchSender(mpsc::Sender<Dispatch>);

impl DispatchSender {
    /// Queues `d`; waits while the dispatcher is [`QUEUED_TICKS`] behind (back-pressure on an overloaded
    /// runtime rather than unbounded memory). Must not be called from async code.
    pub fn send(&self, d: Dispatch) {
        match self.0.try_send(d) {
            Ok(()) | Err(TrySendError::Closed(_)) => {}
            Err(TrySendError::Full(d)) => {
                let _ = self.0.blocking_send(d);
            }
        }
    }

    /// Queues `d` from async code, waiting for room; false if the dispatcher is gone.
    pub async fn request(&self, d: Dispatch) -> bool {
        self.0.send(d).await.is_ok()
    }
}

/// Starts the dispatcher task on the current tokio runtime; players joining and leaving are told to
/// `lifecycle` (the orchestrator's player tracking).
pub fn spawn(metrics: Arc<Metrics>, lifecycle: Arc<dyn Lifecycle>) -> DispatchSender {
    let (tx, mut rx) = mpsc::channel(QUEUED_TICKS);
    let mut dispatcher = Dispatcher {
        rooms: HashMap::new(),
        seated: HashMap::new(),
        metrics,
        lifecycle,
    };
    tokio::spawn(async move {
        while let Some(d) = rx.recv().await {
            dispatcher.apply(d);
        }
    });
    DispatchSender(tx)
}

/// The connections the outboxes go to, by room.
struct Dispatcher {
    rooms: HashMap<u64, HashMap<ClientId, ClientHandle>>,
    /// Who each client is (the admin endpoint's list).
    seated: HashMap<ClientId, Seated>,
    metrics: Arc<Metrics>,
    lifecycle: Arc<dyn Lifecycle>,
}

impl Dispatcher {
    fn apply(&mut self, d: Dispatch) {
        match d {
            Dispatch::Joined(room, client, handle, seated) => {
                self.rooms.entry(room).or_default().insert(client, handle);
                self.seated.insert(client, seated);
                self.lifecycle.player_connected(client);
            }
            Dispatch::Left(room, client) => {
                if let Some(clients) = self.rooms.get_mut(&room)
                    && clients.remove(&client).is_some()
                {
                    self.seated.remove(&client);
                    self.lifecycle.player_disconnected(client);
                }
            }
            Dispatch::Out(room, outbox) => {
                if let Some(clients) = self.rooms.get(&room) {
                    dispatch(clients, outbox, &self.metrics);
                }
            }
            Dispatch::Closed(room) => {
                for client in self.rooms.remove(&room).unwrap_or_default().into_keys() {
                    self.seated.remove(&client);
                    self.lifecycle.player_disconnected(client);
                }
            }
            Dispatch::Admin(request) => self.admin(request),
        }
    }
}

impl Dispatcher {
    /// Answers the admin endpoint: the players, a kick, a broadcast.
    fn admin(&self, request: Request) {
        let handles = || self.rooms.values().flat_map(|clients| clients.iter());
        match request {
            Request::Players(answer) => {
                let players = handles()
                    .filter_map(|(client, handle)| {
                        let seated = self.seated.get(client)?;
                        Some(PlayerLine {
                            client: *client,
                            name: seated.name.clone(),
                            room: seated.room.clone(),
                            rtt_ms: handle.session.rtt().as_secs_f64() * 1e3,
                        })
                    })
                    .collect();
                let _ = answer.send(players);
            }
            Request::Kick { client, reason, done } => {
                let handle = handles().find(|(c, _)| **c == client).map(|(_, h)| h);
                if let Some(handle) = handle {
                    send_frame(handle, ToConn::Kick(reason), &self.metrics);
                }
                let _ = done.send(handle.is_some());
            }
            Request::Broadcast { text, done } => {
                let mut sent = 0;
                if let Ok(frame) = encode_frame(&ServerFrame::Notice { text }) {
                    let frame = bytes::Bytes::from(frame);
                    for (_, handle) in handles() {
                        send_frame(handle, ToConn::Frame(frame.clone()), &self.metrics);
                        sent += 1;
                    }
                }
                let _ = done.send(sent);
            }
        }
    }
}

/// Sends one room's outbox to its clients.
fn dispatch(clients: &HashMap<ClientId, ClientHandle>, outbox: Vec<Outbound>, metrics: &Metrics) {
    for out in outbox {
        match out {
            Outbound::Frame { client, frame } => {
                if let Some(handle) = clients.get(&client) {
                    send_frame(handle, ToConn::Frame(frame), metrics);
                }
            }
            Outbound::Broadcast { frame } => {
                for handle in clients.values() {
                    send_frame(handle, ToConn::Frame(frame.clone()), metrics);
                }
            }
            Outbound::Snapshot { client, tick, bytes } => {
                if let Some(handle) = clients.get(&client) {
                    send_snapshot(handle, tick, &bytes, metrics);
                }
            }
            Outbound::Delta { client, datagram, .. } => {
                if let Some(handle) = clients.get(&client) {
                    send_one(handle, datagram, metrics);
                }
            }
            Outbound::Kick { client, reason } => {
                if let Some(handle) = clients.get(&client) {
                    tracing::info!(?client, %reason, "kicking");
                    send_frame(handle, ToConn::Kick(reason), metrics);
                }
            }
            Outbound::Reject { client, reason } => {
                if let Some(handle) = clients.get(&client) {
                    send_frame(handle, ToConn::Reject(reason), metrics);
                }
            }
        }
    }
}

/// Closes a connection with a reason.
pub fn close_conn(handle: &ClientHandle, code: u32, reason: &str) {
    // Inside the runtime, so a browser's session sends its close capsule (the reason) before the QUIC close.
    let _runtime = handle.runtime.enter();
    handle.session.close(code, reason.as_bytes());
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
    count_sent(handle.session.send_datagram(datagram), len, metrics);
}

/// Counts what became of one datagram of `len` bytes. A lost or closed connection is not an error of ours.
fn count_sent(result: Result<(), SessionError>, len: u64, metrics: &Metrics) {
    match result {
        Ok(()) => {
            inc(&metrics.snapshot_datagrams_sent);
            metrics.snapshot_bytes_sent.fetch_add(len, Ordering::Relaxed);
        }
        Err(
            SessionError::ConnectionError(_)
            | SessionError::WebTransportError(WebTransportError::Closed(..))
            | SessionError::SendDatagramError(quinn::SendDatagramError::ConnectionLost(_)),
        ) => {}
        Err(_) => inc(&metrics.snapshot_send_errors),
    }
}

/// Splits a full snapshot (the naive baseline) to the path's datagram size and sends every part.
fn send_snapshot(handle: &ClientHandle, tick: u32, bytes: &[u8], metrics: &Metrics) {
    let max = handle.session.max_datagram_size();
    if max == 0 {
        inc(&metrics.snapshot_send_errors);
        return;
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use quinn::SendDatagramError;

    #[test]
    fn a_refused_datagram_is_counted() {
        let m = Metrics::default();
        count_sent(Ok(()), 40, &m);
        count_sent(Err(SendDatagramError::TooLarge.into()), 40, &m);
        count_sent(
            Err(SendDatagramError::ConnectionLost(quinn::ConnectionError::TimedOut).into()),
            40,
            &m,
        );
        count_sent(Err(quinn::ConnectionError::TimedOut.into()), 40, &m);
        let text = m.render_prometheus();
        for line in [
            "arena_snapshot_datagrams_sent_total 1",
            "arena_snapshot_bytes_sent_total 40",
            "arena_snapshot_send_errors_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
