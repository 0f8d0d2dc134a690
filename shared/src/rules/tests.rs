//! Unit tests of the rules, named for the behaviour they pin.

use super::*;
use crate::arena::Wall;
use rand::SeedableRng;
use rand::rngs::StdRng;

const DT: f32 = 1.0 / 60.0;

fn open_arena() -> Arena {
    Arena {
        width: 100.0,
        height: 100.0,
        walls: vec![],
        spawn_points: vec![Vec2::new(50.0, 50.0)],
        health_packs: vec![],
    }
}

fn input(move_x: i8, move_y: i8, fire: bool) -> Input {
    Input {
        seq: 1,
        move_x,
        move_y,
        aim: 0.0,
        buttons: if fire { buttons::FIRE } else { 0 },
    }
}

#[test]
fn speed_never_exceeds_the_cap_even_diagonally() {
    let arena = open_arena();
    let mut p = PlayerState::spawned(Vec2::new(10.0, 10.0));
    for _ in 0..120 {
        step_player(&mut p, &input(127, 127, false), DT, &arena);
        assert!(p.vel.length() <= MAX_SPEED + 1e-4, "speed {}", p.vel.length());
    }
    assert!((p.vel.length() - MAX_SPEED).abs() < 1e-3, "reaches top speed");
}

#[test]
fn acceleration_is_gradual() {
    let arena = open_arena();
    let mut p = PlayerState::spawned(Vec2::new(10.0, 10.0));
    step_player(&mut p, &input(127, 0, false), DT, &arena);
    assert!((p.vel.x - ACCELERATION * DT).abs() < 1e-4);
}

#[test]
fn walls_stop_players_and_their_velocity_into_the_wall() {
    let mut arena = open_arena();
    arena.walls.push(Wall::new(20.0, 0.0, 22.0, 100.0));
    let mut p = PlayerState::spawned(Vec2::new(15.0, 50.0));
    for _ in 0..300 {
        step_player(&mut p, &input(127, 0, false), DT, &arena);
    }
    assert!(
        p.pos.x <= 20.0 - PLAYER_RADIUS + 1e-3,
        "stays left of the wall: {}",
        p.pos.x
    );
    assert!(p.vel.x.abs() < 1e-3);
}

#[test]
fn a_huge_step_does_not_tunnel_through_a_wall() {
    let mut arena = open_arena();
    arena.walls.push(Wall::new(20.0, 0.0, 21.0, 100.0));
    let mut p = PlayerState::spawned(Vec2::new(19.0, 50.0));
    p.vel = Vec2::new(MAX_SPEED, 0.0);
    step_player(&mut p, &input(127, 0, false), 0.5, &arena);
    assert!(p.pos.x < 20.0);
}

#[test]
fn bounds_hold_players_in() {
    let arena = open_arena();
    let mut p = PlayerState::spawned(Vec2::new(1.0, 1.0));
    for _ in 0..120 {
        step_player(&mut p, &input(-128, -128, false), DT, &arena);
    }
    assert_eq!(p.pos, Vec2::new(PLAYER_RADIUS, PLAYER_RADIUS));
}

#[test]
fn fire_respects_the_cooldown() {
    let arena = open_arena();
    let mut p = PlayerState::spawned(Vec2::new(10.0, 10.0));
    let mut shots = 0;
    let ticks = 60; // one second
    for _ in 0..ticks {
        shots += step_player(&mut p, &input(0, 0, true), DT, &arena).is_some() as u32;
    }
    // 1 s / 0.25 s = 4 intervals: shots at t = 0, 0.25, 0.5, 0.75 (and not more).
    assert!((4..=5).contains(&shots), "shots {shots}");
}

#[test]
fn non_finite_aim_keeps_the_previous_aim() {
    let arena = open_arena();
    let mut p = PlayerState::spawned(Vec2::new(10.0, 10.0));
    p.aim = 1.0;
    let mut i = input(0, 0, false);
    i.aim = f32::NAN;
    step_player(&mut p, &i, DT, &arena);
    assert_eq!(p.aim, 1.0);
}

#[test]
fn projectiles_hit_players_in_their_path() {
    let arena = open_arena();
    let mut proj = ProjectileState {
        pos: Vec2::new(10.0, 10.0),
        vel: Vec2::new(BLASTER.speed, 0.0),
        life: 1.0,
        weapon: Weapon::Blaster,
    };
    let targets = [(1, Vec2::new(40.0, 40.0)), (2, Vec2::new(12.0, 10.2))];
    let mut outcome = ProjectileOutcome::Flying;
    for _ in 0..30 {
        outcome = step_projectile(&mut proj, DT, &arena, &targets, 9);
        if outcome != ProjectileOutcome::Flying {
            break;
        }
    }
    assert_eq!(outcome, ProjectileOutcome::HitTarget(1));
}

