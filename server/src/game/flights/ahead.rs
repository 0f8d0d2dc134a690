//! The flights' head start: from the start of a tick, while the tick thread drains the inbox and moves the
//! players, a pool thread works out every projectile's flight as if no player were near it (its lifetime
//! and the walls: nothing the phases in between change). [`super::Flights::fly`] then flies again only the
//! projectiles with a living player near them, or that the head start did not reach in time; the outcome
//! is the same either way, since a flight with no player near is exactly the flight worked out ahead.
//!
//! First it marks the cells near the living players as they were at the start of the tick, widened by how
//! far a player can move before the flights ([`Cover`]), and with each flight it notes whether the
//! projectile is far from all of them. The flights check that every player they see is one of them, moved
//! no farther than that, before they take a flight worked out ahead without looking for players near it.

use super::cover::Cover;
use super::ground::{Ground, Target};
use crate::game::components::Projectile;
use crate::game::threads::{Then, Workers, wait_for};
use arena_shared::arena::{Arena, WallIndex};
use arena_shared::quant::snap_projectile;
use arena_shared::rules::{ProjectileOutcome, ProjectileState, step_projectile_near};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Projectiles flown between two looks at the stop flag (a few microseconds of work).
const CHUNK: usize = 64;

/// Flights worked out ahead, for the projectiles as they were at the start of the tick.
#[derive(Debug, Default)]
pub struct Ahead {
    /// The projectiles then, in list order.
    from: Vec<Projectile>,
    /// For the first of them: where each is after this tick's flight with no player near, and how it ended.
    flights: Vec<Worked>,
    /// The living players then, in the order the caller gave them.
    players: Vec<Target>,
    /// The cells within the cover's reach of them, plus [`MOVED_AT_MOST`]; when `covered`.
    cover: Cover,
    covered: bool,
}

/// A flight worked out ahead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Worked {
    /// Where the projectile is after this tick's flight with no player near (snapped to the wire grid), and
    /// how the flight ended.
    pub state: ProjectileState,
    pub outcome: ProjectileOutcome,
    /// Whether no living player was within the cover's reach of it (plus [`MOVED_AT_MOST`]) at the start of
    /// the tick, its speed at most the cover's: then none is at the flights when [`Ahead::players_stayed`].
    pub far: bool,
}

impl Ahead {
    /// The flight worked out ahead (with no player near) for `p`, the `i`th projectile of the list, when it
    /// was worked out for this very projectile in this very state.
    pub fn get(&self, i: usize, p: &Projectile) -> Option<Worked> {
        let from = self.from.get(i)?;
        if from.id == p.id && from.state == p.state {
            self.flights.get(i).copied()
        } else {
            None
        }
    }

    /// Whether the cover was worked out and the living players now are the players then, in the same
    /// order, each moved at most [`MOVED_AT_MOST`] along each axis: then no living player is within the
    /// cover's reach of a projectile whose flight is [`Worked::far`].
    pub fn players_stayed(&self, living: &[Target]) -> bool {
        self.covered
            && living.len() == self.players.len()
            && self.players.iter().zip(living).all(|((id0, p0), (id, p))| {
                let d = *p - *p0;
                id0 == id && d.x.abs() <= MOVED_AT_MOST && d.y.abs() <= MOVED_AT_MOST
            })
    }

    /// Flights worked out.
    pub fn worked_out(&self) -> usize {
        self.flights.len()
    }
}

/// Farthest a living player moves along either axis between the start of the tick and the flights (one
/// step at full speed is 8 / 60 of a unit), for the cover worked out ahead; the flights check it.
pub const MOVED_AT_MOST: f32 = 0.25;

/// A head start handed to the pool.
#[derive(Debug)]
struct Job {
    stop: AtomicBool,
    /// The work, before the pool thread takes it and after it hands it back.
    slot: Mutex<Option<Ahead>>,
    /// The cover's cell size and reach, and the fastest projectile it covers.
    cover: CoverShape,
}

