//! What the Arena server and client agree on, with no I/O of its own.
//!
//! # Layout
//! - [`math`]: the small 2D vector type every other module uses.
//! - [`arena`]: the map (bounds, walls, spawn points) and its limits.
//! - [`rules`]: the game rules as plain functions on plain data (movement, firing, projectiles, damage,
//!   respawn). The server's ECS systems and the client's prediction call the same functions, so both
//!   agree bit for bit.
//! - [`protocol`]: every message that crosses the network, the protocol version, ALPN and the limits.
//! - [`entity`]: the kinds of entity (players, projectiles) and the key range each one's keys lie in.
//! - [`codec`]: the only caller of bincode: encoding, and decoding that is limited in bytes, rejects
//!   trailing bytes and returns a typed error.
//! - [`fragment`]: splitting a snapshot into datagram-sized parts and reassembling them whole or not at all.
//!
//! This crate must not depend on tokio, quinn or bevy_ecs.

pub mod arena;
pub mod codec;
pub mod entity;
pub mod fragment;
pub mod math;
pub mod protocol;
pub mod quant;
pub mod rules;

pub use math::Vec2;
