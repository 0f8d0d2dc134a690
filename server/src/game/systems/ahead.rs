//! Phase 0's head start on phase 4: while the tick thread drains the inbox and moves the players, a pool
//! thread works out every projectile's flight as if no player were near it (its lifetime and the walls:
//! nothing the phases in between change). Phase 4 then flies again only the projectiles with a living
//! player near them, or that the head start did not reach in time; the outcome is the same either way,
//! since a flight with no player near is exactly the flight worked out ahead.

use crate::game::components::Projectile;
use crate::game::resources::ArenaMap;
use crate::game::workers::Workers;
use arena_shared::arena::{Arena, WallIndex};
use arena_shared::rules::{ProjectileOutcome, ProjectileState, step_projectile_near};
use bevy_ecs::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Projectiles flown between two looks at the stop flag (a few microseconds of work).
const CHUNK: usize = 64;

/// Longest phase 4 waits for the head start to hand its work back (it stops after the chunk in hand, a few
/// microseconds of work) before it flies every projectile itself: short, since a pool thread that has not
/// handed back by then was most likely preempted (a loaded machine), and the tick should not spin for it.
const WAIT_AT_MOST: Duration = Duration::from_micros(50);

/// Flights worked out ahead, for the projectiles as they were at the start of the tick.
#[derive(Debug, Default)]
pub struct Ahead {
    /// The projectiles then, in list order.
    from: Vec<Projectile>,
    /// For the first of them: where each is after this tick's flight with no player near, and how it ended.
    flights: Vec<(ProjectileState, ProjectileOutcome)>,
}

impl Ahead {
    /// The flight worked out ahead (with no player near) for `p`, the `i`th projectile of the list, when it
    /// was worked out for this very projectile in this very state.
    pub fn get(&self, i: usize, p: &Projectile) -> Option<(ProjectileState, ProjectileOutcome)> {
        let from = self.from.get(i)?;
        if from.id == p.id && from.state == p.state {
            self.flights.get(i).copied()
        } else {
            None
        }
    }

    /// Flights worked out (tests).
    #[cfg(test)]
    pub fn worked_out(&self) -> usize {
        self.flights.len()
    }
}

/// A head start handed to the pool.
#[derive(Debug)]
struct Job {
    stop: AtomicBool,
    /// The work, before the pool thread takes it and after it hands it back.
    slot: Mutex<Option<Ahead>>,
}

impl Job {
    fn run(&self, map: &(Arena, WallIndex), dt: f32) {
        let Some(mut work) = self.slot.lock().ok().and_then(|mut slot| slot.take()) else {
            return; // taken back before it started
        };
        let Ahead { from, flights } = &mut work;
        for chunk in from.chunks(CHUNK) {
            if self.stop.load(Ordering::Acquire) {
                break;
            }
            flights.extend(chunk.iter().map(|p| {
                let mut state = p.state;
                let outcome = step_projectile_near(&mut state, dt, &map.0, Some(&map.1), &[], p.owner);
                (state, outcome)
            }));
        }
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(work);
        }
    }
}

/// This tick's head start, if one was started, and the map it flies in.
#[derive(Resource, Debug, Default)]
pub struct HeadStart {
    job: Option<Arc<Job>>,
    /// The last head start's buffers, reused.
    spare: Ahead,
    map: Option<Arc<(Arena, WallIndex)>>,
    /// Tests: wait for the whole head start instead of stopping it (so phase 4 takes every flight from it).
    #[cfg(test)]
    pub(crate) complete: bool,
    /// Tests: flights worked out ahead that matched a projectile of phase 4 (see [`HeadStart::count`]).
    #[cfg(test)]
    pub(crate) matched: usize,
}

