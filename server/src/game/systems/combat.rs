//! Phases 0, 4 and 5: the flights engine is prepared, projectiles fly and hit ([`crate::game::flights`]),
//! kills are scored, the dead respawn, and every state snaps to the wire grid.

use crate::game::components::{Body, Player, Score};
use crate::game::flights::{Flights, Ground, Target};
use crate::game::messages::PlayerKilled;
use crate::game::resources::{ArenaMap, FlightsEngine, GameRng, Index, LentPool, Projectiles, Settings};
use arena_shared::quant::snap_player;
use arena_shared::rules::{PlayerState, apply_hit, pick_spawn, tick_respawn};
use bevy_ecs::prelude::*;

/// Phase 0: when this tick's flights are worth the pool's threads, they are woken for the tick and the
/// flights engine prepared (in a big world a pool thread starts on the flights at once: the head start).
pub fn prepare_flights(
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    projectiles: Res<Projectiles>,
    players: Query<(&Player, &Body)>,
    mut pool: ResMut<LentPool>,
    mut flights: ResMut<FlightsEngine>,
    mut living: Local<Vec<Target>>,
) {
    if !Flights::wants_pool(projectiles.0.len(), pool.threads(), &settings.handoffs) {
        return;
    }
    pool.wake_for_tick();
    living.clear();
    living.extend(
        players
            .iter()
            .filter(|(_, b)| b.0.is_alive())
            .map(|(p, b)| (p.id, b.0.pos)),
    );
    let ground = ground(&arena, &settings);
    flights
        .0
        .prepare(&pool, ground, &settings.handoffs, &projectiles.0, &living);
}

/// Phase 4: every projectile moves ([`Flights::fly`]); one that hits a living player damages it, and a
/// kill is written as a [`PlayerKilled`].
#[expect(
    clippy::too_many_arguments,
    reason = "a system's parameters declare the data it touches"
)]
pub fn move_projectiles(
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    mut projectiles: ResMut<Projectiles>,
    mut players: Query<(Entity, &Player, &mut Body)>,
    mut killed: MessageWriter<PlayerKilled>,
    pool: Res<LentPool>,
    mut flights: ResMut<FlightsEngine>,
    mut scratch: Local<(Vec<Target>, Vec<Entity>)>,
) {
    let (living, entities) = &mut *scratch;
    living.clear();
    entities.clear();
    for (entity, player, body) in &players {
        if body.0.is_alive() {
            living.push((player.id, body.0.pos));
            entities.push(entity);
        }
    }
    let ground = ground(&arena, &settings);
    flights
        .0
        .fly(&pool, ground, &settings.handoffs, &mut projectiles.0, living, |i, p| {
            let Some(Ok((_, victim, mut body))) = entities.get(i).map(|e| players.get_mut(*e)) else {
                return false;
            };
            let died = apply_hit(&mut body.0, p.state.weapon.spec().damage);
            if died {
                killed.write(PlayerKilled {
                    killer: p.owner,
                    victim: victim.id,
                });
            }
            died
        });
}

/// Where the projectiles fly this tick.
fn ground<'a>(arena: &'a ArenaMap, settings: &Settings) -> Ground<'a> {
    Ground {
        arena: &arena.0,
        walls: &arena.1,
        dt: settings.dt,
    }
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

/// Phase 5b: the dead count down, then come back at full health at a spawn point the seeded RNG picks; then
/// every player snaps to the wire grid, so what clients decode is exactly the server's state (see
/// `arena_shared::quant`; the projectiles snapped at the end of their flights in phase 4).
pub fn respawn_players(
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    mut rng: ResMut<GameRng>,
    mut bodies: Query<&mut Body>,
) {
    for mut body in &mut bodies {
        let mut state = body.0;
        if tick_respawn(&mut state, settings.dt) {
            state = PlayerState {
                aim: state.aim,
                ..PlayerState::spawned(pick_spawn(&arena.0, &mut rng.0))
            };
        }
        let snapped = snap_player(&state);
        if snapped != body.0 {
            body.0 = snapped; // (only then marked changed)
        }
    }
}
