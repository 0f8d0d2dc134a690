//! Quantization: the precision each field crosses the network with, and the grid the server snaps its own
//! state to every tick, so a client that receives the quantized state holds exactly the server's state and
//! its prediction replays from the same numbers (no drift to correct).
//!
//! | field | unit on the wire | precision | why enough |
//! | --- | --- | --- | --- |
//! | position | 1/64 unit | 0.016 units (1.6% of a player's diameter) | far below one terminal cell |
//! | velocity | 1/64 unit/s | 0.016 units/s | 0.0003 units of drift per tick at 60 Hz |
//! | aim | 1/4096 turn | 0.09 degrees | a shot lands within 0.03 units at 20 units |
//! | timers (cooldown, respawn) | 1/240 s | 4 ms | a quarter of a 60 Hz tick |
//! | health, kills, deaths | exact integers | exact | |

use crate::Vec2;
use crate::rules::{PlayerState, ProjectileState};
use std::f32::consts::TAU;

/// Position steps per unit.
pub const POS_SCALE: f32 = 64.0;
/// Velocity steps per unit per second.
pub const VEL_SCALE: f32 = 64.0;
/// Aim steps per turn.
pub const AIM_STEPS: u32 = 4_096;
/// Timer steps per second.
pub const TIME_SCALE: f32 = 240.0;

pub(crate) fn q(v: f32, scale: f32) -> i32 {
    (v * scale).round() as i32
}

pub(crate) fn dq(v: i32, scale: f32) -> f32 {
    v as f32 / scale
}

pub(crate) fn q_aim(a: f32) -> u16 {
    ((a.rem_euclid(TAU) / TAU * AIM_STEPS as f32).round() as u32 % AIM_STEPS) as u16
}

pub(crate) fn dq_aim(a: u16) -> f32 {
    f32::from(a) * (TAU / AIM_STEPS as f32)
}

pub(crate) fn q_time(t: f32) -> u16 {
    (t.max(0.0) * TIME_SCALE).round().min(f32::from(u16::MAX)) as u16
}

pub(crate) fn dq_time(t: u16) -> f32 {
    f32::from(t) / TIME_SCALE
}

/// A vector rounded to steps of `1 / scale`.
fn snap_vec(v: Vec2, scale: f32) -> Vec2 {
    Vec2::new(dq(q(v.x, scale), scale), dq(q(v.y, scale), scale))
}

/// A player's state moved onto the wire grid (what a client will decode, exactly).
pub fn snap_player(p: &PlayerState) -> PlayerState {
    PlayerState {
        pos: snap_vec(p.pos, POS_SCALE),
        vel: snap_vec(p.vel, VEL_SCALE),
        aim: dq_aim(q_aim(p.aim)),
        health: p.health,
        fire_cooldown: dq_time(q_time(p.fire_cooldown)),
        respawn_in: dq_time(q_time(p.respawn_in)),
    }
}

/// A projectile's state moved onto the wire grid (its remaining life is not sent, so it is kept).
pub fn snap_projectile(p: &ProjectileState) -> ProjectileState {
    ProjectileState {
        pos: snap_vec(p.pos, POS_SCALE),
        vel: snap_vec(p.vel, VEL_SCALE),
        ..*p
    }
}

/// One entity (player or projectile) in wire units: what delta snapshots are made of.
///
/// Its key says its kind, and the kind which of the fields it uses (the others stay zero); the conversions
/// from and to each kind's snapshot type are the kind's, in [`crate::entity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QEntity {
    /// The entity's id placed in its kind's key range ([`crate::entity::Kind::key`]).
    pub key: u32,
    pub x: i32,
    pub y: i32,
    pub vx: i32,
    pub vy: i32,
    pub aim: u16,
    pub health: u8,
    pub cooldown: u16,
    pub respawn: u16,
    pub kills: u32,
    pub deaths: u32,
    /// The shooter, for projectiles.
    pub owner: u32,
}

impl QEntity {
    pub fn pos(&self) -> Vec2 {
        Vec2::new(dq(self.x, POS_SCALE), dq(self.y, POS_SCALE))
    }

