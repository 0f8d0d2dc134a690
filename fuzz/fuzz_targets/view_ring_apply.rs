//! Fuzz target: the client applying delta snapshots to its ring of views (`arena_client::views::ViewRing`),
//! fed a sequence of datagrams: raw delta payloads, whole server datagrams as the client reads them, and
//! deltas that a model server encodes with the real encoder from a world that changes as the input says,
//! against baselines it picks among the views it sent (some of which the client never got), each maybe
//! with one byte flipped. It must never panic; every answer must be the one the same deltas give when
//! decoded one by one with `decode_delta` against kept copies of the views (the ring's reused buffers
//! change nothing); the views stay sorted, unique and bounded; and a delta the server encoded, against a
//! view the client holds as sent, rebuilds exactly the server's world.
//!
//! Input: records, each a tag byte and its fields (cut short at the input's end). Tag % 4 = 0: `len: u16
//! (little-endian), delta payload`; 1: `len: u16, server datagram`; 2 or 3: a model server delta,
//! `advance: u8, ops: u8, ops × (key: u8, field: u8, value: u32 LE), baseline: u8, last_input_seq: u8`,
//! then when tag & 0x80 the byte flip `at: u16, xor: u8`.
#![no_main]

use arena_client::views::{VIEW_RING, ViewError, ViewRing};
use arena_shared::codec::decode_server_datagram;
use arena_shared::codec::delta::{
    DeltaHeader, MAX_VIEW_ENTITIES, decode_delta, delta_header, diff_mask, encode_delta, snapshot_of,
};
use arena_shared::entity::Kind;
use arena_shared::protocol::{MAX_DATAGRAM_LEN, ServerDatagram, Snapshot};
use arena_shared::quant::{AIM_STEPS, QEntity};
use libfuzzer_sys::fuzz_target;
use std::collections::VecDeque;

/// The server's tick rate in the seed corpus (the real server's default).
const TICK_RATE: u16 = 60;
/// Views the model server keeps as baselines, as the real one does.
const SENT_KEPT: usize = 32;

/// A cursor over the fuzz input; past its end every read gives zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
}

/// A server in miniature: a world of up to 16 players and 16 projectiles that moves on by velocity and
/// changes as the input says, and the views it sent.
#[derive(Default)]
struct Server {
    tick: u32,
    /// Sorted by key.
    world: Vec<QEntity>,
    sent: VecDeque<(u32, Vec<QEntity>)>,
}

impl Server {
    /// Moves the world on and changes it, then encodes it against a baseline the input picks among the
    /// views sent (or none); returns the delta and its baseline (tick and view), if any.
    fn next_delta(&mut self, input: &mut Input<'_>) -> (Vec<u8>, Option<(u32, Vec<QEntity>)>) {
        let advance = 1 + u32::from(input.byte() % 4);
        self.tick = self.tick.saturating_add(advance);
        for e in &mut self.world {
            *e = e.predicted(advance, TICK_RATE);
        }
        for _ in 0..input.byte() % 8 {
            let (key, field, value) = (input.byte(), input.byte(), input.u32());
            self.change(key, field, value);
        }
        let pick = usize::from(input.byte()) % (self.sent.len() + 1);
        let last_input_seq = u32::from(input.byte());
        let baseline = self.sent.iter().rev().nth(pick).filter(|(t, _)| *t < self.tick);
        let (baseline_tick, base) = baseline.map_or((0, &[][..]), |(t, v)| (*t, &v[..]));
        let predicted: Vec<QEntity> = base
            .iter()
            .map(|e| e.predicted(self.tick - baseline_tick, TICK_RATE))
            .collect();
        let find = |key: u32| {
            predicted
                .binary_search_by_key(&key, |e| e.key)
                .ok()
                .map(|i| &predicted[i])
        };
        let updates: Vec<_> = self
            .world
            .iter()
            .map(|cur| (find(cur.key), cur))
            .filter(|(b, cur)| diff_mask(*b, cur) != 0)
            .collect();
        let removed: Vec<u32> = base
            .iter()
            .map(|e| e.key)
            .filter(|k| self.world.binary_search_by_key(k, |e| e.key).is_err())
            .collect();
        let header = DeltaHeader {
            tick: self.tick,
            baseline_tick,
            last_input_seq,
            input_margin: None,
        };
        let mut out = Vec::new();
        encode_delta(&header, &updates, &removed, &mut out);
        let baseline = baseline.map(|(t, v)| (*t, v.clone()));
        self.sent.push_back((self.tick, self.world.clone()));
        if self.sent.len() > SENT_KEPT {
            self.sent.pop_front();
        }
        (out, baseline)
    }

