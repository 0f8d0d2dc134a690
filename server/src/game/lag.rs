//! Lag compensation for projectiles: a shooter aims at the others as its screen draws them, which is
//! behind the server's present by the round trip and the client's interpolation delay. The server makes
//! up for it by flying each new projectile ahead by that much (as Quake's and lightyear's examples do):
//! the projectile then meets a target moving steadily where the shooter saw it meet it.
//!
//! How far behind a shooter is, the server reads from what it knows: the tick that applies the shot, the
//! newest snapshot the shooter had acknowledged when it sent the input, and the interpolation delay the
//! clients use (two snapshot intervals). It is capped (`Settings::lag_compensation_ticks`), and its limits
//! are in `docs/ARCHITECTURE.md`: the flown-ahead stretch tests walls but not players (a target within it,
//! a point-blank one, is passed through), and a target that turned after the shooter's view is missed as
//! the shooter would have missed it.

use arena_shared::arena::{Arena, WallIndex};
use arena_shared::rules::{ProjectileOutcome, ProjectileState, step_projectile_near};

/// How many ticks behind the shot's tick `tick` the shooter saw the others: from its newest acknowledged
/// snapshot `ack_tick` to `tick`, plus the clients' interpolation delay `interp_ticks`; at most `cap`
/// (0 when compensation is off or nothing was acknowledged yet).
pub fn ticks_behind(tick: u32, ack_tick: u32, interp_ticks: u32, cap: u32) -> u32 {
    if ack_tick == 0 {
        return 0;
    }
    tick.saturating_sub(ack_tick).saturating_add(interp_ticks).min(cap)
}

/// The clients' interpolation delay in ticks: two snapshot intervals.
pub fn interp_ticks(tick_rate: u16, snapshot_rate: u16) -> u32 {
    2 * u32::from(tick_rate) / u32::from(snapshot_rate.max(1))
}

/// Flies a new projectile `ticks` ticks ahead against the walls; false when it ended on the way (a wall, or
/// its lifetime), and then it never appears.
pub fn fly_ahead(p: &mut ProjectileState, ticks: u32, dt: f32, arena: &Arena, walls: &WallIndex) -> bool {
    (0..ticks).all(|_| step_projectile_near(p, dt, arena, Some(walls), &[], u32::MAX) == ProjectileOutcome::Flying)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_shared::Vec2;
    use arena_shared::rules::{Shot, Weapon};

    fn shot(pos: Vec2, vel: Vec2) -> ProjectileState {
        Shot {
            pos,
            vel,
            weapon: Weapon::Blaster,
        }
        .into()
    }

    #[test]
    fn behind_is_the_round_trip_and_the_interpolation_capped() {
        assert_eq!(ticks_behind(100, 94, 2, 15), 8);
        assert_eq!(ticks_behind(100, 60, 2, 15), 15, "capped");
        assert_eq!(ticks_behind(100, 94, 2, 0), 0, "off");
        assert_eq!(ticks_behind(100, 0, 2, 15), 0, "nothing acknowledged yet");
        assert_eq!(interp_ticks(60, 60), 2);
        assert_eq!(interp_ticks(60, 30), 4);
    }

    #[test]
    fn a_projectile_flown_ahead_is_where_it_would_be_had_it_left_then() {
        let arena = crate::game::tests::open_arena();
        let walls = WallIndex::new(&arena);
        let start = Vec2::new(arena.width / 2.0, arena.height / 2.0);
        let mut ahead = shot(start, Vec2::new(24.0, 0.0));
        let mut stepped = ahead;
        assert!(fly_ahead(&mut ahead, 3, 1.0 / 60.0, &arena, &walls));
        for _ in 0..3 {
            step_projectile_near(&mut stepped, 1.0 / 60.0, &arena, Some(&walls), &[], u32::MAX);
        }
        assert_eq!(ahead, stepped);
        assert!((ahead.pos.x - start.x - 24.0 * 3.0 / 60.0).abs() < 1e-4);
    }

    #[test]
    fn a_projectile_flown_into_a_wall_never_appears() {
        let arena = crate::game::tests::open_arena();
        let walls = WallIndex::new(&arena);
        // From near the left edge, leftwards: out of the arena within a few ticks.
        let mut p = shot(Vec2::new(1.0, arena.height / 2.0), Vec2::new(-24.0, 0.0));
        assert!(!fly_ahead(&mut p, 15, 1.0 / 60.0, &arena, &walls));
    }
}
