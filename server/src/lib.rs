//! The Arena game server.
//!
//! # Layout (in the order a packet travels)
//! - [`config`]: command-line flags and environment, checked before anything starts.
//! - [`tls`]: the server's certificate: loaded from PEM files, or generated once and kept in the data
//!   directory so the hash players pin stays the same.
//! - [`net`]: the QUIC edge (tokio + quinn): accepting, the handshake, one task per connection that decodes
//!   and limits everything a peer sends and counts what it drops.
//! - [`rooms`]: the directory of rooms (placing each `Hello`: quick join, by code, a new room; the public
//!   list) and the room: one simulation, its queue of events and its players.
//! - [`game`]: the sans-IO simulation, a bevy_ecs World and its chained tick schedule: one room's game.
//! - [`tick`]: the tick threads, each running a share of the rooms: a room's queue drained into its
//!   simulation at a fixed rate, its tick run, its frames and snapshots queued for [`dispatch`]; a room
//!   whose tick panics is closed alone.
//! - [`dispatch`]: a task on the network runtime that hands each tick's frames and snapshots to the
//!   connections.
//! - [`metrics`]: counters and the tick-time histogram, served over HTTP with the health checks.
//! - [`admin`]: the operators' endpoint on the same listener (rooms, players, kick, broadcast, drain).
//! - [`logs`]: text or JSON logs, with a span per connection and per overrun tick.
//! - [`health`]: liveness (the tick is alive) and readiness (a new player could join).
//! - [`fleet`]: what an orchestrator is told (Agones' SDK, or nothing): ready, health, labels, players,
//!   shutdown.
//! - [`web`]: the web client's files (built in from `web/`) and where a page connects (`/connect.json`).
//! - [`server`]: starting and stopping all of the above.
//!
//! [`Allocator`] is the memory allocator the binaries (the server's, the load tool's, the benchmarks')
//! declare as their global allocator.

pub mod admin;
pub mod config;
pub mod dispatch;
pub mod fleet;
pub mod game;
pub mod health;
pub mod logs;
pub mod map_file;
pub mod metrics;
pub mod net;
pub mod rooms;
pub mod server;
pub mod tick;
pub mod tls;
pub mod web;

/// The memory allocator of every binary that runs the server (`#[global_allocator] static A:
/// arena_server::Allocator = arena_server::Allocator;`): mimalloc, not the system's. glibc's malloc made
/// the loaded server and its load tool pay for its arenas' locking and consolidation: the tick thread
/// allocates what the network thread frees (every snapshot's datagram), and the bots of one process do the
/// same across their threads (docs/BENCHMARKS.md, "The allocator, the socket's buffers and the cores").
pub use mimalloc::MiMalloc as Allocator;

pub use config::Config;
pub use server::{RunningServer, start};
