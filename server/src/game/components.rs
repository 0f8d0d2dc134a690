//! The components of the game world: players (with their connection, body, score and inputs); and the
//! projectile, which is not a component but a row of the [`Projectiles`](super::resources::Projectiles)
//! resource.

use super::edge::ClientId;
use arena_shared::protocol::PlayerId;
use arena_shared::rules::{PlayerState, ProjectileState};
use bevy_ecs::prelude::*;

/// The connection that steers this player; the only client whose inputs reach it.
#[derive(Component, Debug, Clone, Copy)]
pub struct Client(pub ClientId);

/// Who a player is.
#[derive(Component, Debug, Clone)]
pub struct Player {
    pub id: PlayerId,
    pub name: String,
}

/// A player's simulated state (position, velocity, aim, health, timers), advanced by the shared rules.
#[derive(Component, Debug, Clone, Copy)]
pub struct Body(pub PlayerState);

/// Kills and deaths since the player joined.
#[derive(Component, Debug, Clone, Copy, Default)]
pub struct Score {
    pub kills: u32,
    pub deaths: u32,
}

/// A projectile in flight and who fired it. Projectiles are rows of the
/// [`Projectiles`](super::resources::Projectiles) resource rather than entities: thousands fly, each for a
/// second or two, and as plain rows they are added and removed without spawning and despawning entities,
/// and flown on both cores from slices.
#[derive(Debug, Clone, Copy)]
pub struct Projectile {
    pub id: u32,
    pub owner: PlayerId,
    pub state: ProjectileState,
}
