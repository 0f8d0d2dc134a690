//! The edge's vocabulary: what the network edge hands the simulation ([`Inbound`]) and what it hands back
//! after a tick ([`Outbound`]), addressed by connection ([`ClientId`]).

use arena_shared::protocol::InputDatagram;
use bytes::Bytes;

/// A connection's id, given by the network edge; unique for the server's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub u64);

/// What the network edge hands to the simulation.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// A client finished its handshake (version and name already checked) and takes a player slot.
    Join { client: ClientId, name: String },
    /// A client finished its handshake asking to take back the player of `token`; when the token is not
    /// live, it joins as a new player.
    Resume {
        client: ClientId,
        name: String,
        token: arena_shared::protocol::SessionToken,
    },
    /// A client left for good (it quit, or was kicked); its player leaves the world.
    Leave { client: ClientId },
    /// A client's connection was lost; its player is held for the resume grace window.
    Lost { client: ClientId },
    /// A decoded input datagram, and how long it waited between its arrival and the start of the tick that
    /// takes it in (the tick thread measures it; the client's input clock steers by it).
    Input {
        client: ClientId,
        datagram: InputDatagram,
        waited: std::time::Duration,
    },
    /// A chat line, not yet cleaned.
    Chat { client: ClientId, text: String },
}

/// What the simulation hands back to the network edge after a tick.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    /// An encoded control frame (length prefix included) for one client.
    Frame { client: ClientId, frame: Bytes },
    /// An encoded control frame for every joined client.
    Broadcast { frame: Bytes },
    /// One client's full snapshot of `tick` (the naive baseline encoding), to split into datagrams at the edge.
    Snapshot { client: ClientId, tick: u32, bytes: Bytes },
    /// One client's delta snapshot of `tick`: a whole encoded `ServerDatagram::Delta`, sent as it is.
    Delta {
        client: ClientId,
        tick: u32,
        datagram: Bytes,
    },
    /// Disconnect this client, telling it why.
    Kick { client: ClientId, reason: String },
    /// Refuse this client's `Hello` (it never joined the world): a `Reject` frame, then the connection closes.
    Reject {
        client: ClientId,
        reason: arena_shared::protocol::RejectReason,
    },
}
