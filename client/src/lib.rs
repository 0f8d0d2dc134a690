//! The Arena client library.
//!
//! # Layout
//! - [`verify`]: how the client trusts a server: a pinned SHA-256 of its certificate, a PEM certificate, or
//!   the system's roots.
//! - [`session`]: connecting, the handshake, sending inputs (each datagram repeats the newest ones) and
//!   chat, and receiving snapshots (reassembled from datagram parts) and control frames as [`session::Event`]s.
//! - [`lobby`]: the rooms a server offers (asked for without joining), and the room flags.
//! - [`congestion`]: QUIC congestion control for a client's inputs (Cubic with a floor under its window).
//! - [`shots`]: the player's own shots, predicted from the moment they are fired, and matched with the
//!   server's projectiles.
//! - [`timesync`]: the input clock: when each input leaves so it arrives just ahead of its tick.
//! - [`bot`]: a headless player that moves, aims at the nearest player, fires and chats, and reports what it
//!   saw as one JSON line.

pub mod bot;
pub mod congestion;
pub mod game;
pub mod interp;
pub mod lobby;
pub mod predict;
pub mod session;
pub mod shots;
pub mod timesync;
pub mod ui;
pub mod verify;
pub mod views;

pub use session::{ClientError, ConnectOptions, Event, Session};
pub use verify::Verification;
