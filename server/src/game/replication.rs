//! Per-client replication: each snapshot is a delta against the newest view the client acknowledged, holds
//! only what the client can see, and fits one datagram and the client's bandwidth budget. When everything
//! does not fit, a priority accumulator picks what goes first (the client's own player, removals, then the
//! nearest and most changed, with priority growing every snapshot an entity waits), so every visible entity
//! is updated eventually.
//!
//! Sans-IO: [`Replicator::build`] takes the client's visible entities and returns the datagram payload; the
//! view it stores is exactly what the client will rebuild, left-out entities included (the client moves them
//! on by prediction, and so does the stored view).

use arena_shared::Vec2;
use arena_shared::codec::delta::{
    DeltaHeader, MAX_DELTA_OVERHEAD, MAX_KEY_GAP_LEN, encode_delta_bodies, encode_update_body,
};
use arena_shared::quant::QEntity;
use bevy_ecs::prelude::*;
use std::collections::{HashMap, VecDeque};
use std::ops::Range;

/// Views kept per client (about half a second at 60 Hz): an ack older than this gets a full snapshot.
pub const VIEW_RING: usize = 32;

/// One client's replication state.
#[derive(Component, Debug, Default)]
pub struct Replicator {
    /// Views sent, oldest first, each sorted by key.
    ring: VecDeque<(u32, Vec<QEntity>)>,
    /// Snapshots each left-out entity has waited.
    waiting: HashMap<u32, u32>,
    /// Bytes the bandwidth budget allows now.
    tokens: f64,
    /// Scratch buffers reused between snapshots.
    bodies: Vec<u8>,
    candidates: Vec<Candidate>,
    removals: Vec<u32>,
    /// Cleared view buffers from the ring, reused for new views.
    spare: Vec<Vec<QEntity>>,
    /// Which candidates this snapshot sends.
    chosen: Vec<bool>,
    /// The baseline moved on by prediction.
    predicted: Vec<QEntity>,
}

#[derive(Debug, Clone)]
struct Candidate {
    key: u32,
    body: Range<usize>,
    priority: f32,
    /// Index into `current`.
    current: usize,
}

/// What one snapshot needs to know besides the entities.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotParams {
    pub tick: u32,
    pub tick_rate: u16,
    pub last_input_seq: u32,
    /// The newest tick the client acknowledged.
    pub ack_tick: u32,
    /// The client's own player key (always sent first).
    pub own_key: u32,
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