    /// Adds, changes or removes one entity (values as the real server's quantization allows them).
    fn change(&mut self, key: u8, field: u8, value: u32) {
        let kind = if key & 0x10 != 0 {
            Kind::Projectile
        } else {
            Kind::Player
        };
        let key = kind.key(u32::from(key % 16) + 1);
        let op = field % 8;
        let at = match self.world.binary_search_by_key(&key, |e| e.key) {
            Ok(at) if op == 0 => {
                self.world.remove(at);
                return;
            }
            Ok(at) => at,
            Err(at) => {
                self.world.insert(
                    at,
                    QEntity {
                        key,
                        ..QEntity::default()
                    },
                );
                at
            }
        };
        let e = &mut self.world[at];
        let signed = value as i32;
        let small = (value as i16) as i32;
        match op {
            0 | 1 => e.x = e.x.wrapping_add(if field & 0x80 != 0 { signed } else { small }),
            2 => e.y = e.y.wrapping_add(if field & 0x80 != 0 { signed } else { small }),
            3 => (e.vx, e.vy) = (small, (value >> 16) as i16 as i32),
            4 => e.aim = (value % AIM_STEPS) as u16,
            5 => (e.health, e.cooldown, e.respawn) = (value as u8, (value >> 8) as u16, (value >> 16) as u16),
            6 => (e.kills, e.deaths) = (value & 0xffff, value >> 16),
            _ => e.owner = value,
        }
    }
}

/// The ring's views as the target expects them: copies of every view, decoded with `decode_delta`.
#[derive(Default)]
struct Expected {
    views: VecDeque<(u32, Vec<QEntity>)>,
}

impl Expected {
    fn apply(&mut self, bytes: &[u8]) -> Result<Option<Snapshot>, ViewError> {
        let header = delta_header(bytes)?;
        if self.views.back().is_some_and(|(t, _)| header.tick <= *t) {
            return Ok(None);
        }
        let base = match header.baseline_tick {
            0 => &[][..],
            b => match self.views.iter().find(|(t, _)| *t == b) {
                Some((_, v)) => v,
                None => return Err(ViewError::MissingBaseline(b)),
            },
        };
        let (header, view) = decode_delta(bytes, base, TICK_RATE)?;
        assert!(view.len() <= MAX_VIEW_ENTITIES);
        assert!(
            view.windows(2).all(|w| w[0].key < w[1].key),
            "views stay sorted and unique"
        );
        let snapshot = snapshot_of(&header, &view);
        if self.views.len() == VIEW_RING {
            self.views.pop_front();
        }
        self.views.push_back((header.tick, view));
        Ok(Some(snapshot))
    }

    fn view(&self, tick: u32) -> Option<&Vec<QEntity>> {
        self.views.iter().find(|(t, _)| *t == tick).map(|(_, v)| v)
    }
}

/// Applies one delta payload to the ring and to the expected views; both must answer the same.
fn apply(ring: &mut ViewRing, expected: &mut Expected, bytes: &[u8]) -> Result<Option<Snapshot>, ViewError> {
    let got = ring.apply(bytes);
    let want = expected.apply(bytes);
    assert!(got == want, "the ring answered {got:?}, decoding alone {want:?}");
    assert_eq!(ring.newest_tick(), expected.views.back().map(|(t, _)| *t));
    if let Ok(Some(snapshot)) = &got {
        assert!(snapshot.players.windows(2).all(|w| w[0].id < w[1].id));
        assert!(snapshot.projectiles.windows(2).all(|w| w[0].id < w[1].id));
    }
    got
}

fuzz_target!(|data: &[u8]| {
    let mut ring = ViewRing::new(TICK_RATE);
    let mut expected = Expected::default();
    let mut server = Server::default();
    let mut input = Input(data);
    while !input.0.is_empty() {
        let tag = input.byte();
        match tag % 4 {
            0 => {
                let len = usize::from(input.u16());
                let _ = apply(&mut ring, &mut expected, input.take(len));
            }
            1 => {
                let len = usize::from(input.u16());
                if let Ok(ServerDatagram::Delta(delta)) = decode_server_datagram(input.take(len)) {
                    let _ = apply(&mut ring, &mut expected, &delta);
                }
            }
            _ => {
                let (mut delta, baseline) = server.next_delta(&mut input);
                let flipped = tag & 0x80 != 0 && !delta.is_empty();
                if flipped {
                    let (at, xor) = (usize::from(input.u16()) % delta.len(), input.byte().max(1));
                    delta[at] ^= xor;
                }
                // Whether the client holds the baseline exactly as the server sent it.
                let held = baseline.is_none_or(|(tick, sent)| expected.view(tick) == Some(&sent));
                let newer = expected.views.back().is_none_or(|(t, _)| *t < server.tick);
                let result = apply(&mut ring, &mut expected, &delta);
                if !flipped && held && newer && delta.len() <= MAX_DATAGRAM_LEN {
                    let header = delta_header(&delta).expect("the server's delta has a header");
                    assert!(
                        result == Ok(Some(snapshot_of(&header, &server.world))),
                        "a server delta against a held view rebuilt another world: {result:?}"
                    );
                    assert!(expected.views.back().is_some_and(|(_, v)| *v == server.world));
                }
            }
        }
    }
});
