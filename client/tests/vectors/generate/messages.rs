//! `frames.json`: every control frame both ways, encoded by the codec, with the bytes a decoder must refuse;
//! the message types and helpers `datagrams.rs` shares.

use super::{hex, json};
use arena_shared::Vec2;
use arena_shared::arena::{Arena, Wall};
use arena_shared::codec::{self, CodecError};
use arena_shared::protocol::{
    ClientDatagram, ClientFrame, Hello, MatchPhase, MatchState, Mode, PROTOCOL_VERSION, RejectReason, ResultLine,
    Results, RoomCode, RoomInfo, RoomList, RoomRequest, ServerDatagram, ServerFrame, Snapshot, Welcome,
};
use serde::Serialize;

/// A message of any kind the vectors hold, written as its own JSON (untagged: the value alone).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Message {
    ClientFrame(ClientFrame),
    ServerFrame(ServerFrame),
    ClientDatagram(ClientDatagram),
    ServerDatagram(ServerDatagram),
    Snapshot(Snapshot),
}

impl Message {
    fn type_name(&self) -> &'static str {
        match self {
            Self::ClientFrame(_) => "ClientFrame",
            Self::ServerFrame(_) => "ServerFrame",
            Self::ClientDatagram(_) => "ClientDatagram",
            Self::ServerDatagram(_) => "ServerDatagram",
            Self::Snapshot(_) => "Snapshot",
        }
    }

    /// The payload bytes (a frame without its length prefix), and for a frame the framed bytes too.
    fn encode(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let framed = |f: Result<Vec<u8>, CodecError>| {
            let framed = f.expect("every vector encodes");
            (framed[2..].to_vec(), Some(framed))
        };
        let plain = |b: Result<Vec<u8>, CodecError>| (b.expect("every vector encodes"), None);
        match self {
            Self::ClientFrame(f) => framed(codec::encode_frame(f)),
            Self::ServerFrame(f) => framed(codec::encode_frame(f)),
            Self::ClientDatagram(d) => plain(codec::encode_datagram(d)),
            Self::ServerDatagram(d) => plain(codec::encode_datagram(d)),
            Self::Snapshot(s) => plain(codec::encode_snapshot(s)),
        }
    }
}

/// What the codec says of `bytes` read as `type_name`: `Ok` or the error's variant name.
pub fn decode_as(type_name: &str, bytes: &[u8]) -> Result<Message, &'static str> {
    let name = |e: CodecError| error_name(&e);
    match type_name {
        "ClientFrame" => codec::decode_client_frame(bytes)
            .map(Message::ClientFrame)
            .map_err(name),
        "ServerFrame" => codec::decode_server_frame(bytes)
            .map(Message::ServerFrame)
            .map_err(name),
        "ClientDatagram" => codec::decode_client_datagram(bytes)
            .map(Message::ClientDatagram)
            .map_err(name),
        "ServerDatagram" => codec::decode_server_datagram(bytes)
            .map(Message::ServerDatagram)
            .map_err(name),
        "Snapshot" => codec::decode_snapshot(bytes).map(Message::Snapshot).map_err(name),
        "FrameHeader" => match <[u8; 2]>::try_from(bytes) {
            Ok(header) => codec::frame_payload_len(header).map_err(name).and(Err("NotAnError")),
            Err(_) => Err("NotAHeader"),
        },
        _ => Err("UnknownType"),
    }
}

/// The name of a codec error's variant, as the vectors write it.
pub fn error_name(e: &CodecError) -> &'static str {
    match e {
        CodecError::TooLarge { .. } => "TooLarge",
        CodecError::LimitExceeded => "LimitExceeded",
        CodecError::Truncated => "Truncated",
        CodecError::TrailingBytes { .. } => "TrailingBytes",
        CodecError::EmptyFrame => "EmptyFrame",
        CodecError::Malformed(_) => "Malformed",
        CodecError::Encode(_) => "Encode",
    }
}

/// One valid message: its bytes and its value.
#[derive(Serialize)]
pub struct Case {
    pub name: String,
    #[serde(rename = "type")]
    type_name: &'static str,
    pub hex: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    framed_hex: Option<String>,
    value: Message,
}

/// Bytes a decoder must refuse, and the codec's error for them.
#[derive(Serialize)]
pub struct Invalid {
    name: &'static str,
    #[serde(rename = "type")]
    type_name: &'static str,
    hex: String,
    error: &'static str,
}

#[derive(Serialize)]
pub struct File {
    pub about: &'static str,
    pub cases: Vec<Case>,
    pub invalid: Vec<Invalid>,
}

