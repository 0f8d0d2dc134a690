//! Phases 2 and 3: each player's inputs for this tick are chosen, then applied by the shared rules, which
//! move the player and may fire a projectile.

use crate::game::components::{Body, Player, Projectile};
use crate::game::input::InputBuffer;
use crate::game::lag;
use crate::game::resources::Projectiles;
use crate::game::resources::{ArenaMap, Ids, Settings, TickCount, TickStats};
use arena_shared::rules::step_player_near;
use bevy_ecs::prelude::*;

/// Phase 2: one input per player (the last one again when none arrived); buffers that stayed too deep drain.
pub fn select_inputs(mut buffers: Query<&mut InputBuffer>, mut stats: ResMut<TickStats>) {
    for mut buffer in &mut buffers {
        stats.inputs_drained += buffer.select_for_tick();
    }
}

/// Phase 3: the shared movement and firing rules, once per chosen input; a new projectile is flown ahead
/// by how far behind its shooter saw the others (lag compensation, [`lag`]).
pub fn move_players(
    mut projectiles: ResMut<Projectiles>,
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    tick: Res<TickCount>,
    mut ids: ResMut<Ids>,
    mut players: Query<(&Player, &InputBuffer, &mut Body)>,
) {
    let interp = lag::interp_ticks(settings.tick_rate, settings.replication.snapshot_rate);
    for (player, buffer, mut body) in &mut players {
        for input in buffer.this_tick() {
            // Only the walls near the player's path are tested (the map's wall index; the same outcome).
            let Some(shot) = step_player_near(&mut body.0, input, settings.dt, &arena.0, Some(&arena.1)) else {
                continue;
            };
            let mut state = shot.into();
            let behind = lag::ticks_behind(tick.0, buffer.ack_tick, interp, settings.lag_compensation_ticks);
            if lag::fly_ahead(&mut state, behind, settings.dt, &arena.0, &arena.1) {
                projectiles.0.push(Projectile {
                    id: ids.next_projectile(),
                    owner: player.id,
                    state,
                });
            }
        }
    }
}
