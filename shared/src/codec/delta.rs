//! Delta snapshots: one client's view of the world encoded against a view it acknowledged.
//!
//! A receiver rebuilds the new view from the baseline view: every baseline entity not named in the delta
//! moves on by its velocity ([`QEntity::predicted`]), named entities take the fields the delta gives
//! (relative to that prediction), new ones are given whole, removed ones are named. An entity that moves
//! at constant velocity therefore costs nothing. Without a baseline (`baseline_tick` 0) every entity is new.
//!
//! Wire form (varints are LEB128, signed values zigzag):
//! `tick, baseline_tick, last_input_seq, n_updates, updates…, n_removed, removed key gaps…`;
//! an update is `key gap, mask, fields…` in [`mask`] order, keys ascending.

use super::CodecError;
use crate::protocol::{MAX_DATAGRAM_LEN, Snapshot};
use crate::quant::{AIM_STEPS, QEntity};

/// Most updates, or removals, one delta may carry; more is malformed.
pub const MAX_DELTA_ENTRIES: usize = MAX_DATAGRAM_LEN;
/// Most entities a rebuilt view may hold; a delta that would grow a view past it is malformed.
pub const MAX_VIEW_ENTITIES: usize = 4_096;

/// Bits of an update's mask: which fields follow.
pub mod mask {
    /// The entity is new: fields are relative to an all-zero entity, with no prediction.
    pub const NEW: u8 = 0x01;
    /// Position differs from the prediction: zigzag dx, dy.
    pub const POS: u8 = 0x02;
    /// Velocity changed: zigzag dvx, dvy.
    pub const VEL: u8 = 0x04;
    /// Aim changed: zigzag of the shortest turn.
    pub const AIM: u8 = 0x08;
    /// Health changed: one byte.
    pub const HEALTH: u8 = 0x10;
    /// Timers changed: varint cooldown, varint respawn.
    pub const TIMERS: u8 = 0x20;
    /// Score changed: varint kills, varint deaths.
    pub const SCORE: u8 = 0x40;
    /// Owner changed: varint owner.
    pub const OWNER: u8 = 0x80;
}

/// What a delta says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaHeader {
    pub tick: u32,
    /// The acknowledged view this delta is against; 0 for none (a full view).
    pub baseline_tick: u32,
    pub last_input_seq: u32,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
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

