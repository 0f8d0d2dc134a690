//! Delta snapshots: one client's view of the world encoded against a view it acknowledged.
//!
//! A receiver rebuilds the new view from the baseline view: every baseline entity not named in the delta
//! moves on by its velocity ([`QEntity::predicted`]), named entities take the fields the delta gives
//! (relative to that prediction), new ones are given whole, removed ones are named. An entity that moves
//! at constant velocity therefore costs nothing. Without a baseline (`baseline_tick` 0) every entity is new.
//!
//! Wire form (varints are LEB128, signed values zigzag):
//! `tick, baseline_tick, last_input_seq, input_margin, n_updates, updates…, n_removed, removed key gaps…`;
//! an update is `key gap, mask, fields…`, keys ascending. The key's range gives the entity's kind
//! ([`crate::entity`]). The mask is the varint of a `u32` whose bits say which fields follow, in bit order
//! ([`mask`]); a new entity's mask leaves out the fields its kind always sends when new
//! ([`crate::entity::Kind::sent_when_new`]), which still follow in their place.

use super::CodecError;
use crate::protocol::MAX_DATAGRAM_LEN;
use crate::quant::{AIM_STEPS, QEntity};
use std::ops::Range;

/// Most updates, or removals, one delta may carry; more is malformed.
pub const MAX_DELTA_ENTRIES: usize = MAX_DATAGRAM_LEN;
/// Most entities a rebuilt view may hold; a delta that would grow a view past it is malformed.
pub const MAX_VIEW_ENTITIES: usize = 4_096;

/// What a delta says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaHeader {
    pub tick: u32,
    /// The acknowledged view this delta is against; 0 for none (a full view).
    pub baseline_tick: u32,
    pub last_input_seq: u32,
    /// See [`crate::protocol::Snapshot::input_margin`]; on the wire a varint, 0 for none, else the margin
    /// zigzagged plus one.
    pub input_margin: Option<i16>,
}

#[inline]
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    if v < 0x80 {
        out.push(v as u8); // the common case (key gaps, small counts), kept inline
        return;
    }
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint at `at` in `bytes` and moves `at` past it.
#[inline]
fn get_varint(bytes: &[u8], at: &mut usize) -> Result<u64, CodecError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at).ok_or(CodecError::Truncated)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(CodecError::Malformed("varint longer than 64 bits".into()))
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn aim_turn(from: u16, to: u16) -> i64 {
    let steps = i64::from(AIM_STEPS);
    let d = (i64::from(to) - i64::from(from)).rem_euclid(steps);
    if d >= steps / 2 { d - steps } else { d }
}

/// The mask of what differs between `base` (already predicted forward) and `cur`; for a new entity (`base`
/// `None`), with the fields its kind always sends when new.
pub fn diff_mask(base: Option<&QEntity>, cur: &QEntity) -> u32 {
    let zero = QEntity {
        key: cur.key,
        ..QEntity::default()
    };
    let (b, mut m) = match base {
        Some(b) => (b, 0),
        None => (&zero, mask::NEW | cur.kind().sent_when_new()),
    };
    if (b.x, b.y) != (cur.x, cur.y) {
        m |= mask::POS;
    }
    if (b.vx, b.vy) != (cur.vx, cur.vy) {
        m |= mask::VEL;
    }
    if b.aim != cur.aim {
        m |= mask::AIM;
    }
    if b.health != cur.health {
        m |= mask::HEALTH;
    }
    if (b.cooldown, b.respawn) != (cur.cooldown, cur.respawn) {
        m |= mask::TIMERS;
    }
    if (b.kills, b.deaths) != (cur.kills, cur.deaths) {
        m |= mask::SCORE;
    }
    if b.owner != cur.owner {
        m |= mask::OWNER;
    }
    m
}