/// What the cover worked out ahead is asked for.
#[derive(Debug, Clone, Copy)]
pub(super) struct CoverShape {
    pub cell: f32,
    /// How far from a player a projectile may be and still be near it (for projectiles up to `speed`).
    pub reach: f32,
    pub speed: f32,
}

impl Job {
    fn run(&self, map: &(Arena, WallIndex), dt: f32) {
        let Some(mut work) = self.slot.lock().ok().and_then(|mut slot| slot.take()) else {
            return; // taken back before it started
        };
        let Ahead {
            from,
            flights,
            players,
            cover,
            covered,
        } = &mut work;
        let CoverShape { cell, reach, speed } = self.cover;
        let positions = players.iter().map(|p| p.1);
        cover.rebuild(map.0.width, map.0.height, cell, reach + MOVED_AT_MOST, positions);
        *covered = true;
        for chunk in from.chunks(CHUNK) {
            if self.stop.load(Ordering::Acquire) {
                break;
            }
            flights.extend(chunk.iter().map(|p| {
                let mut state = p.state;
                let far = state.vel.length_squared() <= speed * speed && !cover.near(state.pos);
                let outcome = step_projectile_near(&mut state, dt, &map.0, Some(&map.1), &[], p.owner);
                let state = snap_projectile(&state);
                Worked { state, outcome, far }
            }));
        }
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(work);
        }
    }
}

/// This tick's head start, if one was started, and the map it flies in.
#[derive(Debug, Default)]
pub(super) struct HeadStart {
    job: Option<Arc<Job>>,
    /// The last head start's buffers, reused: after phase 4, what it took.
    spare: Ahead,
    map: Option<Arc<(Arena, WallIndex)>>,
}

impl HeadStart {
    /// Hands the flights of `projectiles` over one tick on `ground` to a pool thread (one kept awake takes
    /// them at once), and the cover of the `living` players.
    pub fn start(
        &mut self,
        pool: &Workers,
        projectiles: &[Projectile],
        living: &[Target],
        ground: Ground<'_>,
        cover: CoverShape,
    ) {
        let map = match &self.map {
            Some(map) if map.0 == *ground.arena => Arc::clone(map),
            _ => Arc::clone(self.map.insert(Arc::new((ground.arena.clone(), ground.walls.clone())))),
        };
        let dt = ground.dt;
        let mut work = std::mem::take(&mut self.spare);
        work.from.clear();
        work.from.extend_from_slice(projectiles);
        work.flights.clear();
        work.players.clear();
        work.players.extend_from_slice(living);
        work.covered = false;
        let job = Arc::new(Job {
            stop: AtomicBool::new(false),
            slot: Mutex::new(Some(work)),
            cover,
        });
        let theirs = Arc::clone(&job);
        if pool.spawn(move || theirs.run(&map, dt)) {
            self.job = Some(job);
        } else if let Some(work) = job.slot.lock().ok().and_then(|mut slot| slot.take()) {
            self.spare = work;
        }
    }

    /// Stops this tick's head start and takes what it worked out: nothing when none was started, or when
    /// it does not hand its work back within the spin of a [`wait_for`] (it stops after the chunk in hand,
    /// a few microseconds of work: a pool thread that has not handed back by then was most likely preempted,
    /// and its buffers are left to it). With `complete`, it is not stopped: this waits for it to work out
    /// every flight (tests).
    pub fn finish(&mut self, complete: bool) -> Option<Ahead> {
        let job = self.job.take()?;
        if !complete {
            job.stop.store(true, Ordering::Release);
        }
        let then = if complete { Then::Yield } else { Then::GiveUp };
        wait_for(then, || {
            // Still there untouched (the pool never got to it), or handed back.
            let mut slot = job.slot.lock().ok()?;
            let whole = slot.as_ref().is_some_and(|w| w.flights.len() == w.from.len());
            if complete && !whole { None } else { slot.take() }
        })
    }

