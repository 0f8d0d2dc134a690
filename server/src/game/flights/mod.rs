//! The flights of projectiles: an engine that moves every projectile one tick, finds what it hits, and
//! hands each hit to its caller in id order, on the pool's threads in a big world.
//!
//! # How it is laid out
//! - [`Flights`] (here): the engine's interface, [`Flights::prepare`] at the start of a tick and
//!   [`Flights::fly`] in the projectiles' phase, and how the work is split between threads.
//! - `ground`: what the engine is given: the map, the tick's length, the living players.
//! - `sky`: one projectile's flight against the living players near it.
//! - `ahead`: the head start, flights worked out on a pool thread while the tick does other work.
//! - `cover`: the cells near the living players, so a projectile far from all of them is known by one lookup.
//!
//! It knows nothing of the ECS: it is given projectiles, living players (id and position), the map and
//! the pool, and calls back with each hit.

mod ahead;
mod cover;
mod ground;
mod sky;

use crate::game::components::Projectile;
use crate::game::config::Handoffs;
use crate::game::interest::Grid;
use crate::game::threads::Workers;
use ahead::HeadStart;
pub use ahead::{Ahead, MOVED_AT_MOST, Worked};
pub use cover::Cover;
pub use ground::{Ground, Target};
use sky::{Flight, Near, Outcome, Sky};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The flights engine, kept from tick to tick for its buffers and its head start.
#[derive(Debug, Default)]
pub struct Flights {
    /// Whether [`Flights::prepare`] found this tick's flights worth the pool's threads.
    split: bool,
    head: HeadStart,
    grid: Grid,
    cover: Cover,
    alive: Vec<bool>,
    flights: Vec<Flight>,
    /// Per thread.
    near: Vec<Near>,
}

/// Projectiles a thread takes at a time (a few microseconds of work).
const FLIGHTS_PER_PIECE: usize = 256;

/// Cell size of the hit-test grid, in units: a few player diameters. 8 rather than 4: fewer cells to count
/// players into each tick, and a query still finds few of them (coarser cells gained nothing more).
const HIT_GRID_CELL: f32 = 8.0;

impl Flights {
    /// Whether `projectiles` in flight are worth the pool's threads, of which there are `threads` (the
    /// caller then wakes them at the start of the tick, so they are spinning by the projectiles' phase:
    /// waking one on a virtual machine takes about as long as the phases before).
    pub fn wants_pool(projectiles: usize, threads: usize, handoffs: &Handoffs) -> bool {
        threads > 1 && projectiles >= handoffs.projectiles_to_split
    }

    /// At the start of a tick whose flights [`Flights::wants_pool`] and whose pool is awake: this tick's
    /// flights will be split between the threads, and in a big world a pool thread starts on them now
    /// (the head start), as if no player were near, for the projectiles as they are and the `living`
    /// players as they are. (Moving the players on both threads too was tried: little gained, as the other
    /// thread first has to fetch their components into its cache; not worth its code.)
    pub fn prepare(
        &mut self,
        pool: &Workers,
        ground: Ground<'_>,
        handoffs: &Handoffs,
        projectiles: &[Projectile],
        living: &[Target],
    ) {
        self.split = true;
        if living.len() >= handoffs.players_to_hand_out_early {
            self.head
                .start(pool, projectiles, living, ground, sky::cover_shape(ground.dt));
        }
    }