/// The mask of what differs between `base` (already predicted forward) and `cur`.
pub fn diff_mask(base: Option<&QEntity>, cur: &QEntity) -> u8 {
    let zero = QEntity {
        key: cur.key,
        ..QEntity::default()
    };
    let (b, mut m) = match base {
        Some(b) => (b, 0),
        None => (&zero, mask::NEW),
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

/// Appends one update (the key gap is written by the caller's order; see [`encode_delta`]).
fn put_update(out: &mut Vec<u8>, base: Option<&QEntity>, cur: &QEntity, m: u8) {
    let zero = QEntity::default();
    let b = base.unwrap_or(&zero);
    out.push(m);
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
pub const MAX_DELTA_OVERHEAD: usize = 5 * 5;

/// Writes a delta from update bodies made by [`encode_update_body`]: `updates` (key and body) and `removed`
/// must be sorted by key, ascending, and unique.
pub fn encode_delta_bodies<'a>(
    header: &DeltaHeader,
    updates: impl ExactSizeIterator<Item = (u32, &'a [u8])>,
    removed: &[u32],
    out: &mut Vec<u8>,
) {
    put_varint(out, u64::from(header.tick));
    put_varint(out, u64::from(header.baseline_tick));
    put_varint(out, u64::from(header.last_input_seq));
    put_varint(out, updates.len() as u64);
    let mut prev: i64 = -1;
    for (key, body) in updates {
        put_varint(out, (i64::from(key) - prev - 1) as u64);
        prev = i64::from(key);
        out.extend_from_slice(body);
    }
    put_varint(out, removed.len() as u64);
    let mut prev: i64 = -1;
    for key in removed {
        put_varint(out, (i64::from(*key) - prev - 1) as u64);
        prev = i64::from(*key);
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

/// A cursor over untrusted bytes; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, CodecError> {
        let b = *self.bytes.get(self.at).ok_or(CodecError::Truncated)?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CodecError::Malformed("varint longer than 64 bits".into()))
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        u32::try_from(self.varint()?).map_err(|_| CodecError::Malformed("value over 32 bits".into()))
    }

    fn u16(&mut self) -> Result<u16, CodecError> {
        u16::try_from(self.varint()?).map_err(|_| CodecError::Malformed("value over 16 bits".into()))
    }

    fn signed(&mut self) -> Result<i64, CodecError> {
        Ok(unzigzag(self.varint()?))
    }

    fn count(&mut self) -> Result<usize, CodecError> {
        match self.varint()? {
            n if n as usize <= MAX_DELTA_ENTRIES => Ok(n as usize),
            _ => Err(CodecError::LimitExceeded),
        }
    }
}

fn add(base: i32, delta: i64) -> Result<i32, CodecError> {
    i64::from(base)
        .checked_add(delta)
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| CodecError::Malformed("coordinate out of range".into()))
}

fn read_update(r: &mut Reader<'_>, key: u32, base: Option<&QEntity>) -> Result<QEntity, CodecError> {
    let m = r.byte()?;
    let base = match (m & mask::NEW != 0, base) {
        (true, _) => QEntity {
            key,
            ..QEntity::default()
        },
        (false, Some(b)) => *b,
        (false, None) => return Err(CodecError::Malformed("update of an entity the baseline lacks".into())),
    };
    let mut e = base;
    if m & mask::POS != 0 {
        e.x = add(base.x, r.signed()?)?;
        e.y = add(base.y, r.signed()?)?;
    }
    if m & mask::VEL != 0 {
        e.vx = add(base.vx, r.signed()?)?;
        e.vy = add(base.vy, r.signed()?)?;
    }
    if m & mask::AIM != 0 {
        let turn = r.signed()?.rem_euclid(i64::from(AIM_STEPS));
        e.aim = ((i64::from(base.aim) + turn) % i64::from(AIM_STEPS)) as u16;
    }
    if m & mask::HEALTH != 0 {
        e.health = r.byte()?;
    }
    if m & mask::TIMERS != 0 {
        e.cooldown = r.u16()?;
        e.respawn = r.u16()?;
    }
    if m & mask::SCORE != 0 {
        e.kills = r.u32()?;
        e.deaths = r.u32()?;
    }
    if m & mask::OWNER != 0 {
        e.owner = r.u32()?;
    }
    Ok(e)
}

fn read_keys(
    r: &mut Reader<'_>,
    n: usize,
    mut each: impl FnMut(&mut Reader<'_>, u32) -> Result<(), CodecError>,
) -> Result<(), CodecError> {
    let mut prev: i64 = -1;
    for _ in 0..n {
        let gap = r.varint()?;
        // In u64, with the previous key at most u32::MAX: a gap past u32 range cannot overflow here.
        let key = u64::try_from(prev + 1).unwrap_or(0).saturating_add(gap);
        let key = u32::try_from(key).map_err(|_| CodecError::Malformed("key over 32 bits".into()))?;
        prev = i64::from(key);
        each(r, key)?;
    }
    Ok(())
}

/// A rebuilt view as a full [`Snapshot`]: its players and its projectiles.
pub fn snapshot_of(header: &DeltaHeader, view: &[QEntity]) -> Snapshot {
    Snapshot {
        tick: header.tick,
        last_input_seq: header.last_input_seq,
        players: view
            .iter()
            .filter(|e| !e.is_projectile())
            .map(QEntity::to_player)
            .collect(),
        projectiles: view
            .iter()
            .filter(|e| e.is_projectile())
            .map(QEntity::to_projectile)
            .collect(),
    }
}

/// Reads just the header (to find the baseline before decoding).
pub fn delta_header(bytes: &[u8]) -> Result<DeltaHeader, CodecError> {
    let mut r = Reader { bytes, at: 0 };
    Ok(DeltaHeader {
        tick: r.u32()?,
        baseline_tick: r.u32()?,
        last_input_seq: r.u32()?,
    })
}

/// Buffers [`decode_delta_into`] reuses from one delta to the next.
#[derive(Debug, Default)]
pub struct DecodeScratch {
    updates: Vec<QEntity>,
    removed: Vec<u32>,
}

/// Rebuilds a view from a delta and its baseline view (sorted by key; empty when `baseline_tick` is 0).
/// `tick_rate` must be the server's, as prediction depends on it. The result is sorted by key.
pub fn decode_delta(
    bytes: &[u8],
    baseline: &[QEntity],
    tick_rate: u16,
) -> Result<(DeltaHeader, Vec<QEntity>), CodecError> {
    let mut view = Vec::new();
    let header = decode_delta_into(bytes, baseline, tick_rate, &mut view, &mut DecodeScratch::default())?;
    Ok((header, view))
}

/// [`decode_delta`] into `view` (cleared first), with buffers kept between calls: no allocation once they
/// have grown to the views' size. On an error `view` holds nothing useful.
pub fn decode_delta_into(
    bytes: &[u8],
    baseline: &[QEntity],
    tick_rate: u16,
    view: &mut Vec<QEntity>,
    scratch: &mut DecodeScratch,
) -> Result<DeltaHeader, CodecError> {
    view.clear();
    if bytes.len() > MAX_DATAGRAM_LEN {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            limit: MAX_DATAGRAM_LEN,
        });
    }
    let mut r = Reader { bytes, at: 0 };
    let header = DeltaHeader {
        tick: r.u32()?,
        baseline_tick: r.u32()?,
        last_input_seq: r.u32()?,
    };
    if header.baseline_tick != 0 && header.baseline_tick >= header.tick {
        return Err(CodecError::Malformed("baseline is not older than the delta".into()));
    }
    let ticks = header.tick.wrapping_sub(header.baseline_tick);
    // Keys arrive ascending, so the baseline is walked once, not searched per update.
    let mut cursor = 0;
    let mut base_at = |key: u32| {
        while baseline.get(cursor).is_some_and(|e| e.key < key) {
            cursor += 1;
        }
        baseline
            .get(cursor)
            .filter(|e| e.key == key)
            .map(|e| e.predicted(ticks, tick_rate))
    };
    let n = r.count()?;
    let updates = &mut scratch.updates;
    updates.clear();
    read_keys(&mut r, n, |r, key| {
        updates.push(read_update(r, key, base_at(key).as_ref())?);
        Ok(())
    })?;
    let n = r.count()?;
    let removed = &mut scratch.removed;
    removed.clear();
    read_keys(&mut r, n, |_, key| {
        removed.push(key);
        Ok(())
    })?;
    if r.at != bytes.len() {
        return Err(CodecError::TrailingBytes {
            extra: bytes.len() - r.at,
        });
    }
    // Merge: baseline entities move on by prediction unless updated or removed; new ones join.
    let (mut u, mut d) = (updates.iter().peekable(), removed.iter().peekable());
    for b in baseline {
        while let Some(up) = u.next_if(|up| up.key < b.key) {
            view.push(*up);
        }
        while d.next_if(|k| **k < b.key).is_some() {}
        if d.next_if(|k| **k == b.key).is_some() {
            u.next_if(|up| up.key == b.key);
            continue;
        }
        match u.next_if(|up| up.key == b.key) {
            Some(up) => view.push(*up),
            None => view.push(b.predicted(ticks, tick_rate)),
        }
        if view.len() > MAX_VIEW_ENTITIES {
            return Err(CodecError::LimitExceeded);
        }
    }
    view.extend(u.copied());
    if view.len() > MAX_VIEW_ENTITIES {
        return Err(CodecError::LimitExceeded);
    }
    Ok(header)
}

#[cfg(test)]
mod tests;