/// Appends one update's mask and fields (the key gap is written by the caller's order; see [`encode_delta`]).
fn put_update(out: &mut Vec<u8>, base: Option<&QEntity>, cur: &QEntity, m: u32) {
    let zero = QEntity::default();
    let b = base.unwrap_or(&zero);
    mask::put(out, mask::to_wire(m, cur.kind()));
    if m & mask::POS != 0 {
        put_varint(out, zigzag(i64::from(cur.x) - i64::from(b.x)));
        put_varint(out, zigzag(i64::from(cur.y) - i64::from(b.y)));
    }
    if m & mask::VEL != 0 {
        put_varint(out, zigzag(i64::from(cur.vx) - i64::from(b.vx)));
        put_varint(out, zigzag(i64::from(cur.vy) - i64::from(b.vy)));
    }
    if m & mask::AIM != 0 {
        put_varint(out, zigzag(aim_turn(b.aim, cur.aim)));
    }
    if m & mask::HEALTH != 0 {
        out.push(cur.health);
    }
    if m & mask::TIMERS != 0 {
        put_varint(out, u64::from(cur.cooldown));
        put_varint(out, u64::from(cur.respawn));
    }
    if m & mask::SCORE != 0 {
        put_varint(out, u64::from(cur.kills));
        put_varint(out, u64::from(cur.deaths));
    }
    if m & mask::OWNER != 0 {
        put_varint(out, u64::from(cur.owner));
    }
}

/// Appends the body of one update (mask and fields, without the key) when `cur` differs from `base` (the
/// predicted baseline entity, `None` when new); returns the body's length, 0 when nothing differs.
pub fn encode_update_body(base: Option<&QEntity>, cur: &QEntity, out: &mut Vec<u8>) -> usize {
    let m = diff_mask(base, cur);
    if m == 0 {
        return 0;
    }
    let start = out.len();
    put_update(out, base, cur, m);
    out.len() - start
}

/// Bytes a key gap can take, at most.
pub const MAX_KEY_GAP_LEN: usize = 5;
/// Bytes a delta's header and counts take, at most.
pub const MAX_DELTA_OVERHEAD: usize = 5 * 5 + 3;

/// Writes a delta from update bodies made by [`encode_update_body`]: `updates` (key and body) and `removed`
/// must be sorted by key, ascending, and unique.
pub fn encode_delta_bodies<'a>(
    header: &DeltaHeader,
    updates: impl ExactSizeIterator<Item = (u32, &'a [u8])>,
    removed: &[u32],
    out: &mut Vec<u8>,
) {
    let mut w = DeltaWriter::begin(header, updates.len(), out);
    // A gap byte or two and a body of a dozen bytes each, typically: room for them reserved once.
    out.reserve(updates.len() * 16 + removed.len() * 2);
    for (key, body) in updates {
        w.update(key, body, out);
    }
    w.removals(removed.iter().copied(), removed.len(), out);
}

/// Writes a delta piece by piece, for a sender that finds its updates as it writes them: the header with the
/// number of updates, then each update in ascending key order, then the removals. Writes exactly what
/// [`encode_delta_bodies`] writes for the same updates and removals.
#[derive(Debug)]
pub struct DeltaWriter {
    prev: i64,
}

impl DeltaWriter {
    /// Writes the header, announcing `updates` updates (the caller must then write exactly that many).
    pub fn begin(header: &DeltaHeader, updates: usize, out: &mut Vec<u8>) -> Self {
        put_varint(out, u64::from(header.tick));
        put_varint(out, u64::from(header.baseline_tick));
        put_varint(out, u64::from(header.last_input_seq));
        put_varint(out, header.input_margin.map_or(0, |m| zigzag(i64::from(m)) + 1));
        put_varint(out, updates as u64);
        Self { prev: -1 }
    }

    /// [`DeltaWriter::begin`] for a writer that counts its updates as it writes them: the count is a
    /// placeholder at the returned position, to be set with [`DeltaWriter::set_count`] before the removals.
    pub fn begin_uncounted(header: &DeltaHeader, out: &mut Vec<u8>) -> (Self, usize) {
        let w = Self::begin(header, 0, out);
        (w, out.len() - 1)
    }

    /// Sets the update count whose placeholder [`DeltaWriter::begin_uncounted`] left at `at`: the bytes are
    /// then those [`DeltaWriter::begin`] with the count writes (the updates after it move along when the
    /// count takes more than one byte).
    pub fn set_count(at: usize, count: usize, out: &mut Vec<u8>) {
        let mut varint = Vec::with_capacity(0);
        if count < 0x80 {
            if let Some(b) = out.get_mut(at) {
                *b = count as u8;
            }
            return;
        }
        put_varint(&mut varint, count as u64);
        if at < out.len() {
            out.splice(at..at + 1, varint);
        }
    }

    /// Writes one update; keys must ascend. Returns the bytes written (its key gap and body).
    #[inline(always)]
    pub fn update(&mut self, key: u32, body: &[u8], out: &mut Vec<u8>) -> usize {
        let start = out.len();
        put_varint(out, (i64::from(key) - self.prev - 1) as u64);
        self.prev = i64::from(key);
        if body.len() <= 16 {
            // Bodies are a few bytes: byte by byte beats a call to memmove.
            body.iter().for_each(|b| out.push(*b));
        } else {
            out.extend_from_slice(body);
        }
        out.len() - start
    }

