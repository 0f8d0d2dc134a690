//! Slot layouts: a snapshot's entities put in the current slots when they fit, the dead slots compacted
//! when only they are too many, or every slot laid out afresh.

use super::slots::{Frame, Snap, is_moving};
use arena_shared::quant::QEntity;

/// Dead slots no baseline can hold that a layout keeps before it is rebuilt without them, at least (and at
/// least one per eight live slots). More dead slots make every client's bitsets longer; fewer make new
/// layouts, whose first snapshot translates every client's baseline view to the new slots, more frequent.
/// One per eight rather than one per two: the shorter bitsets win more than the more frequent layouts cost.
const MIN_DEAD_KEPT: usize = 256;

/// Whether a snapshot's entities fit the current slots ([`Frame::fill_slots`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fit {
    Yes,
    /// Every entity has a slot, but the dead slots are past their limit.
    TooManyDead,
    /// A key falls between slots (or there are no slots yet).
    No,
}

impl Frame {
    /// Puts `entities` (sorted by key) in the current slots in one walk: they fit when every key already has
    /// a slot or comes after the last one (and then takes a new slot there), and the dead slots no baseline
    /// can hold (dead since before `keep_since`) stay within their limit. Returns whether they fit. When
    /// only the dead slots are too many, `next` and the slots hold every slot, to be compacted; when a key
    /// falls between slots, the slots are to be laid out afresh from the entities, then gathered into
    /// `incoming` (`keys` and `last_alive` then hold what they held, but for ticks of entities alive now).
    pub(super) fn fill_slots(
        &mut self,
        next: &mut Snap,
        incoming: &mut Vec<QEntity>,
        mut entities: impl Iterator<Item = QEntity>,
        tick: u32,
        keep_since: u32,
    ) -> Fit {
        let (held, now) = (self.keys.len(), &self.now);
        let droppable = |s: usize, last: &[u32]| !now.alive.has(s) && last.get(s).is_none_or(|t| *t < keep_since);
        next.entities.clear();
        next.alive.clear(held);
        self.moving.clear(held);
        let (mut slot, mut dropped, mut count, mut unplaced) = (0, 0, 0, None);
        for e in entities.by_ref() {
            count += 1;
            // Dead slots before it keep their last state.
            while slot < held && self.keys[slot] < e.key {
                next.entities.push(now.entities[slot]);
                dropped += usize::from(droppable(slot, &self.last_alive));
                slot += 1;
            }
            if slot < held && self.keys[slot] != e.key {
                unplaced = Some(e); // a new key between slots
                break;
            }
            if slot == self.keys.len() {
                self.keys.push(e.key);
                self.last_alive.push(tick);
                next.alive.grow(self.keys.len());
                self.moving.grow(self.keys.len());
            } else {
                self.last_alive[slot] = tick;
            }
            next.entities.push(e);
            next.alive.set(slot);
            if is_moving(&e) {
                self.moving.set(slot);
            }
            slot += 1;
        }
        let fits = unplaced.is_none();
        if fits {
            for s in slot..held {
                next.entities.push(now.entities[s]);
                dropped += usize::from(droppable(s, &self.last_alive));
            }
        }
        if fits {
            return if dropped <= (count / 8).max(MIN_DEAD_KEPT) {
                Fit::Yes
            } else {
                Fit::TooManyDead
            };
        }
        // For a new layout, every entity: those placed so far (the live slots, in key order), then the rest.
        incoming.extend(next.alive.ones().filter_map(|s| next.entities.get(s)).copied());
        incoming.extend(unplaced);
        incoming.extend(entities);
        self.keys.truncate(held);
        self.last_alive.truncate(held);
        Fit::No
    }

    /// A new layout in `next` that keeps the slots' entities and drops the dead slots no baseline can hold
    /// (dead since before `keep_since`): what [`Frame::lay_out`] makes of the same entities, in one pass
    /// over the slots (laid out afresh, the frame made layout ticks the slowest).
    pub(super) fn compact(&mut self, next: &mut Snap, tick: u32, keep_since: u32) {
        let mut to = 0;
        for from in 0..self.keys.len() {
            if self.last_alive[from] >= keep_since {
                self.keys[to] = self.keys[from];
                self.last_alive[to] = self.last_alive[from];
                next.entities[to] = next.entities[from];
                to += 1;
            }
        }
        self.keys.truncate(to);
        self.last_alive.truncate(to);
        next.entities.truncate(to);
        next.alive.clear(to);
        for (s, t) in self.last_alive.iter().enumerate() {
            if *t == tick {
                next.alive.set(s);
            }
        }
    }

