//! The deltas a client must refuse (`invalid` in `deltas.json`): each made from the script's views, with the
//! error the client library gives (its ring when it holds no view of the baseline, else `decode_delta`).

use super::delta_json::view_json;
use super::deltas::{Invalid, Script, TICK_RATE};
use super::hex;
use arena_client::views::ViewRing;
use arena_shared::codec::CodecError;
use arena_shared::codec::delta::{decode_delta, delta_header};
use arena_shared::quant::QEntity;

fn bad(name: &'static str, payload: Vec<u8>, baseline: Option<(u32, &[QEntity])>, error: &'static str) -> Invalid {
    let header = delta_header(&payload);
    let got = match (baseline, header) {
        (None, Ok(h)) if h.baseline_tick != 0 => {
            // A client that holds no view of the baseline: the library's ring says so.
            let mut ring = ViewRing::new(TICK_RATE);
            match ring.apply(&payload) {
                Err(arena_client::views::ViewError::MissingBaseline(_)) => Err("MissingBaseline"),
                Err(arena_client::views::ViewError::Codec(e)) => Err(super::messages::error_name(&e)),
                Ok(_) => Ok(()),
            }
        }
        (b, _) => decode_delta(&payload, b.map_or(&[][..], |(_, v)| v), TICK_RATE)
            .map(|_| ())
            .map_err(|e: CodecError| super::messages::error_name(&e)),
    };
    assert_eq!(got, Err(error), "{name}");
    Invalid {
        name,
        payload_hex: hex(&payload),
        baseline: baseline.map(|(tick, v)| view_json(tick, v)),
        error,
    }
}

/// Deltas a client must refuse, made from the script's views.
pub fn invalid(s: &Script) -> Vec<Invalid> {
    let later = s
        .steps
        .iter()
        .find(|st| st.header.baseline_tick != 0)
        .expect("a delta with a baseline");
    let later_payload = super::unhex(&later.payload_hex).expect("hex");
    let base_tick = later.header.baseline_tick;
    let base = s.me.views.get(&base_tick).expect("held").clone();
    let mut trailing = later_payload.clone();
    trailing.push(0);
    let mut truncated = later_payload.clone();
    truncated.pop();
    // tick 9, baseline 0, seq 0, no margin; one update of key 1 (a player), then no removals.
    let update = |body: &[u8]| {
        let mut d = vec![9, 0, 0, 0, 1, 1];
        d.extend_from_slice(body);
        d.push(0);
        d
    };
    vec![
        bad("baseline_not_held", later_payload.clone(), None, "MissingBaseline"),
        bad("trailing_byte", trailing, Some((base_tick, &base)), "TrailingBytes"),
        bad("truncated", truncated, Some((base_tick, &base)), "Truncated"),
        // Baseline 9 for tick 9: a baseline must be older than the delta.
        bad(
            "baseline_not_older",
            vec![9, 9, 0, 0, 0, 0],
            Some((9, &[])),
            "Malformed",
        ),
        bad("unknown_mask_bit", update(&[0x82, 0x02, 0, 0]), None, "Malformed"),
        // Not new (no NEW bit) and not in the (empty) baseline.
        bad("update_of_an_unknown_entity", update(&[0x02, 0, 0]), None, "Malformed"),
        // 1,401 updates announced (MAX_DELTA_ENTRIES is 1,400): refused from the count.
        bad("too_many_updates", vec![9, 0, 0, 0, 0xf9, 0x0a], None, "LimitExceeded"),
        // A varint of eleven bytes.
        bad("varint_over_64_bits", vec![0xff; 11], None, "Malformed"),
        // A key gap past u32: key 2^32.
        bad(
            "key_over_32_bits",
            vec![9, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 0x01, 0],
            None,
            "Malformed",
        ),
        // A new player at x = 2^31 (zigzag 2^32): past i32.
        bad(
            "coordinate_out_of_range",
            update(&[0x03, 0x80, 0x80, 0x80, 0x80, 0x10, 0]),
            None,
            "Malformed",
        ),
        // A new player whose cooldown is 65,536: past u16.
        bad(
            "timer_over_16_bits",
            update(&[0x21, 0x80, 0x80, 0x04, 0]),
            None,
            "Malformed",
        ),
        // A margin of -32,769 (zigzag 65,537, plus one): past i16.
        bad(
            "margin_over_16_bits",
            vec![9, 0, 0, 0x82, 0x80, 0x04, 0, 0],
            None,
            "Malformed",
        ),
    ]
}