#[test]
fn fast_projectiles_do_not_tunnel_through_players() {
    let arena = open_arena();
    let mut proj = ProjectileState {
        pos: Vec2::new(10.0, 10.0),
        vel: Vec2::new(BLASTER.speed, 0.0),
        life: 1.0,
        weapon: Weapon::Blaster,
    };
    // One 0.2 s step moves 4.8 units, far more than a player's diameter.
    let target = Vec2::new(12.0, 10.0);
    assert_eq!(
        step_projectile(&mut proj.clone(), 0.2, &arena, &[(1, target)], 9),
        ProjectileOutcome::HitTarget(0)
    );
    // Its own shooter is never hit.
    assert_eq!(
        step_projectile(&mut proj, 0.2, &arena, &[(9, target)], 9),
        ProjectileOutcome::Flying
    );
}

#[test]
fn projectiles_stop_at_walls_and_expire() {
    let mut arena = open_arena();
    arena.walls.push(Wall::new(11.0, 0.0, 12.0, 100.0));
    let mut proj = ProjectileState {
        pos: Vec2::new(10.0, 10.0),
        vel: Vec2::new(BLASTER.speed, 0.0),
        life: 1.0,
        weapon: Weapon::Blaster,
    };
    assert_eq!(
        step_projectile(&mut proj, 0.1, &arena, &[(1, Vec2::new(13.0, 10.0))], 9),
        ProjectileOutcome::HitWall
    );
    let mut proj = ProjectileState {
        pos: Vec2::new(50.0, 50.0),
        vel: Vec2::ZERO,
        life: 0.05,
        weapon: Weapon::Blaster,
    };
    assert_eq!(
        step_projectile(&mut proj, DT, &arena, &[], 9),
        ProjectileOutcome::Flying
    );
    assert_eq!(
        step_projectile(&mut proj, DT, &arena, &[], 9),
        ProjectileOutcome::Flying
    );
    assert_eq!(
        step_projectile(&mut proj, DT, &arena, &[], 9),
        ProjectileOutcome::Expired
    );
}

#[test]
fn a_health_pack_heals_the_hurt_up_to_full_and_is_left_by_the_unhurt_and_the_dead() {
    let at = Vec2::new(10.0, 10.0);
    assert!(touches_health_pack(at + Vec2::new(HEALTH_PACK_REACH, 0.0), at));
    assert!(!touches_health_pack(at + Vec2::new(HEALTH_PACK_REACH + 0.01, 0.0), at));
    let mut p = PlayerState::spawned(at);
    assert!(!take_health_pack(&mut p), "at full health it stays");
    apply_hit(&mut p, BLASTER.damage);
    assert!(take_health_pack(&mut p));
    assert_eq!(p.health, MAX_HEALTH, "healed up to full, no further");
    p.health = 10;
    assert!(take_health_pack(&mut p));
    assert_eq!(p.health, 10 + HEALTH_PACK_HEAL);
    p.health = 0;
    assert!(!take_health_pack(&mut p), "the dead take nothing");
    assert_eq!(p.health, 0);
}

#[test]
fn four_hits_kill_and_the_dead_wait_then_respawn() {
    let arena = open_arena();
    let mut p = PlayerState::spawned(Vec2::new(10.0, 10.0));
    assert!(!apply_hit(&mut p, BLASTER.damage));
    assert!(!apply_hit(&mut p, BLASTER.damage));
    assert!(!apply_hit(&mut p, BLASTER.damage));
    assert!(apply_hit(&mut p, BLASTER.damage), "the fourth hit kills");
    assert!(!p.is_alive());
    assert!(!apply_hit(&mut p, BLASTER.damage), "the dead cannot be killed again");
    let before = p.pos;
    assert!(
        step_player(&mut p, &input(127, 0, true), DT, &arena).is_none(),
        "the dead cannot fire"
    );
    assert_eq!(p.pos, before, "the dead cannot move");
    let ticks = (0..1000).take_while(|_| !tick_respawn(&mut p, DT)).count() + 1;
    let expected = (RESPAWN_DELAY / DT).round() as usize;
    assert!(
        (expected..=expected + 1).contains(&ticks),
        "respawned after {ticks} ticks"
    ); // f32 rounding
    let mut rng = StdRng::seed_from_u64(7);
    p = PlayerState::spawned(pick_spawn(&arena, &mut rng));
    assert_eq!(p.health, MAX_HEALTH);
    assert_eq!(p.pos, Vec2::new(50.0, 50.0));
}

