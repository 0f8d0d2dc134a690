//! The network edge: QUIC (quinn on tokio). It accepts connections, runs the handshake, and gives each
//! connection a task that decodes and limits everything the peer sends before it reaches the tick thread.
//!
//! Data flow: peer → [`connection`] task (size, kind, decode with limits, count bad packets) → bounded
//! channel of [`ToTick`] → tick thread; tick thread → [`ClientHandle`] (frames through a bounded queue to the
//! connection's writer, snapshots straight to `send_datagram`) → peer.

pub mod connection;
pub mod limits;
pub mod quic;

use crate::game::{ClientId, Inbound};
use crate::metrics::{Metrics, inc};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};

/// Default time a client has from its first packet to a complete `Hello` (QUIC/TLS handshake included); then
/// it is closed (`--handshake-timeout-ms`).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default connections one IP address may hold (`--max-connections-per-ip`); more are refused at once.
pub const MAX_CONNECTIONS_PER_IP: usize = 16;
/// Input datagrams per second a client may send, as a multiple of the tick rate; the excess is dropped and
/// counted, and a client over by more than [`MAX_EXCESS_SECONDS`] seconds' worth within
/// [`BAD_DATAGRAM_WINDOW`] is disconnected.
pub const INPUT_RATE_FACTOR: f64 = 2.0;
/// See [`INPUT_RATE_FACTOR`].
pub const MAX_EXCESS_SECONDS: u32 = 5;
/// Chat lines per second a client may send (a burst of [`CHAT_BURST`]); the excess is dropped and counted,
/// and more than [`MAX_CHAT_EXCESS`] dropped lines within [`BAD_DATAGRAM_WINDOW`] disconnect.
pub const CHAT_RATE: f64 = 1.0;
/// See [`CHAT_RATE`].
pub const CHAT_BURST: f64 = 5.0;
/// See [`CHAT_RATE`].
pub const MAX_CHAT_EXCESS: u32 = 20;
/// Events the edge may queue for the tick thread. When full, inputs and chat are dropped (and counted);
/// joins and leaves wait for room.
pub const TO_TICK_QUEUE: usize = 8_192;
/// Control frames queued for one client: room for a whole roster (one frame per player, up to
/// `MAX_LISTED_PLAYERS`) and then some. A client that lets this fill up (it does not read its control
/// stream) is disconnected as too slow.
pub const FRAME_QUEUE: usize = 2 * arena_shared::protocol::MAX_LISTED_PLAYERS;
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
        /// The session token the client asked to resume, if any.
        resume: Option<arena_shared::protocol::SessionToken>,
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

/// The limits the edge enforces, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct EdgeLimits {
    pub max_players: usize,
    pub max_connections_per_ip: usize,
    pub handshake_timeout: Duration,
    pub tick_rate: u16,
}

/// What every connection task shares.
pub struct Edge {
    pub to_tick: mpsc::Sender<ToTick>,
    pub metrics: Arc<Metrics>,
    pub limits: EdgeLimits,
    /// Connections per remote IP.
    pub per_ip: limits::PerIp,
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
        limits: EdgeLimits,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            to_tick,
            metrics,
            limits,
            per_ip: limits::PerIp::new(limits.max_connections_per_ip),
            player_slots: Arc::new(Semaphore::new(limits.max_players)),
            connection_slots: Arc::new(Semaphore::new(limits.max_players + EXTRA_CONNECTIONS)),
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
        let Some(ip_slot) = edge.per_ip.acquire(incoming.remote_address().ip()) else {
            incoming.refuse();
            inc(&edge.metrics.connections_refused);
            continue;
        };
        let Ok(slot) = edge.connection_slots.clone().try_acquire_owned() else {
            incoming.refuse();
            inc(&edge.metrics.connections_refused);
            continue;
        };
        let edge = edge.clone();
        tokio::spawn(async move {
            connection::run(incoming, edge.next_client_id(), &edge).await;
            drop((slot, ip_slot));
        });
    }
}
