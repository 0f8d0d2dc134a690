//! `rules.json`: the client's prediction of its own player (the shared rules stepped by the client
//! library's `Predictor`, snapped to the wire grid after every step), the wire grid's rounding, and the
//! integer prediction a delta's baseline entities move on by.

use super::json;
use arena_client::predict::Predictor;
use arena_shared::Vec2;
use arena_shared::arena::Arena;
use arena_shared::protocol::PlayerSnapshot;
use arena_shared::quant::{AIM_STEPS, POS_SCALE, QEntity, TIME_SCALE, VEL_SCALE, snap_player};
use arena_shared::rules::{
    ACCELERATION, BLASTER, Input, MAX_HEALTH, MAX_SPEED, MAX_SUBSTEP, MAX_SUBSTEPS, PLAYER_RADIUS, PlayerState, buttons,
};
use serde::Serialize;
use std::f32::consts::{FRAC_PI_2, PI, TAU};

/// The numbers the rules are made of, so a port can check its own.
#[derive(Serialize)]
struct Constants {
    player_radius: f32,
    max_speed: f32,
    acceleration: f32,
    max_health: u8,
    max_substep: f32,
    max_substeps: u32,
    blaster_speed: f32,
    blaster_damage: u8,
    blaster_cooldown: f32,
    blaster_lifetime: f32,
    blaster_radius: f32,
    pos_scale: f32,
    vel_scale: f32,
    aim_steps: u32,
    time_scale: f32,
    tau: f32,
}

/// A shot an input fired: where it leaves the muzzle and its velocity.
#[derive(Serialize)]
struct ShotJson {
    pos: Vec2,
    vel: Vec2,
}

#[derive(Serialize)]
pub struct Step {
    input: Input,
    /// The predicted state after the input (stepped, then snapped to the wire grid).
    state: PlayerState,
    shot: Option<ShotJson>,
}

#[derive(Serialize)]
struct Sequence {
    name: &'static str,
    tick_rate: u16,
    /// The step's length in seconds, as the client computes it: `1 / tick_rate` in `f32`.
    dt: f32,
    start: PlayerState,
    steps: Vec<Step>,
}

/// One value through the wire grid: `value` quantized to the integer `wire`, read back as `back`.
#[derive(Serialize)]
struct QuantCase {
    field: &'static str,
    value: f32,
    wire: i64,
    back: f32,
}

/// An entity moved on by the integer prediction: `(x, y)` at velocity `(vx, vy)` over `ticks` at
/// `tick_rate`, to `(out_x, out_y)`.
#[derive(Serialize)]
struct PredictionCase {
    x: i32,
    y: i32,
    vx: i32,
    vy: i32,
    ticks: u32,
    tick_rate: u16,
    out_x: i32,
    out_y: i32,
}

#[derive(Serialize)]
struct File {
    about: &'static str,
    constants: Constants,
    /// The map every sequence plays on.
    arena: Arena,
    sequences: Vec<Sequence>,
    quantization: Vec<QuantCase>,
    entity_prediction: Vec<PredictionCase>,
}

fn input(seq: u32, move_x: i8, move_y: i8, aim: f32, fire: bool) -> Input {
    Input {
        seq,
        move_x,
        move_y,
        aim,
        buttons: if fire { buttons::FIRE } else { 0 },
    }
}

/// A player standing at `(x, y)`, on the wire grid as a snapshot would bring it.
fn at(x: f32, y: f32) -> PlayerState {
    snap_player(&PlayerState::spawned(Vec2::new(x, y)))
}

/// Steps `start` through `inputs` as the client library predicts them.
pub fn predict(
    arena: &Arena,
    tick_rate: u16,
    start: &PlayerState,
    inputs: &[Input],
) -> Vec<(PlayerState, Option<(Vec2, Vec2)>)> {
    let mut predictor = Predictor::new(arena.clone(), tick_rate);
    predictor.reconcile(start, 0);
    inputs
        .iter()
        .map(|input| {
            let shot = predictor.apply_local(*input).map(|s| (s.pos, s.vel));
            let state = *predictor.state().expect("a state after the first reconcile");
            (state, shot)
        })
        .collect()
}

fn sequence(arena: &Arena, name: &'static str, tick_rate: u16, start: PlayerState, inputs: Vec<Input>) -> Sequence {
    let steps = predict(arena, tick_rate, &start, &inputs)
        .into_iter()
        .zip(inputs)
        .map(|((state, shot), input)| {
            if let Some((_, vel)) = shot {
                // The muzzle's direction comes from `cos` and `sin` of the aim in f32; a port computes them in
                // f64 and rounds. For the vectors to be portable, the two must agree on every shot here.
                let aim = input.aim.rem_euclid(TAU);
                let wide = Vec2::new((aim as f64).cos() as f32, (aim as f64).sin() as f32);
                assert_eq!(vel, wide * BLASTER.speed, "{name}: cos and sin agree in f32 and f64");
            }
            Step {
                input,
                state,
                shot: shot.map(|(pos, vel)| ShotJson { pos, vel }),
            }
        })
        .collect();
    Sequence {
        name,
        tick_rate,
        dt: 1.0 / f32::from(tick_rate),
        start,
        steps,
    }
}

