//! `datagrams.json`: every datagram kind both ways (inputs, delta and full snapshots), encoded by the codec,
//! with the bytes a decoder must refuse.

use super::json;
use super::messages::{Case, File, Invalid, Message, case, invalid};
use arena_shared::Vec2;
use arena_shared::codec;
use arena_shared::codec::delta::{DeltaHeader, encode_delta};
use arena_shared::fragment;
use arena_shared::protocol::{
    ClientDatagram, InputDatagram, MAX_DATAGRAM_LEN, PlayerSnapshot, ProjectileSnapshot, ServerDatagram, Snapshot,
    SnapshotPart, TARGET_DATAGRAM_LEN,
};
use arena_shared::quant::{QEntity, snap_player};
use arena_shared::rules::{Input, PlayerState};

fn input(seq: u32, move_x: i8, move_y: i8, aim: f32, buttons: u8) -> Input {
    Input {
        seq,
        move_x,
        move_y,
        aim,
        buttons,
    }
}

fn inputs(ack_tick: u32, list: Vec<Input>) -> Message {
    Message::ClientDatagram(ClientDatagram::Input(InputDatagram {
        ack_tick,
        inputs: list.into_iter().collect(),
    }))
}

/// A small world as the naive full snapshot carries it (on the wire grid, as a server sends it).
fn small_snapshot() -> Snapshot {
    let mut ada = PlayerState::spawned(Vec2::new(2.0, 5.0));
    ada.vel = Vec2::new(8.0, 0.0);
    ada.aim = 1.5;
    ada.fire_cooldown = 0.125;
    let mut bob = PlayerState::spawned(Vec2::new(18.0, 5.0));
    (bob.health, bob.respawn_in) = (0, 1.5);
    Snapshot {
        tick: 300,
        last_input_seq: 299,
        players: vec![
            PlayerSnapshot {
                id: 1,
                state: snap_player(&ada),
                kills: 1,
                deaths: 0,
            },
            PlayerSnapshot {
                id: 2,
                state: snap_player(&bob),
                kills: 0,
                deaths: 1,
            },
        ],
        projectiles: vec![ProjectileSnapshot {
            id: 9,
            owner: 1,
            pos: Vec2::new(3.0, 5.5),
            vel: Vec2::new(0.0, 24.0),
        }],
        ..Snapshot::default()
    }
}

/// A snapshot too big for one datagram: 64 players in a row.
fn big_snapshot() -> Snapshot {
    let players = (1..=64)
        .map(|id| PlayerSnapshot {
            id,
            state: snap_player(&PlayerState::spawned(Vec2::new(id as f32 * 0.75, 20.0))),
            kills: id % 5,
            deaths: id % 3,
        })
        .collect();
    Snapshot {
        tick: 1_000,
        last_input_seq: 0,
        players,
        ..Snapshot::default()
    }
}

fn datagram_cases() -> Vec<Case> {
    let eight = (100..108)
        .map(|seq| {
            let turn = (seq - 100) as f32 * 0.25;
            input(seq, 127, -127, turn, u8::from(seq % 2 == 0))
        })
        .collect();
    let mut cases = vec![
        case("input_none", inputs(0, vec![])),
        case("input_one", inputs(0, vec![input(1, 0, 0, 0.0, 0)])),
        case("input_fire_diagonal", inputs(41, vec![input(42, 127, 127, 0.7, 1)])),
        case("input_eight", inputs(1_234, eight)),
        case(
            "input_varint_edges",
            inputs(
                u32::MAX,
                vec![
                    input(250, -128, -127, -1.5707964, 0),
                    input(251, 1, -1, std::f32::consts::PI, 255),
                    input(65_535, 0, 0, -0.0, 2),
                    input(65_536, 127, 0, 1e-45, 0),
                    input(u32::MAX, 0, 127, f32::MAX, 1),
                ],
            ),
        ),
    ];
    let small = small_snapshot();
    let small_bytes = codec::encode_snapshot(&small).expect("encodes");
    cases.push(case(
        "snapshot_part_whole",
        Message::ServerDatagram(ServerDatagram::Snapshot(SnapshotPart {
            tick: small.tick,
            index: 0,
            count: 1,
            bytes: small_bytes,
        })),
    ));
    let big = big_snapshot();
    let big_bytes = codec::encode_snapshot(&big).expect("encodes");
    let parts = fragment::split(big.tick, &big_bytes, TARGET_DATAGRAM_LEN).expect("splits");
    assert!(parts.len() == 2, "the big snapshot takes two parts");
    for (i, part) in parts.into_iter().enumerate() {
        let name = format!("snapshot_part_{}_of_2", i + 1);
        cases.push(case(&name, Message::ServerDatagram(ServerDatagram::Snapshot(part))));
    }
    // A delta datagram: its payload is the delta format (deltas.json has many), carried as a byte vector.
    let mut delta = vec![];
    let player = QEntity {
        key: 1,
        x: 128,
        y: 320,
        health: 100,
        ..QEntity::default()
    };
    let header = DeltaHeader {
        tick: 2,
        baseline_tick: 0,
        last_input_seq: 0,
        input_margin: None,
    };
    encode_delta(&header, &[(None, &player)], &[], &mut delta);
    cases.extend([
        case("delta_datagram", Message::ServerDatagram(ServerDatagram::Delta(delta))),
        case("snapshot_empty", Message::Snapshot(Snapshot::default())),
        case("snapshot_small", Message::Snapshot(small)),
        case("snapshot_big", Message::Snapshot(big)),
    ]);
    cases
}

fn datagram_invalid(cases: &[Case]) -> Vec<Invalid> {
    let bytes = |name: &str| {
        let case = cases.iter().find(|c| c.name == name).expect("a case of that name");
        super::unhex(&case.hex).expect("hex")
    };
    let one = bytes("input_one");
    let mut truncated = one.clone();
    truncated.pop();
    let mut trailing = one.clone();
    trailing.push(0);
    // Nine inputs of seq 1: one more than MAX_INPUTS_PER_DATAGRAM.
    let mut nine = vec![0, 0, 9];
    for _ in 0..9 {
        nine.extend_from_slice(&one[3..]);
    }
    let mut long = bytes("input_one");
    long.resize(MAX_DATAGRAM_LEN + 1, 0);
    // A naive snapshot announcing 1,025 players (MAX_LISTED_PLAYERS is 1,024): 251 + u16 LE.
    let players_1025 = vec![1, 0, 251, 0x01, 0x04];
    vec![
        invalid("input_unknown_variant", "ClientDatagram", vec![1, 0, 0], "Malformed"),
        invalid("input_truncated", "ClientDatagram", truncated, "Truncated"),
        invalid("input_trailing_byte", "ClientDatagram", trailing, "TrailingBytes"),
        invalid("input_nine", "ClientDatagram", nine, "Malformed"),
        invalid("input_1401_bytes", "ClientDatagram", long, "TooLarge"),
        invalid("server_unknown_variant", "ServerDatagram", vec![2, 0], "Malformed"),
        invalid("snapshot_1025_players", "Snapshot", players_1025, "Malformed"),
    ]
}

pub fn datagrams() -> String {
    let cases = datagram_cases();
    let invalid = datagram_invalid(&cases);
    json(&File {
        about: "Datagrams, both ways, and the naive full snapshot a `Snapshot` datagram part carries: `hex` is \
                the whole datagram (or, for type `Snapshot`, the reassembled snapshot), `value` the serde JSON of \
                the Rust value. Delta payloads are in deltas.json. `invalid`: bytes the codec refuses, with its \
                error. See vectors/README.md.",
        cases,
        invalid,
    })
}
