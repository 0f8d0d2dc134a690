//! The network edge: QUIC (quinn on tokio). It accepts connections, runs the handshake, and gives each
//! connection a task that decodes and limits everything the peer sends before it reaches the tick thread.
//!
//! Data flow: peer → [`connection`] task (size, kind, decode with limits, count bad packets) → its room's
//! bounded channel of [`ToTick`] → the room's tick thread; tick thread → [`ClientHandle`] (frames through a bounded queue to the
//! connection's writer, snapshots straight to `send_datagram`) → peer.

pub mod certs;
pub mod connection;
pub mod limits;
pub mod pending;
pub mod quic;
pub mod socket;
pub mod web_session;

use crate::game::{ClientId, Inbound};
use crate::metrics::{Metrics, inc};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};
use tracing::Instrument;

/// Default time a client has from its first packet to a complete `Hello` (QUIC/TLS handshake included); then
/// it is closed (`--handshake-timeout-ms`).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default connections one client address may hold (`--max-connections-per-ip`): an IPv4 address, or an
/// IPv6 /64 (see [`limits::ip_key`]; IPv4-mapped IPv6 counts as IPv4); more are refused at once.
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
/// `ListRooms` a connection may send before its `Hello`; one more is a protocol violation.
pub const MAX_LISTS_BEFORE_HELLO: usize = 8;
/// `ListRooms` per second a player may send (a burst of [`LIST_BURST`]); the excess is dropped and counted
/// as chat's is, and disconnects the same way.
pub const LIST_RATE: f64 = 1.0;
/// See [`LIST_RATE`].
pub const LIST_BURST: f64 = 3.0;
/// Control frames queued for one client: room for a whole roster (one frame per player, up to
/// `MAX_LISTED_PLAYERS`) and then some. A client that lets this fill up (it does not read its control
/// stream) is disconnected as too slow.
pub const FRAME_QUEUE: usize = 2 * arena_shared::protocol::MAX_LISTED_PLAYERS;
/// Malformed datagrams tolerated per [`BAD_DATAGRAM_WINDOW`]; one more disconnects the client.
pub const MAX_BAD_DATAGRAMS: u32 = 20;
/// The window over which [`MAX_BAD_DATAGRAMS`] counts.
pub const BAD_DATAGRAM_WINDOW: Duration = Duration::from_secs(10);
/// Connections past `Hello` above the player limit that the server still takes to the simulation, so a full
/// world can answer `Reject { Full }` itself and a resume racing its old connection finds a place; beyond
/// them the edge answers `Reject { Full }` at once.
pub const EXTRA_CONNECTIONS: usize = 16;
/// Default handshakes (connections not yet past `Hello`) pending at once (`--max-pending-handshakes`); a new
/// one beyond evicts the oldest.
pub const MAX_PENDING_HANDSHAKES: usize = 128;
/// Default pending handshakes from which a new connection must first prove its address with a QUIC Retry
/// (`--retry-above`): one more round trip for it, and a spoofed source address never gets a connection.
pub const RETRY_ABOVE: usize = 32;

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
    /// An input datagram, with the moment it arrived (the tick thread turns it into how long it waited for
    /// the tick that takes it in: [`Inbound::Input`]'s `waited`).
    Input {
        client: ClientId,
        datagram: arena_shared::protocol::InputDatagram,
        received: std::time::Instant,
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
    /// The simulation refused the client's `Hello` (the world is full): write a `Reject`, then close.
    Reject(arena_shared::protocol::RejectReason),
}

/// How the tick thread reaches one client.
#[derive(Debug, Clone)]
pub struct ClientHandle {
    /// Its QUIC connection, as a WebTransport session (a browser's) or a raw one (a native client's): the
    /// same datagrams and close either way (it dereferences to the `quinn::Connection`). Shared, since a
    /// session is large and every room and the dispatcher hold a handle.
    pub session: Arc<web_transport_quinn::Session>,
    pub frames: mpsc::Sender<ToConn>,
    /// The runtime its connection runs on: a browser's session closes by writing WebTransport's close
    /// capsule from a task there, even when a tick thread closes it.
    pub runtime: tokio::runtime::Handle,
}

/// The limits the edge enforces, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct EdgeLimits {
    pub max_players: usize,
    pub max_connections_per_ip: usize,
    pub handshake_timeout: Duration,
    pub tick_rate: u16,
    /// Handshakes pending at once; a new one beyond evicts the oldest.
    pub max_pending_handshakes: usize,
    /// Pending handshakes from which new connections must validate their address first (0: always).
    pub retry_above: usize,
}

/// What every connection task shares.
pub struct Edge {
    /// Where each `Hello` is placed: the rooms.
    pub directory: Arc<crate::rooms::Directory>,
    pub metrics: Arc<Metrics>,
    pub limits: EdgeLimits,
    /// Connections per remote IP.
    pub per_ip: limits::PerIp,
    /// Player slots (players plus [`EXTRA_CONNECTIONS`]); a connection holds one from `Hello` until it is
    /// gone. The world's own cap (players in it, away or not) is the simulation's.
    pub player_slots: Arc<Semaphore>,
    /// Connections between accept and `Hello`.
    pub pending: Arc<pending::Pending>,
    /// Becomes true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    next_client: AtomicU64,
}

impl Edge {
    pub fn new(
        directory: Arc<crate::rooms::Directory>,
        metrics: Arc<Metrics>,
        limits: EdgeLimits,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            directory,
            metrics,
            limits,
            per_ip: limits::PerIp::new(limits.max_connections_per_ip),
            player_slots: Arc::new(Semaphore::new(limits.max_players + EXTRA_CONNECTIONS)),
            pending: pending::Pending::new(limits.max_pending_handshakes),
            shutdown,
            next_client: AtomicU64::new(1),
        }
    }

    fn next_client_id(&self) -> ClientId {
        ClientId(self.next_client.fetch_add(1, Ordering::Relaxed))
    }
}

/// Accepts connections until the endpoint closes, each in its own task.
///
/// Cheapest checks first: shutting down, then address validation when many handshakes are pending (a Retry
/// costs the server one stateless packet), then the per-IP cap, then a place among the pending handshakes
/// (evicting the oldest when they are all taken).
pub async fn accept_loop(endpoint: quinn::Endpoint, edge: Arc<Edge>) {
    while let Some(incoming) = endpoint.accept().await {
        if *edge.shutdown.borrow() {
            incoming.refuse();
            inc(&edge.metrics.connections_refused);
            continue;
        }
        let incoming = if !incoming.remote_address_validated()
            && incoming.may_retry()
            && edge.pending.len() >= edge.limits.retry_above
        {
            match incoming.retry() {
                Ok(()) => {
                    inc(&edge.metrics.retries_sent);
                    continue;
                }
                Err(e) => e.into_incoming(),
            }
        } else {
            incoming
        };
        let Some(ip_slot) = edge.per_ip.acquire(incoming.remote_address().ip()) else {
            incoming.refuse();
            inc(&edge.metrics.connections_refused);
            continue;
        };
        let (ticket, evicted) = edge.pending.enter();
        if evicted {
            inc(&edge.metrics.handshakes_evicted);
        }
        let edge = edge.clone();
        let client = edge.next_client_id();
        // Everything the connection logs carries its client id, its peer and (once placed) its room.
        let span = tracing::info_span!(
            "connection",
            client = client.0,
            peer = %incoming.remote_address(),
            room = tracing::field::Empty
        );
        tokio::spawn(
            async move {
                connection::run(incoming, client, &edge, ticket).await;
                drop(ip_slot);
            }
            .instrument(span),
        );
    }
}