    /// Keeps a finished head start's buffers for the next one.
    pub fn recycle(&mut self, work: Ahead) {
        self.spare = work;
    }

    /// What the flights last took from a head start (and handed back with [`HeadStart::recycle`]): empty
    /// when they took nothing.
    pub fn last_taken(&self) -> &Ahead {
        &self.spare
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::threads::Pool;
    use arena_shared::Vec2;
    use arena_shared::arena::{Arena, WallIndex};
    use arena_shared::rules::Weapon;

    const SHAPE: CoverShape = CoverShape {
        cell: 2.0,
        reach: 1.0,
        speed: 30.0,
    };

    #[test]
    fn a_flight_worked_out_ahead_is_given_only_for_the_projectile_it_was_worked_out_for() {
        let arena = Arena::standard();
        let walls = WallIndex::new(&arena);
        let ground = Ground {
            arena: &arena,
            walls: &walls,
            dt: 1.0 / 60.0,
        };
        let shot = |id, x| Projectile {
            id,
            owner: 1,
            state: ProjectileState {
                pos: Vec2::new(x, 20.0),
                vel: Vec2::new(30.0, 0.0),
                life: 1.0,
                weapon: Weapon::Blaster,
            },
        };
        let list: Vec<Projectile> = (0..200).map(|i| shot(i, 5.0 + (i % 50) as f32)).collect();
        let pool = Pool::new(2);
        let mut head = HeadStart::default();
        head.start(&pool, &list, &[], ground, SHAPE);
        let ahead = head.finish(true).expect("the pool hands the work back");
        assert_eq!(ahead.worked_out(), list.len());
        for (i, p) in list.iter().enumerate() {
            let mut state = p.state;
            let outcome = step_projectile_near(&mut state, 1.0 / 60.0, &arena, None, &[], p.owner);
            let got = ahead.get(i, p).map(|w| (w.state, w.outcome));
            assert_eq!(got, Some((snap_projectile(&state), outcome)), "projectile {i}");
        }
        // Another projectile at that index, or the same one moved since, or one past the list: nothing.
        assert_eq!(ahead.get(3, &shot(999, 8.0)), None);
        let mut moved = list[3];
        moved.state.pos.x += 0.125;
        assert_eq!(ahead.get(3, &moved), None);
        assert_eq!(ahead.get(200, &list[0]), None);
        // The players' check: the players seen then, in that order, each moved at most MOVED_AT_MOST.
        let at = |i: usize, dx: f32| (7 + i as u32, Vec2::new(10.0 * i as f32 + dx, 5.0 - dx));
        let players: Vec<Target> = (0..3).map(|i| at(i, 0.0)).collect();
        head.start(&pool, &list, &players, ground, SHAPE);
        let ahead = head.finish(true).expect("the pool hands the work back");
        let moved = |dx| [at(0, dx), at(1, -dx), at(2, dx)];
        assert!(ahead.players_stayed(&moved(0.0)));
        assert!(ahead.players_stayed(&moved(MOVED_AT_MOST)));
        assert!(!ahead.players_stayed(&moved(MOVED_AT_MOST + 0.01)));
        assert!(!ahead.players_stayed(&moved(0.0)[..2]));
        let swapped = [at(1, 0.0), at(0, 0.0), at(2, 0.0)];
        assert!(!ahead.players_stayed(&swapped));
        let mut other = moved(0.0);
        other[1].0 = 99;
        assert!(!ahead.players_stayed(&other), "another player where one was");
        assert!(!Ahead::default().players_stayed(&[]), "no cover worked out");
        // Without a pool, nothing is started and nothing is waited for.
        let mut alone = HeadStart::default();
        alone.start(&Pool::new(1), &list, &[], ground, SHAPE);
        assert!(alone.finish(false).is_none());
    }
}
