//! When a snapshot does not fit: the priority accumulator that picks what is sent, the view the client is
//! left with (left-out entities moved on by prediction), and the waiting counts that make priority grow.

use super::{Base, Baseline, Replicator, SnapshotParams, View};
use crate::game::replication::Frame;
use arena_shared::codec::delta::{MAX_DELTA_OVERHEAD, MAX_KEY_GAP_LEN};
use arena_shared::quant::QEntity;

impl Replicator {
    /// Chooses what this snapshot sends: everything when it fits, otherwise the own player, then removals,
    /// then candidates by priority. Returns how many candidates and removals are sent.
    pub(super) fn choose(&mut self, frame: &Frame, p: &SnapshotParams) -> (usize, usize) {
        let limit = p
            .datagram_budget
            .min(self.tokens.max(0.0) as usize)
            .saturating_sub(MAX_DELTA_OVERHEAD);
        let cost = |len: usize| len + MAX_KEY_GAP_LEN;
        let total: usize =
            self.w.candidates.iter().map(|c| cost(c.len())).sum::<usize>() + self.w.removals.len() * MAX_KEY_GAP_LEN;
        self.w.chosen.clear();
        self.w.chosen.resize(self.w.candidates.len(), total <= limit);
        if total <= limit {
            return (self.w.candidates.len(), self.w.removals.len());
        }
        // Priority: nearer and more changed (a bigger update) first, growing with every snapshot waited.
        let priority = |c: &super::Candidate| {
            let waited = self.waiting.get(&c.key).copied().unwrap_or(0) as f32;
            let pos = if c.key == p.own.key {
                p.own.pos()
            } else {
                frame.entities()[c.current as usize].pos()
            };
            (1.0 + waited) * c.len() as f32 / (1.0 + (pos - p.center).length() / 8.0)
        };
        let priorities: Vec<f32> = self.w.candidates.iter().map(priority).collect();
        self.w.order.clear();
        self.w.order.extend(0..self.w.candidates.len());
        self.w.order.sort_by(|a, b| priorities[*b].total_cmp(&priorities[*a]));
        let mut used = 0;
        if let Some(own) = self.w.candidates.iter().position(|c| c.key == p.own.key) {
            used += cost(self.w.candidates[own].len());
            self.w.chosen[own] = true;
        }
        let removals_sent = self.w.removals.len().min(limit.saturating_sub(used) / MAX_KEY_GAP_LEN);
        used += removals_sent * MAX_KEY_GAP_LEN;
        for &i in &self.w.order {
            let c = cost(self.w.candidates[i].len());
            if !self.w.chosen[i] && used + c <= limit {
                used += c;
                self.w.chosen[i] = true;
            }
        }
        (self.w.chosen.iter().filter(|c| **c).count(), removals_sent)
    }

    /// The view the client holds after a snapshot that left something out: `view` starts as every visible
    /// entity exact (the own player aside); left-out updates turn into odd entities holding their baseline
    /// state moved on by prediction (or are absent when new), and so do unsent removals.
    pub(super) fn view_over_budget(
        &self,
        frame: &Frame,
        p: &SnapshotParams,
        baseline: Option<(usize, &Baseline)>,
        removals_sent: usize,
        view: &mut View,
    ) {
        let empty = View::default();
        let bv = baseline.map_or(&empty, |(at, _)| &self.ring[at]);
        let ticks = baseline.map_or(0, |(_, b)| b.ticks);
        let base_state = |base: Base, key: u32| -> Option<QEntity> {
            let (_, b) = baseline?;
            match base {
                Base::None => None,
                Base::World => frame.state_in(b.history, key).copied(),
                Base::Then(j) => frame.then(b.history, j as usize).copied(),
                Base::Odd(o) => bv.odd.get(o as usize).copied(),
            }
            .map(|e| e.predicted(ticks, frame.tick_rate()))
        };
        let mut own_done = false;
        for (c, sent) in self.w.candidates.iter().zip(&self.w.chosen) {
            if *sent {
                continue;
            }
            view.exact.unset(c.current as usize);
            if let Some(state) = base_state(c.base, c.key) {
                own_done |= c.key == p.own.key;
                view.odd.push(state);
            }
        }
        if !own_done {
            view.odd.push(p.own);
        }
        for r in &self.w.removals[removals_sent..] {
            if let Some(state) = base_state(r.base, r.key) {
                view.odd.push(state);
            }
        }
        view.odd.sort_unstable_by_key(|e| e.key);
    }

    /// Starvation bookkeeping: left-out entities wait longer, and so gain priority. (Skipped entirely in
    /// the common case where everything fit and nothing was waiting.)
    pub(super) fn account_waiting(&mut self, all_sent: bool, visible: usize) {
        if all_sent && self.waiting.is_empty() {
            return;
        }
        for (c, sent) in self.w.candidates.iter().zip(&self.w.chosen) {
            if *sent {
                self.waiting.remove(&c.key);
            } else {
                *self.waiting.entry(c.key).or_insert(0) += 1;
            }
        }
        if self.waiting.len() > 4 * visible.max(64) {
            let candidates: std::collections::HashSet<u32> = self.w.candidates.iter().map(|c| c.key).collect();
            self.waiting.retain(|k, _| candidates.contains(k));
        }
    }

    /// The newest view sent, as the entities the client holds (for tests and metrics). Right after
    /// [`Replicator::build`], with the same frame.
    pub fn newest_view(&self, frame: &Frame) -> Option<(u32, Vec<QEntity>)> {
        let v = self.ring.back()?;
        let mut entities: Vec<QEntity> = v
            .exact
            .ones()
            .filter_map(|c| frame.entities().get(c).copied())
            .collect();
        entities.extend(v.odd.iter().copied());
        entities.sort_unstable_by_key(|e| e.key);
        Some((v.tick, entities))
    }
}
