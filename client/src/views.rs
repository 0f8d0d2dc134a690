//! The client's side of delta snapshots: the views it rebuilt, kept as baselines for the deltas to come,
//! and each new view turned back into a full [`Snapshot`] for the game.

use arena_shared::codec::CodecError;
use arena_shared::codec::delta::{DecodeScratch, decode_delta_into, delta_header, snapshot_of};
use arena_shared::protocol::Snapshot;
use arena_shared::quant::QEntity;
use std::collections::VecDeque;

/// Views kept as possible baselines; the server keeps 32, so the one it refers to is always here unless it
/// was never received.
pub const VIEW_RING: usize = 64;

/// Why a delta could not be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ViewError {
    /// The delta refers to a view this client does not have (never received, or long gone).
    #[error("baseline view {0} is not here")]
    MissingBaseline(u32),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Rebuilt views, newest last.
#[derive(Debug)]
pub struct ViewRing {
    tick_rate: u16,
    views: VecDeque<(u32, Vec<QEntity>)>,
    /// The decoder's buffers, and a view buffer to decode into (the oldest view's, once the ring is full).
    scratch: DecodeScratch,
    spare: Vec<QEntity>,
}

impl ViewRing {
    pub fn new(tick_rate: u16) -> Self {
        Self {
            tick_rate,
            views: VecDeque::with_capacity(VIEW_RING),
            scratch: DecodeScratch::default(),
            spare: Vec::new(),
        }
    }

    /// The newest view's tick.
    pub fn newest_tick(&self) -> Option<u32> {
        self.views.back().map(|(t, _)| *t)
    }

    /// Applies a delta payload. Returns the new full snapshot, or `None` for a delta older than the newest
    /// view (it arrived late and is of no use).
    pub fn apply(&mut self, bytes: &[u8]) -> Result<Option<Snapshot>, ViewError> {
        let header = delta_header(bytes)?;
        if self.newest_tick().is_some_and(|t| header.tick <= t) {
            return Ok(None);
        }
        let base: &[QEntity] = if header.baseline_tick == 0 {
            &[]
        } else {
            match self.views.iter().find(|(t, _)| *t == header.baseline_tick) {
                Some((_, v)) => v,
                None => return Err(ViewError::MissingBaseline(header.baseline_tick)),
            }
        };
        let mut view = std::mem::take(&mut self.spare);
        let header = match decode_delta_into(bytes, base, self.tick_rate, &mut view, &mut self.scratch) {
            Ok(header) => header,
            Err(e) => {
                self.spare = view;
                return Err(e.into());
            }
        };
        let snapshot = snapshot_of(&header, &view);
        if self.views.len() == VIEW_RING
            && let Some((_, old)) = self.views.pop_front()
        {
            self.spare = old;
        }
        self.views.push_back((header.tick, view));
        Ok(Some(snapshot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_shared::codec::delta::{DeltaHeader, encode_delta};

    fn full(tick: u32, entities: &[QEntity]) -> Vec<u8> {
        let updates: Vec<_> = entities.iter().map(|e| (None, e)).collect();
        let mut out = vec![];
        encode_delta(
            &DeltaHeader {
                tick,
                baseline_tick: 0,
                last_input_seq: 9,
                input_margin: None,
            },
            &updates,
            &[],
            &mut out,
        );
        out
    }

    #[test]
    fn a_full_view_becomes_a_snapshot_of_players_and_projectiles() {
        let mut ring = ViewRing::new(60);
        let player = QEntity {
            key: 3,
            x: 640,
            health: 100,
            ..QEntity::default()
        };
        let shot = QEntity {
            key: arena_shared::entity::Kind::Projectile.key(5),
            vx: 64,
            owner: 3,
            ..QEntity::default()
        };
        let snap = ring.apply(&full(10, &[player, shot])).unwrap().unwrap();
        assert_eq!((snap.tick, snap.last_input_seq), (10, 9));
        assert_eq!(snap.players.len(), 1);
        assert_eq!(snap.players[0].state.pos.x, 10.0);
        assert_eq!(snap.projectiles[0].id, 5);
        assert_eq!(snap.projectiles[0].owner, 3);
    }

    #[test]
    fn late_deltas_are_ignored_and_unknown_baselines_reported() {
        let mut ring = ViewRing::new(60);
        ring.apply(&full(10, &[])).unwrap();
        assert_eq!(ring.apply(&full(9, &[])).unwrap(), None);
        let mut out = vec![];
        encode_delta(
            &DeltaHeader {
                tick: 12,
                baseline_tick: 11,
                last_input_seq: 0,
                input_margin: None,
            },
            &[],
            &[],
            &mut out,
        );
        assert_eq!(ring.apply(&out), Err(ViewError::MissingBaseline(11)));
    }
}
