//! The game rules as plain functions on plain data: movement with acceleration and a speed cap, collision
//! with walls and bounds, aiming and firing with a cooldown, projectiles, damage, death and respawn.
//!
//! Everything here is deterministic: no clock, no global RNG (the caller passes a seeded one), and the
//! same `f32` operations in the same order on both ends, so the server and the client's prediction agree
//! bit for bit on the same build.

use crate::arena::{Arena, WallIndex};
use crate::math::Vec2;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
pub use weapons::{BLASTER, FASTEST_PROJECTILE, WEAPONS, WIDEST_PROJECTILE, Weapon, WeaponSpec};

mod weapons;

/// A player's radius, in units.
pub const PLAYER_RADIUS: f32 = 0.5;
/// Top speed, in units per second; no input can make a player faster.
pub const MAX_SPEED: f32 = 8.0;
/// How fast a player's velocity turns toward the wanted velocity, in units per second squared.
pub const ACCELERATION: f32 = 60.0;
/// Health of a fresh player.
pub const MAX_HEALTH: u8 = 100;
/// Seconds between a death and the respawn.
pub const RESPAWN_DELAY: f32 = 2.0;
/// Health a health pack gives back (up to [`MAX_HEALTH`]).
pub const HEALTH_PACK_HEAL: u8 = 50;
/// How close a player's center must come to a health pack's to pick it up, in units.
pub const HEALTH_PACK_REACH: f32 = 1.0;
/// Seconds a picked-up health pack takes to come back.
pub const HEALTH_PACK_DELAY: f32 = 10.0;
/// Longest distance moved between two collision checks, so nothing tunnels through a wall or a player even
/// at a low tick rate.
pub const MAX_SUBSTEP: f32 = 0.25;
/// Most collision substeps in one step: bounds the work any `dt` can cause.
pub const MAX_SUBSTEPS: u32 = 64;

/// Bits of [`Input::buttons`].
pub mod buttons {
    /// Fire the weapon (held: fires again each time the cooldown allows).
    pub const FIRE: u8 = 1;
}

/// One tick of a player's intent, as the client sampled it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Input {
    /// The client's sequence number for this input, one per client tick, starting at 1.
    pub seq: u32,
    /// Horizontal movement, -127 (left) to 127 (right); -128 counts as -127.
    pub move_x: i8,
    /// Vertical movement, -127 (down) to 127 (up); -128 counts as -127.
    pub move_y: i8,
    /// Aim angle in radians; a non-finite angle keeps the previous aim.
    pub aim: f32,
    /// Button bits, see [`buttons`].
    pub buttons: u8,
}

impl Input {
    /// The movement direction, at most one unit long whatever the client sent.
    pub fn move_dir(&self) -> Vec2 {
        let axis = |v: i8| f32::from(v.max(-127)) / 127.0;
        Vec2::new(axis(self.move_x), axis(self.move_y)).clamp_length(1.0)
    }

    pub fn fire(&self) -> bool {
        self.buttons & buttons::FIRE != 0
    }
}

/// The simulated state of one player.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlayerState {
    pub pos: Vec2,
    pub vel: Vec2,
    /// Aim angle in radians.
    pub aim: f32,
    /// 0 means dead.
    pub health: u8,
    /// Seconds until the next shot is allowed.
    pub fire_cooldown: f32,
    /// Seconds until a dead player respawns; 0 while alive.
    pub respawn_in: f32,
}

impl PlayerState {
    /// A fresh, full-health player standing at `pos`.
    pub fn spawned(pos: Vec2) -> Self {
        Self {
            pos,
            vel: Vec2::ZERO,
            aim: 0.0,
            health: MAX_HEALTH,
            fire_cooldown: 0.0,
            respawn_in: 0.0,
        }
    }

    pub fn is_alive(&self) -> bool {
        self.health > 0
    }
}

/// A projectile that a player's input fired this step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shot {
    pub pos: Vec2,
    pub vel: Vec2,
    pub weapon: Weapon,
}

