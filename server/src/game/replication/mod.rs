//! Per-client replication: each snapshot is a delta against the newest view the client acknowledged, holds
//! only what the client can see, and fits one datagram and the client's bandwidth budget. When everything
//! does not fit, a priority accumulator picks what goes first (the client's own player, removals, then the
//! nearest and most changed, with priority growing every snapshot an entity waits), so every visible entity
//! is updated eventually.
//!
//! Sans-IO: [`Replicator::build`] takes the tick's shared [`Frame`] and the client's visible entities and
//! returns the datagram payload. The work is split by what it depends on. An update body depends only on
//! the entity and the baseline, so the [`Frame`] encodes each once per tick for every client. Entities keep
//! their slot from tick to tick ([`frame`]). A client's view is stored as a bitset over slots of the
//! entities holding the world's state at that tick, plus the few "odd" entities that do not (its own
//! player, whose timers only it is sent, and entities the budget left out, which the client moved on by
//! prediction). Finding what changed for a client is then a few operations per 64 entities ([`bits`]), and
//! only changed, new, odd and removed entities are looked at one by one: in two walks over the words in the
//! common case ([`fast`]), through lists the priority accumulator can choose from otherwise ([`collect`],
//! [`budget`]).

mod bits;
mod budget;
mod collect;
mod fast;
mod frame;
mod news;
mod translate;

pub use bits::Bits;
pub use frame::{Baseline, Frame};
pub use news::NewBodies;

use arena_shared::Vec2;
use arena_shared::codec::delta::{DeltaHeader, encode_delta_bodies};
use arena_shared::quant::QEntity;
use bevy_ecs::prelude::*;
use std::collections::VecDeque;

/// Views kept per client (about half a second at 60 Hz): an ack older than this gets a full snapshot.
pub const VIEW_RING: usize = 32;

/// One view sent to a client.
#[derive(Debug, Default)]
struct View {
    tick: u32,
    /// Entities (indices into that tick's frame) the client holds with the world's state at that tick.
    exact: Bits,
    /// Entities the client holds with another state, sorted by key (never also in `exact`).
    odd: Vec<QEntity>,
}

/// One client's replication state.
#[derive(Component, Debug)]
pub struct Replicator {
    /// Views sent, oldest first.
    ring: VecDeque<View>,
    /// Snapshots each left-out entity has waited, sorted by key.
    waiting: Vec<(u32, u32)>,
    /// Bytes the bandwidth budget allows now.
    tokens: f64,
    /// Cleared views from the ring, reused.
    spare: Vec<View>,
    /// Whether the common case takes the short path ([`fast`]); tests turn it off to compare.
    fast: bool,
    /// Snapshots the short path built (tests).
    #[cfg(test)]
    fast_taken: u32,
    /// Of those, snapshots whose baseline view was translated from the layout before (tests).
    #[cfg(test)]
    translated_taken: u32,
}

impl Default for Replicator {
    fn default() -> Self {
        Self {
            ring: VecDeque::new(),
            waiting: Vec::new(),
            tokens: 0.0,
            spare: Vec::new(),
            fast: true,
            #[cfg(test)]
            fast_taken: 0,
            #[cfg(test)]
            translated_taken: 0,
        }
    }
}

/// Buffers one snapshot is built in, kept by the thread that builds snapshots (so they stay in its
/// cache from one client to the next) and used for each client's [`Replicator`] in turn.
#[derive(Debug, Default)]
pub struct Scratch {
    work: Work,
    /// Bodies of entities new to the thread's clients, this tick.
    news: NewBodies,
}

#[derive(Debug, Default)]
struct Work {
    local: Vec<u8>,
    candidates: Vec<Candidate>,
    removals: Vec<Removal>,
    removed: Vec<u32>,
    /// The short path's updates, before they go onto the datagram.
    room: Vec<u8>,
    chosen: Vec<bool>,
    priorities: Vec<f32>,
    order: Vec<usize>,
    /// The waiting counts before this snapshot, while they are rebuilt.
    waited: Vec<(u32, u32)>,
    /// The baseline's exact entities and its odd entities still visible, by index now.
    base: Bits,
    odd_now: Bits,
    /// The short path's baseline view translated to this snapshot's slots (after a new layout), and
    /// scratch for that.
    held_now: Bits,
    dense: Vec<u64>,
    /// The visible entities to look at one by one.
    todo: Vec<u32>,
}

/// Where an entity's state in the baseline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// Not in the baseline: the entity is new to the client.
    None,
    /// The world's state at the baseline tick (find it by key).
    World,
    /// Entity `j` of the baseline's snapshot.
    Then(u32),
    /// The baseline view's odd entity at this index.
    Odd(u32),
}

/// Where an update body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    /// The frame's bodies against the baseline.
    Shared,
    /// The thread's bodies of new entities.
    New,
    /// This client's own buffer.
    Local,
}