fn sequences(arena: &Arena) -> Vec<Sequence> {
    let mut seq = 0;
    let mut next = |move_x, move_y, aim, fire| {
        seq += 1;
        input(seq, move_x, move_y, aim, fire)
    };
    let run_right: Vec<Input> = (0..20).map(|_| next(127, 0, 0.0, false)).collect();
    let diagonal: Vec<Input> = (0..25)
        .map(|i| {
            if i < 15 {
                next(127, 127, 0.5, false)
            } else {
                next(-128, -128, 0.5, false)
            }
        })
        .collect();
    let stop: Vec<Input> = (0..22)
        .map(|i| {
            if i < 10 {
                next(90, -60, 0.0, false)
            } else {
                next(0, 0, 0.0, false)
            }
        })
        .collect();
    let into_block: Vec<Input> = (0..40).map(|_| next(127, 0, 0.0, false)).collect();
    let slide: Vec<Input> = (0..40).map(|_| next(127, 45, 0.0, false)).collect();
    let corner: Vec<Input> = (0..40).map(|_| next(127, 127, 0.785, false)).collect();
    let bottom_left: Vec<Input> = (0..20).map(|_| next(-127, -127, 3.9, false)).collect();
    let top_right: Vec<Input> = (0..20).map(|_| next(127, 127, 0.8, false)).collect();
    let half_wall: Vec<Input> = (0..30).map(|_| next(127, -20, 0.0, false)).collect();
    let fire: Vec<Input> = (0..40).map(|_| next(0, 0, 0.7, true)).collect();
    let aims: Vec<Input> = [-1.0, 7.0, -7.0, 100.0, 3.0e6, 6.2831855, -0.0]
        .into_iter()
        .flat_map(|aim| (0..16).map(move |i| (aim, i == 0)))
        .map(|(aim, fire)| next(30, -30, aim, fire))
        .collect();
    let dead: Vec<Input> = (0..5).map(|_| next(127, 127, 1.0, true)).collect();
    let slow_tick: Vec<Input> = (0..20).map(|i| next(-127, 60, 2.5, i % 7 == 0)).collect();
    let fast_tick: Vec<Input> = (0..30).map(|i| next(64, 127, 1.2, i % 10 == 0)).collect();
    let mut dead_start = at(40.0, 10.0);
    (dead_start.health, dead_start.respawn_in) = (0, 1.5);
    let moving_start = {
        let mut s = at(30.0, 30.0);
        s.vel = Vec2::new(5.0, -3.0);
        snap_player(&s)
    };
    vec![
        sequence(arena, "run_right_from_rest", 60, at(4.0, 4.0), run_right),
        sequence(arena, "diagonal_then_back", 60, at(4.0, 20.0), diagonal),
        sequence(arena, "move_then_stop", 60, moving_start, stop),
        sequence(arena, "into_the_central_block", 60, at(24.0, 20.0), into_block),
        sequence(arena, "slide_along_a_wall", 60, at(24.0, 18.0), slide),
        sequence(arena, "round_a_corner", 60, at(24.5, 14.0), corner),
        sequence(arena, "arena_bounds_bottom_left", 60, at(1.5, 1.5), bottom_left),
        sequence(arena, "arena_bounds_top_right", 60, at(58.5, 38.5), top_right),
        sequence(arena, "into_the_half_wall", 60, at(17.0, 3.0), half_wall),
        sequence(arena, "fire_held_and_cooldown", 60, at(10.0, 20.0), fire),
        sequence(arena, "aims_wrap_around", 60, at(35.0, 8.0), aims),
        sequence(arena, "dead_player_stays", 60, dead_start, dead),
        sequence(arena, "tick_rate_20", 20, at(56.0, 20.0), slow_tick),
        sequence(arena, "tick_rate_128", 128, at(5.0, 30.0), fast_tick),
    ]
}

