//! Phase 8: what the tick leaves behind, for the metrics.

use crate::game::components::Player;
use crate::game::resources::{Projectiles, TickStats};
use bevy_ecs::prelude::*;

/// Phase 8: how many players and projectiles the world holds after this tick.
pub fn record_stats(mut stats: ResMut<TickStats>, players: Query<(), With<Player>>, projectiles: Res<Projectiles>) {
    stats.players = players.iter().count() as u32;
    stats.projectiles = projectiles.0.len() as u32;
}