pub fn case(name: &str, value: Message) -> Case {
    let (payload, framed) = value.encode();
    assert_eq!(
        decode_as(value.type_name(), &payload).as_ref(),
        Ok(&value),
        "{name} decodes to itself"
    );
    Case {
        name: name.to_owned(),
        type_name: value.type_name(),
        hex: hex(&payload),
        framed_hex: framed.map(|f| hex(&f)),
        value,
    }
}

/// A refusal case; the codec must refuse `bytes` with `error` (checked here, so the file never says otherwise).
pub fn invalid(name: &'static str, type_name: &'static str, bytes: Vec<u8>, error: &'static str) -> Invalid {
    let got = decode_as(type_name, &bytes).map(|_| ());
    assert_eq!(got, Err(error), "{name}");
    Invalid {
        name,
        type_name,
        hex: hex(&bytes),
        error,
    }
}

fn code(text: &str) -> RoomCode {
    RoomCode::parse(text).expect("a valid room code")
}

fn hello(name: &str, resume: Option<[u8; 16]>, room: RoomRequest) -> Message {
    Message::ClientFrame(ClientFrame::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        name: name.into(),
        resume,
        room,
    }))
}

fn client_chat(text: &str) -> Message {
    Message::ClientFrame(ClientFrame::Chat { text: text.into() })
}

fn server(frame: ServerFrame) -> Message {
    Message::ServerFrame(frame)
}

/// A map small enough to read in the bytes: one wall, two spawn points, one health pack.
pub fn small_map() -> Arena {
    Arena {
        width: 20.0,
        height: 10.0,
        walls: vec![Wall::new(8.0, 4.0, 12.0, 6.0)],
        spawn_points: vec![Vec2::new(2.0, 5.0), Vec2::new(18.0, 5.0)],
        health_packs: vec![Vec2::new(10.0, 2.0)],
    }
}

fn room(code_text: &str, map: &str, players: u16, phase: MatchPhase, secs_left: u16) -> RoomInfo {
    RoomInfo {
        code: code(code_text),
        map: map.into(),
        mode: Mode::Deathmatch,
        players,
        capacity: 16,
        state: MatchState { phase, secs_left },
        join_in_progress: true,
    }
}