#[test]
fn spawn_choice_follows_the_seed() {
    let arena = Arena::standard();
    let pick = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..16).map(|_| pick_spawn(&arena, &mut rng)).collect::<Vec<_>>()
    };
    assert_eq!(pick(3), pick(3));
    assert_ne!(pick(3), pick(4));
}

#[test]
fn projectiles_test_only_nearby_walls_with_the_same_outcome() {
    // The reference: every substep tested against every wall, as before walls were filtered.
    fn reference(p: &mut ProjectileState, dt: f32, arena: &Arena) -> ProjectileOutcome {
        p.life -= dt;
        if p.life <= 0.0 {
            return ProjectileOutcome::Expired;
        }
        let delta = p.vel * dt;
        let n = substeps(delta.length());
        let step = delta * (1.0 / n as f32);
        for _ in 0..n {
            p.pos += step;
            if !arena.is_open(p.pos) {
                return ProjectileOutcome::HitWall;
            }
        }
        ProjectileOutcome::Flying
    }
    use rand::RngExt;
    let arena = Arena::sized_for(1_000);
    let index = crate::arena::WallIndex::new(&arena);
    let mut rng = StdRng::seed_from_u64(11);
    let mut walls_hit = 0;
    for _ in 0..20_000 {
        // Near a wall, fast or slow, in any direction.
        let w = &arena.walls[rng.random_range(0..arena.walls.len())];
        let pos = w.min + Vec2::new(rng.random_range(-3.0..5.0), rng.random_range(-3.0..5.0));
        let vel = Vec2::from_angle(rng.random_range(0.0..std::f32::consts::TAU)) * rng.random_range(0.0..120.0);
        let start = ProjectileState {
            pos,
            vel,
            life: 1.0,
            weapon: Weapon::Blaster,
        };
        let (mut a, mut b, mut c) = (start, start, start);
        let got = step_projectile(&mut a, DT, &arena, &[], 9);
        let indexed = step_projectile_near(&mut c, DT, &arena, Some(&index), &[], 9);
        let want = reference(&mut b, DT, &arena);
        assert_eq!(got, want, "from {pos:?} at {vel:?}");
        assert_eq!(indexed, want, "from {pos:?} at {vel:?}, with the index");
        assert_eq!(a, b);
        assert_eq!(c, b);
        walls_hit += usize::from(want == ProjectileOutcome::HitWall);
    }
    assert!(walls_hit > 1_000, "the cases hit walls: {walls_hit}");
}

#[test]
fn players_test_only_nearby_walls_with_the_same_outcome() {
    // The big map of the scale benchmark, and a small one crowded with small walls (its index cells are
    // smaller than a player, so a wall the index was not asked about is often near).
    let crowded = Arena {
        width: 30.0,
        height: 30.0,
        walls: (0..64)
            .map(|i| {
                let (x, y) = (1.5 + (i % 8) as f32 * 3.6, 1.5 + (i / 8) as f32 * 3.6);
                Wall::new(x, y, x + 0.8, y + 0.8)
            })
            .collect(),
        spawn_points: vec![Vec2::new(1.0, 1.0)],
        health_packs: vec![],
    };
    for (arena, seed) in [(Arena::sized_for(1_000), 12), (crowded, 13)] {
        players_near_walls(&arena, seed);
    }
}

fn players_near_walls(arena: &Arena, seed: u64) {
    use rand::RngExt;
    let index = crate::arena::WallIndex::new(arena);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pushed = 0;
    for _ in 0..20_000 {
        // Near a wall (or inside one), at any speed up to beyond the cap, steering anywhere; long and short
        // steps, so some moves take several substeps and some pushes are large.
        let w = &arena.walls[rng.random_range(0..arena.walls.len())];
        let mut start =
            PlayerState::spawned(w.min + Vec2::new(rng.random_range(-3.0..5.0), rng.random_range(-3.0..5.0)));
        start.vel = Vec2::from_angle(rng.random_range(0.0..std::f32::consts::TAU)) * rng.random_range(0.0..40.0);
        let i = input(
            rng.random_range(-128..=127),
            rng.random_range(-128..=127),
            rng.random_bool(0.2),
        );
        let dt = if rng.random_bool(0.8) {
            DT
        } else {
            rng.random_range(0.01..0.5)
        };
        let (mut all, mut near) = (start, start);
        let shot = step_player(&mut all, &i, dt, arena);
        let shot_near = step_player_near(&mut near, &i, dt, arena, Some(&index));
        assert_eq!(near, all, "from {start:?} with {i:?} over {dt} s");
        assert_eq!(shot_near, shot);
        let straight = start.pos + start.vel * dt;
        pushed += usize::from((all.pos - straight).length() > 0.01);
    }
    assert!(pushed > 2_000, "walls or bounds pushed {pushed} of the moves");
}
