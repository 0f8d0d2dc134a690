//! One projectile's flight for one tick, against the living players near it: what the engine does for each
//! projectile, on whichever thread.

use super::ahead::{CoverShape, Worked};
use super::cover::Cover;
use super::ground::{Ground, Target};
use crate::game::components::Projectile;
use crate::game::interest::Grid;
use arena_shared::quant::{VEL_SCALE, snap_projectile};
use arena_shared::rules::{FASTEST_PROJECTILE, PLAYER_RADIUS, WIDEST_PROJECTILE, step_projectile_near};
use arena_shared::rules::{ProjectileOutcome, ProjectileState};

/// What a projectile's flight needs to know about the world this tick.
pub(super) struct Sky<'a> {
    pub ground: Ground<'a>,
    pub grid: &'a Grid,
    /// The cells near living players, for projectiles at most `covered` fast; none when the head start's
    /// word on which projectiles are far from every player holds (`far_known`).
    pub cover: Option<&'a Cover>,
    pub covered: f32,
    pub far_known: bool,
    /// Living players at the start of the phase, in the grid's order.
    pub targets: &'a [Target],
}

/// Where a flight ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Outcome {
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
pub(super) struct Flight {
    pub state: ProjectileState,
    pub outcome: Outcome,
    /// Whether a living player was near enough to be tested.
    pub near: bool,
}

/// One thread's buffers for flights.
#[derive(Debug, Default)]
pub(super) struct Near {
    found: Vec<u32>,
    targets: Vec<Target>,
}

impl Sky<'_> {
    /// Where `p` is after this tick's flight, against the targets `alive` marks; `ahead` is its flight with
    /// no player near, when worked out already.
    pub fn fly(&self, p: &Projectile, alive: &[bool], near: &mut Near, ahead: Option<Worked>) -> Flight {
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
        let Ground { arena, walls, dt } = self.ground;
        let mut state = p.state;
        if let Some(cover) = self.cover
            && state.vel.length_squared() <= self.covered * self.covered
            && !cover.near(state.pos)
        {
            return match ahead {
                Some(w) => far(w.state, w.outcome),
                None => {
                    let outcome = step_projectile_near(&mut state, dt, arena, Some(walls), &[], p.owner);
                    far(snap_projectile(&state), outcome)
                }
            };
        }
        let reach = reach(state.vel.length(), state.weapon.spec().radius, dt);
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
        let outcome = step_projectile_near(&mut state, dt, arena, Some(walls), &near.targets, p.owner);
        Flight {
            state: snap_projectile(&state),
            outcome: Outcome::of(outcome, &near.found),
            near: !near.found.is_empty(),
        }
    }
}

/// How far from a projectile of `radius` moving at `speed` a player's center can be and still be hit this
/// tick.
fn reach(speed: f32, radius: f32, dt: f32) -> f32 {
    speed * dt + PLAYER_RADIUS + radius + 0.1
}

/// The cover of the living players ([`Cover`]) at tick length `dt`. The cells are about a projectile's
/// reach, so each player marks 4 to 9 cells and most of the arena stays unmarked even in a big world; the
/// reach is that of the fastest and widest projectile of the weapons' table, plus [`COVER_MARGIN`]. A
/// projectile keeps its speed, but its velocity snaps to the wire grid every tick, which may lengthen it
/// by up to half a step along each axis: so the speed covered is one step more (the flights check it).
pub(super) fn cover_shape(dt: f32) -> CoverShape {
    let speed = FASTEST_PROJECTILE + 1.0 / VEL_SCALE;
    CoverShape {
        cell: 2.0,
        reach: reach(speed, WIDEST_PROJECTILE, dt) + COVER_MARGIN,
        speed,
    }
}

/// Added to the reach the cover is built with, for the rounding of the distances the query compares.
const COVER_MARGIN: f32 = 0.05;
