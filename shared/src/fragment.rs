//! Splitting an encoded snapshot into datagram-sized parts, and reassembling them whole or not at all.
//!
//! The receiver keeps at most one snapshot in assembly (the newest tick it has seen a part of); a part of
//! an older tick, or of a tick already delivered, is dropped. So a snapshot arrives whole or not at all,
//! snapshots are never delivered out of order, and the buffer is bounded by [`MAX_PARTS`] parts.

use crate::protocol::{MAX_SNAPSHOT_LEN, SnapshotPart};

/// Most parts one snapshot may be split into; a part that claims more is malformed.
pub const MAX_PARTS: usize = 64;
/// Bytes a [`crate::protocol::ServerDatagram::Snapshot`] adds around its part payload, at most (enum tag,
/// varint tick, index, count, varint length).
pub const PART_OVERHEAD: usize = 16;

/// Why a snapshot could not be split, or a part was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragmentError {
    /// The snapshot needs more than [`MAX_PARTS`] parts at this datagram size.
    #[error("snapshot of {len} bytes needs more than {MAX_PARTS} parts")]
    TooManyParts { len: usize },
    /// The datagram size leaves no room for payload.
    #[error("datagram size {0} is too small for a snapshot part")]
    DatagramTooSmall(usize),
    /// A part's index or count is impossible, or disagrees with the other parts of its tick.
    #[error("malformed snapshot part")]
    BadPart,
    /// The parts add up to more than [`MAX_SNAPSHOT_LEN`].
    #[error("reassembled snapshot is over the size limit")]
    TooLarge,
}

/// Splits `bytes` (an encoded snapshot of `tick`) into parts whose datagrams fit `datagram_len` bytes.
pub fn split(tick: u32, bytes: &[u8], datagram_len: usize) -> Result<Vec<SnapshotPart>, FragmentError> {
    let payload = datagram_len
        .checked_sub(PART_OVERHEAD)
        .filter(|p| *p > 0)
        .ok_or(FragmentError::DatagramTooSmall(datagram_len))?;
    let count = bytes.len().div_ceil(payload).max(1);
    if count > MAX_PARTS || bytes.len() > MAX_SNAPSHOT_LEN {
        return Err(FragmentError::TooManyParts { len: bytes.len() });
    }
    let count = count as u8; // MAX_PARTS fits in u8
    let parts = if bytes.is_empty() {
        vec![bytes]
    } else {
        bytes.chunks(payload).collect()
    };
    Ok(parts
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| SnapshotPart {
            tick,
            index: i as u8,
            count,
            bytes: chunk.to_vec(),
        })
        .collect())
}

/// Puts snapshot parts back together; see the module doc for what it keeps and drops.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// The tick in assembly and its parts (`None` until received).
    pending: Option<(u32, Vec<Option<Vec<u8>>>)>,
    /// The newest tick delivered whole.
    delivered: Option<u32>,
}

impl Reassembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// The newest tick delivered whole, if any.
    pub fn newest_delivered(&self) -> Option<u32> {
        self.delivered
    }

    /// Takes one part; returns the whole snapshot's bytes when this part completes it.
    pub fn push(&mut self, part: SnapshotPart) -> Result<Option<Vec<u8>>, FragmentError> {
        let count = usize::from(part.count);
        let index = usize::from(part.index);
        if count == 0 || count > MAX_PARTS || index >= count {
            return Err(FragmentError::BadPart);
        }
        if self.delivered.is_some_and(|d| part.tick <= d) {
            return Ok(None);
        }
        match &self.pending {
            Some((tick, _)) if part.tick < *tick => return Ok(None),
            Some((tick, parts)) if part.tick == *tick && parts.len() != count => {
                return Err(FragmentError::BadPart);
            }
            Some((tick, _)) if part.tick == *tick => {}
            _ => self.pending = Some((part.tick, vec![None; count])),
        }
        let Some((tick, parts)) = &mut self.pending else {
            return Ok(None);
        };
        let tick = *tick;
        parts[index] = Some(part.bytes);
        if parts.iter().any(Option::is_none) {
            return Ok(None);
        }
        let total: usize = parts.iter().flatten().map(Vec::len).sum();
        let parts = self.pending.take().map(|(_, p)| p).unwrap_or_default();
        if total > MAX_SNAPSHOT_LEN {
            return Err(FragmentError::TooLarge);
        }
        let mut whole = Vec::with_capacity(total);
        parts.into_iter().flatten().for_each(|p| whole.extend_from_slice(&p));
        self.delivered = Some(tick);
        Ok(Some(whole))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn split_then_reassemble_in_any_order() {
        let data = bytes(5_000);
        let mut parts = split(9, &data, 1_100).unwrap();
        assert_eq!(parts.len(), 5);
        parts.reverse();
        let mut r = Reassembler::new();
        let mut out = None;
        for p in parts {
            if let Some(w) = r.push(p).unwrap() {
                out = Some(w);
            }
        }
        assert_eq!(out, Some(data));
        assert_eq!(r.newest_delivered(), Some(9));
    }

    #[test]
    fn a_missing_part_delivers_nothing_and_a_newer_tick_replaces_it() {
        let mut r = Reassembler::new();
        let old = split(1, &bytes(3_000), 1_100).unwrap();
        assert_eq!(r.push(old[0].clone()).unwrap(), None);
        let new = split(2, &bytes(100), 1_100).unwrap();
        assert_eq!(r.push(new[0].clone()).unwrap(), Some(bytes(100)));
        // The rest of tick 1 arrives late: dropped, never delivered out of order.
        for p in &old[1..] {
            assert_eq!(r.push(p.clone()).unwrap(), None);
        }
    }

    #[test]
    fn impossible_parts_are_refused() {
        let mut r = Reassembler::new();
        let bad = |index, count| SnapshotPart {
            tick: 1,
            index,
            count,
            bytes: vec![1],
        };
        assert_eq!(r.push(bad(0, 0)), Err(FragmentError::BadPart));
        assert_eq!(r.push(bad(3, 3)), Err(FragmentError::BadPart));
        assert_eq!(r.push(bad(0, 200)), Err(FragmentError::BadPart));
        assert_eq!(r.push(bad(0, 2)), Ok(None));
        assert_eq!(
            r.push(bad(1, 3)),
            Err(FragmentError::BadPart),
            "count disagrees with the first part"
        );
    }

    #[test]
    fn oversized_snapshots_cannot_be_split() {
        assert!(matches!(
            split(1, &bytes(MAX_SNAPSHOT_LEN + 1), 1_100),
            Err(FragmentError::TooManyParts { .. })
        ));
        assert_eq!(split(1, &bytes(10), 10), Err(FragmentError::DatagramTooSmall(10)));
    }
}