impl HeadStart {
    /// Hands the flights of `projectiles` over `dt` to a pool thread (one kept awake takes them at once).
    pub fn start(&mut self, pool: &Workers, projectiles: &[Projectile], arena: &ArenaMap, dt: f32) {
        let map = match &self.map {
            Some(map) if map.0 == arena.0 => Arc::clone(map),
            _ => Arc::clone(self.map.insert(Arc::new((arena.0.clone(), arena.1.clone())))),
        };
        let mut work = std::mem::take(&mut self.spare);
        work.from.clear();
        work.from.extend_from_slice(projectiles);
        work.flights.clear();
        let job = Arc::new(Job {
            stop: AtomicBool::new(false),
            slot: Mutex::new(Some(work)),
        });
        let theirs = Arc::clone(&job);
        if pool.spawn(move || theirs.run(&map, dt)) {
            self.job = Some(job);
        } else if let Some(work) = job.slot.lock().ok().and_then(|mut slot| slot.take()) {
            self.spare = work;
        }
    }

    /// Stops this tick's head start and takes what it worked out: nothing when none was started, or when
    /// it does not hand its work back within [`WAIT_AT_MOST`] (then its buffers are left to it).
    pub fn finish(&mut self) -> Option<Ahead> {
        let job = self.job.take()?;
        #[cfg(test)]
        let complete = self.complete;
        #[cfg(not(test))]
        let complete = false;
        if !complete {
            job.stop.store(true, Ordering::Release);
        }
        let start = Instant::now();
        loop {
            // Still there untouched (the pool never got to it), or handed back.
            if let Ok(mut slot) = job.slot.lock()
                && slot
                    .as_ref()
                    .is_some_and(|w| !complete || w.flights.len() == w.from.len())
                && let Some(work) = slot.take()
            {
                return Some(work);
            }
            if !complete && start.elapsed() > WAIT_AT_MOST {
                return None;
            }
            std::hint::spin_loop();
        }
    }

    /// Tests: counts the projectiles of `list` whose flights were worked out ahead.
    #[cfg(test)]
    pub(crate) fn count(&mut self, ahead: &Ahead, list: &[Projectile]) {
        self.matched += list
            .iter()
            .enumerate()
            .filter(|(i, p)| ahead.get(*i, p).is_some())
            .count();
    }

    /// Keeps a finished head start's buffers for the next one.
    pub fn recycle(&mut self, work: Ahead) {
        self.spare = work;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_shared::Vec2;

    #[test]
    fn a_flight_worked_out_ahead_is_given_only_for_the_projectile_it_was_worked_out_for() {
        let arena = Arena::standard();
        let map = ArenaMap(arena.clone(), WallIndex::new(&arena));
        let shot = |id, x| Projectile {
            id,
            owner: 1,
            state: ProjectileState {
                pos: Vec2::new(x, 20.0),
                vel: Vec2::new(30.0, 0.0),
                life: 1.0,
            },
        };
        let list: Vec<Projectile> = (0..200).map(|i| shot(i, 5.0 + (i % 50) as f32)).collect();
        let pool = Workers::new(2);
        let mut head = HeadStart {
            complete: true,
            ..HeadStart::default()
        };
        head.start(&pool, &list, &map, 1.0 / 60.0);
        let ahead = head.finish().expect("the pool hands the work back");
        assert_eq!(ahead.worked_out(), list.len());
        for (i, p) in list.iter().enumerate() {
            let mut state = p.state;
            let outcome = step_projectile_near(&mut state, 1.0 / 60.0, &arena, None, &[], p.owner);
            assert_eq!(ahead.get(i, p), Some((state, outcome)), "projectile {i}");
        }
        // Another projectile at that index, or the same one moved since, or one past the list: nothing.
        assert_eq!(ahead.get(3, &shot(999, 8.0)), None);
        let mut moved = list[3];
        moved.state.pos.x += 0.125;
        assert_eq!(ahead.get(3, &moved), None);
        assert_eq!(ahead.get(200, &list[0]), None);
        // Without a pool, nothing is started and nothing is waited for.
        let mut alone = HeadStart::default();
        alone.start(&Workers::new(1), &list, &map, 1.0 / 60.0);
        assert!(alone.finish().is_none());
    }
}
