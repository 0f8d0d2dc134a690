//! Every message that crosses the network, the protocol version, the ALPN, and the size limits.
//!
//! Two channels carry them:
//! - the **control stream**, one reliable bidirectional QUIC stream the client opens: length-prefixed
//!   [`ClientFrame`]s and [`ServerFrame`]s (handshake, chat, joins and leaves, kills, kicks);
//! - **datagrams**, unreliable: [`ClientDatagram`] (the newest inputs plus the snapshot ack) and
//!   [`ServerDatagram`] (snapshot parts, see [`crate::fragment`]).
//!
//! The codec ([`crate::codec`]) enforces the limits named here.

use crate::arena::Arena;
use crate::codec::bounded;
use crate::math::Vec2;
use serde::{Deserialize, Serialize};

mod inputs;
mod rooms;
mod text;

pub use inputs::Inputs;
pub use rooms::{
    BadRoomCode, MAX_LISTED_ROOMS, MAX_MAP_NAME_LEN, MAX_RESULT_LINES, MatchPhase, MatchState, Mode,
    ROOM_CODE_ALPHABET, ROOM_CODE_LEN, ResultLine, Results, RoomCode, RoomInfo, RoomList, RoomRequest,
};
pub use text::{FORMAT_CHARACTERS, TextError, clean_chat, clean_name, is_format};

/// Bumped on every incompatible change; a `Hello` with another version gets `Reject { VersionMismatch }`.
/// Version 2: `Welcome` carries the snapshot rate.
/// Version 3: a delta update's mask is the varint of a `u32` (room for more fields), and its owner bit is
/// implied for a new projectile.
/// Version 4: a delta's header says how early the client's newest input arrived (`input_margin`).
/// Version 5: rooms and matches: `Hello` asks for a room, `Welcome` names it, `ListRooms` / `Rooms`, the
/// match's state and results, the refusals a room can give, and `Closing` when the server drains.
/// Version 6: `Notice`, a line from the server's operators to every player.
pub const PROTOCOL_VERSION: u16 = 6;
/// The unit of a snapshot's [`Snapshot::input_margin`]: a tenth of a millisecond.
pub const MARGIN_UNIT: std::time::Duration = std::time::Duration::from_micros(100);
/// The ALPN both ends offer in the TLS handshake; a peer without it fails the handshake.
pub const ALPN: &[u8] = b"arena/1";

/// Largest control frame payload, in bytes. A peer that announces a longer frame is disconnected.
pub const MAX_FRAME_LEN: usize = 4 * 1024;
/// Bytes of the big-endian length prefix in front of each control frame.
pub const FRAME_HEADER_LEN: usize = 2;
/// Largest datagram either end accepts, in bytes; longer ones are dropped and counted.
pub const MAX_DATAGRAM_LEN: usize = 1_400;
/// Datagram payload the server aims for: about 1,100 bytes is safe on real paths.
pub const TARGET_DATAGRAM_LEN: usize = 1_100;
/// Largest encoded snapshot, in bytes, before it is split into parts. Bigger states are refused.
pub const MAX_SNAPSHOT_LEN: usize = 64 * 1024;
/// Most inputs one datagram carries (the newest ones); more is malformed.
pub const MAX_INPUTS_PER_DATAGRAM: usize = 8;
/// Most players a snapshot may list; a longer list is malformed.
pub const MAX_LISTED_PLAYERS: usize = 1_024;
/// Most projectiles a snapshot may list; a longer list is malformed.
pub const MAX_LISTED_PROJECTILES: usize = 2_048;
/// Longest player name, in characters.
pub const MAX_NAME_CHARS: usize = 24;
/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 200;

/// QUIC application error codes a connection is closed with; the close reason carries the text for people.
pub mod close_code {
    /// The client left on its own.
    pub const LEFT: u32 = 0;
    /// The server is shutting down.
    pub const SHUTTING_DOWN: u32 = 1;
    /// The server kicked the client (the reason says why).
    pub const KICKED: u32 = 2;
    /// The handshake was refused (a `Reject` frame preceded the close).
    pub const REJECTED: u32 = 3;
    /// The peer broke the protocol: malformed or oversized frames, too many bad datagrams, no Hello in time.
    pub const PROTOCOL_VIOLATION: u32 = 4;
    /// The peer did not read its control stream fast enough and its queue filled up.
    pub const TOO_SLOW: u32 = 5;
    /// The player's room failed (its tick panicked) and was closed; the server and its other rooms play on.
    pub const ROOM_FAILED: u32 = 6;
}

/// A player's id: unique within one server run, never reused.
pub type PlayerId = u32;

/// What the client says on the control stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClientFrame {
    /// The first frame, and only the first (but for `ListRooms`, which may come before it).
    Hello(Hello),
    /// A chat line for everyone in the room.
    Chat { text: String },
    /// Asks for the public rooms (answered with `Rooms`), before or after `Hello`.
    ListRooms,
}

/// The client's introduction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol_version: u16,
    pub name: String,
    /// The session token of an earlier connection, to take that player back (same id, score and health)
    /// within the server's grace window; an unknown, expired or used token joins as a new player. A resume
    /// names the player's room by its code in `room`.
    pub resume: Option<SessionToken>,
    /// Which room to play in.
    pub room: RoomRequest,
}

/// A random 128-bit secret naming one player's session; the server issues a new one in every `Welcome`, so
/// each token works for one resume only.
pub type SessionToken = [u8; 16];

