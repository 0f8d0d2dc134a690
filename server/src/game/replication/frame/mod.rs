//! What every client's snapshot of one tick shares: the entities quantized once, in slots kept from one
//! snapshot to the next, the recent snapshots (the baselines clients acknowledge), and, per baseline in
//! use, which of its entities are gone and the update body of every entity against it. A body depends only on the
//! entity and the baseline, so each is encoded once per tick however many clients need it.

mod layout;
mod slots;

pub(super) use slots::NONE;
pub use slots::{Baseline, Frame};

use super::bits::Bits;
use arena_shared::codec::delta::encode_update_body;
use arena_shared::quant::{Prediction, QEntity};
use layout::Fit;
use slots::is_moving;

/// Snapshots kept in a frame's history, and views kept per client (about half a second at 60 Hz): an ack
/// older than this gets a full snapshot.
pub const VIEW_RING: usize = 32;

impl Frame {
    /// Starts snapshot `tick`: the current entities become history, and `entities` (sorted by key, unique)
    /// become current.
    pub fn begin(&mut self, tick: u32, tick_rate: u16, entities: impl Iterator<Item = QEntity>) {
        // Dead slots alive since this tick may be held by a baseline, so they are kept in a new layout.
        let oldest = self.history.front().map_or(self.now.tick, |s| s.tick);
        let keep_since = self.referenced_since.max(oldest);
        let mut incoming = std::mem::take(&mut self.incoming);
        incoming.clear();
        let mut next = self.spare.pop().unwrap_or_default();
        next.tick = tick;
        let fit = if self.tick == 0 {
            incoming.extend(entities);
            Fit::No
        } else {
            self.fill_slots(&mut next, &mut incoming, entities, tick, keep_since)
        };
        debug_assert!(incoming.windows(2).all(|w| w[0].key < w[1].key), "sorted, unique keys");
        if fit == Fit::Yes {
            next.layout = self.now.layout;
        } else {
            next.layout = self.now.layout.wrapping_add(1).max(1);
            if fit == Fit::TooManyDead {
                self.compact(&mut next, tick, keep_since);
            } else {
                self.lay_out(&mut next, &incoming, tick, keep_since);
            }
            self.moving.clear(self.keys.len());
            for i in next.alive.ones() {
                if is_moving(&next.entities[i]) {
                    self.moving.set(i);
                }
            }
        }
        let previous = std::mem::replace(&mut self.now, next);
        if self.tick != 0 {
            if self.history.len() == VIEW_RING
                && let Some(old) = self.history.pop_front()
            {
                self.spare.push(old);
            }
            self.history.push_back(previous);
        }
        self.moving_words = self.moving.words().iter().rposition(|w| *w != 0).map_or(0, |i| i + 1);
        self.tick = tick;
        self.tick_rate = tick_rate;
        self.incoming = incoming;
        self.spare_baselines.append(&mut self.baselines);
    }

    /// The oldest tick any client may still use as its baseline from the next snapshot on (the oldest
    /// acknowledged: acknowledgements only move forward). Slots dead since before it may be dropped.
    pub fn set_referenced_since(&mut self, tick: u32) {
        self.referenced_since = tick;
    }

    /// The baselines `acks` name that are still in the history (each once), to [`Frame::fill`] (on any
    /// thread, beside other work) and hand back with [`Frame::set_baselines`].
    pub fn take_baselines(&mut self, acks: impl IntoIterator<Item = u32>) -> Vec<Baseline> {
        let mut baselines = std::mem::take(&mut self.baselines);
        for ack in acks {
            if ack == 0 || baselines.iter().any(|b| b.tick == ack) {
                continue;
            }
            let Some(h) = self.history.iter().rposition(|s| s.tick == ack) else {
                continue;
            };
            let mut b = self.spare_baselines.pop().unwrap_or_default();
            (b.tick, b.history) = (ack, h);
            baselines.push(b);
        }
        baselines
    }

    /// The baselines taken with [`Frame::take_baselines`], filled.
    pub fn set_baselines(&mut self, baselines: Vec<Baseline>) {
        self.baselines = baselines;
    }

