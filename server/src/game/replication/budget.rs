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
            self.candidates.iter().map(|c| cost(c.len())).sum::<usize>() + self.removals.len() * MAX_KEY_GAP_LEN;
        self.chosen.clear();
        self.chosen.resize(self.candidates.len(), total <= limit);
        if total <= limit {
            return (self.candidates.len(), self.removals.len());
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
        let priorities: Vec<f32> = self.candidates.iter().map(priority).collect();
        self.order.clear();
        self.order.extend(0..self.candidates.len());
        self.order.sort_by(|a, b| priorities[*b].total_cmp(&priorities[*a]));
        let mut used = 0;
        if let Some(own) = self.candidates.iter().position(|c| c.key == p.own.key) {
            used += cost(self.candidates[own].len());
            self.chosen[own] = true;
        }
        let removals_sent = self.removals.len().min(limit.saturating_sub(used) / MAX_KEY_GAP_LEN);
        used += removals_sent * MAX_KEY_GAP_LEN;
        for &i in &self.order {
            let c = cost(self.candidates[i].len());
            if !self.chosen[i] && used + c <= limit {
                used += c;
                self.chosen[i] = true;
            }
        }
        (self.chosen.iter().filter(|c| **c).count(), removals_sent)
    }

    /// The view the client holds after a snapshot that left something out: chosen updates and unchanged
    /// entities hold the world's state, left-out ones their baseline state moved on by prediction, new
    /// left-out ones are absent, unsent removals stay.
    pub(super) fn view_over_budget(
        &self,
        frame: &Frame,
        visible: &[u32],
        p: &SnapshotParams,
        base: Option<&Baseline>,
        removals_sent: usize,
        view: &mut View,
    ) {
        let empty = View::default();
        let bv = base.map_or(&empty, |b| &self.ring[b.at]);
        let ticks = base.map_or(0, |b| b.ticks);
        let base_state = |where_: Base, k: u32| -> Option<QEntity> {
            match where_ {
                Base::Odd(o) => Some(bv.odd[o as usize]),
                Base::World => base.and_then(|b| frame.state_in(b.history, k).copied()),
                Base::None => None,
            }
            .map(|e| e.predicted(ticks, frame.tick_rate()))
        };
        let keep = |view: &mut View, k: u32, state: Option<QEntity>| {
            if let Some(s) = state {
                view.keys.push(k);
                view.odd.push(s);
            }
        };
        let keys = frame.keys();
        let (mut bi, mut vi, mut ci, mut ri) = (0, 0, 0, 0);
        while bi < bv.keys.len() || vi < visible.len() {
            let bk = bv.keys.get(bi).copied();
            let vk = visible.get(vi).map(|&i| keys[i as usize]);
            match (bk, vk) {
                (Some(b), v) if v.is_none_or(|v| b < v) => {
                    if ri >= removals_sent {
                        keep(view, b, base_state(self.removal_base[ri], b));
                    }
                    ri += 1;
                    bi += 1;
                }
                (b, Some(k)) => {
                    let in_base = b == Some(k);
                    let cand = self.candidates.get(ci).filter(|c| c.key == k);
                    let left_out = cand.is_some() && !self.chosen[ci];
                    if cand.is_some() {
                        ci += 1;
                    }
                    if left_out {
                        let where_ = cand.map_or(Base::None, |c| c.base);
                        keep(view, k, base_state(where_, k));
                    } else if k == p.own.key {
                        keep(view, k, Some(p.own));
                    } else {
                        view.keys.push(k);
                    }
                    if in_base {
                        bi += 1;
                    }
                    vi += 1;
                }
                _ => break,
            }
        }
    }

    /// Starvation bookkeeping: left-out entities wait longer, and so gain priority. (Skipped entirely in
    /// the common case where everything fit and nothing was waiting.)
    pub(super) fn account_waiting(&mut self, all_sent: bool, visible: usize) {
        if all_sent && self.waiting.is_empty() {
            return;
        }
        for (c, sent) in self.candidates.iter().zip(&self.chosen) {
            if *sent {
                self.waiting.remove(&c.key);
            } else {
                *self.waiting.entry(c.key).or_insert(0) += 1;
            }
        }
        if self.waiting.len() > 4 * visible.max(64) {
            let candidates: std::collections::HashSet<u32> = self.candidates.iter().map(|c| c.key).collect();
            self.waiting.retain(|k, _| candidates.contains(k));
        }
    }

    /// The newest view sent, as the entities the client holds (for tests and metrics). Right after
    /// [`Replicator::build`], with the same frame.
    pub fn newest_view(&self, frame: &Frame) -> Option<(u32, Vec<QEntity>)> {
        let v = self.ring.back()?;
        let mut odd = v.odd.iter().peekable();
        let entities = v
            .keys
            .iter()
            .filter_map(|&k| match odd.next_if(|e| e.key == k) {
                Some(e) => Some(*e),
                None => {
                    let all = frame.entities();
                    all.binary_search_by_key(&k, |e| e.key).ok().map(|i| all[i])
                }
            })
            .collect();
        Some((v.tick, entities))
    }
}