/// Advances one living player by `dt` seconds under `input`: aim, accelerate, move with collisions, cool
/// the weapon, and fire if asked and allowed. Dead players do not move (see [`tick_respawn`]).
pub fn step_player(p: &mut PlayerState, input: &Input, dt: f32, arena: &Arena) -> Option<Shot> {
    step_player_near(p, input, dt, arena, None)
}

/// [`step_player`] with the map's [`WallIndex`], so only walls near the player's path are tested; the
/// outcome is the same (when a push takes the player off the part of the map the index was asked about,
/// the move is done again against every wall).
pub fn step_player_near(
    p: &mut PlayerState,
    input: &Input,
    dt: f32,
    arena: &Arena,
    index: Option<&WallIndex>,
) -> Option<Shot> {
    if !p.is_alive() {
        return None;
    }
    if input.aim.is_finite() {
        p.aim = input.aim.rem_euclid(std::f32::consts::TAU);
    }
    let wanted = input.move_dir() * MAX_SPEED;
    let dv = (wanted - p.vel).clamp_length(ACCELERATION * dt);
    p.vel = (p.vel + dv).clamp_length(MAX_SPEED);
    let delta = p.vel * dt;
    match index {
        Some(index) => move_circle_near(&mut p.pos, &mut p.vel, delta, PLAYER_RADIUS, arena, index),
        None => {
            move_circle(&mut p.pos, &mut p.vel, delta, PLAYER_RADIUS, arena, u64::MAX);
        }
    }
    p.fire_cooldown = (p.fire_cooldown - dt).max(0.0);
    if input.fire() && p.fire_cooldown <= 0.0 {
        let weapon = Weapon::default(); // every player carries the blaster
        let spec = weapon.spec();
        p.fire_cooldown = spec.cooldown;
        let dir = Vec2::from_angle(p.aim);
        let muzzle = p.pos + dir * (PLAYER_RADIUS + spec.radius + 0.05);
        return Some(Shot {
            pos: muzzle,
            vel: dir * spec.speed,
            weapon,
        });
    }
    None
}

fn substeps(distance: f32) -> u32 {
    ((distance / MAX_SUBSTEP).ceil() as u32).clamp(1, MAX_SUBSTEPS)
}

/// How far a push may take a circle off its straight path before [`move_circle_near`] no longer trusts the
/// walls it was given, in units.
const PUSH_SLACK: f32 = 1.0;

/// [`move_circle`] against the walls near the path only: the walls the index finds within `radius` plus
/// [`PUSH_SLACK`] of the path's box. If a position along the way leaves that box widened by the slack (a
/// push took it there), a wall the index was not asked about could matter, and the move is done again
/// against every wall; otherwise every wall within `radius` of every position was tested, in the same
/// order, so the outcome is the same.
fn move_circle_near(pos: &mut Vec2, vel: &mut Vec2, delta: Vec2, radius: f32, arena: &Arena, index: &WallIndex) {
    let (start_pos, start_vel) = (*pos, *vel);
    let (lo, hi) = (pos.min(*pos + delta), pos.max(*pos + delta));
    let slack = Vec2::new(PUSH_SLACK, PUSH_SLACK);
    let reach = slack + Vec2::new(radius, radius);
    let walls = if arena.walls.len() > 64 {
        u64::MAX
    } else {
        index.walls_near(lo - reach, hi + reach)
    };
    let inside = move_circle(pos, vel, delta, radius, arena, walls);
    let (lo, hi) = (lo - slack, hi + slack);
    if !inside
        .iter()
        .all(|p| p.x >= lo.x && p.y >= lo.y && p.x <= hi.x && p.y <= hi.y)
    {
        (*pos, *vel) = (start_pos, start_vel);
        move_circle(pos, vel, delta, radius, arena, u64::MAX);
    }
}