    /// A new layout in `next`: the `incoming` entities (alive at `tick`), and the dead slots alive since
    /// `keep_since`, in key order.
    pub(super) fn lay_out(&mut self, next: &mut Snap, incoming: &[QEntity], tick: u32, keep_since: u32) {
        let old_keys = std::mem::take(&mut self.keys);
        let old_last = std::mem::take(&mut self.last_alive);
        let (old, first) = (&self.now.entities, self.tick == 0);
        next.entities.clear();
        let mut slot = 0;
        let mut incoming = incoming.iter().peekable();
        loop {
            // The next slot in key order: an old one (kept when it may be held), or an incoming entity.
            let old_first = match (old_keys.get(slot), incoming.peek()) {
                (Some(k), Some(e)) => *k < e.key,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if old_first {
                if !first && old_last[slot] >= keep_since {
                    self.keys.push(old_keys[slot]);
                    self.last_alive.push(old_last[slot]);
                    next.entities.push(old[slot]);
                }
                slot += 1;
            } else if let Some(e) = incoming.next() {
                if old_keys.get(slot) == Some(&e.key) {
                    slot += 1; // the same entity, alive now
                }
                self.keys.push(e.key);
                self.last_alive.push(tick);
                next.entities.push(*e);
            }
        }
        next.alive.clear(self.keys.len());
        for (s, t) in self.last_alive.iter().enumerate() {
            if *t == tick {
                next.alive.set(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::test_rng::XorShift;
    use std::collections::BTreeSet;

    #[test]
    fn compacted_or_laid_out_afresh_the_slots_hold_what_a_layout_must() {
        // Entities die (many at once now and then) and new ones come after the last key, or (now and then) a
        // key between the others: every tick the slots hold the live entities, in key order, and on a tick
        // with a new layout the dead slots are exactly those alive at the tick before (the oldest a client
        // may hold, here), whichever way the layout was made.
        let mut rng = XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = move |m: u64| rng.below(m);
        let mut frame = Frame::default();
        let (mut alive, mut last_key) = (BTreeSet::new(), 0u32);
        let (mut before, mut layouts, mut compactions) = (BTreeSet::new(), 0, 0);
        for tick in 1..400u32 {
            alive.retain(|_| next(if tick % 37 == 0 { 3 } else { 40 }) != 0);
            for _ in 0..next(30) {
                last_key += 1 + next(3) as u32;
                alive.insert(last_key);
            }
            if tick % 53 == 0 {
                alive.insert(last_key / 2 * 2 + 1 - 2 * (next(50) as u32 + 1)); // maybe between slots
            }
            let entities: Vec<QEntity> = alive
                .iter()
                .map(|&key| QEntity {
                    key,
                    x: (key * 7 + tick) as i32,
                    ..QEntity::default()
                })
                .collect();
            let layout = frame.now.layout;
            let dead_before = frame.keys.len() - frame.now.alive.count();
            frame.set_referenced_since(tick - 1);
            frame.begin(tick, 60, entities.iter().copied());
            let keys = frame.keys();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "tick {tick}: keys in order");
            let live: Vec<QEntity> = frame.alive().ones().map(|s| frame.entities()[s]).collect();
            assert_eq!(live, entities, "tick {tick}");
            if frame.now.layout != layout && tick > 1 {
                layouts += 1;
                compactions += usize::from(keys.len() - entities.len() < dead_before);
                let dead: BTreeSet<u32> = (0..keys.len())
                    .filter(|s| !frame.alive().has(*s))
                    .map(|s| keys[s])
                    .collect();
                let want: BTreeSet<u32> = before.difference(&alive).copied().collect();
                assert_eq!(dead, want, "tick {tick}: the dead slots of a new layout");
            }
            before = alive.clone();
        }
        assert!(
            layouts >= 5 && compactions >= 3,
            "{layouts} layouts, {compactions} compactions"
        );
    }
}
