//! Decoding delta snapshots from untrusted bytes: every read bounds-checked, every count limited before
//! anything is stored, and the rebuilt view merged from the baseline (see the parent module for the format).

use super::{
    AIM_STEPS, CodecError, DeltaHeader, MAX_DATAGRAM_LEN, MAX_DELTA_ENTRIES, MAX_VIEW_ENTITIES, get_varint, mask,
    unzigzag,
};
use crate::entity::Kind;
use crate::protocol::Snapshot;
use crate::quant::QEntity;

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
        get_varint(self.bytes, &mut self.at)
    }

    /// An update's mask for an entity of `kind`, as the fields that follow (see [`mask`]).
    fn mask(&mut self, kind: Kind) -> Result<u32, CodecError> {
        mask::from_wire(mask::take(self.bytes, &mut self.at)?, kind)
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        u32::try_from(self.varint()?).map_err(|_| CodecError::Malformed("value over 32 bits".into()))
    }

    fn u16(&mut self) -> Result<u16, CodecError> {
        u16::try_from(self.varint()?).map_err(|_| CodecError::Malformed("value over 16 bits".into()))
    }

    /// An optional margin: 0 for none, else the margin zigzagged plus one.
    fn margin(&mut self) -> Result<Option<i16>, CodecError> {
        match self.varint()? {
            0 => Ok(None),
            v => i16::try_from(unzigzag(v - 1))
                .map(Some)
                .map_err(|_| CodecError::Malformed("input margin over 16 bits".into())),
        }
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
    let m = r.mask(Kind::of(key))?;
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
    let mut snapshot = Snapshot {
        tick: header.tick,
        last_input_seq: header.last_input_seq,
        input_margin: header.input_margin,
        ..Snapshot::default()
    };
    view.iter().for_each(|e| e.place_in(&mut snapshot));
    snapshot
}

/// Reads just the header (to find the baseline before decoding).
pub fn delta_header(bytes: &[u8]) -> Result<DeltaHeader, CodecError> {
    let mut r = Reader { bytes, at: 0 };
    Ok(DeltaHeader {
        tick: r.u32()?,
        baseline_tick: r.u32()?,
        last_input_seq: r.u32()?,
        input_margin: r.margin()?,
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
        input_margin: r.margin()?,
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
