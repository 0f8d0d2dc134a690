//! Per-client replication: each snapshot is a delta against the newest view the client acknowledged, holds
//! only what the client can see, and fits one datagram and the client's bandwidth budget. When everything
//! does not fit, a priority accumulator picks what goes first (the client's own player, removals, then the
//! nearest and most changed, with priority growing every snapshot an entity waits), so every visible entity
//! is updated eventually.
//!
//! Sans-IO: [`Replicator::build`] takes the tick's shared [`Frame`] and the client's visible entities and
//! returns the datagram payload. The work is split by what it depends on: an update body depends only on the
//! entity and the baseline tick, so [`Bodies`] encodes each once per tick for every client that needs it; a
//! client's view is stored as its keys plus the few entities whose state differs from the world's at that
//! tick (its own player, and entities the budget left out, which the client moved on by prediction).

mod frame;

pub use frame::{BaselineTable, Bodies, Frame};

use arena_shared::Vec2;
use arena_shared::codec::delta::{DeltaHeader, encode_delta_bodies, encode_update_body};
use arena_shared::quant::QEntity;
use bevy_ecs::prelude::*;
use std::collections::{HashMap, VecDeque};

/// Views kept per client (about half a second at 60 Hz): an ack older than this gets a full snapshot.
pub const VIEW_RING: usize = 32;

/// One view sent to a client: the keys it holds, and the entities whose state there is not the world's
/// state at that tick (sorted by key). Every other key holds the world's state at `tick`.
#[derive(Debug, Default)]
struct View {
    tick: u32,
    keys: Vec<u32>,
    odd: Vec<QEntity>,
}

/// One client's replication state.
#[derive(Component, Debug, Default)]
pub struct Replicator {
    /// Views sent, oldest first.
    ring: VecDeque<View>,
    /// Snapshots each left-out entity has waited.
    waiting: HashMap<u32, u32>,
    /// Bytes the bandwidth budget allows now.
    tokens: f64,
    /// Scratch buffers reused between snapshots.
    local: Vec<u8>,
    candidates: Vec<Candidate>,
    removals: Vec<u32>,
    removal_base: Vec<Base>,
    chosen: Vec<bool>,
    order: Vec<usize>,
    /// Cleared views from the ring, reused.
    spare: Vec<View>,
}

/// Where an entity's baseline state is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// Not in the baseline: the entity is new to the client.
    None,
    /// The world's state at the baseline tick.
    World,
    /// The baseline view's odd entity at this index.
    Odd(u32),
}

#[derive(Debug, Clone)]
struct Candidate {
    key: u32,
    /// Index into the frame's entities.
    current: u32,
    /// The body is in the client's own buffer (else in the shared [`Bodies`]).
    local: bool,
    body: (u32, u32),
    base: Base,
}

impl Candidate {
    fn len(&self) -> usize {
        (self.body.1 - self.body.0) as usize
    }
}

/// What one snapshot needs to know about the client.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotParams {
    pub last_input_seq: u32,
    /// The newest tick the client acknowledged.
    pub ack_tick: u32,
    /// The client's own player, timers included (always sent first). Its key must be among the visible.
    pub own: QEntity,
    /// Where the client is, for distance priority.
    pub center: Vec2,
    /// Most payload bytes this snapshot may take (the datagram).
    pub datagram_budget: usize,
    /// Bytes per snapshot the client's bandwidth budget refills; the bucket holds two snapshots' worth.
    pub refill: f64,
}

/// What a snapshot came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Built {
    pub bytes: usize,
    pub entities_visible: usize,
    pub updates_sent: usize,
    pub updates_left_out: usize,
    pub full: bool,
}

/// The chosen baseline: the view, the frame's history index and the table of shared bodies against it.
struct Baseline {
    at: usize,
    table: BaselineTable,
    history: usize,
    ticks: u32,
}

impl Replicator {
    /// Builds the payload for this snapshot into `out`. `visible` holds indices into `frame`'s entities,
    /// ascending (so keys ascend), the client's own player among them.
    pub fn build(
        &mut self,
        frame: &Frame,
        bodies: &mut Bodies,
        visible: &[u32],
        p: &SnapshotParams,
        out: &mut Vec<u8>,
    ) -> Built {
        self.tokens = (self.tokens + p.refill).min(2.0 * p.refill.max(p.datagram_budget as f64));
        // Acks only move forward: views older than the acknowledged one will never be a baseline again.
        while self.ring.len() > 1 && self.ring.front().is_some_and(|v| v.tick < p.ack_tick) {
            if let Some(old) = self.ring.pop_front() {
                self.spare.push(old);
            }
        }
        let baseline = self
            .ring
            .iter()
            .position(|v| v.tick == p.ack_tick && p.ack_tick != 0)
            .and_then(|at| {
                let history = frame.history_at(p.ack_tick)?;
                Some(Baseline {
                    at,
                    table: bodies.table(frame, history),
                    history,
                    ticks: frame.tick().wrapping_sub(p.ack_tick),
                })
            });
        self.collect(frame, bodies, visible, p, baseline.as_ref());
        let (sent, removals_sent) = self.choose(frame, p);
        let all_sent = sent == self.candidates.len() && removals_sent == self.removals.len();

        // The view the client will hold.
        let mut view = self.spare.pop().unwrap_or_default();
        view.tick = frame.tick();
        view.keys.clear();
        view.odd.clear();
        if all_sent {
            view.keys.extend(visible.iter().map(|&i| frame.keys()[i as usize]));
            view.odd.push(p.own);
        } else {
            self.view_over_budget(frame, visible, p, baseline.as_ref(), removals_sent, &mut view);
        }
        self.account_waiting(all_sent, visible.len());

        let header = DeltaHeader {
            tick: frame.tick(),
            baseline_tick: baseline.as_ref().map_or(0, |b| self.ring[b.at].tick),
            last_input_seq: p.last_input_seq,
        };
        let start = out.len();
        let (shared, local) = (bodies.bytes(), &self.local);
        let updates = self
            .candidates
            .iter()
            .zip(&self.chosen)
            .filter(|(_, c)| **c)
            .map(|(c, _)| {
                let buf = if c.local { local } else { shared };
                (c.key, &buf[c.body.0 as usize..c.body.1 as usize])
            });
        encode_delta_bodies(&header, ExactLen(updates, sent), &self.removals[..removals_sent], out);
        let bytes = out.len() - start;
        self.tokens -= bytes as f64;
        if self.ring.len() == VIEW_RING
            && let Some(old) = self.ring.pop_front()
        {
            self.spare.push(old);
        }
        self.ring.push_back(view);
        Built {
            bytes,
            entities_visible: visible.len(),
            updates_sent: sent,
            updates_left_out: self.candidates.len() - sent,
            full: baseline.is_none(),
        }
    }

