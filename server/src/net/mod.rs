//! The network edge: QUIC (quinn on tokio). It accepts connections, runs the handshake, and gives each
//! connection a task that decodes and limits everything the peer sends before it reaches the tick thread.
//!
//! Data flow: peer → [`connection`] task (size, kind, decode with limits, count bad packets) → bounded
//! channel of [`ToTick`] → tick thread; tick thread → [`ClientHandle`] (frames through a bounded queue to the
//! connection's writer, snapshots straight to `send_datagram`) → peer.

pub mod connection;
pub mod quic;

use crate::game::{ClientId, Inbound};
use crate::metrics::{Metrics, inc};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};

/// Time a client has from its first packet to a complete `Hello` (QUIC/TLS handshake included); then it is
/// closed.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Events the edge may queue for the tick thread. When full, inputs and chat are dropped (and counted);
/// joins and leaves wait for room.
pub const TO_TICK_QUEUE: usize = 8_192;
/// Control frames queued for one client. A client that lets this fill up (it does not read its control
/// stream) is disconnected as too slow.
pub const FRAME_QUEUE: usize = 256;
/// Malformed datagrams tolerated per [`BAD_DATAGRAM_WINDOW`]; one more disconnects the client.
pub const MAX_BAD_DATAGRAMS: u32 = 20;
/// The window over which [`MAX_BAD_DATAGRAMS`] counts.
pub const BAD_DATAGRAM_WINDOW: Duration = Duration::from_secs(10);
/// Connections (handshaking or playing) above the player limit that the server still accepts, so a full
/// server can answer `Reject { Full }` instead of silence; attempts beyond are refused at once.
pub const EXTRA_CONNECTIONS: usize = 16;

/// What the edge tells the tick thread.
#[derive(Debug)]
pub enum ToTick {
    /// A client passed the handshake; here is how to reach it.
    Join {
        client: ClientId,
        name: String,
        handle: ClientHandle,
    },
    /// Anything else, as the simulation takes it.
    Event(Inbound),
}

/// What the tick thread tells one connection's writer.
#[derive(Debug)]
pub enum ToConn {
    /// An encoded control frame to write.
    Frame(Bytes),
    /// Write a `Kick` with this reason, then close the connection.
    Kick(String),
}

/// How the tick thread reaches one client.
#[derive(Debug, Clone)]
pub struct ClientHandle {
    pub conn: quinn::Connection,
    pub frames: mpsc::Sender<ToConn>,
}

/// What every connection task shares.
pub struct Edge {
    pub to_tick: mpsc::Sender<ToTick>,
    pub metrics: Arc<Metrics>,
    /// Player slots; a connection holds one from `Join` until it is gone.
    pub player_slots: Arc<Semaphore>,
    /// Connection slots (players plus [`EXTRA_CONNECTIONS`]); held from accept to close.
    pub connection_slots: Arc<Semaphore>,
    /// Becomes true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    next_client: AtomicU64,
}

impl Edge {
    pub fn new(
        to_tick: mpsc::Sender<ToTick>,
        metrics: Arc<Metrics>,
        max_players: usize,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            to_tick,
            metrics,
            player_slots: Arc::new(Semaphore::new(max_players)),
            connection_slots: Arc::new(Semaphore::new(max_players + EXTRA_CONNECTIONS)),
            shutdown,
            next_client: AtomicU64::new(1),
        }
    }

    fn next_client_id(&self) -> ClientId {
        ClientId(self.next_client.fetch_add(1, Ordering::Relaxed))
    }
}

/// Accepts connections until the endpoint closes, each in its own task.
pub async fn accept_loop(endpoint: quinn::Endpoint, edge: Arc<Edge>) {
    while let Some(incoming) = endpoint.accept().await {
        if *edge.shutdown.borrow() {
            incoming.refuse();
            inc(&edge.metrics.connections_refused);
            continue;
        }
        let Ok(slot) = edge.connection_slots.clone().try_acquire_owned() else {
            incoming.refuse();
            inc(&edge.metrics.connections_refused);
            continue;
        };
        let edge = edge.clone();
        tokio::spawn(async move {
            connection::run(incoming, edge.next_client_id(), &edge).await;
            drop(slot);
        });
    }
}
