//! The Arena game server.
//!
//! # Layout (in the order a packet travels)
//! - [`config`]: command-line flags and environment, checked before anything starts.
//! - [`tls`]: the server's certificate: loaded from PEM files, or generated once and kept in the data
//!   directory so the hash players pin stays the same.
//! - [`net`]: the QUIC edge (tokio + quinn): accepting, the handshake, one task per connection that decodes
//!   and limits everything a peer sends and counts what it drops.
//! - [`game`]: the sans-IO simulation, a bevy_ecs World and its chained tick schedule.
//! - [`tick`]: the tick thread, the only owner of the World: drains the edge's channel into the simulation at
//!   a fixed rate, runs the tick, and queues the encoded frames and snapshots for [`dispatch`].
//! - [`dispatch`]: a task on the network runtime that hands each tick's frames and snapshots to the
//!   connections.
//! - [`metrics`]: counters and the tick-time histogram, served over HTTP with the health checks.
//! - [`health`]: liveness (the tick is alive) and readiness (a new player could join).
//! - [`server`]: starting and stopping all of the above.

pub mod config;
pub mod dispatch;
pub mod game;
pub mod health;
pub mod metrics;
pub mod net;
pub mod server;
pub mod tick;
pub mod tls;

pub use config::Config;
pub use server::{RunningServer, start};