/// Moves a circle by `delta` in substeps, pushing it out of walls and bounds and removing the velocity
/// that points into whatever it touches. Only the walls in the mask `walls` are tested (all bits set: every
/// wall; maps of more than 64 walls are always tested in full). Returns the smallest box holding every
/// position walls were tested from, as its two corners.
fn move_circle(pos: &mut Vec2, vel: &mut Vec2, delta: Vec2, radius: f32, arena: &Arena, walls: u64) -> [Vec2; 2] {
    let n = substeps(delta.length());
    let step = delta * (1.0 / n as f32);
    let mut seen = [*pos, *pos];
    let all = walls == u64::MAX || arena.walls.len() > 64;
    for _ in 0..n {
        *pos += step;
        seen = [seen[0].min(*pos), seen[1].max(*pos)];
        // Every wall, or the walls of the mask, in index order (the mask's set bits only: a player's path
        // has a few walls near it of the 64).
        let mut mask = walls;
        let mut next = 0;
        loop {
            let i = if all {
                next += 1;
                next - 1
            } else if mask != 0 {
                let i = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                i
            } else {
                break;
            };
            let Some(wall) = arena.walls.get(i) else {
                break;
            };
            let closest = wall.closest_point(*pos);
            let away = *pos - closest;
            let d2 = away.length_squared();
            if d2 >= radius * radius {
                continue;
            }
            let normal = if d2 > 1e-12 {
                let n = away * (1.0 / d2.sqrt());
                *pos = closest + n * radius;
                n
            } else {
                // The centre is inside the wall: leave by the nearest side.
                let sides = [
                    (pos.x - wall.min.x, Vec2::new(-1.0, 0.0)),
                    (wall.max.x - pos.x, Vec2::new(1.0, 0.0)),
                    (pos.y - wall.min.y, Vec2::new(0.0, -1.0)),
                    (wall.max.y - pos.y, Vec2::new(0.0, 1.0)),
                ];
                let (depth, n) = sides
                    .iter()
                    .copied()
                    .fold(sides[0], |a, b| if b.0 < a.0 { b } else { a });
                *pos += n * (depth + radius);
                n
            };
            let into = vel.dot(normal);
            if into < 0.0 {
                *vel -= normal * into;
            }
            // Later walls are tested from where the push left it.
            seen = [seen[0].min(*pos), seen[1].max(*pos)];
        }
        clamp_to_bounds(pos, vel, radius, arena);
    }
    seen
}

fn clamp_to_bounds(pos: &mut Vec2, vel: &mut Vec2, radius: f32, arena: &Arena) {
    if pos.x < radius {
        pos.x = radius;
        vel.x = vel.x.max(0.0);
    } else if pos.x > arena.width - radius {
        pos.x = arena.width - radius;
        vel.x = vel.x.min(0.0);
    }
    if pos.y < radius {
        pos.y = radius;
        vel.y = vel.y.max(0.0);
    } else if pos.y > arena.height - radius {
        pos.y = arena.height - radius;
        vel.y = vel.y.min(0.0);
    }
}

/// A projectile in flight.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ProjectileState {
    pub pos: Vec2,
    pub vel: Vec2,
    /// Seconds left before it vanishes.
    pub life: f32,
    /// What fired it (its radius and the damage it does).
    pub weapon: Weapon,
}

impl From<Shot> for ProjectileState {
    fn from(s: Shot) -> Self {
        Self {
            pos: s.pos,
            vel: s.vel,
            life: s.weapon.spec().lifetime,
            weapon: s.weapon,
        }
    }
}

/// What became of a projectile after one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectileOutcome {
    Flying,
    /// Its lifetime ran out.
    Expired,
    /// It hit a wall or left the arena.
    HitWall,
    /// It hit the target at this index of the `targets` slice.
    HitTarget(usize),
}

/// Advances a projectile by `dt` seconds in substeps, testing walls and then `targets` after each substep.
/// `targets` are `(player id, position)` of the living players in a fixed order (the first hit in that order
/// wins); the target whose id is `owner` is never hit, so nobody shoots themselves.
pub fn step_projectile(
    p: &mut ProjectileState,
    dt: f32,
    arena: &Arena,
    targets: &[(u32, Vec2)],
    owner: u32,
) -> ProjectileOutcome {
    step_projectile_near(p, dt, arena, None, targets, owner)
}

