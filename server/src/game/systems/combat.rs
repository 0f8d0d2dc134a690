//! Phases 4 and 5: projectiles fly and hit, kills are scored, the dead respawn.

use crate::game::components::{Body, Player, Projectile, Score};
use crate::game::interest::Grid;
use crate::game::messages::PlayerKilled;
use crate::game::resources::{ArenaMap, GameRng, Index, Settings};
use arena_shared::Vec2;
use arena_shared::quant::{snap_player, snap_projectile};
use arena_shared::rules::{
    PLAYER_RADIUS, PROJECTILE_DAMAGE, PROJECTILE_RADIUS, PlayerState, ProjectileOutcome, apply_hit, pick_spawn,
    step_projectile_near, tick_respawn,
};
use bevy_ecs::prelude::*;

/// Phase 4: every projectile moves; one that hits a wall or expires vanishes, one that hits a living
/// player (never its own shooter) damages it and vanishes; a kill is written as a [`PlayerKilled`].
pub fn move_projectiles(
    mut commands: Commands,
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    mut projectiles: Query<(Entity, &mut Projectile)>,
    mut players: Query<(Entity, &Player, &mut Body)>,
    mut killed: MessageWriter<PlayerKilled>,
    mut scratch: Local<HitScratch>,
) {
    let s = &mut *scratch;
    s.targets.clear();
    s.entities.clear();
    s.alive.clear();
    for (entity, player, body) in &players {
        if body.0.is_alive() {
            s.targets.push((player.id, body.0.pos));
            s.entities.push(entity);
            s.alive.push(true);
        }
    }
    // Only the living players near each projectile are tested against it: a grid of their positions.
    s.grid.rebuild(
        arena.0.width,
        arena.0.height,
        HIT_GRID_CELL,
        s.targets.iter().map(|t| t.1),
    );
    for (entity, mut projectile) in &mut projectiles {
        let owner = projectile.owner;
        let reach = projectile.state.vel.length() * settings.dt + PLAYER_RADIUS + PROJECTILE_RADIUS + 0.1;
        s.found.clear();
        s.grid.query(projectile.state.pos, reach, &mut s.found);
        s.found.retain(|i| s.alive[*i as usize]);
        s.found.sort_unstable(); // the same order every run
        s.near.clear();
        s.near.extend(s.found.iter().map(|i| s.targets[*i as usize]));
        match step_projectile_near(
            &mut projectile.state,
            settings.dt,
            &arena.0,
            Some(&arena.1),
            &s.near,
            owner,
        ) {
            ProjectileOutcome::Flying => continue,
            ProjectileOutcome::Expired | ProjectileOutcome::HitWall => {}
            ProjectileOutcome::HitTarget(n) => {
                let i = s.found[n] as usize;
                if let Ok((_, victim, mut body)) = players.get_mut(s.entities[i])
                    && apply_hit(&mut body.0, PROJECTILE_DAMAGE)
                {
                    killed.write(PlayerKilled {
                        killer: owner,
                        victim: victim.id,
                    });
                    s.alive[i] = false; // the dead stop projectiles no more
                }
            }
        }
        commands.entity(entity).despawn();
    }
}

/// Cell size of the hit-test grid, in units: a few player diameters. 8 rather than 4: fewer cells to count
/// players into each tick, and a query still finds few of them (the phase 6 to 9% faster at 1,000 players,
/// ticks alternating between the two sizes in one process; 12 was no faster than 8).
const HIT_GRID_CELL: f32 = 8.0;

/// Reusable buffers for hit tests.
#[derive(Default)]
pub struct HitScratch {
    targets: Vec<(u32, Vec2)>,
    entities: Vec<Entity>,
    alive: Vec<bool>,
    grid: Grid,
    found: Vec<u32>,
    near: Vec<(u32, Vec2)>,
}

/// Phase 5a: each kill scores for the killer (if still here) and counts a death for the victim.
pub fn score_kills(mut killed: MessageReader<PlayerKilled>, index: Res<Index>, mut scores: Query<&mut Score>) {
    for kill in killed.read() {
        if let Some(mut s) = index.players.get(&kill.killer).and_then(|e| scores.get_mut(*e).ok()) {
            s.kills += 1;
        }
        if let Some(mut s) = index.players.get(&kill.victim).and_then(|e| scores.get_mut(*e).ok()) {
            s.deaths += 1;
        }
    }
}

/// Phase 5b: the dead count down, then come back at full health at a spawn point the seeded RNG picks.
pub fn respawn_players(
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    mut rng: ResMut<GameRng>,
    mut bodies: Query<&mut Body>,
) {
    for mut body in &mut bodies {
        if tick_respawn(&mut body.0, settings.dt) {
            let aim = body.0.aim;
            body.0 = PlayerState {
                aim,
                ..PlayerState::spawned(pick_spawn(&arena.0, &mut rng.0))
            };
        }
    }
}

/// Phase 5c: every player and projectile snaps to the wire grid, so what clients decode is exactly the
/// server's state (see `arena_shared::quant`).
pub fn snap_to_grid(mut bodies: Query<&mut Body>, mut projectiles: Query<&mut Projectile>) {
    for mut body in &mut bodies {
        let snapped = snap_player(&body.0);
        if snapped != body.0 {
            body.0 = snapped;
        }
    }
    for mut projectile in &mut projectiles {
        projectile.state = snap_projectile(&projectile.state);
    }
}
