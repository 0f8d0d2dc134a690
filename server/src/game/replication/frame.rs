//! What every client's snapshot of one tick shares: the entities quantized once and sorted by key, the
//! entities of the recent snapshots (the baselines clients acknowledge), and, per baseline in use, where
//! each of its entities is now and the update body of every entity against it. A body depends only on the
//! entity and the baseline, so each is encoded once per tick however many clients need it.

use super::VIEW_RING;
use super::bits::Bits;
use crate::game::workers::Workers;
use arena_shared::codec::delta::encode_update_body;
use arena_shared::quant::QEntity;
use std::collections::VecDeque;
use std::ops::Range;

/// Marks an index or a body not known.
pub(super) const NONE: u32 = u32::MAX;

/// One snapshot tick's entities and the recent ones before it.
#[derive(Debug, Default)]
pub struct Frame {
    tick: u32,
    tick_rate: u16,
    /// This snapshot's entities, sorted by key. Timers are zero: a client's own player carries its own.
    entities: Vec<QEntity>,
    /// The same keys, packed.
    keys: Vec<u32>,
    /// Earlier snapshots' entities, oldest first.
    history: VecDeque<(u32, Vec<QEntity>)>,
    /// The baselines prepared for this tick.
    baselines: Vec<Baseline>,
    spare: Vec<QEntity>,
    spare_baselines: Vec<Baseline>,
}

/// One acknowledged snapshot, prepared for every client whose baseline it is.
#[derive(Debug, Default)]
pub struct Baseline {
    pub tick: u32,
    /// Its index in the history.
    pub history: usize,
    /// Ticks from it to now.
    pub ticks: u32,
    /// Per entity of that snapshot: its index now, or [`NONE`] when it is gone.
    pub now: Vec<u32>,
    /// Entities of that snapshot (by index then) gone now.
    pub gone: Bits,
    /// Entities (by index now) whose state differs from their state then moved on by prediction.
    pub changed: Bits,
    /// Per entity now: its body (start, end) in `bytes` against that snapshot, empty when unchanged or
    /// absent then.
    spans: Vec<(u32, u32)>,
    bytes: Vec<u8>,
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
        self.spare_baselines.append(&mut self.baselines);
    }

    /// Prepares the baselines `acks` name that are still in the history (each once), on `workers`.
    pub fn prepare(&mut self, acks: impl IntoIterator<Item = u32>, workers: &Workers) {
        let mut baselines = std::mem::take(&mut self.baselines);
        for ack in acks {
            if ack == 0 || baselines.iter().any(|b| b.tick == ack) {
                continue;
            }
            let Some(h) = self.history.iter().rposition(|(t, _)| *t == ack) else {
                continue;
            };
            let mut b = self.spare_baselines.pop().unwrap_or_default();
            (b.tick, b.history) = (ack, h);
            baselines.push(b);
        }
        let frame = &*self;
        workers.for_each_run(&mut baselines, |run| run.iter_mut().for_each(|b| frame.fill(b)));
        self.baselines = baselines;
    }

    /// Where every entity of history snapshot `b.history` is now, and every current entity's body against
    /// it.
    fn fill(&self, b: &mut Baseline) {
        let (tick, then) = &self.history[b.history];
        b.tick = *tick;
        b.ticks = self.tick.wrapping_sub(*tick);
        b.now.clear();
        b.gone.clear(then.len());
        b.changed.clear(self.entities.len());
        b.spans.clear();
        b.spans.resize(self.entities.len(), (0, 0));
        b.bytes.clear();
        let mut i = 0;
        for e in then {
            while self.keys.get(i).is_some_and(|k| *k < e.key) {
                i += 1;
            }
            if self.keys.get(i) != Some(&e.key) {
                b.gone.set(b.now.len());
                b.now.push(NONE);
                continue;
            }
            b.now.push(i as u32);
            let start = b.bytes.len();
            let len = encode_update_body(
                Some(&e.predicted(b.ticks, self.tick_rate)),
                &self.entities[i],
                &mut b.bytes,
            );
            if len > 0 {
                b.changed.set(i);
                b.spans[i] = (start as u32, (start + len) as u32);
            }
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

    /// The prepared baseline for snapshot `tick`.
    pub fn baseline(&self, tick: u32) -> Option<&Baseline> {
        self.baselines.iter().find(|b| b.tick == tick)
    }

    /// Entity `j` of history snapshot `h`.
    pub fn then(&self, h: usize, j: usize) -> Option<&QEntity> {
        self.history.get(h)?.1.get(j)
    }

    /// The state entity `key` had in history snapshot `h`.
    pub fn state_in(&self, h: usize, key: u32) -> Option<&QEntity> {
        let v = &self.history.get(h)?.1;
        v.binary_search_by_key(&key, |e| e.key).ok().map(|i| &v[i])
    }

    /// The body of current entity `i` against baseline `b`.
    pub fn body<'a>(&self, b: &'a Baseline, i: usize) -> &'a [u8] {
        let (s, e) = b.spans[i];
        &b.bytes[s as usize..e as usize]
    }
}

/// Bodies of entities new to a client, made lazily by one thread for the clients it serves.
#[derive(Debug, Default)]
pub struct NewBodies {
    tick: u32,
    len: usize,
    pub bytes: Vec<u8>,
    /// Per entity: where its body as a new entity is (start, end), or [`NONE`].
    spans: Vec<(u32, u32)>,
}

impl NewBodies {
    /// Current entity `i` as a new entity.
    pub fn get(&mut self, frame: &Frame, i: usize) -> Range<usize> {
        if self.tick != frame.tick || self.len != frame.entities.len() {
            self.tick = frame.tick;
            self.len = frame.entities.len();
            self.bytes.clear();
            self.spans.clear();
            self.spans.resize(self.len, (NONE, NONE));
        }
        let (s, e) = self.spans[i];
        if s != NONE {
            return s as usize..e as usize;
        }
        let start = self.bytes.len();
        encode_update_body(None, &frame.entities[i], &mut self.bytes);
        self.spans[i] = (start as u32, self.bytes.len() as u32);
        start..self.bytes.len()
    }
}
