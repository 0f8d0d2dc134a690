//! Predicted shots against a server played by the real rules: the player's step, the projectile flown ahead
//! by the lag compensation and then once a tick, snapped to the wire grid.

use super::*;
use crate::predict::Predictor;
use arena_shared::protocol::ProjectileSnapshot;
use arena_shared::quant::snap_projectile;
use arena_shared::rules::{Input, PlayerState, buttons, step_player, step_projectile};

const RATE: u16 = 60;
const ME: PlayerId = 3;

fn open() -> Arena {
    Arena {
        width: 60.0,
        height: 40.0,
        walls: vec![],
        spawn_points: vec![Vec2::new(10.0, 20.0)],
        health_packs: vec![],
    }
}

fn fire(seq: u32, aim: f32) -> Input {
    Input {
        seq,
        aim,
        buttons: buttons::FIRE,
        ..Input::default()
    }
}

/// The server's projectile for `input` fired by a player in `state`, `ticks` ticks after the tick that
/// fired it (flown ahead `behind` ticks when fired), as a snapshot lists it.
fn server_projectile(id: u32, state: &PlayerState, input: &Input, behind: u32, ticks: u32) -> ProjectileSnapshot {
    let arena = open();
    let dt = 1.0 / f32::from(RATE);
    let mut player = *state;
    let shot = step_player(&mut player, input, dt, &arena).expect("the server fires too");
    let mut p: ProjectileState = shot.into();
    for _ in 0..behind + 1 + ticks {
        step_projectile(&mut p, dt, &arena, &[], ME);
        p = snap_projectile(&p);
    }
    ProjectileSnapshot {
        id,
        owner: ME,
        pos: p.pos,
        vel: p.vel,
    }
}

fn snapshot(tick: u32, last_input_seq: u32, projectiles: Vec<ProjectileSnapshot>) -> Snapshot {
    Snapshot {
        tick,
        last_input_seq,
        projectiles,
        ..Snapshot::default()
    }
}

/// A predictor standing at the spawn point, and the state the server has for it.
fn standing() -> (Predictor, PlayerState) {
    let state = PlayerState::spawned(Vec2::new(10.0, 20.0));
    let mut predictor = Predictor::new(open(), RATE);
    predictor.reconcile(&state, 0);
    (predictor, state)
}

#[test]
fn a_shot_leaves_at_once_and_the_servers_takes_its_place_without_a_jump() {
    let (mut predictor, state) = standing();
    let mut shots = Shots::new(open(), RATE);
    let t0 = Instant::now();
    let input = fire(1, 0.3);
    let shot = predictor.apply_local(input).expect("the prediction fires");
    shots.fired(1, shot, t0);
    // Drawn at once, at the muzzle, and moving.
    let first = shots.positions(t0);
    assert_eq!(first.len(), 1);
    assert!(first[0].0.distance(state.pos) < 1.0, "at the muzzle: {:?}", first[0]);
    // The server's arrives a round trip later (100 ms), flown ahead by 8 ticks; until it is claimed the
    // server's would be drawn by interpolation, after it the prediction goes on.
    let at = t0 + Duration::from_millis(100);
    let just_before = shots.positions(at - Duration::from_micros(1))[0].0;
    let server = server_projectile(1 << 31, &state, &input, 8, 2);
    shots.on_snapshot(&snapshot(10, 1, vec![server]), ME);
    assert!(shots.draws(1 << 31), "claimed");
    let after = shots.positions(at)[0].0;
    assert!(
        after.distance(just_before) < 0.01,
        "no jump: {just_before:?} then {after:?}"
    );
    // On the server's line, give or take the wire grid's rounding: the two are the same flight (the
    // server's is ahead of ours by how far behind we saw the others).
    let off = off_line(&shot.into(), server.pos, server.vel);
    assert!(off < CLAIM_DISTANCE / 2.0, "{off} off the line");
    // The server's projectile hits something: ours goes with it.
    shots.on_snapshot(&snapshot(11, 1, vec![]), ME);
    assert!(shots.is_empty());
}

#[test]
fn each_shot_claims_its_own_and_never_anothers() {
    let (mut predictor, state) = standing();
    let mut shots = Shots::new(open(), RATE);
    let t0 = Instant::now();
    let a = fire(1, 0.0);
    shots.fired(1, predictor.apply_local(a).unwrap(), t0);
    // Not ready again until the cooldown passes: 15 empty inputs, then the second shot, upwards.
    let mut server = state;
    step_player(&mut server, &a, 1.0 / 60.0, &open());
    for seq in 2..17 {
        let idle = Input {
            seq,
            ..Input::default()
        };
        predictor.apply_local(idle);
        step_player(&mut server, &idle, 1.0 / 60.0, &open());
    }
    let b = fire(17, 1.5);
    shots.fired(
        17,
        predictor.apply_local(b).expect("cooled down"),
        t0 + Duration::from_millis(270),
    );
    // Someone else's projectile on the first shot's line is not ours.
    let mut theirs = server_projectile(7, &state, &a, 0, 3);
    theirs.owner = ME + 1;
    let first = server_projectile(1 << 31, &state, &a, 4, 20);
    let second = server_projectile((1 << 31) + 1, &server, &b, 4, 1);
    shots.on_snapshot(&snapshot(30, 17, vec![theirs, second, first]), ME);
    assert!(shots.draws(1 << 31) && shots.draws((1 << 31) + 1) && !shots.draws(7));
    assert_eq!(shots.len(), 2);
}

#[test]
fn a_shot_the_server_never_fired_is_forgotten() {
    let (mut predictor, _) = standing();
    let mut shots = Shots::new(open(), RATE);
    shots.fired(1, predictor.apply_local(fire(1, 0.0)).unwrap(), Instant::now());
    // Its input was dropped: the server applies later ones and fires nothing.
    shots.on_snapshot(&snapshot(5, 3, vec![]), ME);
    assert_eq!(shots.len(), 1, "the server may not have shown it yet");
    shots.on_snapshot(&snapshot(40, 1 + CLAIM_WITHIN_TICKS, vec![]), ME);
    assert!(shots.is_empty());
}

#[test]
fn a_predicted_shot_stops_at_a_wall() {
    let mut arena = open();
    arena.walls.push(arena_shared::arena::Wall {
        min: Vec2::new(12.0, 0.0),
        max: Vec2::new(13.0, 40.0),
    });
    let mut predictor = Predictor::new(arena.clone(), RATE);
    predictor.reconcile(&PlayerState::spawned(Vec2::new(10.0, 20.0)), 0);
    let mut shots = Shots::new(arena, RATE);
    let t0 = Instant::now();
    shots.fired(1, predictor.apply_local(fire(1, 0.0)).unwrap(), t0);
    assert_eq!(shots.positions(t0 + Duration::from_millis(10)).len(), 1);
    assert!(
        shots.positions(t0 + Duration::from_millis(200)).is_empty(),
        "flown into the wall"
    );
}
