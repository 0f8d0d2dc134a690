//! Phases 4 and 5: projectiles fly and hit, kills are scored, the dead respawn, and every state snaps to the
//! wire grid.

use crate::game::components::{Body, Player, Projectile, Score};
use crate::game::cover::Cover;
use crate::game::interest::Grid;
use crate::game::messages::PlayerKilled;
use crate::game::resources::{ArenaMap, GameRng, Index, KeepAwake, LentPool, Projectiles, Settings};
use crate::game::systems::ahead::{CoverShape, HeadStart, Worked};
use arena_shared::Vec2;
use arena_shared::arena::{Arena, WallIndex};
use arena_shared::quant::{snap_player, snap_projectile};
use arena_shared::rules::{
    PLAYER_RADIUS, PROJECTILE_DAMAGE, PROJECTILE_RADIUS, PROJECTILE_SPEED, PlayerState, ProjectileOutcome,
    ProjectileState, apply_hit, pick_spawn, step_projectile_near, tick_respawn,
};
use bevy_ecs::prelude::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Phase 4: every projectile moves; one that hits a wall or expires vanishes, one that hits a living
/// player (never its own shooter) damages it and vanishes; a kill is written as a [`PlayerKilled`].
///
/// The flights are worked out first, for all projectiles, against the players alive at the start of the
/// phase ([`Flights::fly`]; on both cores in a big world, taking the flights of projectiles with no player
/// near from the tick's head start, [`super::ahead`]), then applied in id order. Most projectiles are far
/// from every player, which a bitmap of the cells near the players ([`Cover`]) tells for one lookup; the
/// others are looked up in a grid of the players. A flight depends on the
/// world only through which players are alive, and only a kill changes that: after the first kill of the
/// phase, a projectile that had a living player near it is flown again against the players still alive,
/// so the outcome is what flying them one by one in id order gives.
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
    keep: Res<KeepAwake>,
    mut head: ResMut<HeadStart>,
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
    // (The head start is stopped only now: it had the time of the grid's rebuild too.)
    let ahead = head.finish(settings.handoffs.whole_head_start).unwrap_or_default();
    // Most projectiles are far from every player, and skip the grid's query: the head start tells which
    // when the players are those it saw, moved little since; else the cells near them, marked here, do.
    let shape = cover_shape(settings.dt);
    let far_known = ahead.players_stayed(&s.entities, &s.targets);
    if !far_known {
        let (width, height) = (arena.0.width, arena.0.height);
        let positions = s.targets.iter().map(|t| t.1);
        s.cover.rebuild(width, height, shape.cell, shape.reach, positions);
    }
    let list = &mut projectiles.0;
    let world = Flights {
        dt: settings.dt,
        arena: &arena.0,
        index: &arena.1,
        grid: &s.grid,
        cover: (!far_known).then_some(&s.cover),
        covered: shape.speed,
        far_known,
        targets: &s.targets,
    };
    s.flights.clear();
    s.flights.resize(list.len(), Flight::default());
    // (Only when the threads were woken for it at the start of the tick: a sleeping one is slow to start.)
    let threads = if keep.0.is_some() && list.len() >= settings.handoffs.projectiles_to_split {
        pool.threads()
    } else {
        1
    };
    s.near.resize_with(threads.max(s.near.len()), Near::default);
    // In pieces, each taken by whichever thread is free (the newest projectiles, near their shooters, take
    // longest, so even halves of the list finish far apart).
    let pieces: Vec<Mutex<(&[Projectile], &mut [Flight])>> = list
        .chunks(FLIGHTS_PER_PIECE)
        .zip(s.flights.chunks_mut(FLIGHTS_PER_PIECE))
        .map(Mutex::new)
        .collect();
    let next = AtomicUsize::new(0);
    let (alive, worked_out) = (&s.alive, &ahead);
    let mut nears: Vec<&mut Near> = s.near.iter_mut().take(threads).collect();
    pool.for_each(&mut nears, |near| {
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(Ok(mut piece)) = pieces.get(at).map(|p| p.lock()) else {
                break;
            };
            let (from, to) = &mut *piece;
            for (k, (p, f)) in from.iter().zip(to.iter_mut()).enumerate() {
                *f = world.fly(p, alive, near, worked_out.get(at * FLIGHTS_PER_PIECE + k, p));
            }
        }
    });
    drop(nears);
    drop(pieces);

    let mut any_killed = false;
    for (at, (p, f)) in list.iter_mut().zip(s.flights.iter_mut()).enumerate() {
        if any_killed && f.near {
            *f = world.fly(p, &s.alive, &mut s.near[0], ahead.get(at, p));
        }
        p.state = f.state;
        let Outcome::Hit(i) = f.outcome else {
            continue;
        };
        if let Ok((_, victim, mut body)) = players.get_mut(s.entities[i])
            && apply_hit(&mut body.0, PROJECTILE_DAMAGE)
        {
            killed.write(PlayerKilled {
                killer: p.owner,
                victim: victim.id,
            });
            s.alive[i] = false; // the dead stop projectiles no more
            any_killed = true;
        }
    }
    let mut flights = s.flights.iter();
    list.retain(|_| flights.next().is_some_and(|f| f.outcome == Outcome::Flying));
    head.recycle(ahead);
}