    /// Every projectile of `list` moves one tick. One that hits a wall or expires is removed; one that
    /// hits a target of `living` (never its own shooter) is removed and handed to `hit` with the target's
    /// index, in id order; `hit` says whether the target died, and the dead stop projectiles no more.
    ///
    /// The flights are worked out first, for all projectiles, against the players alive at the start
    /// (on every thread when [`Flights::prepare`] said so, taking the flights of projectiles with no player
    /// near from the head start), then applied in id order. Most projectiles are far from every player,
    /// which a bitmap of the cells near the players ([`Cover`]) tells for one lookup; the others are looked
    /// up in a grid of the players. A flight depends on the world only through which players are alive,
    /// and only a kill changes that: after the first kill, a projectile that had a living player near it
    /// is flown again against the players still alive, so the outcome is what flying them one by one in
    /// id order gives.
    pub fn fly(
        &mut self,
        pool: &Workers,
        ground: Ground<'_>,
        handoffs: &Handoffs,
        list: &mut Vec<Projectile>,
        living: &[Target],
        hit: impl FnMut(usize, &Projectile) -> bool,
    ) {
        let split = std::mem::take(&mut self.split) && list.len() >= handoffs.projectiles_to_split;
        self.alive.clear();
        self.alive.resize(living.len(), true);
        let (width, height) = (ground.arena.width, ground.arena.height);
        self.grid
            .rebuild(width, height, HIT_GRID_CELL, living.iter().map(|t| t.1));
        // (The head start is stopped only now: it had the time of the grid's rebuild too.)
        let ahead = self.head.finish(handoffs.whole_head_start).unwrap_or_default();
        // Most projectiles are far from every player, and skip the grid's query: the head start tells which
        // when the players are those it saw, moved little since; else the cells near them, marked here, do.
        let shape = sky::cover_shape(ground.dt);
        let far_known = ahead.players_stayed(living);
        if !far_known {
            self.cover
                .rebuild(width, height, shape.cell, shape.reach, living.iter().map(|t| t.1));
        }
        let sky = Sky {
            ground,
            grid: &self.grid,
            cover: (!far_known).then_some(&self.cover),
            covered: shape.speed,
            far_known,
            targets: living,
        };
        self.flights.clear();
        self.flights.resize(list.len(), Flight::default());
        let threads = if split { pool.threads() } else { 1 };
        self.near.resize_with(threads.max(self.near.len()), Near::default);
        let nears = &mut self.near[..threads];
        work_out(pool, &sky, list, &mut self.flights, nears, &self.alive, &ahead);
        apply(
            &sky,
            list,
            &mut self.flights,
            &mut self.alive,
            &mut self.near[0],
            &ahead,
            hit,
        );
        self.head.recycle(ahead);
    }

    /// What the last [`Flights::fly`] took from a head start: empty when it took nothing.
    pub fn last_head_start(&self) -> &Ahead {
        self.head.last_taken()
    }
}

/// Works out every flight of `list` into `flights`, against the targets `alive` marks, on as many threads
/// as there are `nears`: in pieces, each taken by whichever thread is free (the newest projectiles, near
/// their shooters, take longest, so even halves of the list finish far apart).
fn work_out(
    pool: &Workers,
    sky: &Sky<'_>,
    list: &[Projectile],
    flights: &mut [Flight],
    nears: &mut [Near],
    alive: &[bool],
    ahead: &Ahead,
) {
    let pieces: Vec<Mutex<(&[Projectile], &mut [Flight])>> = list
        .chunks(FLIGHTS_PER_PIECE)
        .zip(flights.chunks_mut(FLIGHTS_PER_PIECE))
        .map(Mutex::new)
        .collect();
    let next = AtomicUsize::new(0);
    let mut nears: Vec<&mut Near> = nears.iter_mut().collect();
    pool.for_each(&mut nears, |near| {
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(Ok(mut piece)) = pieces.get(at).map(|p| p.lock()) else {
                break;
            };
            let (from, to) = &mut *piece;
            for (k, (p, f)) in from.iter().zip(to.iter_mut()).enumerate() {
                *f = sky.fly(p, alive, near, ahead.get(at * FLIGHTS_PER_PIECE + k, p));
            }
        }
    });
}

/// Applies the worked-out `flights` to `list` in id order, handing each hit to `hit` (which says whether
/// the target died, and so stops projectiles no more): after the first kill, a projectile that had a
/// living player near it is flown again against the players still alive. Then the gone are removed.
fn apply(
    sky: &Sky<'_>,
    list: &mut Vec<Projectile>,
    flights: &mut [Flight],
    alive: &mut [bool],
    near: &mut Near,
    ahead: &Ahead,
    mut hit: impl FnMut(usize, &Projectile) -> bool,
) {
    let mut any_killed = false;
    for (at, (p, f)) in list.iter_mut().zip(flights.iter_mut()).enumerate() {
        if any_killed && f.near {
            *f = sky.fly(p, alive, near, ahead.get(at, p));
        }
        p.state = f.state;
        if let Outcome::Hit(i) = f.outcome
            && hit(i, p)
        {
            alive[i] = false;
            any_killed = true;
        }
    }
    let mut flights = flights.iter();
    list.retain(|_| flights.next().is_some_and(|f| f.outcome == Outcome::Flying));
}