/// [`step_projectile`] with the map's [`WallIndex`] (built once per map), so only walls near the
/// projectile's path are tested; the outcome is the same.
pub fn step_projectile_near(
    p: &mut ProjectileState,
    dt: f32,
    arena: &Arena,
    index: Option<&WallIndex>,
    targets: &[(u32, Vec2)],
    owner: u32,
) -> ProjectileOutcome {
    p.life -= dt;
    if p.life <= 0.0 {
        return ProjectileOutcome::Expired;
    }
    let delta = p.vel * dt;
    let n = substeps(delta.length());
    let step = delta * (1.0 / n as f32);
    let reach = PLAYER_RADIUS + p.weapon.spec().radius;
    let reach2 = reach * reach;
    // Every substep lies on the segment from here to here + delta (give or take rounding, hence the
    // margin): only walls overlapping its box can stop the projectile.
    let end = p.pos + delta;
    let margin = Vec2::new(0.01, 0.01) + Vec2::new(p.pos.x.abs() + end.x.abs(), p.pos.y.abs() + end.y.abs()) * 1e-5;
    let (lo, hi) = (p.pos.min(end) - margin, p.pos.max(end) + margin);
    let walls = match index {
        Some(index) => index.walls_near(lo, hi),
        None => arena.walls_overlapping(lo, hi),
    };
    for _ in 0..n {
        p.pos += step;
        if !arena.is_open_among(p.pos, walls) {
            return ProjectileOutcome::HitWall;
        }
        if let Some(i) = targets
            .iter()
            .position(|&(id, t)| id != owner && (t - p.pos).length_squared() <= reach2)
        {
            return ProjectileOutcome::HitTarget(i);
        }
    }
    ProjectileOutcome::Flying
}

/// Applies `damage` to a living player. Returns true when this hit killed it; the victim then stops and
/// waits [`RESPAWN_DELAY`] seconds.
pub fn apply_hit(victim: &mut PlayerState, damage: u8) -> bool {
    if !victim.is_alive() {
        return false;
    }
    victim.health = victim.health.saturating_sub(damage);
    if victim.health == 0 {
        victim.vel = Vec2::ZERO;
        victim.respawn_in = RESPAWN_DELAY;
        return true;
    }
    false
}

/// Whether a player at `player` touches the health pack at `pack`.
pub fn touches_health_pack(player: Vec2, pack: Vec2) -> bool {
    (player - pack).length_squared() <= HEALTH_PACK_REACH * HEALTH_PACK_REACH
}

/// A living, hurt player takes a health pack: [`HEALTH_PACK_HEAL`] health back, up to [`MAX_HEALTH`].
/// False, and nothing taken, for the dead and the unhurt.
pub fn take_health_pack(p: &mut PlayerState) -> bool {
    if !p.is_alive() || p.health >= MAX_HEALTH {
        return false;
    }
    p.health = p.health.saturating_add(HEALTH_PACK_HEAL).min(MAX_HEALTH);
    true
}

/// Counts down a dead player's respawn delay; true when it may respawn now. Living players return false.
pub fn tick_respawn(p: &mut PlayerState, dt: f32) -> bool {
    if p.is_alive() {
        return false;
    }
    p.respawn_in = (p.respawn_in - dt).max(0.0);
    p.respawn_in <= 0.0
}

/// A spawn point of `arena`, chosen uniformly with the caller's (seeded) RNG.
pub fn pick_spawn<R: Rng + ?Sized>(arena: &Arena, rng: &mut R) -> Vec2 {
    match arena.spawn_points.len() {
        0 => Vec2::new(arena.width / 2.0, arena.height / 2.0),
        n => arena.spawn_points[rng.random_range(0..n)],
    }
}

#[cfg(test)]
mod tests;