/// What the server says on the control stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ServerFrame {
    /// The handshake succeeded: who you are, how fast the world ticks, the map, and who is here.
    Welcome(Welcome),
    /// The handshake failed; the server closes the connection after this frame.
    Reject { reason: RejectReason },
    /// A chat line from a player (already validated and cleaned by the server).
    Chat { from: PlayerId, text: String },
    /// A player joined.
    PlayerJoined { id: PlayerId, name: String },
    /// A player left (disconnected or was kicked).
    PlayerLeft { id: PlayerId },
    /// `killer` killed `victim`.
    Killed { killer: PlayerId, victim: PlayerId },
    /// You are being disconnected, and why; the connection closes after this frame.
    Kick { reason: String },
    /// The public rooms, in answer to `ListRooms`.
    Rooms(RoomList),
    /// The room's match moved to another phase (sent on every change, and after `Welcome`).
    Match(MatchState),
    /// A match ended: its final scoreboard and winner (the `Results` phase follows).
    Results(Results),
    /// The server is shutting down: this room closes when its match in progress ends (after its results),
    /// in at most `secs` seconds; a room without a match in progress closes now.
    Closing { secs: u16 },
    /// A line from the server's operators (the admin endpoint's broadcast), at most [`MAX_CHAT_CHARS`]
    /// characters, cleaned like chat.
    Notice { text: String },
}

/// The server's answer to a good `Hello`. A `PlayerJoined` frame for each player already in the world
/// (this one included) follows, so the roster never has to fit one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub player_id: PlayerId,
    /// World ticks per second.
    pub tick_rate: u16,
    /// Snapshots per second this client is sent (at most `tick_rate`): clients draw others two snapshot
    /// intervals in the past.
    pub snapshot_rate: u16,
    pub arena: Arena,
    /// The token to resume this player with after a lost connection.
    pub session_token: SessionToken,
    /// The room this player is in: the code to share with friends, and to resume with.
    pub room: RoomCode,
    /// The room's map name and mode.
    pub map: String,
    pub mode: Mode,
}

/// Why a `Hello` was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RejectReason {
    /// The client speaks another protocol version.
    VersionMismatch { server: u16 },
    /// The server is at its player limit.
    Full,
    /// The name is empty (once format characters are dropped), too long, or has control characters.
    BadName,
    /// The server is shutting down.
    ShuttingDown,
    /// No room has the code asked for (it never existed, or it closed).
    NoSuchRoom,
    /// The room asked for by its code has no free seat.
    RoomFull,
    /// A new room was asked for, and the server runs as many as it may.
    TooManyRooms,
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::VersionMismatch { server } => {
                write!(
                    f,
                    "protocol version mismatch: server speaks {server}, this client {PROTOCOL_VERSION}"
                )
            }
            Self::Full => f.write_str("server is full"),
            Self::BadName => write!(f, "name must be 1 to {MAX_NAME_CHARS} printable characters"),
            Self::ShuttingDown => f.write_str("server is shutting down"),
            Self::NoSuchRoom => f.write_str("no room has that code"),
            Self::RoomFull => f.write_str("that room is full"),
            Self::TooManyRooms => f.write_str("the server cannot open another room"),
        }
    }
}

/// A datagram from the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClientDatagram {
    Input(InputDatagram),
}

/// The newest inputs (oldest first, at most [`MAX_INPUTS_PER_DATAGRAM`]), repeated in each datagram so one
/// lost datagram loses no input, and the newest snapshot tick the client has received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputDatagram {
    pub ack_tick: u32,
    pub inputs: Inputs,
}

/// A datagram from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ServerDatagram {
    /// A part of a full snapshot (the naive encoding, kept as a benchmark baseline: `--full-snapshots`).
    Snapshot(SnapshotPart),
    /// A delta snapshot that fits this one datagram (see [`crate::codec::delta`]).
    Delta(#[serde(serialize_with = "bounded::serialize_bytes", deserialize_with = "bounded::bytes")] Vec<u8>),
}

/// One part of an encoded [`Snapshot`]; see [`crate::fragment`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotPart {
    pub tick: u32,
    pub index: u8,
    pub count: u8,
    #[serde(serialize_with = "bounded::serialize_bytes", deserialize_with = "bounded::bytes")]
    pub bytes: Vec<u8>,
}

/// The world as one client should see it after one tick.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub tick: u32,
    /// The sequence number of the newest input of this client that the server has applied (0: none yet).
    pub last_input_seq: u32,
    /// How long before the tick that applies it the newest input received since the last snapshot arrived,
    /// in [`MARGIN_UNIT`]s; negative when it came after a tick that found none (late by that much for the
    /// tick that repeated the last input); `None` when no input arrived. The client's input clock steers
    /// by it. Deltas only: the naive full snapshot (the benchmarks' baseline) does not carry it.
    #[serde(skip)]
    pub input_margin: Option<i16>,
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_LISTED_PLAYERS>")]
    pub players: Vec<PlayerSnapshot>,
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_LISTED_PROJECTILES>")]
    pub projectiles: Vec<ProjectileSnapshot>,
    /// The health packs lying there (from deltas; the naive full snapshot, the benchmarks' baseline, sends
    /// players and projectiles only).
    #[serde(skip)]
    pub health_packs: Vec<HealthPackSnapshot>,
}

/// A health pack lying in the arena, ready to be picked up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthPackSnapshot {
    /// Its index among the map's health packs.
    pub id: u32,
    pub pos: Vec2,
}

/// One player in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlayerSnapshot {
    pub id: PlayerId,
    pub state: crate::rules::PlayerState,
    pub kills: u32,
    pub deaths: u32,
}

/// One projectile in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProjectileSnapshot {
    pub id: u32,
    pub owner: PlayerId,
    pub pos: Vec2,
    pub vel: Vec2,
}