#[derive(Debug, Clone)]
struct Candidate {
    key: u32,
    /// Index into the frame's entities.
    current: u32,
    src: Src,
    body: (u32, u32),
    base: Base,
}

impl Candidate {
    fn len(&self) -> usize {
        (self.body.1 - self.body.0) as usize
    }
}

#[derive(Debug, Clone, Copy)]
struct Removal {
    key: u32,
    base: Base,
}

/// What one snapshot needs to know about the client.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotParams {
    pub last_input_seq: u32,
    /// The newest tick the client acknowledged.
    pub ack_tick: u32,
    /// The client's own player, timers included (always sent first). It must be among the visible.
    pub own: QEntity,
    /// Its slot in the frame, when the caller has looked it up already (else it is looked up here).
    pub own_slot: Option<usize>,
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
    /// Moving players among the visible (the client's own one included).
    pub moving_visible: usize,
    pub updates_sent: usize,
    pub updates_left_out: usize,
    pub full: bool,
}

impl Replicator {
    /// Builds the payload for this snapshot into `out`. `visible` holds the visible entities (slots of
    /// `frame`), the client's own player among them, and is left holding anything (it becomes the stored
    /// view, and the buffer of an old view takes its place); the acknowledged baseline must have been
    /// prepared in `frame` ([`Frame::take_baselines`], [`Frame::fill`]), or the snapshot is a full one.
    pub fn build(
        &mut self,
        frame: &Frame,
        scratch: &mut Scratch,
        visible: &mut Bits,
        p: &SnapshotParams,
        out: &mut Vec<u8>,
    ) -> Built {
        self.build_with(scratch, frame, visible, p, out)
    }

    fn build_with(
        &mut self,
        scratch: &mut Scratch,
        frame: &Frame,
        visible: &mut Bits,
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
        let baseline = (p.ack_tick != 0)
            .then(|| self.ring.iter().position(|v| v.tick == p.ack_tick))
            .flatten()
            .and_then(|at| Some((at, frame.baseline(p.ack_tick)?)));
        if let Some(b) = baseline
            && self.fast
            && let Some(fast) = self.build_fast(scratch, frame, visible, p, b, out)
        {
            #[cfg(test)]
            {
                self.fast_taken += 1;
                self.translated_taken += u32::from(!b.1.same_slots);
            }
            return Built {
                bytes: fast.bytes,
                entities_visible: fast.visible,
                moving_visible: fast.moving,
                updates_sent: fast.sent,
                updates_left_out: 0,
                full: false,
            };
        }
        let Scratch { work: w, news } = scratch;
        self.collect(w, frame, news, visible, p, baseline);
        let (sent, removals_sent) = self.choose(w, frame, p);
        let all_sent = sent == w.candidates.len() && removals_sent == w.removals.len();

        // The view the client will hold.
        let mut view = self.spare.pop().unwrap_or_default();
        view.tick = frame.tick();
        let entities_visible = visible.count();
        let moving = visible.words().iter().zip(frame.moving().words());
        let moving_visible = moving.map(|(v, m)| (v & m).count_ones() as usize).sum();
        std::mem::swap(&mut view.exact, visible);
        view.odd.clear();
        if let Ok(own_at) = frame.keys().binary_search(&p.own.key) {
            view.exact.unset(own_at);
        }
        if all_sent {
            view.odd.push(p.own);
        } else {
            self.view_over_budget(w, frame, p, baseline, removals_sent, &mut view);
        }
        self.account_waiting(w, all_sent);

        let header = DeltaHeader {
            tick: frame.tick(),
            baseline_tick: baseline.map_or(0, |(_, b)| b.tick),
            last_input_seq: p.last_input_seq,
        };
        let start = out.len();
        // Where each source's bodies are: spans in candidates index straight into them.
        let shared = baseline.map_or(&[][..], |(_, b)| b.bytes());
        let (news, local) = (&news.bytes[..], &w.local[..]);
        let body = |c: &Candidate| {
            let bytes = match c.src {
                Src::Shared => shared,
                Src::New => news,
                Src::Local => local,
            };
            bytes.get(c.body.0 as usize..c.body.1 as usize).unwrap_or(&[])
        };
        let all = sent == w.candidates.len();
        let updates = w
            .candidates
            .iter()
            .zip(&w.chosen)
            .filter(|(_, c)| all || **c)
            .map(|(c, _)| (c.key, body(c)));
        w.removed.clear();
        w.removed.extend(w.removals[..removals_sent].iter().map(|r| r.key));
        encode_delta_bodies(&header, ExactLen(updates, sent), &w.removed, out);
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
            entities_visible,
            moving_visible,
            updates_sent: sent,
            updates_left_out: w.candidates.len() - sent,
            full: baseline.is_none(),
        }
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

#[cfg(test)]
mod tests;
