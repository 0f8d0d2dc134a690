//! Delta round trips: the receiver's rebuilt view always equals the sender's, under any loss pattern.

use super::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const RATE: u16 = 60;

/// What a sender would write for `cur` against `base` (both sorted by key): every entity whose state differs
/// from the prediction, and the removed keys.
fn delta(header: DeltaHeader, base: &[QEntity], cur: &[QEntity]) -> Vec<u8> {
    let ticks = header.tick - header.baseline_tick;
    let predicted: Vec<QEntity> = base.iter().map(|b| b.predicted(ticks, RATE)).collect();
    let find = |key: u32| predicted.iter().find(|p| p.key == key);
    let updates: Vec<Update<'_>> = cur
        .iter()
        .map(|c| (find(c.key), c))
        .filter(|(b, c)| diff_mask(*b, c) != 0)
        .collect();
    let removed: Vec<u32> = base
        .iter()
        .map(|b| b.key)
        .filter(|k| !cur.iter().any(|c| c.key == *k))
        .collect();
    let mut out = vec![];
    encode_delta(&header, &updates, &removed, &mut out);
    out
}

/// A random world step: entities move (some at constant velocity), turn, lose health, appear and vanish.
fn step(world: &mut Vec<QEntity>, rng: &mut StdRng, next_key: &mut u32) {
    for e in world.iter_mut() {
        *e = e.predicted(1, RATE);
        if rng.random_bool(0.3) {
            e.vx += rng.random_range(-40..=40);
            e.x += rng.random_range(-3..=3);
        }
        if rng.random_bool(0.2) {
            e.aim = rng.random_range(0..AIM_STEPS as u16);
        }
        if rng.random_bool(0.05) {
            e.health = e.health.saturating_sub(25);
            e.kills += 1;
        }
    }
    world.retain(|_| !rng.random_bool(0.02));
    if rng.random_bool(0.3) {
        *next_key += rng.random_range(1..5);
        let key = if rng.random_bool(0.5) {
            *next_key
        } else {
            crate::entity::Kind::Projectile.key(*next_key)
        };
        world.push(QEntity {
            key,
            x: rng.random_range(0..4000),
            y: rng.random_range(0..2500),
            vx: 512,
            health: 100,
            owner: 3,
            ..QEntity::default()
        });
        world.sort_by_key(|e| e.key);
    }
}

#[test]
fn rebuilt_views_equal_the_senders_under_random_loss_of_snapshots_and_acks() {
    for seed in 0..20 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut next_key = 100;
        let mut world: Vec<QEntity> = (1..=30)
            .map(|k| QEntity {
                key: k,
                x: 100 * k as i32,
                vx: 300,
                health: 100,
                ..QEntity::default()
            })
            .collect();
        // The sender keeps what it sent per tick; the receiver what it rebuilt; acks travel back with loss.
        let mut sent: Vec<(u32, Vec<QEntity>)> = vec![];
        let mut received: Vec<(u32, Vec<QEntity>)> = vec![];
        let mut acked = 0u32;
        for tick in 1..300u32 {
            step(&mut world, &mut rng, &mut next_key);
            let base = sent.iter().find(|(t, _)| *t == acked).map(|(_, v)| v.as_slice());
            let header = DeltaHeader {
                tick,
                baseline_tick: if base.is_some() { acked } else { 0 },
                last_input_seq: tick,
                input_margin: None,
            };
            let bytes = delta(header, base.unwrap_or(&[]), &world);
            sent.push((tick, world.clone()));
            if rng.random_bool(0.2) {
                continue; // snapshot lost
            }
            let h = delta_header(&bytes).unwrap();
            let Some(baseline) = (if h.baseline_tick == 0 {
                Some(vec![])
            } else {
                received
                    .iter()
                    .find(|(t, _)| *t == h.baseline_tick)
                    .map(|(_, v)| v.clone())
            }) else {
                panic!(
                    "seed {seed} tick {tick}: delta against {} which the receiver never had",
                    h.baseline_tick
                );
            };
            let (header, view) = decode_delta(&bytes, &baseline, RATE).unwrap();
            assert_eq!(view, world, "seed {seed} tick {tick}: rebuilt view differs");
            received.push((header.tick, view));
            if !rng.random_bool(0.3) {
                acked = header.tick; // the ack arrived
            }
        }
    }
}