/// Projectiles a thread takes at a time in phase 4 (a few microseconds of work).
const FLIGHTS_PER_PIECE: usize = 256;

/// Phase 0: when the projectiles will be flown on several threads this tick, the threads are woken now, so
/// they are spinning by then (waking one on a virtual machine takes about as long as the phases before),
/// and handed the flights' head start ([`super::ahead`]), which they start on once awake. (Moving the
/// players on both threads too was tried: little gained, as the other thread first has to fetch their
/// components into its cache; not worth its code.)
#[expect(
    clippy::too_many_arguments,
    reason = "a system's parameters declare the data it touches"
)]
pub fn wake_for_flights(
    projectiles: Res<Projectiles>,
    pool: Res<LentPool>,
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    index: Res<Index>,
    mut keep: ResMut<KeepAwake>,
    mut head: ResMut<HeadStart>,
    players: Query<(Entity, &Body), With<Player>>,
) {
    let handoffs = settings.handoffs;
    if pool.threads() > 1 && projectiles.0.len() >= handoffs.projectiles_to_split {
        keep.0 = Some(pool.stay_awake()); // (the snapshot phase ends it)
        if index.players.len() >= handoffs.players_to_hand_out_early {
            let alive = players
                .iter()
                .filter(|(_, b)| b.0.is_alive())
                .map(|(e, b)| (e, b.0.pos));
            let shape = cover_shape(settings.dt);
            head.start(&pool, &projectiles.0, alive, &arena, settings.dt, shape);
        }
    }
}

/// What a projectile's flight needs to know about the world.
struct Flights<'a> {
    dt: f32,
    arena: &'a Arena,
    index: &'a WallIndex,
    grid: &'a Grid,
    /// The cells near living players, for projectiles at most `covered` fast; none when the head start's
    /// word on which projectiles are far from every player holds (`far_known`).
    cover: Option<&'a Cover>,
    covered: f32,
    far_known: bool,
    /// Living players at the start of the phase (id, position), in the grid's order.
    targets: &'a [(u32, Vec2)],
}

/// Where a flight ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Outcome {
    #[default]
    Flying,
    /// Expired, or hit a wall.
    Gone,
    /// Hit target `i` (an index into the phase's targets).
    Hit(usize),
}

impl Outcome {
    /// What a step's outcome against the targets `found` (indices into the phase's targets) means here.
    fn of(outcome: ProjectileOutcome, found: &[u32]) -> Self {
        match outcome {
            ProjectileOutcome::Flying => Outcome::Flying,
            ProjectileOutcome::Expired | ProjectileOutcome::HitWall => Outcome::Gone,
            ProjectileOutcome::HitTarget(n) => found.get(n).map_or(Outcome::Gone, |i| Outcome::Hit(*i as usize)),
        }
    }
}

