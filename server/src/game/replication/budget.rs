//! When a snapshot does not fit: the priority accumulator that picks what is sent, the view the client is
//! left with (left-out entities moved on by prediction), and the waiting counts that make priority grow.

use super::frame::{Baseline, Frame};
use super::state::{Base, Replicator, SnapshotParams, View, Work};
use arena_shared::codec::delta::{MAX_DELTA_OVERHEAD, MAX_KEY_GAP_LEN};
use arena_shared::quant::QEntity;

/// Bytes the LEB128 varint of `v` takes.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

impl Replicator {
    /// Chooses what this snapshot sends: everything when it fits, otherwise the own player, then removals,
    /// then candidates by priority. Returns how many candidates and removals are sent.
    pub(super) fn choose(&mut self, w: &mut Work, frame: &Frame, p: &SnapshotParams) -> (usize, usize) {
        let limit = p
            .datagram_budget
            .min(self.tokens.max(0.0) as usize)
            .saturating_sub(MAX_DELTA_OVERHEAD);
        let cost = |len: usize| len + MAX_KEY_GAP_LEN;
        // Whether everything fits, counted exactly (keys ascend, so each gap's varint length is known).
        let gaps = |keys: &mut dyn Iterator<Item = u32>| -> usize {
            let mut prev: i64 = -1;
            keys.map(|k| {
                let gap = (i64::from(k) - prev - 1) as u64;
                prev = i64::from(k);
                varint_len(gap)
            })
            .sum()
        };
        let total = w.candidates.iter().map(|c| c.len()).sum::<usize>()
            + gaps(&mut w.candidates.iter().map(|c| c.key))
            + gaps(&mut w.removals.iter().map(|r| r.key));
        w.chosen.clear();
        w.chosen.resize(w.candidates.len(), total <= limit);
        if total <= limit {
            return (w.candidates.len(), w.removals.len());
        }
        // Priority: nearer and more changed (a bigger update) first, growing with every snapshot waited.
        // Candidates and waiting counts are both sorted by key: one walk pairs them.
        let mut waiting = self.waiting.iter().peekable();
        let priorities = &mut w.priorities;
        priorities.clear();
        for c in &w.candidates {
            while waiting.next_if(|(k, _)| *k < c.key).is_some() {}
            let waited = waiting.next_if(|(k, _)| *k == c.key).map_or(0, |(_, w)| *w) as f32;
            let pos = if c.key == p.own.key {
                p.own.pos()
            } else {
                frame.entities()[c.current as usize].pos()
            };
            priorities.push((1.0 + waited) * c.len() as f32 / (1.0 + (pos - p.center).length() / 8.0));
        }
        w.order.clear();
        w.order.extend(0..w.candidates.len());
        let priorities = &w.priorities;
        let by_priority = |a: &usize, b: &usize| priorities[*b].total_cmp(&priorities[*a]).then(a.cmp(b));
        let mut used = 0;
        if let Some(own) = w.candidates.iter().position(|c| c.key == p.own.key) {
            used += cost(w.candidates[own].len());
            w.chosen[own] = true;
        }
        let removals_sent = w.removals.len().min(limit.saturating_sub(used) / MAX_KEY_GAP_LEN);
        used += removals_sent * MAX_KEY_GAP_LEN;
        // Greedy by priority. Every update costs at least `cost(1)`, so only the first `room` in priority
        // order can all be taken: those are sorted first, the rest only if room is left after them.
        let order = &mut w.order;
        let room = (limit.saturating_sub(used) / cost(1) + 1).min(order.len());
        if room < order.len() && room > 0 {
            order.select_nth_unstable_by(room - 1, by_priority);
        }
        order[..room].sort_unstable_by(by_priority);
        let mut take = |order: &[usize], used: &mut usize| {
            for &i in order {
                let c = cost(w.candidates[i].len());
                if !w.chosen[i] && *used + c <= limit {
                    *used += c;
                    w.chosen[i] = true;
                }
            }
        };
        take(&order[..room], &mut used);
        if used + cost(1) <= limit && room < order.len() {
            order[room..].sort_unstable_by(by_priority);
            take(&order[room..], &mut used);
        }
        (w.chosen.iter().filter(|c| **c).count(), removals_sent)
    }

    /// The view the client holds after a snapshot that left something out: `view` starts as every visible
    /// entity exact (the own player aside); left-out updates turn into odd entities holding their baseline
    /// state moved on by prediction (or are absent when new), and so do unsent removals.
    pub(super) fn view_over_budget(
        &self,
        w: &Work,
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
        for (c, sent) in w.candidates.iter().zip(&w.chosen) {
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
        for r in &w.removals[removals_sent..] {
            if let Some(state) = base_state(r.base, r.key) {
                view.odd.push(state);
            }
        }
        view.odd.sort_unstable_by_key(|e| e.key);
    }

    /// Starvation bookkeeping: left-out entities wait longer, and so gain priority. The counts are rebuilt
    /// from this snapshot's candidates (sorted by key): one sent, or no longer a candidate (its state is what
    /// the client holds), waits no more. (Skipped in the common case where everything fit and nothing was
    /// waiting.)
    pub(super) fn account_waiting(&mut self, w: &mut Work, all_sent: bool) {
        if all_sent && self.waiting.is_empty() {
            return;
        }
        std::mem::swap(&mut self.waiting, &mut w.waited);
        self.waiting.clear();
        let mut before = w.waited.iter().peekable();
        for (c, sent) in w.candidates.iter().zip(&w.chosen) {
            while before.next_if(|(k, _)| *k < c.key).is_some() {}
            let waited = before.next_if(|(k, _)| *k == c.key).map_or(0, |(_, w)| *w);
            if !*sent {
                self.waiting.push((c.key, waited + 1));
            }
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

#[cfg(test)]
mod tests {
    #[test]
    fn varint_lengths() {
        for (v, len) in [
            (0, 1),
            (1, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::from(u32::MAX), 5),
        ] {
            assert_eq!(super::varint_len(v), len, "{v}");
        }
    }
}