#[test]
fn an_entity_at_constant_velocity_costs_nothing() {
    let base = vec![QEntity {
        key: 5,
        x: 1000,
        vx: 512,
        health: 100,
        ..QEntity::default()
    }];
    let cur = vec![base[0].predicted(3, RATE)];
    let bytes = delta(
        DeltaHeader {
            tick: 13,
            baseline_tick: 10,
            last_input_seq: 0,
            input_margin: None,
        },
        &base,
        &cur,
    );
    assert_eq!(bytes.len(), 6, "header (4) and two empty counts: {bytes:?}");
}

#[test]
fn hostile_deltas_are_errors_not_panics() {
    let good = delta(
        DeltaHeader {
            tick: 2,
            baseline_tick: 0,
            last_input_seq: 1,
            input_margin: None,
        },
        &[],
        &[QEntity {
            key: 1,
            x: 5,
            ..QEntity::default()
        }],
    );
    for cut in 0..good.len() {
        assert!(decode_delta(&good[..cut], &[], RATE).is_err(), "truncated at {cut}");
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(
        decode_delta(&trailing, &[], RATE),
        Err(CodecError::TrailingBytes { extra: 1 })
    ));
    // A count far over the limit, an endless varint, an update of an unknown entity.
    assert!(matches!(
        decode_delta(&[2, 0, 0, 0, 0xff, 0xff, 0x03], &[], RATE),
        Err(CodecError::LimitExceeded)
    ));
    assert!(decode_delta(&[0xff; 12], &[], RATE).is_err());
    assert!(decode_delta(&[2, 1, 0, 0, 1, 4, 0x02, 2, 2, 0], &[], RATE).is_err());
    // A baseline newer than the delta.
    assert!(decode_delta(&[2, 5, 0, 0, 0, 0], &[], RATE).is_err());
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(1);
    let base: Vec<QEntity> = (1..20)
        .map(|k| QEntity {
            key: k,
            ..QEntity::default()
        })
        .collect();
    for _ in 0..20_000 {
        let len = rng.random_range(0..64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let _ = decode_delta(&bytes, &base, RATE);
    }
}

/// Found by the `decode_delta` fuzz target: a key gap near `i64::MAX` overflowed the key arithmetic.
#[test]
fn regression_fuzz_huge_key_gap_is_an_error() {
    let crash = [
        0x00, 0x00, 0x00, 0x00, 0x06, 0x42, 0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x4e,
    ];
    assert!(decode_delta(&crash, &[], RATE).is_err());
    let base: Vec<QEntity> = (1..40u32)
        .map(|k| QEntity {
            key: k * 3,
            ..QEntity::default()
        })
        .collect();
    assert!(decode_delta(&crash, &base, RATE).is_err());
}

/// Found by the `decode_delta` fuzz target: a coordinate delta near `i64::MAX` overflowed the addition.
#[test]
fn regression_fuzz_huge_coordinate_delta_is_an_error() {
    let crash: [u8; 172] = [
        0x26, 0x00, 0x28, 0x31, 0x03, 0x3c, 0xb4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x63, 0x63, 0x63,
        0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63,
        0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63,
        0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63,
        0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63,
        0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63,
        0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa0, 0xa0, 0xff,
        0x00, 0xfb, 0xa0, 0xa0, 0xea, 0xa0, 0x9b, 0xfb, 0xfe, 0x96,
    ];
    let base: Vec<QEntity> = (1..40u32)
        .map(|k| QEntity {
            key: k * 3,
            x: k as i32 * 100,
            vx: 64,
            ..QEntity::default()
        })
        .collect();
    assert!(decode_delta(&crash, &base, RATE).is_err());
    // The smallest form of it: a new entity whose x delta is i64::MIN (zigzag u64::MAX).
    let mut minimal = vec![2, 0, 0, 1, 0, 0x03];
    minimal.extend([0xff; 9]);
    minimal.push(0x01);
    assert!(decode_delta(&minimal, &[], RATE).is_err());
}

#[test]
fn a_body_copied_as_a_block_writes_what_a_byte_copy_writes() {
    // Bodies of 0 to 20 bytes, with and without 16 bytes readable after their start, after key gaps of one
    // to three varint bytes: the same output, the same count, and the key gaps still count from the last key.
    let bytes: Vec<u8> = (0..64u8).map(|b| b.wrapping_mul(37)).collect();
    for len in 0..=20usize {
        for from in [0, 10, 40, 44, 48, 60, 64 - len] {
            if from + len > bytes.len() {
                continue;
            }
            let (mut by_block, mut by_byte, mut room) = (Vec::new(), Vec::new(), vec![0xee; 128]);
            let (mut a, mut b) = (DeltaWriter { prev: -1 }, DeltaWriter { prev: -1 });
            let (mut c, mut at) = (DeltaWriter { prev: -1 }, 0);
            for key in [3u32, 200, 70_000] {
                let n = a.update_from(key, &bytes, from..from + len, &mut by_block);
                assert_eq!(n, b.update(key, &bytes[from..from + len], &mut by_byte));
                let next = c.update_at(key, &bytes, from..from + len, &mut room, at);
                assert_eq!(next, Some(at + n), "{len} bytes from {from}");
                at += n;
            }
            assert_eq!(by_block, by_byte, "{len} bytes from {from}");
            assert_eq!(room[..at], by_byte[..], "{len} bytes from {from}, written in place");
            // Without room for the key gap and a whole block (or the whole body), nothing is promised.
            let mut short = vec![0u8; at + 25];
            let mut d = DeltaWriter { prev: -1 };
            assert_eq!(d.update_at(5, &bytes, from..from + len, &mut short, at), None);
        }
    }
}

#[test]
fn a_count_set_after_the_updates_writes_what_a_count_given_first_writes() {
    // Counts of one and of several varint bytes: the updates after a longer count move along.
    let header = DeltaHeader {
        tick: 300,
        baseline_tick: 299,
        last_input_seq: 7,
        input_margin: Some(42),
    };
    for count in [0usize, 1, 5, 127, 128, 129, 300, 20_000] {
        let bodies: Vec<Vec<u8>> = (0..count).map(|k| vec![1 + (k % 7) as u8; 1 + k % 4]).collect();
        let (mut first, mut after) = (vec![9u8], vec![9u8]);
        let mut w = DeltaWriter::begin(&header, count, &mut first);
        for (k, body) in bodies.iter().enumerate() {
            w.update(k as u32 * 3, body, &mut first);
        }
        w.removals([1_000_000u32].into_iter(), 1, &mut first);
        let (mut w, at) = DeltaWriter::begin_uncounted(&header, &mut after);
        for (k, body) in bodies.iter().enumerate() {
            w.update(k as u32 * 3, body, &mut after);
        }
        DeltaWriter::set_count(at, count, &mut after);
        w.removals([1_000_000u32].into_iter(), 1, &mut after);
        assert_eq!(first, after, "{count} updates");
    }
}

#[test]
fn the_input_margin_round_trips_and_one_past_16_bits_is_malformed() {
    for margin in [
        None,
        Some(0),
        Some(-1),
        Some(23),
        Some(-126),
        Some(i16::MIN),
        Some(i16::MAX),
    ] {
        let header = DeltaHeader {
            tick: 9,
            baseline_tick: 0,
            last_input_seq: 3,
            input_margin: margin,
        };
        let mut bytes = Vec::new();
        DeltaWriter::begin(&header, 0, &mut bytes).removals(std::iter::empty(), 0, &mut bytes);
        assert_eq!(delta_header(&bytes).unwrap(), header);
        assert_eq!(decode_delta(&bytes, &[], 60).unwrap().0, header);
    }
    // tick 9, no baseline, seq 3, then a margin of 2^15 (zigzag 2^16, plus one), no updates, no removals.
    let bytes = [9, 0, 3, 0x81, 0x80, 0x04, 0, 0];
    assert!(matches!(delta_header(&bytes), Err(CodecError::Malformed(_))));
}