    /// Where every entity of history snapshot `b.history` is now, and every current entity's body against
    /// it.
    pub fn fill(&self, b: &mut Baseline) {
        let then = &self.history[b.history];
        let n = self.keys.len();
        b.tick = then.tick;
        b.ticks = self.tick.wrapping_sub(then.tick);
        b.same_slots = then.layout == self.now.layout;
        b.now.clear();
        b.moved.clear();
        b.translatable = !b.same_slots;
        b.landing.kept.clear(if b.same_slots { 0 } else { then.entities.len() });
        b.landing.lands.clear(if b.same_slots { 0 } else { n });
        b.gone_now.clear(if b.same_slots { 0 } else { n });
        b.gone.clear(then.entities.len());
        b.changed.clear(n);
        b.spans.clear();
        b.spans.resize(n, (0, 0));
        b.bytes.clear();
        let prediction = Prediction::new(b.ticks, self.tick_rate);
        b.prediction = prediction;
        let mut i = 0;
        for j in then.alive.ones() {
            let e = &then.entities[j];
            let at = if b.same_slots {
                j
            } else {
                b.now.resize(j, NONE);
                b.moved.resize(j, NONE);
                while self.keys.get(i).is_some_and(|k| *k < e.key) {
                    i += 1;
                }
                if self.keys.get(i) == Some(&e.key) {
                    b.moved.push(i as u32);
                    b.landing.kept.set(j);
                    b.landing.lands.set(i);
                } else {
                    b.moved.push(NONE);
                    b.translatable = false;
                }
                i
            };
            if self.keys.get(at) != Some(&e.key) || !self.now.alive.has(at) {
                b.gone.set(j);
                if !b.same_slots && self.keys.get(at) == Some(&e.key) {
                    b.gone_now.set(at);
                }
                continue;
            }
            if !b.same_slots {
                b.now.push(at as u32);
            }
            let start = b.bytes.len();
            // Most entities are where the prediction puts them (projectiles nearly all): one comparison
            // of the whole entity finds them before the dearer field-by-field mask.
            let (predicted, now) = (prediction.of(e), &self.now.entities[at]);
            if predicted == *now {
                continue;
            }
            let len = encode_update_body(Some(&predicted), now, &mut b.bytes);
            if len > 0 {
                b.changed.set(at);
                b.spans[at] = (start as u32, (start + len) as u32);
            }
        }
        if !b.same_slots {
            b.now.resize(then.entities.len(), NONE);
            b.moved.resize(then.entities.len(), NONE);
        }
        // Room to copy any body as one 16-byte block (`DeltaWriter::update_from`).
        b.bytes.extend_from_slice(&[0; 16]);
    }

    pub fn tick(&self) -> u32 {
        self.tick
    }

    pub fn tick_rate(&self) -> u16 {
        self.tick_rate
    }

    /// Per slot, the entity's state (dead slots hold their last).
    pub fn entities(&self) -> &[QEntity] {
        &self.now.entities
    }

    /// Which slot layout this snapshot's is: a new number each time the slots are laid out afresh.
    pub fn layout(&self) -> u32 {
        self.now.layout
    }

    /// Per slot, its key (ascending).
    pub fn keys(&self) -> &[u32] {
        &self.keys
    }

    /// The slots holding a moving player this tick.
    pub fn moving(&self) -> &Bits {
        &self.moving
    }

    /// Words of [`Frame::moving`] up to its last one holding a moving player.
    pub fn moving_words(&self) -> usize {
        self.moving_words
    }

    /// The slots holding an entity this tick.
    pub fn alive(&self) -> &Bits {
        &self.now.alive
    }

    /// The slot of the entity with `key`, when it is alive.
    pub fn slot(&self, key: u32) -> Option<usize> {
        let at = self.keys.binary_search(&key).ok()?;
        self.now.alive.has(at).then_some(at)
    }

    /// The prepared baseline for snapshot `tick`.
    pub fn baseline(&self, tick: u32) -> Option<&Baseline> {
        self.baselines.iter().find(|b| b.tick == tick)
    }

    /// Slot `j` of history snapshot `h` (its entity then).
    pub fn then(&self, h: usize, j: usize) -> Option<&QEntity> {
        self.history.get(h)?.entities.get(j)
    }

    /// The state entity `key` had in history snapshot `h`, when it was alive then.
    pub fn state_in(&self, h: usize, key: u32) -> Option<&QEntity> {
        let snap = self.history.get(h)?;
        let at = snap.entities.binary_search_by_key(&key, |e| e.key).ok()?;
        snap.alive.has(at).then(|| &snap.entities[at])
    }
}

impl Baseline {
    /// Where the body of current entity `i` against this baseline is in [`Baseline::bytes`] (empty when none).
    pub fn span(&self, i: usize) -> (u32, u32) {
        self.spans.get(i).copied().unwrap_or((0, 0))
    }

    /// Every body against this baseline, back to back.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}
