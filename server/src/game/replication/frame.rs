//! What every client's snapshot of one tick shares: the entities quantized once and sorted by key, the
//! entities of the recent snapshots (the baselines clients acknowledge), and the update bodies, which depend
//! only on the entity and the baseline tick, so each is encoded once per tick however many clients see it.

use super::VIEW_RING;
use arena_shared::codec::delta::encode_update_body;
use arena_shared::quant::QEntity;
use std::collections::VecDeque;
use std::ops::Range;

/// Marks an index or a body not known (yet).
const NONE: u32 = u32::MAX;

/// One snapshot tick's entities and the recent ones before it.
#[derive(Debug, Default)]
pub struct Frame {
    tick: u32,
    tick_rate: u16,
    /// This snapshot's entities, sorted by key. Timers are zero: a client's own player carries its own.
    entities: Vec<QEntity>,
    /// The same keys, packed, for the per-client walks.
    keys: Vec<u32>,
    /// Each entity's index in the previous snapshot, [`NONE`] when it was not there.
    prev_index: Vec<u32>,
    /// Earlier snapshots' entities, oldest first.
    history: VecDeque<(u32, Vec<QEntity>)>,
    spare: Vec<QEntity>,
}

impl Frame {
    /// Starts snapshot `tick`: the current entities become history, and `entities` (sorted by key, unique)
    /// become current.
    pub fn begin(&mut self, tick: u32, tick_rate: u16, entities: impl Iterator<Item = QEntity>) {
        let mut next = std::mem::take(&mut self.spare);
        next.clear();
        next.extend(entities);
        debug_assert!(next.windows(2).all(|w| w[0].key < w[1].key), "sorted, unique keys");
        let previous = std::mem::replace(&mut self.entities, next);
        if self.tick != 0 {
            if self.history.len() == VIEW_RING
                && let Some((_, old)) = self.history.pop_front()
            {
                self.spare = old;
            }
            self.history.push_back((self.tick, previous));
        }
        self.tick = tick;
        self.tick_rate = tick_rate;
        self.keys.clear();
        self.keys.extend(self.entities.iter().map(|e| e.key));
        // Where each entity was in the previous snapshot: a walk of two sorted lists.
        self.prev_index.clear();
        let prev: &[QEntity] = self.history.back().map_or(&[], |(_, v)| v);
        let mut j = 0;
        for &k in &self.keys {
            while j < prev.len() && prev[j].key < k {
                j += 1;
            }
            self.prev_index.push(if prev.get(j).is_some_and(|p| p.key == k) {
                j as u32
            } else {
                NONE
            });
        }
    }

    pub fn tick(&self) -> u32 {
        self.tick
    }

    pub fn tick_rate(&self) -> u16 {
        self.tick_rate
    }

    pub fn entities(&self) -> &[QEntity] {
        &self.entities
    }

    pub fn keys(&self) -> &[u32] {
        &self.keys
    }

    /// The index in the history of snapshot `tick`, if it is still kept.
    pub fn history_at(&self, tick: u32) -> Option<usize> {
        self.history.iter().rposition(|(t, _)| *t == tick)
    }

    /// The state entity `key` had in history snapshot `h`.
    pub fn state_in(&self, h: usize, key: u32) -> Option<&QEntity> {
        let v = &self.history.get(h)?.1;
        v.binary_search_by_key(&key, |e| e.key).ok().map(|i| &v[i])
    }

    /// The state current entity `i` had in history snapshot `h`.
    fn earlier_state(&self, h: usize, i: usize) -> Option<&QEntity> {
        if h + 1 == self.history.len() {
            let j = self.prev_index[i];
            return (j != NONE).then(|| &self.history[h].1[j as usize]);
        }
        self.state_in(h, self.keys[i])
    }
}

/// Update bodies made this tick, each once: for an entity new to a client, and for an entity against its
/// state in a baseline snapshot. Filled lazily, so only what some client needs is encoded.
#[derive(Debug, Default)]
pub struct Bodies {
    tick: u32,
    bytes: Vec<u8>,
    /// Per entity: where its body as a new entity is (start, end), or [`NONE`].
    new: Vec<(u32, u32)>,
    /// Per baseline: per entity, where its body against that baseline is.
    against: Vec<Table>,
    spare: Vec<Vec<(u32, u32)>>,
}

/// The bodies against one baseline.
#[derive(Debug)]
struct Table {
    /// The baseline's index in the frame's history.
    history: usize,
    /// Ticks from the baseline to now.
    ticks: u32,
    /// Per entity: (start, end) in the bytes, or [`NONE`].
    spans: Vec<(u32, u32)>,
}

/// Which table of [`Bodies`] holds the bodies against one baseline.
#[derive(Debug, Clone, Copy)]
pub struct BaselineTable(usize);

impl Bodies {
    /// Forgets the bodies of an earlier tick.
    fn refresh(&mut self, frame: &Frame) {
        if self.tick == frame.tick && self.new.len() == frame.entities.len() {
            return;
        }
        self.tick = frame.tick;
        self.bytes.clear();
        self.new.clear();
        self.new.resize(frame.entities.len(), (NONE, NONE));
        for mut table in self.against.drain(..) {
            table.spans.clear();
            self.spare.push(table.spans);
        }
    }

    /// The encoded bytes the ranges returned here point into.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The table for baseline history snapshot `h`.
    pub fn table(&mut self, frame: &Frame, h: usize) -> BaselineTable {
        self.refresh(frame);
        if let Some(t) = self.against.iter().position(|t| t.history == h) {
            return BaselineTable(t);
        }
        let mut spans = self.spare.pop().unwrap_or_default();
        spans.resize(frame.entities.len(), (NONE, NONE));
        self.against.push(Table {
            history: h,
            ticks: frame.tick.wrapping_sub(frame.history[h].0),
            spans,
        });
        BaselineTable(self.against.len() - 1)
    }

    /// Current entity `i` as a new entity.
    pub fn new_entity(&mut self, frame: &Frame, i: usize) -> Range<usize> {
        self.refresh(frame);
        let (s, e) = self.new[i];
        if s != NONE {
            return s as usize..e as usize;
        }
        let start = self.bytes.len();
        encode_update_body(None, &frame.entities[i], &mut self.bytes);
        self.new[i] = (start as u32, self.bytes.len() as u32);
        start..self.bytes.len()
    }

    /// Current entity `i` against its state in the baseline of `table` moved on by prediction (empty when
    /// the prediction is exact). An entity the baseline lacks is sent whole.
    #[inline]
    pub fn against(&mut self, frame: &Frame, table: BaselineTable, i: usize) -> Range<usize> {
        let (s, e) = self.against[table.0].spans[i];
        if s != NONE {
            return s as usize..e as usize;
        }
        self.encode_against(frame, table, i)
    }

    #[inline(never)]
    fn encode_against(&mut self, frame: &Frame, table: BaselineTable, i: usize) -> Range<usize> {
        let Table { history, ticks, .. } = self.against[table.0];
        let start = self.bytes.len();
        match frame.earlier_state(history, i) {
            Some(b) => {
                encode_update_body(
                    Some(&b.predicted(ticks, frame.tick_rate)),
                    &frame.entities[i],
                    &mut self.bytes,
                );
            }
            None => {
                encode_update_body(None, &frame.entities[i], &mut self.bytes);
            }
        }
        let end = self.bytes.len();
        self.against[table.0].spans[i] = (start as u32, end as u32);
        start..end
    }
}