/// Each value through the wire grid as the codec quantizes a player (`QEntity::from_player`) and reads it
/// back (`QEntity::to_player`).
fn quantization() -> Vec<QuantCase> {
    let through = |state: PlayerState| {
        let wire = QEntity::from_player(&PlayerSnapshot {
            id: 1,
            state,
            kills: 0,
            deaths: 0,
        });
        (wire, wire.to_player().state)
    };
    let mut cases = vec![];
    let positions = [
        0.0, 1.0, 12.3456, 0.0078125, 0.0234375, -0.0078125, -0.0234375, 59.99, 0.5, 632.4555, 9999.99,
    ];
    for value in positions {
        let mut s = PlayerState::spawned(Vec2::new(value, 0.0));
        s.vel = Vec2::new(value, 0.0);
        let (wire, back) = through(s);
        cases.push(QuantCase {
            field: "pos",
            value,
            wire: wire.x.into(),
            back: back.pos.x,
        });
        cases.push(QuantCase {
            field: "vel",
            value,
            wire: wire.vx.into(),
            back: back.vel.x,
        });
    }
    let aims = [
        0.0, 0.7, FRAC_PI_2, PI, 6.27, TAU, 6.2827, -0.001, -1.0, 7.0, 100.0, 0.00076699,
    ];
    for value in aims {
        let mut s = PlayerState::spawned(Vec2::ZERO);
        s.aim = value;
        let (wire, back) = through(s);
        cases.push(QuantCase {
            field: "aim",
            value,
            wire: wire.aim.into(),
            back: back.aim,
        });
    }
    let times = [0.0, 0.25, 0.2333, 0.1234, 0.00208333, 1.5, 2.0, -1.0, 272.0, 1.0e6];
    for value in times {
        let mut s = PlayerState::spawned(Vec2::ZERO);
        (s.fire_cooldown, s.respawn_in) = (value, value);
        let (wire, back) = through(s);
        assert_eq!((wire.cooldown, back.fire_cooldown), (wire.respawn, back.respawn_in));
        cases.push(QuantCase {
            field: "time",
            value,
            wire: wire.cooldown.into(),
            back: back.fire_cooldown,
        });
    }
    cases
}

/// The integer prediction, on its rounding edges: halves round away from zero, sums clamp to `i32`.
fn entity_prediction() -> Vec<PredictionCase> {
    let cases: [(i32, i32, i32, i32, u32, u16); 14] = [
        (640, 0, 512, -512, 60, 60),
        (0, 0, 1, -1, 1, 2),
        (0, 0, 3, -3, 1, 2),
        (100, 100, 30, -30, 1, 60),
        (100, 100, 29, -29, 1, 60),
        (0, 0, 100, -100, 7, 60),
        (-50, 70, 1536, 777, 3, 60),
        (5, 5, 512, 512, 0, 60),
        (5, 5, 0, 0, 30, 60),
        (0, 0, 64, -64, 1, 0),
        (i32::MAX - 5, i32::MIN + 5, 1 << 20, -(1 << 20), 60, 1),
        (1000, -1000, 333, -333, 13, 128),
        (0, 0, 1, 1, 1, 240),
        (12, 34, -2047, 4095, 31, 20),
    ];
    cases
        .into_iter()
        .map(|(x, y, vx, vy, ticks, tick_rate)| {
            let e = QEntity {
                key: 1,
                x,
                y,
                vx,
                vy,
                ..QEntity::default()
            };
            let out = e.predicted(ticks, tick_rate);
            PredictionCase {
                x,
                y,
                vx,
                vy,
                ticks,
                tick_rate,
                out_x: out.x,
                out_y: out.y,
            }
        })
        .collect()
}

pub fn rules() -> String {
    let arena = Arena::standard();
    json(&File {
        about: "The client's prediction of its own player: each sequence starts from `start` (a state on the \
                wire grid) and applies each step's input with the shared rules (`rules::step_player`, dt = 1 / \
                tick_rate in f32), then snaps the state to the wire grid (`quant::snap_player`), as \
                `client::predict::Predictor` and the server do; `shot` is the projectile the input fired. \
                `quantization`: values through the wire grid. `entity_prediction`: `QEntity::predicted`, how a \
                delta's baseline entities move on. See vectors/README.md and docs/PROTOCOL.md.",
        constants: Constants {
            player_radius: PLAYER_RADIUS,
            max_speed: MAX_SPEED,
            acceleration: ACCELERATION,
            max_health: MAX_HEALTH,
            max_substep: MAX_SUBSTEP,
            max_substeps: MAX_SUBSTEPS,
            blaster_speed: BLASTER.speed,
            blaster_damage: BLASTER.damage,
            blaster_cooldown: BLASTER.cooldown,
            blaster_lifetime: BLASTER.lifetime,
            blaster_radius: BLASTER.radius,
            pos_scale: POS_SCALE,
            vel_scale: VEL_SCALE,
            aim_steps: AIM_STEPS,
            time_scale: TIME_SCALE,
            tau: TAU,
        },
        sequences: sequences(&arena),
        arena,
        quantization: quantization(),
        entity_prediction: entity_prediction(),
    })
}
