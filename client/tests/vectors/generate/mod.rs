//! The test vectors' generator: every file of `vectors/` made from the Rust codec, the server's replication
//! and the client library, in memory. `examples/make_vectors.rs` writes them; `tests/vectors.rs` makes them
//! again and compares, so a change of the wire format or the rules cannot leave the files (and the JavaScript
//! client tested against them) behind.
//!
//! Deterministic by construction: fixed inputs, a seeded simulation on one thread, session tokens from a
//! counter, and JSON written from typed values (no map with a random order).

pub mod datagrams;
pub mod delta_json;
pub mod deltas;
pub mod frame_refusals;
pub mod messages;
pub mod refusals;
pub mod rules;

use serde::Serialize;

/// The generated files: their names in `vectors/` and their contents.
pub fn files() -> Vec<(&'static str, String)> {
    vec![
        ("frames.json", messages::frames()),
        ("datagrams.json", datagrams::datagrams()),
        ("deltas.json", deltas::deltas()),
        ("rules.json", rules::rules()),
    ]
}

/// Lowercase hex, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lowercase or uppercase hex; `None` when it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Pretty JSON of a typed value, with a final newline. Typed, not through `serde_json::Value`: an `f32` is
/// then written as its shortest round-trip form (`0.1`), not as the `f64` it widens to (`0.10000000149011612`).
pub fn json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("the vectors are plain data");
    text.push('\n');
    text
}
