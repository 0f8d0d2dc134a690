//! Property: random messages survive encode then decode unchanged.

use arena_shared::Vec2;
use arena_shared::codec::{decode_client_datagram, decode_snapshot, encode_datagram, encode_snapshot};
use arena_shared::protocol::{ClientDatagram, InputDatagram, PlayerSnapshot, ProjectileSnapshot, Snapshot};
use arena_shared::rules::{Input, PlayerState};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn f(rng: &mut StdRng) -> f32 {
    rng.random_range(-1.0e4f32..1.0e4)
}

#[test]
fn random_snapshots_and_inputs_round_trip() {
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..500 {
        let players = (0..rng.random_range(0..200))
            .map(|i| PlayerSnapshot {
                id: i,
                state: PlayerState {
                    pos: Vec2::new(f(&mut rng), f(&mut rng)),
                    vel: Vec2::new(f(&mut rng), f(&mut rng)),
                    aim: f(&mut rng),
                    health: rng.random(),
                    fire_cooldown: f(&mut rng),
                    respawn_in: f(&mut rng),
                },
                kills: rng.random(),
                deaths: rng.random(),
            })
            .collect();
        let projectiles = (0..rng.random_range(0..100))
            .map(|i| ProjectileSnapshot {
                id: i,
                owner: rng.random(),
                pos: Vec2::new(f(&mut rng), f(&mut rng)),
                vel: Vec2::new(f(&mut rng), f(&mut rng)),
            })
            .collect();
        let s = Snapshot {
            tick: rng.random(),
            last_input_seq: rng.random(),
            input_margin: None, // deltas only
            players,
            projectiles,
            health_packs: vec![],
        };
        assert_eq!(decode_snapshot(&encode_snapshot(&s).unwrap()).unwrap(), s);
        let d = ClientDatagram::Input(InputDatagram {
            ack_tick: rng.random(),
            inputs: (0..rng.random_range(0..=8))
                .map(|_| Input {
                    seq: rng.random(),
                    move_x: rng.random(),
                    move_y: rng.random(),
                    aim: f(&mut rng),
                    buttons: rng.random(),
                })
                .collect(),
        });
        assert_eq!(decode_client_datagram(&encode_datagram(&d).unwrap()).unwrap(), d);
    }
}