    /// This entity `ticks` later if it kept its velocity: what a receiver assumes when a delta leaves it out.
    /// Integer arithmetic, so sender and receiver agree exactly.
    pub fn predicted(&self, ticks: u32, tick_rate: u16) -> Self {
        Prediction::new(ticks, tick_rate).of(self)
    }
}

/// [`QEntity::predicted`] for many entities over the same span: the span's factor worked out once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prediction {
    /// Position steps per velocity step, or 0 for no time at all.
    per_step: f64,
}

impl Prediction {
    pub fn new(ticks: u32, tick_rate: u16) -> Self {
        // Position steps moved = velocity steps * seconds * POS_SCALE / VEL_SCALE, rounded half away from
        // zero. IEEE division is exactly rounded, so every platform computes the same result.
        let per_step = f64::from(ticks) * f64::from(POS_SCALE) / (f64::from(tick_rate.max(1)) * f64::from(VEL_SCALE));
        Self { per_step }
    }

    /// `e` moved on by this span.
    #[inline]
    pub fn of(&self, e: &QEntity) -> QEntity {
        if self.per_step == 0.0 || (e.vx == 0 && e.vy == 0) {
            return *e;
        }
        let step = |pos: i32, vel: i32| {
            // Round half away from zero by hand: the cast truncates toward zero (no libm call).
            let exact = f64::from(vel) * self.per_step;
            let moved = (exact + 0.5f64.copysign(exact)) as i64;
            (i64::from(pos) + moved).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
        };
        QEntity {
            x: step(e.x, e.vx),
            y: step(e.y, e.vy),
            ..*e
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::PlayerSnapshot;
    use crate::rules::{Input, step_player};

    #[test]
    fn snapped_state_survives_the_wire_exactly() {
        let mut p = PlayerState::spawned(Vec2::new(12.3456, 7.891));
        p.vel = Vec2::new(3.1, -2.7);
        p.aim = 2.5;
        p.fire_cooldown = 0.1234;
        p.respawn_in = 1.777;
        let snapped = snap_player(&p);
        let wire = QEntity::from_player(&PlayerSnapshot {
            id: 3,
            state: snapped,
            kills: 1,
            deaths: 2,
        });
        assert_eq!(wire.to_player().state, snapped, "decode(encode(snap(x))) == snap(x)");
        assert_eq!(snap_player(&snapped), snapped, "snapping is idempotent");
    }

    #[test]
    fn quantization_error_is_within_the_documented_precision() {
        for i in 0..1_000 {
            let f = i as f32 * 0.0371;
            let mut p = PlayerState::spawned(Vec2::new(f % 60.0, (f * 1.7) % 40.0));
            p.vel = Vec2::new((f % 16.0) - 8.0, 8.0 - (f % 16.0));
            p.aim = f % TAU;
            let s = snap_player(&p);
            assert!((s.pos - p.pos).length() <= 0.5 / POS_SCALE * 1.5);
            assert!((s.vel - p.vel).length() <= 0.5 / VEL_SCALE * 1.5);
            let da = (s.aim - p.aim).abs();
            assert!(da.min(TAU - da) <= TAU / AIM_STEPS as f32);
        }
    }

    #[test]
    fn a_snapping_server_and_a_predicting_client_agree_bit_for_bit() {
        // Both sides step the shared rules from the same snapped state: identical results.
        let arena = crate::arena::Arena::standard();
        let start = snap_player(&PlayerState::spawned(Vec2::new(10.0, 10.0)));
        let input = Input {
            seq: 1,
            move_x: 90,
            move_y: -40,
            aim: 0.7,
            buttons: 0,
        };
        let (mut server, mut client) = (start, start);
        step_player(&mut server, &input, 1.0 / 60.0, &arena);
        step_player(&mut client, &input, 1.0 / 60.0, &arena);
        assert_eq!(snap_player(&server), snap_player(&client));
    }

    #[test]
    fn prediction_moves_by_velocity_in_integers() {
        let e = QEntity {
            key: 1,
            x: 640,
            y: 0,
            vx: 512,
            vy: -512,
            ..QEntity::default()
        }; // 8 units/s
        let p = e.predicted(60, 60); // one second
        assert_eq!((p.x, p.y), (640 + 512, -512));
        assert_eq!(e.predicted(0, 60), e);
    }
}
