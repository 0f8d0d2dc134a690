//! A client's connection to a server: connect and handshake, then inputs and chat out, snapshots and
//! control frames in.
//!
//! Two background tasks (`readers`) read what the server sends: one reassembles snapshot datagrams (whole
//! or not at all, never out of order) and decodes them, the other reads control frames. Both deliver
//! [`Event`]s through a bounded queue; snapshots are dropped (and counted) when the queue is full, frames
//! wait for room.

mod readers;

use crate::timesync::{InputClock, TimeSync};
use crate::verify::{Verification, VerifyError};
use arena_shared::arena::{Arena, ArenaError};
use arena_shared::codec;
use arena_shared::protocol::{
    ClientDatagram, ClientFrame, Hello, InputDatagram, MAX_INPUTS_PER_DATAGRAM, PROTOCOL_VERSION, RejectReason,
    RoomRequest, ServerFrame, SessionToken, Snapshot, Welcome, close_code,
};
use arena_shared::rules::Input;
use quinn::{Connection, ConnectionError, Endpoint, IdleTimeout, RecvStream, SendStream, TransportConfig, VarInt};
use readers::{Received, lock, read_frame, read_frames, read_snapshots};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Time allowed for the QUIC handshake plus `Welcome`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Events queued for the application; past it snapshots are dropped and frames wait.
pub const EVENT_QUEUE: usize = 1_024;
/// Idle time after which the client gives the connection up (the server uses the same).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Keep-alive interval, so a quiet client is not taken for gone.
pub const KEEP_ALIVE: Duration = Duration::from_secs(2);
/// Packets a later one may overtake before QUIC calls the earlier lost (RFC 9002's default is 3). Inputs
/// leave 60 times a second, so a link that reorders by its jitter (±50 ms reorders six of them) would have
/// every reordering taken for a loss: the congestion window collapses to its minimum, inputs queue behind it
/// and leave in bursts, and a burst reordered by the same jitter skips past the redundancy window.
pub const REORDER_PACKETS: u32 = 16;
/// Reordering in time, as a factor of the RTT, before QUIC calls a packet lost (RFC 9002: 9/8).
pub const REORDER_RTT_FACTOR: f32 = 1.5;

/// Why a connection failed or ended.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("cannot open a UDP socket: {0}")]
    Socket(std::io::Error),
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: SocketAddr, reason: String },
    #[error("the server refused to let us in: {0}")]
    Rejected(RejectReason),
    #[error("the server broke the protocol: {0}")]
    Protocol(String),
    #[error("the server's map is unusable: {0}")]
    BadArena(#[from] ArenaError),
    #[error("connection closed: {0}")]
    Closed(String),
}

/// Where to connect and as whom.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub server: SocketAddr,
    /// The TLS server name (must match the certificate unless the hash is pinned).
    pub server_name: String,
    pub verification: Verification,
    pub name: String,
    /// Which room to play in (quick join by default).
    pub room: RoomRequest,
}

/// Something the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Snapshot(Snapshot),
    Frame(ServerFrame),
    /// The connection ended; the text says why (the server's reason when it gave one).
    Closed(String),
}

/// Counters the background readers keep.
#[derive(Debug, Default)]
pub struct SessionStats {
    /// Snapshot datagrams that did not decode or reassemble.
    pub bad_datagrams: AtomicU64,
    /// Whole snapshots dropped because the application did not take events fast enough.
    pub snapshots_dropped: AtomicU64,
}

/// A connected, welcomed client.
pub struct Session {
    options: ConnectOptions,
    endpoint: Endpoint,
    conn: Connection,
    control: SendStream,
    welcome: Welcome,
    events: mpsc::Receiver<Event>,
    recent_inputs: VecDeque<Input>,
    next_seq: u32,
    newest_tick: Arc<AtomicU32>,
    stats: Arc<SessionStats>,
    /// When inputs leave, set by the snapshots' reader (see [`crate::timesync`]).
    clock: Arc<Mutex<InputClock>>,
}