    /// Walks the baseline view and the visible entities (both by key): changed or new entities become
    /// candidates, entities gone from view become removals.
    fn collect(
        &mut self,
        frame: &Frame,
        bodies: &mut Bodies,
        visible: &[u32],
        p: &SnapshotParams,
        base: Option<&Baseline>,
    ) {
        self.local.clear();
        self.candidates.clear();
        self.removals.clear();
        self.removal_base.clear();
        let empty = View::default();
        let bv = base.map_or(&empty, |b| &self.ring[b.at]);
        let keys = frame.keys();
        let (mut bi, mut vi, mut oi) = (0, 0, 0);
        while bi < bv.keys.len() || vi < visible.len() {
            let bk = bv.keys.get(bi).copied();
            let vk = visible.get(vi).map(|&i| keys[i as usize]);
            // Where the baseline's state of key `k` is (the odd list is sorted too).
            let mut base_of = |k: u32| {
                while bv.odd.get(oi).is_some_and(|e| e.key < k) {
                    oi += 1;
                }
                match bv.odd.get(oi) {
                    Some(e) if e.key == k => Base::Odd(oi as u32),
                    _ => Base::World,
                }
            };
            match (bk, vk) {
                (Some(b), Some(v)) if b == v => {
                    let i = visible[vi];
                    let where_ = base_of(b);
                    match (where_, base) {
                        (Base::World, Some(bl)) if b != p.own.key => {
                            let r = bodies.against(frame, bl.table, i as usize);
                            push_shared(&mut self.candidates, b, i, r, Base::World);
                        }
                        _ => {
                            let ticks = base.map_or(0, |bl| bl.ticks);
                            let predicted = match where_ {
                                Base::Odd(o) => Some(bv.odd[o as usize].predicted(ticks, frame.tick_rate())),
                                _ => None, // the own player is always odd; a new one is sent whole
                            };
                            let cur = if b == p.own.key {
                                &p.own
                            } else {
                                &frame.entities()[i as usize]
                            };
                            let start = self.local.len();
                            let len = encode_update_body(predicted.as_ref(), cur, &mut self.local);
                            if len > 0 {
                                self.candidates.push(Candidate {
                                    key: b,
                                    current: i,
                                    local: true,
                                    body: (start as u32, (start + len) as u32),
                                    base: if predicted.is_some() { where_ } else { Base::None },
                                });
                            }
                        }
                    }
                    bi += 1;
                    vi += 1;
                }
                (Some(b), v) if v.is_none_or(|v| b < v) => {
                    let where_ = base_of(b);
                    self.removals.push(b);
                    self.removal_base.push(where_);
                    bi += 1;
                }
                _ => {
                    let i = visible[vi];
                    let k = keys[i as usize];
                    if k == p.own.key {
                        let start = self.local.len();
                        let len = encode_update_body(None, &p.own, &mut self.local);
                        self.candidates.push(Candidate {
                            key: k,
                            current: i,
                            local: true,
                            body: (start as u32, (start + len) as u32),
                            base: Base::None,
                        });
                    } else {
                        let r = bodies.new_entity(frame, i as usize);
                        push_shared(&mut self.candidates, k, i, r, Base::None);
                    }
                    vi += 1;
                }
            }
        }
    }
}

/// Adds a candidate whose body is in the shared [`Bodies`], unless the body is empty (nothing changed).
fn push_shared(candidates: &mut Vec<Candidate>, key: u32, current: u32, body: std::ops::Range<usize>, base: Base) {
    if !body.is_empty() {
        candidates.push(Candidate {
            key,
            current,
            local: false,
            body: (body.start as u32, body.end as u32),
            base,
        });
    }
}

/// An iterator with a known length (the count of chosen updates).
struct ExactLen<I>(I, usize);

impl<I: Iterator> Iterator for ExactLen<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.0.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.1, Some(self.1))
    }
}

impl<I: Iterator> ExactSizeIterator for ExactLen<I> {}

mod budget;

#[cfg(test)]
mod tests;