fn frame_cases() -> Vec<Case> {
    let quick = RoomRequest::Quick { mode: Mode::Deathmatch };
    let token: [u8; 16] = std::array::from_fn(|i| i as u8 * 17);
    // 200 characters and 251 bytes: within the chat limit, past the one-byte length.
    let long_chat = format!("{}{}", "é".repeat(51), "x".repeat(149));
    let mut cases = vec![
        case("hello_quick", hello("ada", None, quick.clone())),
        case("hello_code", hello("bob", None, RoomRequest::Code(code("ABC23")))),
        case(
            "hello_create_public",
            hello(
                "cy",
                None,
                RoomRequest::Create {
                    mode: Mode::Deathmatch,
                    private: false,
                },
            ),
        ),
        case(
            "hello_create_private",
            hello(
                "cy",
                None,
                RoomRequest::Create {
                    mode: Mode::Deathmatch,
                    private: true,
                },
            ),
        ),
        case(
            "hello_resume",
            hello("ada", Some(token), RoomRequest::Code(code("K7M2Q"))),
        ),
        case("hello_unicode_name", hello("Zoë 🎮 界", None, quick.clone())),
        case("hello_empty_name", hello("", None, quick.clone())),
    ];
    for (name, version) in [("hello_version_251", 251), ("hello_version_65535", u16::MAX)] {
        let frame = ClientFrame::Hello(Hello {
            protocol_version: version,
            name: "old".into(),
            resume: None,
            room: quick.clone(),
        });
        cases.push(case(name, Message::ClientFrame(frame)));
    }
    cases.extend([
        case("chat", client_chat("gg")),
        case("chat_empty", client_chat("")),
        case("chat_250_bytes", client_chat(&"x".repeat(250))),
        case("chat_251_bytes", client_chat(&long_chat)),
        case("chat_unicode", client_chat("héllo 👋 世界")),
        case("list_rooms", Message::ClientFrame(ClientFrame::ListRooms)),
    ]);

    let welcome = |player_id, snapshot_rate, arena, map: &str| {
        server(ServerFrame::Welcome(Welcome {
            player_id,
            tick_rate: 60,
            snapshot_rate,
            arena,
            session_token: token,
            room: code("ABC23"),
            map: map.into(),
            mode: Mode::Deathmatch,
        }))
    };
    cases.extend([
        case("welcome_small_map", welcome(1, 60, small_map(), "tiny")),
        case("welcome_standard_map", welcome(251, 20, Arena::standard(), "standard")),
    ]);
    let reasons = [
        (
            "reject_version_mismatch",
            RejectReason::VersionMismatch {
                server: PROTOCOL_VERSION,
            },
        ),
        ("reject_full", RejectReason::Full),
        ("reject_bad_name", RejectReason::BadName),
        ("reject_shutting_down", RejectReason::ShuttingDown),
        ("reject_no_such_room", RejectReason::NoSuchRoom),
        ("reject_room_full", RejectReason::RoomFull),
        ("reject_too_many_rooms", RejectReason::TooManyRooms),
    ];
    for (name, reason) in reasons {
        cases.push(case(name, server(ServerFrame::Reject { reason })));
    }
    cases.push(case(
        "chat_from",
        server(ServerFrame::Chat {
            from: 1,
            text: "gg".into(),
        }),
    ));
    // Where a u32's varint grows: 250 is one byte, 251 three, 65535 three, 65536 five.
    for (name, from) in [
        ("chat_from_250", 250),
        ("chat_from_251", 251),
        ("chat_from_65535", 65_535),
        ("chat_from_65536", 65_536),
        ("chat_from_u32_max", u32::MAX),
    ] {
        let text = "hi".into();
        cases.push(case(name, server(ServerFrame::Chat { from, text })));
    }
    let rooms = RoomList {
        rooms: vec![
            room("ABC23", "standard", 5, MatchPhase::Playing, 251),
            room("XYZ89", "warehouse", 0, MatchPhase::WarmUp, 0),
        ],
    };
    let results = Results {
        lines: vec![
            ResultLine {
                id: 3,
                kills: 25,
                deaths: 4,
            },
            ResultLine {
                id: 1,
                kills: 12,
                deaths: 9,
            },
        ],
        winner: Some(3),
    };
    let tie = Results {
        lines: vec![
            ResultLine {
                id: 1,
                kills: 2,
                deaths: 0,
            },
            ResultLine {
                id: 2,
                kills: 2,
                deaths: 0,
            },
        ],
        winner: None,
    };
    let phase = |phase, secs_left| server(ServerFrame::Match(MatchState { phase, secs_left }));
    cases.extend([
        case(
            "player_joined",
            server(ServerFrame::PlayerJoined {
                id: 1,
                name: "ada".into(),
            }),
        ),
        case(
            "player_joined_unicode",
            server(ServerFrame::PlayerJoined {
                id: 300,
                name: "Zoë 🎮 界".into(),
            }),
        ),
        case("player_left", server(ServerFrame::PlayerLeft { id: 7 })),
        case("killed", server(ServerFrame::Killed { killer: 3, victim: 1 })),
        case(
            "kick",
            server(ServerFrame::Kick {
                reason: "kicked by an operator: spamming".into(),
            }),
        ),
        case("rooms_none", server(ServerFrame::Rooms(RoomList::default()))),
        case("rooms_two", server(ServerFrame::Rooms(rooms))),
        case("match_warm_up", phase(MatchPhase::WarmUp, 0)),
        case("match_playing", phase(MatchPhase::Playing, 300)),
        case("match_results", phase(MatchPhase::Results, 10)),
        case("results_winner", server(ServerFrame::Results(results))),
        case("results_tie", server(ServerFrame::Results(tie))),
        case("results_empty", server(ServerFrame::Results(Results::default()))),
        case("closing", server(ServerFrame::Closing { secs: 30 })),
        case("closing_65535", server(ServerFrame::Closing { secs: u16::MAX })),
        case(
            "notice",
            server(ServerFrame::Notice {
                text: "the server restarts in 5 minutes".into(),
            }),
        ),
        // 200 characters of 3 bytes: the longest notice, its length a varint of 3 bytes.
        case(
            "notice_600_bytes",
            server(ServerFrame::Notice {
                text: "界".repeat(200)
            }),
        ),
    ]);
    cases
}

pub fn frames() -> String {
    let cases = frame_cases();
    let invalid = super::frame_refusals::frame_invalid(&cases);
    json(&File {
        about: "Control frames, both ways: `hex` is the bincode payload, `framed_hex` the same with its 2-byte \
                big-endian length prefix, `value` the serde JSON of the Rust value. `invalid`: payloads (or frame \
                headers) the codec refuses, with its error. See vectors/README.md.",
        cases,
        invalid,
    })
}
