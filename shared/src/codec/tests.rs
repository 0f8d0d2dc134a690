//! Codec tests: every message round-trips, and every kind of bad input is a typed error.

use super::*;
use crate::arena::Arena;
use crate::math::Vec2;
use crate::protocol::*;
use crate::rules::{Input, PlayerState, buttons};

fn snapshot(players: u32) -> Snapshot {
    Snapshot {
        tick: 77,
        last_input_seq: 12,
        input_margin: None,
        players: (0..players)
            .map(|id| PlayerSnapshot {
                id,
                state: PlayerState::spawned(Vec2::new(id as f32, 2.5)),
                kills: id,
                deaths: 1,
            })
            .collect(),
        projectiles: vec![ProjectileSnapshot {
            id: 3,
            owner: 1,
            pos: Vec2::new(1.0, 2.0),
            vel: Vec2::new(-3.0, 0.5),
        }],
        health_packs: vec![],
    }
}

fn all_client_frames() -> Vec<ClientFrame> {
    vec![
        ClientFrame::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            name: "ada".into(),
            resume: None,
            room: Default::default(),
        }),
        ClientFrame::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            name: "ada".into(),
            resume: Some([1; 16]),
            room: RoomRequest::Code(RoomCode::from_indices([1, 2, 3, 4, 5])),
        }),
        ClientFrame::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            name: "ada".into(),
            resume: None,
            room: RoomRequest::Create {
                mode: Mode::Deathmatch,
                private: true,
            },
        }),
        ClientFrame::Chat { text: "gg ✓".into() },
        ClientFrame::ListRooms,
    ]
}

fn all_server_frames() -> Vec<ServerFrame> {
    vec![
        ServerFrame::Welcome(Welcome {
            player_id: 4,
            tick_rate: 60,
            snapshot_rate: 20,
            arena: Arena::standard(),
            session_token: [7; 16],
            room: RoomCode::from_indices([9, 8, 7, 6, 5]),
            map: "standard".into(),
            mode: Mode::Deathmatch,
        }),
        ServerFrame::Reject {
            reason: RejectReason::NoSuchRoom,
        },
        ServerFrame::Reject {
            reason: RejectReason::RoomFull,
        },
        ServerFrame::Reject {
            reason: RejectReason::TooManyRooms,
        },
        ServerFrame::Rooms(RoomList {
            rooms: vec![RoomInfo {
                code: RoomCode::from_indices([0, 1, 2, 3, 4]),
                map: "open-500".into(),
                mode: Mode::Deathmatch,
                players: 12,
                capacity: 16,
                state: MatchState {
                    phase: MatchPhase::Playing,
                    secs_left: 299,
                },
                join_in_progress: true,
            }],
        }),
        ServerFrame::Match(MatchState {
            phase: MatchPhase::WarmUp,
            secs_left: 20,
        }),
        ServerFrame::Results(Results {
            lines: vec![ResultLine {
                id: 3,
                kills: 25,
                deaths: 4,
            }],
            winner: Some(3),
        }),
        ServerFrame::Closing { secs: 30 },
        ServerFrame::Reject {
            reason: RejectReason::VersionMismatch { server: 9 },
        },
        ServerFrame::Reject {
            reason: RejectReason::Full,
        },
        ServerFrame::Reject {
            reason: RejectReason::BadName,
        },
        ServerFrame::Reject {
            reason: RejectReason::ShuttingDown,
        },
        ServerFrame::Chat {
            from: 2,
            text: "hello".into(),
        },
        ServerFrame::PlayerJoined {
            id: 5,
            name: "eve".into(),
        },
        ServerFrame::PlayerLeft { id: 5 },
        ServerFrame::Killed { killer: 1, victim: 2 },
        ServerFrame::Kick {
            reason: "malformed frame".into(),
        },
    ]
}

fn input_datagram(n: usize) -> ClientDatagram {
    ClientDatagram::Input(InputDatagram {
        ack_tick: 41,
        inputs: (0..n as u32)
            .map(|seq| Input {
                seq,
                move_x: -128,
                move_y: 127,
                aim: 1.5,
                buttons: buttons::FIRE,
            })
            .collect(),
    })
}

fn payload(frame_bytes: &[u8]) -> &[u8] {
    &frame_bytes[FRAME_HEADER_LEN..]
}