impl Replicator {
    /// Builds the payload for this snapshot into `out` from `current` (the visible entities, sorted by key).
    pub fn build(&mut self, current: &[QEntity], p: &SnapshotParams, positions: &[Vec2], out: &mut Vec<u8>) -> Built {
        self.tokens = (self.tokens + p.refill).min(2.0 * p.refill.max(p.datagram_budget as f64));
        // Acks only move forward: views older than the acknowledged one will never be a baseline again.
        while self.ring.len() > 1 && self.ring.front().is_some_and(|(t, _)| *t < p.ack_tick) {
            if let Some((_, mut old)) = self.ring.pop_front() {
                old.clear();
                self.spare.push(old);
            }
        }
        let baseline_at = self.ring.iter().position(|(t, _)| *t == p.ack_tick && p.ack_tick != 0);
        let (baseline_tick, ticks) = match baseline_at {
            Some(i) => (self.ring[i].0, p.tick.wrapping_sub(self.ring[i].0)),
            None => (0, 0),
        };
        // Borrow the baseline out of the ring while self's scratch buffers are in use; it goes back below.
        let base_vec: Vec<QEntity> = baseline_at
            .map(|i| std::mem::take(&mut self.ring[i].1))
            .unwrap_or_default();
        let base = base_vec.as_slice();
        // Every baseline entity moved on by prediction, once: the candidates compare against it, and the
        // stored view keeps it for entities left out.
        let mut predicted = std::mem::take(&mut self.predicted);
        predicted.clear();
        predicted.extend(base.iter().map(|b| b.predicted(ticks, p.tick_rate)));

        // Walk baseline and current (both sorted by key): changed or new entities are candidates, entities
        // gone from view are removals.
        self.bodies.clear();
        self.candidates.clear();
        self.removals.clear();
        let (mut bi, mut ci) = (0, 0);
        while bi < base.len() || ci < current.len() {
            let bk = base.get(bi).map(|e| e.key);
            let ck = current.get(ci).map(|e| e.key);
            match (bk, ck) {
                (Some(b), Some(c)) if b == c => {
                    self.candidate(Some(&predicted[bi]), ci, current, p, positions);
                    bi += 1;
                    ci += 1;
                }
                (Some(b), Some(c)) if b < c => {
                    self.removals.push(b);
                    bi += 1;
                }
                (Some(b), None) => {
                    self.removals.push(b);
                    bi += 1;
                }
                _ => {
                    self.candidate(None, ci, current, p, positions);
                    ci += 1;
                }
            }
        }

        // Choose what fits: everything when it does, otherwise by priority.
        let limit = p
            .datagram_budget
            .min(self.tokens.max(0.0) as usize)
            .saturating_sub(MAX_DELTA_OVERHEAD);
        let cost = |c: &Candidate| c.body.len() + MAX_KEY_GAP_LEN;
        let total: usize = self.candidates.iter().map(cost).sum::<usize>() + self.removals.len() * MAX_KEY_GAP_LEN;
        let mut chosen = std::mem::take(&mut self.chosen);
        chosen.clear();
        chosen.resize(self.candidates.len(), true);
        let mut removals_sent = self.removals.len();
        if total > limit {
            chosen.iter_mut().for_each(|c| *c = false);
            let mut order: Vec<usize> = (0..self.candidates.len()).collect();
            order.sort_by(|a, b| self.candidates[*b].priority.total_cmp(&self.candidates[*a].priority));
            let mut used = 0;
            // The own player first, then removals, then by priority.
            if let Some(own) = self.candidates.iter().position(|c| c.key == p.own_key) {
                used += cost(&self.candidates[own]);
                chosen[own] = true;
            }
            removals_sent = self.removals.len().min(limit.saturating_sub(used) / MAX_KEY_GAP_LEN);
            used += removals_sent * MAX_KEY_GAP_LEN;
            for i in order {
                if !chosen[i] && used + cost(&self.candidates[i]) <= limit {
                    used += cost(&self.candidates[i]);
                    chosen[i] = true;
                }
            }
        }

        // The view the client will hold: chosen updates, everything else moved on by prediction (or absent
        // when new and left out), removals applied.
        let mut view = self.spare.pop().unwrap_or_default();
        let sent_removals = &self.removals[..removals_sent];
        let mut k = 0;
        let mut next_update = self
            .candidates
            .iter()
            .zip(&chosen)
            .filter(|(_, c)| **c)
            .map(|(c, _)| c)
            .peekable();
        for (b, moved_on) in base.iter().zip(&predicted) {
            while let Some(u) = next_update.next_if(|u| u.key < b.key) {
                view.push(current[u.current]);
            }
            if sent_removals.get(k) == Some(&b.key) {
                k += 1;
                continue;
            }
            match next_update.next_if(|u| u.key == b.key) {
                Some(u) => view.push(current[u.current]),
                None => view.push(*moved_on),
            }
        }
        view.extend(next_update.map(|u| current[u.current]));

        // Starvation bookkeeping: left-out entities wait longer, and so gain priority.
        // (Skipped entirely in the common case where everything fit and nothing was waiting.)
        let all_sent = chosen.iter().all(|c| *c);
        if !(all_sent && self.waiting.is_empty()) {
            for (c, sent) in self.candidates.iter().zip(&chosen) {
                if *sent {
                    self.waiting.remove(&c.key);
                } else {
                    *self.waiting.entry(c.key).or_insert(0) += 1;
                }
            }
        }
        if self.waiting.len() > 4 * current.len().max(64) {
            let visible: std::collections::HashSet<u32> = current.iter().map(|e| e.key).collect();
            self.waiting.retain(|k, _| visible.contains(k));
        }

        let header = DeltaHeader {
            tick: p.tick,
            baseline_tick,
            last_input_seq: p.last_input_seq,
        };
        let start = out.len();
        let updates = self
            .candidates
            .iter()
            .zip(&chosen)
            .filter(|(_, c)| **c)
            .map(|(c, _)| (c.key, &self.bodies[c.body.clone()]));
        let sent = chosen.iter().filter(|c| **c).count();
        encode_delta_bodies(&header, ExactLen(updates, sent), sent_removals, out);
        let bytes = out.len() - start;
        self.tokens -= bytes as f64;
        if let Some(i) = baseline_at {
            self.ring[i].1 = base_vec;
        }
        if self.ring.len() == VIEW_RING
            && let Some((_, mut old)) = self.ring.pop_front()
        {
            old.clear();
            self.spare.push(old);
        }
        self.ring.push_back((p.tick, view));
        self.chosen = chosen;
        self.predicted = predicted;
        Built {
            bytes,
            entities_visible: current.len(),
            updates_sent: sent,
            updates_left_out: self.candidates.len() - sent,
            full: baseline_tick == 0,
        }
    }

    fn candidate(
        &mut self,
        base: Option<&QEntity>,
        ci: usize,
        current: &[QEntity],
        p: &SnapshotParams,
        positions: &[Vec2],
    ) {
        let cur = &current[ci];
        let start = self.bodies.len();
        let len = encode_update_body(base, cur, &mut self.bodies);
        if len == 0 {
            return;
        }
        let waited = if self.waiting.is_empty() {
            0.0
        } else {
            self.waiting.get(&cur.key).copied().unwrap_or(0) as f32
        };
        let distance = positions.get(ci).map_or(0.0, |pos| (*pos - p.center).length());
        let change = match base {
            Some(b) => ((cur.x - b.x).abs() + (cur.y - b.y).abs()) as f32 / 64.0 + 1.0,
            None => 4.0,
        };
        let priority = (1.0 + waited) * change / (1.0 + distance / 8.0);
        self.candidates.push(Candidate {
            key: cur.key,
            body: start..start + len,
            priority,
            current: ci,
        });
    }

    /// The newest view sent (for tests and metrics).
    pub fn newest_view(&self) -> Option<&(u32, Vec<QEntity>)> {
        self.ring.back()
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