    /// [`DeltaWriter::update`] with the body at `range` in `bytes`. A body of at most 16 bytes with 16 bytes
    /// readable from its start (callers pad their buffers) is copied as one 16-byte block, the excess then
    /// dropped: one store instead of a push per byte.
    #[inline(always)]
    pub fn update_from(&mut self, key: u32, bytes: &[u8], range: Range<usize>, out: &mut Vec<u8>) -> usize {
        let len = range.len();
        let block = bytes.get(range.start..range.start.saturating_add(16));
        match block.and_then(|b| <&[u8; 16]>::try_from(b).ok()) {
            Some(block) if len <= 16 => {
                let start = out.len();
                put_varint(out, (i64::from(key) - self.prev - 1) as u64);
                self.prev = i64::from(key);
                let key_len = out.len() - start;
                out.extend_from_slice(block);
                out.truncate(start + key_len + len);
                key_len + len
            }
            _ => self.update(key, bytes.get(range).unwrap_or(&[]), out),
        }
    }

    /// [`DeltaWriter::update_from`] into `room` at `at` instead of onto a vector: the caller sets the room
    /// aside once for all its updates, so no write checks or grows a vector's capacity. Returns where the
    /// next update goes, or `None` when this one does not fit (then `room` past `at` holds anything).
    #[inline(always)]
    pub fn update_at(
        &mut self,
        key: u32,
        bytes: &[u8],
        range: Range<usize>,
        room: &mut [u8],
        at: usize,
    ) -> Option<usize> {
        let len = range.len();
        let gap = (i64::from(key) - self.prev - 1) as u64;
        self.prev = i64::from(key);
        // The key gap (at most ten bytes) and, for a short body, one 16-byte block.
        let head: &mut [u8; 26] = room.get_mut(at..at.checked_add(26)?)?.try_into().ok()?;
        let key_len = if gap < 0x80 {
            head[0] = gap as u8;
            1
        } else {
            let mut v = gap;
            let mut n = 0;
            while v >= 0x80 {
                head[n] = (v as u8) | 0x80;
                v >>= 7;
                n += 1;
            }
            head[n] = v as u8;
            n + 1
        };
        let block = bytes.get(range.start..range.start.saturating_add(16));
        match block.and_then(|b| <&[u8; 16]>::try_from(b).ok()) {
            Some(block) if len <= 16 => head.get_mut(key_len..key_len + 16)?.copy_from_slice(block),
            _ => {
                let body = bytes.get(range)?;
                let at = at + key_len;
                room.get_mut(at..at.checked_add(len)?)?.copy_from_slice(body);
            }
        }
        Some(at + key_len + len)
    }

    /// Writes the `count` removed keys (ascending, unique) and ends the delta. Returns the bytes their key gaps
    /// took (the count aside).
    pub fn removals(self, removed: impl Iterator<Item = u32>, count: usize, out: &mut Vec<u8>) -> usize {
        put_varint(out, count as u64);
        let start = out.len();
        let mut prev: i64 = -1;
        for key in removed {
            put_varint(out, (i64::from(key) - prev - 1) as u64);
            prev = i64::from(key);
        }
        out.len() - start
    }
}

/// One entity's update: its predicted baseline (`None` when new) and its current state.
pub type Update<'a> = (Option<&'a QEntity>, &'a QEntity);

/// Writes a delta: `updates` (entities that differ from their predicted baseline) and `removed` must be
/// sorted by key, ascending, and unique.
pub fn encode_delta(header: &DeltaHeader, updates: &[Update<'_>], removed: &[u32], out: &mut Vec<u8>) {
    let mut bodies = Vec::new();
    let mut ranges = Vec::with_capacity(updates.len());
    for (base, cur) in updates {
        let start = bodies.len();
        encode_update_body(*base, cur, &mut bodies);
        ranges.push((cur.key, start..bodies.len()));
    }
    let iter = ranges.iter().map(|(k, r)| (*k, &bodies[r.clone()]));
    encode_delta_bodies(header, iter, removed, out);
}

mod decode;
pub mod mask;

pub use decode::{DecodeScratch, decode_delta, decode_delta_into, delta_header, snapshot_of};

#[cfg(test)]
mod tests;
