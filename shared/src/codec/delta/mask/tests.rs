//! The mask's wire form: the bytes of existing traffic, masks past one byte, and masks a decoder refuses.

use super::super::{CodecError, DeltaHeader, decode_delta, encode_delta, encode_update_body};
use super::*;
use crate::quant::QEntity;

const RATE: u16 = 60;

/// A full delta (tick 2, no baseline) carrying one update: `key`'s varint as its gap, then `body` as given.
fn one_update(key: u32, body: &[u8]) -> Vec<u8> {
    let mut out = vec![2, 0, 0, 0, 1];
    put_varint(&mut out, u64::from(key));
    out.extend_from_slice(body);
    out.push(0);
    out
}

fn shot() -> QEntity {
    QEntity {
        key: Kind::Projectile.key(5),
        x: 64,
        y: -64,
        vx: 128,
        vy: 0,
        owner: 3,
        ..QEntity::default()
    }
}

#[test]
fn a_new_projectile_keeps_a_one_byte_mask_and_its_field_bytes() {
    let mut body = vec![];
    encode_update_body(None, &shot(), &mut body);
    // NEW|POS|VEL with the owner implied, then zigzag x (128), y (127), vx (256), vy (0), then the owner.
    // The previous format wrote the same bytes but for the mask, 0x87 (its OWNER bit set in the same byte).
    assert_eq!(body, [0x07, 0x80, 0x01, 0x7f, 0x80, 0x02, 0x00, 0x03]);
    let (_, view) = decode_delta(&one_update(shot().key, &body), &[], RATE).unwrap();
    assert_eq!(view, [shot()]);
}

#[test]
fn player_masks_keep_their_bytes() {
    let base = QEntity {
        key: Kind::Player.key(7),
        x: 100,
        health: 100,
        ..QEntity::default()
    };
    let moved = QEntity { x: 101, vx: 2, ..base };
    let mut body = vec![];
    encode_update_body(Some(&base), &moved, &mut body);
    assert_eq!(
        body,
        [0x06, 0x02, 0x00, 0x04, 0x00],
        "POS|VEL: zigzag dx 1, dy 0, dvx 2, dvy 0"
    );
    body.clear();
    encode_update_body(None, &base, &mut body);
    assert_eq!(
        body,
        [0x13, 0xc8, 0x01, 0x00, 100],
        "NEW|POS|HEALTH, no owner for a player"
    );
}

#[test]
fn masks_past_bit_6_take_a_second_varint_byte() {
    for (m, bytes) in [
        (OWNER, &[0x80, 0x01][..]),
        (POS | 1 << 8, &[0x82, 0x02]),
        (1 << 13, &[0x80, 0x40]),
        (1 << 14, &[0x80, 0x80, 0x01]),
        (u32::MAX, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
    ] {
        let mut out = vec![];
        put(&mut out, m);
        assert_eq!(out, bytes, "{m:#x}");
        let mut at = 0;
        assert_eq!(take(&out, &mut at).unwrap(), m);
        assert_eq!(at, out.len());
    }
    // An owner change on a projectile that is not new (the game makes none): OWNER alone, two mask bytes.
    let base = shot();
    let predicted = base.predicted(1, RATE);
    let cur = QEntity { owner: 4, ..predicted };
    let mut bytes = vec![];
    let header = DeltaHeader {
        tick: 3,
        baseline_tick: 2,
        last_input_seq: 0,
        input_margin: None,
    };
    encode_delta(&header, &[(Some(&predicted), &cur)], &[], &mut bytes);
    assert!(
        bytes.ends_with(&[0x80, 0x01, 0x04, 0x00]),
        "mask, owner, no removals: {bytes:x?}"
    );
    let (_, view) = decode_delta(&bytes, &[base], RATE).unwrap();
    assert_eq!(view, [cur]);
}

#[test]
fn unknown_mask_bits_are_malformed() {
    let key = Kind::Player.key(1);
    for body in [
        &[0x82, 0x02, 0x02, 0x02][..],         // POS and bit 8
        &[0x81, 0x80, 0x80, 0x80, 0x08],       // NEW and bit 31
        &[0x81, 0x80, 0x80, 0x80, 0x80, 0x01], // NEW and bit 35: over 32 bits
    ] {
        let delta = one_update(key, body);
        assert!(
            matches!(decode_delta(&delta, &[], RATE), Err(CodecError::Malformed(_))),
            "{body:x?}"
        );
    }
    assert!(from_wire(KNOWN, Kind::Player).is_ok());
    assert!(from_wire(KNOWN + 1, Kind::Player).is_err());
}

#[test]
fn a_new_projectile_without_its_owner_is_truncated() {
    // The fields up to the velocity, then the end of the input: the implied owner is still expected.
    let mut delta = vec![2, 0, 0, 0, 1];
    put_varint(&mut delta, u64::from(shot().key));
    delta.extend_from_slice(&[0x07, 0x80, 0x01, 0x7f, 0x80, 0x02, 0x00]);
    assert_eq!(decode_delta(&delta, &[], RATE), Err(CodecError::Truncated));
    // The same with the removal count after it: read as the owner, the count itself is then missing.
    delta.push(0);
    assert_eq!(decode_delta(&delta, &[], RATE), Err(CodecError::Truncated));
    // A new player has no implied owner: its update ends with its fields.
    let player = one_update(Kind::Player.key(5), &[0x01]);
    assert!(decode_delta(&player, &[], RATE).is_ok());
}
