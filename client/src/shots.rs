//! Predicted shots: the player's own projectile leaves the muzzle the moment the fire input is sent, flown
//! by the same rules as the server's, instead of a round trip later.
//!
//! The server's projectile for it is found in the snapshots by its shooter (this player) and the input's
//! sequence number: once a snapshot reports that input applied, the unclaimed projectile of ours on the
//! predicted shot's line is its. From then on the prediction keeps drawing it (so it never jumps back to the
//! interpolated past), and it disappears when the server's does (a hit, a wall, its lifetime). A predicted
//! shot the server never fired (its input was dropped) is forgotten once the server is well past it.
//!
//! Why the prediction may keep drawing it: the server flies a new projectile ahead by how far behind the
//! shooter saw the others (lag compensation), so its projectile is where the predicted one is in the
//! shooter's own timeline, which is the timeline the shooter sees its targets in.

use arena_shared::Vec2;
use arena_shared::arena::{Arena, WallIndex};
use arena_shared::protocol::{PlayerId, Snapshot};
use arena_shared::rules::{ProjectileOutcome, ProjectileState, Shot, step_projectile_near};
use std::time::{Duration, Instant};

/// Ticks past a predicted shot's input after which, still unclaimed, it is taken for one the server never
/// fired.
pub const CLAIM_WITHIN_TICKS: u32 = 30;
/// How far (units) a server projectile may lie off a predicted shot's line and still be claimed by it: the
/// wire grid's rounding, with room.
pub const CLAIM_DISTANCE: f32 = 0.25;

/// One shot this player fired.
#[derive(Debug, Clone)]
struct Predicted {
    seq: u32,
    fired: Instant,
    /// At the muzzle.
    start: ProjectileState,
    /// The server's projectile, once claimed.
    server_id: Option<u32>,
}

/// The player's own shots in flight, as predicted.
#[derive(Debug)]
pub struct Shots {
    arena: Arena,
    walls: WallIndex,
    dt: f32,
    shots: Vec<Predicted>,
}

impl Shots {
    pub fn new(arena: Arena, tick_rate: u16) -> Self {
        let walls = WallIndex::new(&arena);
        Self {
            arena,
            walls,
            dt: 1.0 / f32::from(tick_rate.max(1)),
            shots: Vec::new(),
        }
    }

    /// The input `seq` sent at `at` fired `shot` (as the prediction found).
    pub fn fired(&mut self, seq: u32, shot: Shot, at: Instant) {
        self.shots.push(Predicted {
            seq,
            fired: at,
            start: shot.into(),
            server_id: None,
        });
    }

    /// Claims the server's projectiles for the shots whose inputs `snap` reports applied, forgets the shots
    /// whose projectile is gone, and those the server never fired.
    pub fn on_snapshot(&mut self, snap: &Snapshot, me: PlayerId) {
        let ours: Vec<_> = snap.projectiles.iter().filter(|p| p.owner == me).collect();
        let claimed: Vec<u32> = self.shots.iter().filter_map(|s| s.server_id).collect();
        for shot in self
            .shots
            .iter_mut()
            .filter(|s| s.server_id.is_none() && s.seq <= snap.last_input_seq)
        {
            let on_line = ours
                .iter()
                .filter(|p| !claimed.contains(&p.id))
                .map(|p| (p.id, off_line(&shot.start, p.pos, p.vel)))
                .filter(|(_, d)| *d <= CLAIM_DISTANCE)
                .min_by(|a, b| a.1.total_cmp(&b.1));
            shot.server_id = on_line.map(|(id, _)| id);
        }
        let seen = |id: u32| ours.iter().any(|p| p.id == id);
        self.shots.retain(|s| match s.server_id {
            Some(id) => seen(id),
            None => snap.last_input_seq < s.seq.saturating_add(CLAIM_WITHIN_TICKS),
        });
    }

    /// Whether the server's projectile `id` is one of ours, drawn by the prediction instead.
    pub fn draws(&self, id: u32) -> bool {
        self.shots.iter().any(|s| s.server_id == Some(id))
    }

    /// Where the shots are at `at`: flown from the muzzle by the rules, tick by tick, then along the last
    /// tick's fraction. A shot whose flight ended (a wall, its lifetime) is not drawn.
    pub fn positions(&self, at: Instant) -> Vec<(Vec2, Vec2)> {
        self.shots.iter().filter_map(|s| self.flown(s, at)).collect()
    }

    fn flown(&self, s: &Predicted, at: Instant) -> Option<(Vec2, Vec2)> {
        let age = at.saturating_duration_since(s.fired).as_secs_f32() / self.dt;
        let mut state = s.start;
        for _ in 0..age as u32 {
            if step_projectile_near(&mut state, self.dt, &self.arena, Some(&self.walls), &[], u32::MAX)
                != ProjectileOutcome::Flying
            {
                return None;
            }
        }
        Some((state.pos + state.vel * (age.fract() * self.dt), state.vel))
    }

    /// Shots in flight (predicted, claimed or not).
    pub fn len(&self) -> usize {
        self.shots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shots.is_empty()
    }

    /// How long ago the oldest was fired (for tests and displays).
    pub fn oldest_age(&self, at: Instant) -> Option<Duration> {
        self.shots.iter().map(|s| at.saturating_duration_since(s.fired)).max()
    }
}

/// How far `pos` lies off the line a projectile from `start` flies along, or infinity when its velocity is
/// not the predicted one (another shot) or it lies behind the muzzle.
fn off_line(start: &ProjectileState, pos: Vec2, vel: Vec2) -> f32 {
    let speed = start.vel.length();
    if speed == 0.0 {
        return f32::INFINITY;
    }
    let dir = start.vel * (1.0 / speed);
    let along = (pos - start.pos).dot(dir);
    if along < -CLAIM_DISTANCE || (vel - start.vel).length() > 0.5 {
        return f32::INFINITY;
    }
    (pos - start.pos - dir * along).length()
}

#[cfg(test)]
mod tests;