/// Connects to the server of `options`, opens the control stream, says `first` on it and reads the
/// server's first frame, all within [`CONNECT_TIMEOUT`]: the start of a session, and of a lobby's question.
pub(crate) async fn exchange(
    endpoint: &Endpoint,
    options: &ConnectOptions,
    first: &ClientFrame,
) -> Result<(Connection, SendStream, RecvStream, ServerFrame), ClientError> {
    let addr = options.server;
    let config = options.verification.client_config(transport())?;
    let fail = |reason: String| ClientError::Connect { addr, reason };
    let exchange = async {
        let conn = endpoint
            .connect_with(config, addr, &options.server_name)
            .map_err(|e| fail(e.to_string()))?
            .await
            .map_err(|e| fail(describe(&e)))?;
        let (mut control, mut recv) = conn.open_bi().await.map_err(|e| fail(describe(&e)))?;
        let frame = codec::encode_frame(first).map_err(|e| fail(e.to_string()))?;
        control.write_all(&frame).await.map_err(|e| fail(e.to_string()))?;
        let answer = read_frame(&mut recv).await.map_err(|e| match conn.close_reason() {
            Some(reason) => fail(describe(&reason)),
            None => e,
        })?;
        Ok::<_, ClientError>((conn, control, recv, answer))
    };
    tokio::time::timeout(CONNECT_TIMEOUT, exchange)
        .await
        .map_err(|_| fail(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
}

/// The client's QUIC transport settings: idle timeout, keep-alive, no streams from the server, a 256 KiB
/// datagram receive buffer. Tools that measure against the client (the load test's floor) use the same.
pub fn transport() -> TransportConfig {
    let mut t = TransportConfig::default();
    t.max_idle_timeout(Some(IdleTimeout::from(VarInt::from_u32(
        IDLE_TIMEOUT.as_millis() as u32
    ))))
    .keep_alive_interval(Some(KEEP_ALIVE))
    .max_concurrent_bidi_streams(VarInt::from_u32(0))
    .max_concurrent_uni_streams(VarInt::from_u32(0))
    .datagram_receive_buffer_size(Some(256 * 1024))
    .packet_threshold(REORDER_PACKETS)
    .time_threshold(REORDER_RTT_FACTOR)
    .congestion_controller_factory(std::sync::Arc::new(crate::congestion::FlooredCubic::default()));
    t
}

/// A readable reason for a connection's end.
pub fn describe(e: &ConnectionError) -> String {
    match e {
        ConnectionError::ApplicationClosed(close) => String::from_utf8_lossy(&close.reason).into_owned(),
        ConnectionError::TimedOut => "timed out: the server stopped answering".into(),
        ConnectionError::LocallyClosed => "closed by this client".into(),
        ConnectionError::TransportError(t) if t.to_string().contains("ApplicationVerificationFailure") => {
            "the server's certificate does not match the pinned --cert-sha256".into()
        }
        other => other.to_string(),
    }
}

impl Session {
    /// Connects from a UDP socket of its own, says `Hello`, and waits for `Welcome` (or the server's `Reject`).
    pub async fn connect(options: &ConnectOptions) -> Result<Session, ClientError> {
        let local: SocketAddr = if options.server.is_ipv6() {
            "[::]:0"
        } else {
            "0.0.0.0:0"
        }
        .parse()
        .map_err(|_| ClientError::Protocol("bad local address".into()))?;
        let endpoint = Endpoint::client(local).map_err(ClientError::Socket)?;
        Self::connect_on(&endpoint, options).await
    }

    /// Like [`Session::connect`], on an endpoint the caller made (many sessions can share one UDP socket,
    /// as the load-test tool's bots do).
    pub async fn connect_on(endpoint: &Endpoint, options: &ConnectOptions) -> Result<Session, ClientError> {
        Self::connect_resuming(endpoint, options, None).await
    }

    /// Connects asking to take back the player of session `token` (it joins as a new player if the server
    /// no longer holds that session).
    pub async fn connect_resuming(
        endpoint: &Endpoint,
        options: &ConnectOptions,
        resume: Option<SessionToken>,
    ) -> Result<Session, ClientError> {
        let endpoint = endpoint.clone();
        let hello = ClientFrame::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            name: options.name.clone(),
            resume,
            room: options.room.clone(),
        });
        let (conn, control, recv, first) = exchange(&endpoint, options, &hello).await?;
        let welcome = match first {
            ServerFrame::Welcome(welcome) => welcome,
            ServerFrame::Reject { reason } => return Err(ClientError::Rejected(reason)),
            other => return Err(ClientError::Protocol(format!("expected Welcome, got {other:?}"))),
        };
        welcome.arena.validate()?;
        let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
        let newest_tick = Arc::new(AtomicU32::new(0));
        let stats = Arc::new(SessionStats::default());
        let clock = Arc::new(Mutex::new(InputClock::new(welcome.tick_rate, Instant::now())));
        tokio::spawn(read_frames(conn.clone(), recv, events_tx.clone()));
        tokio::spawn(read_snapshots(
            conn.clone(),
            events_tx,
            Received {
                newest_tick: newest_tick.clone(),
                stats: stats.clone(),
                clock: clock.clone(),
            },
            welcome.tick_rate,
        ));
        Ok(Session {
            options: options.clone(),
            endpoint,
            conn,
            control,
            welcome,
            events,
            recent_inputs: VecDeque::with_capacity(MAX_INPUTS_PER_DATAGRAM),
            next_seq: 1,
            newest_tick,
            stats,
            clock,
        })
    }

    /// Asks for the public rooms on this session's control stream; the `Rooms` frame arrives as an event.
    pub async fn ask_for_rooms(&mut self) -> Result<(), ClientError> {
        let frame = codec::encode_frame(&ClientFrame::ListRooms).map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.control
            .write_all(&frame)
            .await
            .map_err(|e| ClientError::Closed(e.to_string()))
    }

    /// After the connection was lost: connects again and takes this player back (same id, score, health),
    /// if the server still holds it.
    pub async fn resume(&self) -> Result<Session, ClientError> {
        let options = ConnectOptions {
            room: RoomRequest::Code(self.welcome.room.clone()),
            ..self.options.clone()
        };
        Self::connect_resuming(&self.endpoint, &options, Some(self.welcome.session_token)).await
    }

    /// Whether a lost connection may be resumed: not when the server kicked, refused or closed it on purpose,
    /// nor when this client left.
    pub fn can_resume(&self) -> bool {
        match self.conn.close_reason() {
            Some(ConnectionError::ApplicationClosed(c)) => {
                let code = c.error_code.into_inner();
                ![
                    close_code::LEFT,
                    close_code::SHUTTING_DOWN,
                    close_code::KICKED,
                    close_code::REJECTED,
                    close_code::PROTOCOL_VIOLATION,
                    close_code::ROOM_FAILED,
                ]
                .contains(&(code as u32))
            }
            Some(ConnectionError::LocallyClosed) => false,
            Some(_) => true,
            None => false,
        }
    }

    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    pub fn player_id(&self) -> u32 {
        self.welcome.player_id
    }

    pub fn arena(&self) -> &Arena {
        &self.welcome.arena
    }

    /// When the next input should leave: sent then, it reaches the server just ahead of the tick that applies
    /// it (see [`crate::timesync`]). Input loops sleep until this instead of ticking on their own clock.
    pub fn next_input_at(&self) -> Instant {
        lock(&self.clock).due()
    }

    /// The margin the input clock holds, its target and the jitter it allows for.
    pub fn time_sync(&self) -> TimeSync {
        lock(&self.clock).stats()
    }

    /// The server tick running now (with its fraction), as the snapshots tell; `None` before the first.
    pub fn server_tick(&self) -> Option<f64> {
        lock(&self.clock).server_tick_at(Instant::now())
    }

    /// Sends the next input (its sequence number is given here and returned) in a datagram that repeats the
    /// newest [`MAX_INPUTS_PER_DATAGRAM`] inputs and acks the newest snapshot received; the next is due at
    /// [`Session::next_input_at`].
    pub fn send_input(&mut self, mut input: Input) -> Result<Input, ClientError> {
        input.seq = self.next_seq;
        self.next_seq += 1;
        if self.recent_inputs.len() == MAX_INPUTS_PER_DATAGRAM {
            self.recent_inputs.pop_front();
        }
        self.recent_inputs.push_back(input);
        let datagram = ClientDatagram::Input(InputDatagram {
            ack_tick: self.newest_tick.load(Ordering::Relaxed),
            inputs: self.recent_inputs.iter().copied().collect(),
        });
        let bytes = codec::encode_datagram(&datagram).map_err(|e| ClientError::Protocol(e.to_string()))?;
        lock(&self.clock).sent(Instant::now());
        match self.conn.send_datagram(bytes.into()) {
            Ok(()) => Ok(input),
            Err(quinn::SendDatagramError::ConnectionLost(e)) => Err(ClientError::Closed(describe(&e))),
            Err(e) => Err(ClientError::Protocol(e.to_string())),
        }
    }

    /// Sends a chat line on the control stream.
    pub async fn send_chat(&mut self, text: &str) -> Result<(), ClientError> {
        let frame = codec::encode_frame(&ClientFrame::Chat { text: text.to_owned() })
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.control
            .write_all(&frame)
            .await
            .map_err(|e| ClientError::Closed(e.to_string()))
    }

    /// The next event; `None` once the connection is over and every event was taken.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// An event if one is waiting.
    pub fn try_event(&mut self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// The current round-trip time as QUIC estimates it.
    pub fn rtt(&self) -> Duration {
        self.conn.rtt()
    }

    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// Writes raw bytes to the control stream, bypassing the codec (for tools and tests that play a broken
    /// or hostile client).
    pub async fn send_raw_control(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.control
            .write_all(bytes)
            .await
            .map_err(|e| ClientError::Closed(e.to_string()))
    }

    /// The underlying connection (for tools and tests that need raw access).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Leaves: closes the connection and waits briefly for the close to reach the server.
    pub async fn close(self) {
        self.conn.close(VarInt::from_u32(close_code::LEFT), b"client left");
        let _ = tokio::time::timeout(Duration::from_secs(1), self.endpoint.wait_idle()).await;
    }
}
