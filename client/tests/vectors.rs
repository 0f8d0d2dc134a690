//! The wire test vectors (`vectors/` at the workspace root) against the Rust codec, the client library and
//! the rules: every file must be exactly what the generator writes today, and every case must decode,
//! encode, replay and predict as the file says, read from the file alone (as the JavaScript client's tests
//! read it). Regenerate with `cargo run -p arena-client --example make_vectors`.

#[path = "vectors/generate/mod.rs"]
mod generate;
#[path = "vectors/rules_check.rs"]
mod rules_check;

use arena_client::views::{ViewError, ViewRing};
use arena_shared::codec;
use arena_shared::codec::delta::{decode_delta, delta_header};
use arena_shared::protocol::{
    ClientDatagram, ClientFrame, MatchPhase, RejectReason, RoomRequest, ServerDatagram, ServerFrame, Snapshot,
};
use arena_shared::quant::QEntity;
use generate::messages::{Message, decode_as, error_name};
use generate::{delta_json, unhex};
use serde_json::Value;
use std::path::PathBuf;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

fn read(name: &str) -> String {
    let path = vectors_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn load(name: &str) -> Value {
    serde_json::from_str(&read(name)).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn bytes(case: &Value, field: &str) -> Vec<u8> {
    let text = case[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is a string: {case}"));
    unhex(text).unwrap_or_else(|| panic!("{field} is hex: {text}"))
}

fn name(case: &Value) -> &str {
    case["name"].as_str().expect("every case has a name")
}

/// A value as the generator writes it (typed, so an `f32` is its shortest form), read back as JSON.
fn as_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::from_str(&serde_json::to_string(value).expect("serializes")).expect("JSON")
}

#[test]
fn the_files_are_what_the_generator_writes() {
    for (file, expected) in generate::files() {
        let found = read(file);
        if found != expected {
            let line = found
                .lines()
                .zip(expected.lines())
                .position(|(a, b)| a != b)
                .map_or_else(|| "its length".to_owned(), |i| format!("line {}", i + 1));
            panic!(
                "vectors/{file} differs from what the codec writes now (first at {line}). If the wire format or the \
                 rules changed on purpose, run `cargo run -p arena-client --example make_vectors`, bump \
                 PROTOCOL_VERSION if old clients cannot read it, and update docs/PROTOCOL.md."
            );
        }
    }
}

/// The value of a case as its Rust type, read with serde_json; `None` for a type serde_json cannot read
/// back (a byte buffer inside a `ServerDatagram`: the codec's byte-buffer visitor takes bytes, not a JSON
/// array), whose encoding is then checked from the decoded value.
fn typed(type_name: &str, value: &Value) -> Option<Message> {
    let v = value.clone();
    match type_name {
        "ClientFrame" => Some(Message::ClientFrame(
            serde_json::from_value::<ClientFrame>(v).expect("a ClientFrame"),
        )),
        "ServerFrame" => Some(Message::ServerFrame(
            serde_json::from_value::<ServerFrame>(v).expect("a ServerFrame"),
        )),
        "ClientDatagram" => Some(Message::ClientDatagram(
            serde_json::from_value::<ClientDatagram>(v).expect("a ClientDatagram"),
        )),
        "ServerDatagram" => serde_json::from_value::<ServerDatagram>(v)
            .ok()
            .map(Message::ServerDatagram),
        "Snapshot" => Some(Message::Snapshot(
            serde_json::from_value::<Snapshot>(v).expect("a Snapshot"),
        )),
        other => panic!("unknown type {other}"),
    }
}

fn encode(message: &Message) -> Vec<u8> {
    match message {
        Message::ClientFrame(f) => codec::encode::<_, { arena_shared::protocol::MAX_FRAME_LEN }>(f),
        Message::ServerFrame(f) => codec::encode::<_, { arena_shared::protocol::MAX_FRAME_LEN }>(f),
        Message::ClientDatagram(d) => codec::encode_datagram(d),
        Message::ServerDatagram(d) => codec::encode_datagram(d),
        Message::Snapshot(s) => codec::encode_snapshot(s),
    }
    .expect("encodes")
}

fn check_messages(file: &str) {
    let doc = load(file);
    let cases = doc["cases"].as_array().expect("cases");
    for case in cases {
        let (name, type_name) = (name(case), case["type"].as_str().expect("a type"));
        let payload = bytes(case, "hex");
        let decoded = decode_as(type_name, &payload).unwrap_or_else(|e| panic!("{file} {name}: {e}"));
        assert_eq!(as_json(&decoded), case["value"], "{file} {name}: decoded value");
        assert_eq!(encode(&decoded), payload, "{file} {name}: re-encoded");
        match typed(type_name, &case["value"]) {
            Some(value) => {
                assert_eq!(value, decoded, "{file} {name}: the JSON value is the decoded one");
                assert_eq!(
                    encode(&value),
                    payload,
                    "{file} {name}: the JSON value encodes to the bytes"
                );
            }
            None => assert_eq!(
                type_name, "ServerDatagram",
                "{file} {name}: only byte buffers are not read back"
            ),
        }
        if let Some(framed) = case.get("framed_hex") {
            let framed = unhex(framed.as_str().expect("hex")).expect("hex");
            let header = [framed[0], framed[1]];
            assert_eq!(
                codec::frame_payload_len(header),
                Ok(payload.len()),
                "{file} {name}: length prefix"
            );
            assert_eq!(&framed[2..], &payload[..], "{file} {name}: framed payload");
            let frame = match &decoded {
                Message::ClientFrame(f) => codec::encode_frame(f),
                Message::ServerFrame(f) => codec::encode_frame(f),
                _ => panic!("{file} {name}: only frames are framed"),
            };
            assert_eq!(frame, Ok(framed), "{file} {name}: framed bytes");
        }
    }
    for case in doc["invalid"].as_array().expect("invalid") {
        let (name, type_name) = (name(case), case["type"].as_str().expect("a type"));
        let got = decode_as(type_name, &bytes(case, "hex")).map(|_| ());
        assert_eq!(
            got,
            Err(case["error"].as_str().expect("an error")),
            "{file} invalid {name}"
        );
    }
}

/// Which variants of each enum the cases of `file` cover, as `(enum, variant index)`. The matches are
/// exhaustive: a new variant does not compile here until it is counted, and then fails the coverage check
/// until the generator has a vector of it.
fn variants(file: &str) -> std::collections::BTreeSet<(&'static str, usize)> {
    let doc = load(file);
    let mut seen = std::collections::BTreeSet::new();
    for case in doc["cases"].as_array().expect("cases") {
        let type_name = case["type"].as_str().expect("a type");
        let Ok(message) = decode_as(type_name, &bytes(case, "hex")) else {
            continue;
        };
        match message {
            Message::ClientFrame(f) => {
                seen.insert((
                    "ClientFrame",
                    match &f {
                        ClientFrame::Hello(_) => 0,
                        ClientFrame::Chat { .. } => 1,
                        ClientFrame::ListRooms => 2,
                    },
                ));
                if let ClientFrame::Hello(h) = f {
                    seen.insert((
                        "RoomRequest",
                        match h.room {
                            RoomRequest::Quick { .. } => 0,
                            RoomRequest::Code(_) => 1,
                            RoomRequest::Create { private: false, .. } => 2,
                            RoomRequest::Create { private: true, .. } => 3,
                        },
                    ));
                    seen.insert(("resume", usize::from(h.resume.is_some())));
                }
            }
            Message::ServerFrame(f) => {
                let index = match &f {
                    ServerFrame::Welcome(_) => 0,
                    ServerFrame::Reject { .. } => 1,
                    ServerFrame::Chat { .. } => 2,
                    ServerFrame::PlayerJoined { .. } => 3,
                    ServerFrame::PlayerLeft { .. } => 4,
                    ServerFrame::Killed { .. } => 5,
                    ServerFrame::Kick { .. } => 6,
                    ServerFrame::Rooms(_) => 7,
                    ServerFrame::Match(_) => 8,
                    ServerFrame::Results(_) => 9,
                    ServerFrame::Closing { .. } => 10,
                    ServerFrame::Notice { .. } => 11,
                };
                seen.insert(("ServerFrame", index));
                match f {
                    ServerFrame::Reject { reason } => {
                        let index = match reason {
                            RejectReason::VersionMismatch { .. } => 0,
                            RejectReason::Full => 1,
                            RejectReason::BadName => 2,
                            RejectReason::ShuttingDown => 3,
                            RejectReason::NoSuchRoom => 4,
                            RejectReason::RoomFull => 5,
                            RejectReason::TooManyRooms => 6,
                        };
                        seen.insert(("RejectReason", index));
                    }
                    ServerFrame::Match(state) => {
                        let index = match state.phase {
                            MatchPhase::WarmUp => 0,
                            MatchPhase::Playing => 1,
                            MatchPhase::Results => 2,
                        };
                        seen.insert(("MatchPhase", index));
                    }
                    _ => {}
                }
            }
            Message::ClientDatagram(ClientDatagram::Input(_)) => {
                seen.insert(("ClientDatagram", 0));
            }
            Message::ServerDatagram(d) => {
                let index = match d {
                    ServerDatagram::Snapshot(_) => 0,
                    ServerDatagram::Delta(_) => 1,
                };
                seen.insert(("ServerDatagram", index));
            }
            Message::Snapshot(_) => {
                seen.insert(("Snapshot", 0));
            }
        }
    }
    seen
}

/// Every `(enum, variant)` of `counts` (an enum and how many variants it has) is among `seen`.
fn assert_covered(file: &str, counts: &[(&'static str, usize)]) {
    let seen = variants(file);
    for &(name, n) in counts {
        for i in 0..n {
            assert!(seen.contains(&(name, i)), "{file} has no case of {name} variant {i}");
        }
    }
}

#[test]
fn frames_decode_and_encode_as_the_vectors_say() {
    check_messages("frames.json");
    let counts = [
        ("ClientFrame", 3),
        ("RoomRequest", 4),
        ("resume", 2),
        ("ServerFrame", 12),
        ("RejectReason", 7),
        ("MatchPhase", 3),
    ];
    assert_covered("frames.json", &counts);
}

#[test]
fn datagrams_decode_and_encode_as_the_vectors_say() {
    check_messages("datagrams.json");
    assert_covered(
        "datagrams.json",
        &[("ClientDatagram", 1), ("ServerDatagram", 2), ("Snapshot", 1)],
    );
}

fn int(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} is an integer: {v}"))
}

/// An entity of a view, from its JSON.
fn entity(v: &Value) -> QEntity {
    let e = QEntity {
        key: int(v, "key") as u32,
        x: int(v, "x") as i32,
        y: int(v, "y") as i32,
        vx: int(v, "vx") as i32,
        vy: int(v, "vy") as i32,
        aim: int(v, "aim") as u16,
        health: int(v, "health") as u8,
        cooldown: int(v, "cooldown") as u16,
        respawn: int(v, "respawn") as u16,
        kills: int(v, "kills") as u32,
        deaths: int(v, "deaths") as u32,
        owner: int(v, "owner") as u32,
    };
    assert_eq!(
        as_json(&delta_json::EntityJson::of(&e)),
        *v,
        "the entity's JSON is consistent (kind, id)"
    );
    e
}

fn view(v: &Value) -> (u32, Vec<QEntity>) {
    let entities = v["entities"].as_array().expect("entities").iter().map(entity).collect();
    (int(v, "tick") as u32, entities)
}

#[test]
fn deltas_replay_as_the_vectors_say() {
    let doc = load("deltas.json");
    let tick_rate = int(&doc, "tick_rate") as u16;
    let mut ring = ViewRing::new(tick_rate);
    let mut held = std::collections::BTreeMap::new();
    let steps = doc["steps"].as_array().expect("steps");
    for step in steps {
        let name = name(step);
        let payload = bytes(step, "payload_hex");
        assert_eq!(
            codec::decode_server_datagram(&bytes(step, "hex")),
            Ok(ServerDatagram::Delta(payload.clone())),
            "{name}: the datagram carries the payload"
        );
        let header = delta_header(&payload).expect("a header");
        assert_eq!(
            as_json(&delta_json::header_json(&header)),
            step["header"],
            "{name}: header"
        );
        let applied = ring.apply(&payload).unwrap_or_else(|e| panic!("{name}: {e}"));
        match step["result"].as_str() {
            Some("late") => assert_eq!(applied, None, "{name}: ignored as late"),
            Some("applied") => {
                let snapshot = applied.unwrap_or_else(|| panic!("{name}: applied"));
                assert_eq!(
                    as_json(&delta_json::snapshot_json(&snapshot)),
                    step["snapshot"],
                    "{name}: snapshot"
                );
                // The same from the file alone: the baseline it gives, decoded by hand.
                let baseline = match &step["baseline"] {
                    Value::Null => (0, vec![]),
                    b => view(b),
                };
                assert_eq!(baseline.0, header.baseline_tick, "{name}: the baseline's tick");
                if baseline.0 != 0 {
                    assert_eq!(
                        held.get(&baseline.0),
                        Some(&baseline.1),
                        "{name}: the baseline is a view received"
                    );
                }
                let (_, rebuilt) = decode_delta(&payload, &baseline.1, tick_rate).expect("decodes");
                let (tick, expected) = view(&step["view"]);
                assert_eq!((tick, &rebuilt), (header.tick, &expected), "{name}: view");
                held.insert(tick, rebuilt);
            }
            other => panic!("{name}: result {other:?}"),
        }
        assert_eq!(
            ring.newest_tick().map_or(0, u64::from),
            step["ack"].as_u64().expect("ack"),
            "{name}: ack"
        );
    }
    for case in doc["invalid"].as_array().expect("invalid") {
        let name = name(case);
        let payload = bytes(case, "payload_hex");
        let got = match &case["baseline"] {
            Value::Null if delta_header(&payload).is_ok_and(|h| h.baseline_tick != 0) => {
                match ViewRing::new(tick_rate).apply(&payload) {
                    Err(ViewError::MissingBaseline(_)) => Err("MissingBaseline"),
                    Err(ViewError::Codec(e)) => Err(error_name(&e)),
                    Ok(_) => Ok(()),
                }
            }
            Value::Null => decode_delta(&payload, &[], tick_rate)
                .map(|_| ())
                .map_err(|e| error_name(&e)),
            b => decode_delta(&payload, &view(b).1, tick_rate)
                .map(|_| ())
                .map_err(|e| error_name(&e)),
        };
        assert_eq!(
            got,
            Err(case["error"].as_str().expect("an error")),
            "invalid delta {name}"
        );
    }
    assert!(steps.len() >= 20, "{} delta steps", steps.len());
}