/// One projectile's flight, worked out.
#[derive(Debug, Clone, Copy, Default)]
struct Flight {
    state: ProjectileState,
    outcome: Outcome,
    /// Whether a living player was near enough to be tested.
    near: bool,
}

/// One thread's buffers for flights.
#[derive(Debug, Default)]
pub struct Near {
    found: Vec<u32>,
    targets: Vec<(u32, Vec2)>,
}

impl Flights<'_> {
    /// Where `p` is after this tick's flight, against the targets `alive` marks; `ahead` is its flight with
    /// no player near, when worked out already.
    fn fly(&self, p: &Projectile, alive: &[bool], near: &mut Near, ahead: Option<Worked>) -> Flight {
        // (Worked out ahead, the state has snapped to the wire grid already.)
        let far = |state, outcome| Flight {
            state,
            outcome: Outcome::of(outcome, &[]),
            near: false,
        };
        if let Some(w) = ahead
            && w.far
            && self.far_known
        {
            return far(w.state, w.outcome); // no living player within reach: what the query would find
        }
        let mut state = p.state;
        if let Some(cover) = self.cover
            && state.vel.length_squared() <= self.covered * self.covered
            && !cover.near(state.pos)
        {
            return match ahead {
                Some(w) => far(w.state, w.outcome),
                None => {
                    let outcome = step_projectile_near(&mut state, self.dt, self.arena, Some(self.index), &[], p.owner);
                    far(snap_projectile(&state), outcome)
                }
            };
        }
        let reach = reach(state.vel.length(), self.dt);
        near.found.clear();
        self.grid.query(state.pos, reach, &mut near.found);
        near.found.retain(|i| {
            let i = *i as usize;
            alive.get(i).copied().unwrap_or(false) && self.targets.get(i).is_some_and(|t| t.0 != p.owner)
        });
        if near.found.is_empty()
            && let Some(w) = ahead
        {
            return far(w.state, w.outcome);
        }
        near.found.sort_unstable(); // the same order every run
        near.targets.clear();
        near.targets
            .extend(near.found.iter().filter_map(|i| self.targets.get(*i as usize)));
        let outcome = step_projectile_near(
            &mut state,
            self.dt,
            self.arena,
            Some(self.index),
            &near.targets,
            p.owner,
        );
        let outcome = Outcome::of(outcome, &near.found);
        Flight {
            state: snap_projectile(&state),
            outcome,
            near: !near.found.is_empty(),
        }
    }
}

/// How far from a projectile moving at `speed` a player's center can be and still be hit this tick.
fn reach(speed: f32, dt: f32) -> f32 {
    speed * dt + PLAYER_RADIUS + PROJECTILE_RADIUS + 0.1
}

/// The cover of the living players ([`Cover`]) at tick length `dt`. The cells are about a projectile's
/// reach, so each player marks 4 to 9 cells and most of the arena stays unmarked even in a big world; the
/// reach is that of a projectile a quarter faster than any, plus [`COVER_MARGIN`].
fn cover_shape(dt: f32) -> CoverShape {
    let speed = PROJECTILE_SPEED * 1.25;
    CoverShape {
        cell: 2.0,
        reach: reach(speed, dt) + COVER_MARGIN,
        speed,
    }
}

/// Added to the reach the cover is built with, for the rounding of the distances the query compares.
const COVER_MARGIN: f32 = 0.05;

/// Cell size of the hit-test grid, in units: a few player diameters. 8 rather than 4: fewer cells to count
/// players into each tick, and a query still finds few of them (coarser cells gained nothing more).
const HIT_GRID_CELL: f32 = 8.0;

/// Reusable buffers for hit tests.
#[derive(Default)]
pub struct HitScratch {
    targets: Vec<(u32, Vec2)>,
    entities: Vec<Entity>,
    alive: Vec<bool>,
    grid: Grid,
    cover: Cover,
    flights: Vec<Flight>,
    /// Per thread.
    near: Vec<Near>,
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
