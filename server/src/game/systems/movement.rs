//! Phases 2 and 3: each player's inputs for this tick are chosen, then applied by the shared rules, which
//! move the player and may fire a projectile.

use crate::game::components::{Body, Player, Projectile};
use crate::game::input::InputBuffer;
use crate::game::resources::Projectiles;
use crate::game::resources::{ArenaMap, Ids, Settings, TickStats};
use arena_shared::rules::step_player_near;
use bevy_ecs::prelude::*;

/// Phase 2: one input per player (the last one again when none arrived); buffers that stayed too deep drain.
pub fn select_inputs(mut buffers: Query<&mut InputBuffer>, mut stats: ResMut<TickStats>) {
    for mut buffer in &mut buffers {
        stats.inputs_drained += buffer.select_for_tick();
    }
}

/// Phase 3: the shared movement and firing rules, once per chosen input.
pub fn move_players(
    mut projectiles: ResMut<Projectiles>,
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    mut ids: ResMut<Ids>,
    mut players: Query<(&Player, &InputBuffer, &mut Body)>,
) {
    for (player, buffer, mut body) in &mut players {
        for input in buffer.this_tick() {
            // Only the walls near the player's path are tested (the map's wall index; the same outcome).
            if let Some(shot) = step_player_near(&mut body.0, input, settings.dt, &arena.0, Some(&arena.1)) {
                projectiles.0.push(Projectile {
                    id: ids.next_projectile(),
                    owner: player.id,
                    state: shot.into(),
                });
            }
        }
    }
}
