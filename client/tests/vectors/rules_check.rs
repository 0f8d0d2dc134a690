//! The prediction vectors (`rules.json`) replayed through the client library's `Predictor` with the real
//! rules: every step's state bit for bit, every shot, and the wire grid's cases.

use super::{int, load, name};
use arena_client::predict::Predictor;
use arena_shared::arena::Arena;
use arena_shared::protocol::PlayerSnapshot;
use arena_shared::quant::QEntity;
use arena_shared::rules::{Input, PlayerState};
use serde_json::Value;

fn player_bits(s: &PlayerState) -> [u32; 8] {
    [
        s.pos.x.to_bits(),
        s.pos.y.to_bits(),
        s.vel.x.to_bits(),
        s.vel.y.to_bits(),
        s.aim.to_bits(),
        u32::from(s.health),
        s.fire_cooldown.to_bits(),
        s.respawn_in.to_bits(),
    ]
}

fn f32_of(v: &Value) -> f32 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}")) as f32
}

#[test]
fn rules_predict_as_the_vectors_say() {
    let doc = load("rules.json");
    let arena: Arena = serde_json::from_value(doc["arena"].clone()).expect("an arena");
    for seq in doc["sequences"].as_array().expect("sequences") {
        let name = name(seq);
        let tick_rate = int(seq, "tick_rate") as u16;
        assert_eq!(f32_of(&seq["dt"]), 1.0 / f32::from(tick_rate), "{name}: dt");
        let start: PlayerState = serde_json::from_value(seq["start"].clone()).expect("a state");
        let mut predictor = Predictor::new(arena.clone(), tick_rate);
        predictor.reconcile(&start, 0);
        for (i, step) in seq["steps"].as_array().expect("steps").iter().enumerate() {
            let input: Input = serde_json::from_value(step["input"].clone()).expect("an input");
            let shot = predictor.apply_local(input);
            let state = *predictor.state().expect("a state");
            let expected: PlayerState = serde_json::from_value(step["state"].clone()).expect("a state");
            assert_eq!(player_bits(&state), player_bits(&expected), "{name} step {i}: state");
            match (&step["shot"], shot) {
                (Value::Null, None) => {}
                (s, Some(shot)) if !s.is_null() => {
                    let got = [shot.pos.x, shot.pos.y, shot.vel.x, shot.vel.y].map(f32::to_bits);
                    let want =
                        [&s["pos"]["x"], &s["pos"]["y"], &s["vel"]["x"], &s["vel"]["y"]].map(|v| f32_of(v).to_bits());
                    assert_eq!(got, want, "{name} step {i}: shot");
                }
                (s, shot) => panic!("{name} step {i}: shot {shot:?}, the file says {s}"),
            }
        }
    }
    for case in doc["quantization"].as_array().expect("quantization") {
        let value = f32_of(&case["value"]);
        let mut state = PlayerState::spawned(arena_shared::Vec2::ZERO);
        let field = case["field"].as_str().expect("a field");
        match field {
            "pos" => state.pos.x = value,
            "vel" => state.vel.x = value,
            "aim" => state.aim = value,
            "time" => state.fire_cooldown = value,
            other => panic!("field {other}"),
        }
        let player = PlayerSnapshot {
            id: 1,
            state,
            kills: 0,
            deaths: 0,
        };
        let wire = QEntity::from_player(&player);
        let back = wire.to_player().state;
        let (got, back) = match field {
            "pos" => (i64::from(wire.x), back.pos.x),
            "vel" => (i64::from(wire.vx), back.vel.x),
            "aim" => (i64::from(wire.aim), back.aim),
            _ => (i64::from(wire.cooldown), back.fire_cooldown),
        };
        assert_eq!(got, int(case, "wire"), "{field} {value}: wire");
        assert_eq!(back.to_bits(), f32_of(&case["back"]).to_bits(), "{field} {value}: back");
    }
    for case in doc["entity_prediction"].as_array().expect("entity_prediction") {
        let e = QEntity {
            key: 1,
            x: int(case, "x") as i32,
            y: int(case, "y") as i32,
            vx: int(case, "vx") as i32,
            vy: int(case, "vy") as i32,
            ..QEntity::default()
        };
        let out = e.predicted(int(case, "ticks") as u32, int(case, "tick_rate") as u16);
        assert_eq!(
            (i64::from(out.x), i64::from(out.y)),
            (int(case, "out_x"), int(case, "out_y")),
            "{case}"
        );
    }
}