#[test]
fn every_message_round_trips() {
    for f in all_client_frames() {
        let bytes = encode_frame(&f).unwrap();
        assert_eq!(
            frame_payload_len([bytes[0], bytes[1]]).unwrap(),
            bytes.len() - FRAME_HEADER_LEN
        );
        assert_eq!(decode_client_frame(payload(&bytes)).unwrap(), f);
    }
    for f in all_server_frames() {
        let bytes = encode_frame(&f).unwrap();
        assert_eq!(decode_server_frame(payload(&bytes)).unwrap(), f);
    }
    let d = input_datagram(MAX_INPUTS_PER_DATAGRAM);
    assert_eq!(decode_client_datagram(&encode_datagram(&d).unwrap()).unwrap(), d);
    let d = ServerDatagram::Snapshot(SnapshotPart {
        tick: 1,
        index: 0,
        count: 2,
        bytes: vec![9; 1000],
    });
    assert_eq!(decode_server_datagram(&encode_datagram(&d).unwrap()).unwrap(), d);
    let s = snapshot(100);
    assert_eq!(decode_snapshot(&encode_snapshot(&s).unwrap()).unwrap(), s);
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = encode_snapshot(&snapshot(3)).unwrap();
    for cut in 0..bytes.len() {
        assert!(decode_snapshot(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let frame = encode_frame(&all_server_frames()[0]).unwrap();
    for cut in 0..frame.len() - FRAME_HEADER_LEN {
        assert!(decode_server_frame(&payload(&frame)[..cut]).is_err());
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = encode_datagram(&input_datagram(2)).unwrap();
    bytes.extend_from_slice(&[0, 0]);
    assert_eq!(
        decode_client_datagram(&bytes),
        Err(CodecError::TrailingBytes { extra: 2 })
    );
}

#[test]
fn unknown_variants_are_rejected() {
    // ClientFrame has two variants (0, 1): tag 7 is unknown.
    assert!(matches!(decode_client_frame(&[7, 0, 0]), Err(CodecError::Malformed(_))));
    assert!(matches!(decode_server_datagram(&[3]), Err(CodecError::Malformed(_))));
}

#[test]
fn a_huge_length_prefix_is_refused_by_the_limit() {
    // Chat { text } with a varint length of u64::MAX: 0xff marker then 8 bytes.
    let mut bytes = vec![1u8, 0xff];
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    assert!(decode_client_frame(&bytes).is_err());
    // A length just over the frame limit, with no bytes behind it.
    let mut bytes = vec![1u8, 0xfc];
    bytes.extend_from_slice(&(MAX_FRAME_LEN as u32 + 1).to_le_bytes());
    assert_eq!(decode_client_frame(&bytes), Err(CodecError::LimitExceeded));
}

#[test]
fn oversized_inputs_are_refused_before_decoding() {
    let big = vec![0u8; MAX_DATAGRAM_LEN + 1];
    assert_eq!(
        decode_client_datagram(&big),
        Err(CodecError::TooLarge {
            len: MAX_DATAGRAM_LEN + 1,
            limit: MAX_DATAGRAM_LEN
        })
    );
    assert!(matches!(
        frame_payload_len([0xff, 0xff]),
        Err(CodecError::TooLarge { .. })
    ));
    assert_eq!(frame_payload_len([0, 0]), Err(CodecError::EmptyFrame));
}

#[test]
fn too_many_inputs_is_invalid() {
    // A datagram holds at most the limit, so the longer one is written by hand: the variant, the ack and
    // the count take a byte each here, then inputs of eight bytes each; one more input, and a count to match.
    let full = encode_datagram(&input_datagram(MAX_INPUTS_PER_DATAGRAM)).unwrap();
    assert!(decode_client_datagram(&full).is_ok());
    let one = (full.len() - 3) / MAX_INPUTS_PER_DATAGRAM;
    assert_eq!((full[2], one), (MAX_INPUTS_PER_DATAGRAM as u8, 8));
    let mut over = full.clone();
    over[2] += 1;
    over.extend_from_slice(&full[full.len() - one..]);
    assert!(matches!(decode_client_datagram(&over), Err(CodecError::Malformed(_))));
}

#[test]
fn encoding_over_the_limit_is_an_error_not_a_panic() {
    let long = ClientFrame::Chat {
        text: "x".repeat(MAX_FRAME_LEN + 10),
    };
    assert!(matches!(encode_frame(&long), Err(CodecError::TooLarge { .. })));
}

#[test]
fn a_snapshot_built_from_a_shared_body_equals_the_whole_encoding() {
    let s = snapshot(20);
    let body = encode_snapshot_body(&s.players, &s.projectiles).unwrap();
    let bytes = encode_snapshot_from_body(s.tick, s.last_input_seq, &body).unwrap();
    assert_eq!(bytes, encode_snapshot(&s).unwrap());
    assert_eq!(decode_snapshot(&bytes).unwrap(), s);
}

#[test]
fn a_delta_prefix_and_its_payload_are_the_encoded_datagram() {
    // Every length a datagram can carry (one-byte lengths below 251, three-byte ones from there).
    for len in 0..=MAX_DATAGRAM_LEN - 4 {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let whole = encode_datagram(&ServerDatagram::Delta(payload.clone())).unwrap();
        let (prefix, n) = delta_datagram_prefix(len).unwrap();
        let mut built = prefix[..n].to_vec();
        built.extend_from_slice(&payload);
        assert_eq!(built, whole, "{len} bytes");
    }
    assert!(delta_datagram_prefix(MAX_DATAGRAM_LEN - 3).is_err());
}
