//! Finding what one snapshot may send: the baseline's entities found by slot now, then a few operations
//! per 64 entities to pick the visible entities that are new, changed since the baseline, or odd (compared
//! one by one), and the entities to remove (gone from the world, or out of view).

use super::bits::{self, Bits};
use super::frame::{Baseline, Frame};
use super::news::NewBodies;
use super::state::{Base, Candidate, Removal, Replicator, SnapshotParams, Src, View, Work};
use arena_shared::codec::delta::encode_update_body;

impl Replicator {
    /// Finds what this snapshot may send: candidates (changed or new visible entities, in key order) and
    /// removals (entities the baseline holds that are gone from view, in key order).
    pub(super) fn collect(
        &self,
        w: &mut Work,
        frame: &Frame,
        news: &mut NewBodies,
        visible: &Bits,
        p: &SnapshotParams,
        baseline: Option<(usize, &Baseline)>,
    ) {
        let n = frame.entities().len();
        w.local.clear();
        w.candidates.clear();
        w.removals.clear();
        w.base.clear(n);
        w.odd_now.clear(n);
        let empty = View::default();
        let bv = baseline.map_or(&empty, |(at, _)| &self.ring[at]);
        held_and_removed(w, frame, visible, bv, baseline);
        candidates(w, frame, news, visible, p, bv, baseline);
    }
}

/// The baseline's entities the client still holds, found by slot now (`w.base`; its odd ones still visible
/// in `w.odd_now`), and the removals: the baseline's entities gone from the world or out of view, by key.
fn held_and_removed(w: &mut Work, frame: &Frame, visible: &Bits, bv: &View, baseline: Option<(usize, &Baseline)>) {
    let keys = frame.keys();
    let mut sort_removals = false;
    let same_slots = baseline.is_some_and(|(_, b)| b.same_slots);
    if let Some((_, b)) = baseline {
        if same_slots {
            let base = w.base.words_mut();
            // One walk over the words: the baseline's exact entities gone from the world or out of view
            // are removed (in slot, so key, order), the others are the baseline now.
            let (exact, gone, vis) = (bv.exact.words(), b.gone.words(), visible.words());
            for (wi, ((slot, &e), &g)) in base.iter_mut().zip(exact).zip(gone).enumerate() {
                *slot = e & !g;
                let mut word = e & (g | !vis.get(wi).copied().unwrap_or(0));
                while word != 0 {
                    let j = wi * 64 + word.trailing_zeros() as usize;
                    word &= word - 1;
                    w.removals.push(Removal {
                        key: keys[j],
                        base: Base::Then(j as u32),
                    });
                }
            }
        } else {
            held_in_new_slots(w, frame, bv, b);
        }
        // Odd entities still visible are compared one by one; the others are removed.
        // Both sorted by key: each odd entity's index now is searched for after the previous one's (a
        // search, not a walk: the own player is always odd, and a walk would cost every key before it).
        let mut c = 0;
        for (o, e) in bv.odd.iter().enumerate() {
            c += keys[c.min(keys.len())..].partition_point(|k| *k < e.key);
            match keys.get(c) {
                Some(k) if *k == e.key && visible.has(c) => w.odd_now.set(c),
                _ => {
                    sort_removals = true;
                    w.removals.push(Removal {
                        key: e.key,
                        base: Base::Odd(o as u32),
                    });
                }
            }
        }
    }
    // Exact entities that left the view (found above when the slots are the baseline's).
    if !same_slots {
        let gone = w.base.words().iter().zip(visible.words()).map(|(b, v)| b & !v);
        let before = w.removals.len();
        w.removals.extend(bits::ones(gone).map(|c| Removal {
            key: keys[c],
            base: Base::World,
        }));
        sort_removals |= before > 0 && w.removals.len() > before;
    }
    if sort_removals {
        w.removals.sort_unstable_by_key(|r| r.key);
    }
}

/// Removals and held entities when the slots were laid out afresh since the baseline: its exact entities
/// gone from the world are removed; the others are found by their slot now, one by one.
fn held_in_new_slots(w: &mut Work, frame: &Frame, bv: &View, b: &Baseline) {
    let base = w.base.words_mut();
    for (wi, (&e, &g)) in bv.exact.words().iter().zip(b.gone.words()).enumerate() {
        let mut word = e & g;
        while word != 0 {
            let j = wi * 64 + word.trailing_zeros() as usize;
            word &= word - 1;
            if let Some(e) = frame.then(b.history, j) {
                w.removals.push(Removal {
                    key: e.key,
                    base: Base::Then(j as u32),
                });
            }
        }
    }
    for (wi, (&e, &g)) in bv.exact.words().iter().zip(b.gone.words()).enumerate() {
        let mut word = e & !g;
        while word != 0 {
            let j = wi * 64 + word.trailing_zeros() as usize;
            word &= word - 1;
            if let Some(&c) = b.now.get(j)
                && let Some(slot) = base.get_mut(c as usize / 64)
            {
                *slot |= 1 << (c % 64);
            }
        }
    }
}

/// The candidates: visible entities new to the client, changed since the baseline, or odd, in index (so key)
/// order, each with where its update body is.
fn candidates(
    w: &mut Work,
    frame: &Frame,
    news: &mut NewBodies,
    visible: &Bits,
    p: &SnapshotParams,
    bv: &View,
    baseline: Option<(usize, &Baseline)>,
) {
    let keys = frame.keys();
    let empty_changed = Bits::default();
    let changed = baseline.map_or(&empty_changed, |(_, b)| &b.changed);
    let mut todo = std::mem::take(&mut w.todo);
    todo.clear();
    let (base, odd_now, changed) = (w.base.words(), w.odd_now.words(), changed.words());
    for (wi, &v) in visible.words().iter().enumerate() {
        let b = base.get(wi).copied().unwrap_or(0);
        let c = changed.get(wi).copied().unwrap_or(0);
        let o = odd_now.get(wi).copied().unwrap_or(0);
        let mut word = v & (!b | c) | o;
        while word != 0 {
            todo.push((wi * 64) as u32 + word.trailing_zeros());
            word &= word - 1;
        }
    }
    let mut odd_at = 0;
    for &c in &todo {
        let c = c as usize;
        let key = keys[c];
        if w.odd_now.has(c) || key == p.own.key {
            // One by one: against the odd state moved on by prediction (the own player: its own state).
            while bv.odd.get(odd_at).is_some_and(|e| e.key < key) {
                odd_at += 1;
            }
            let odd = bv.odd.get(odd_at).filter(|e| e.key == key);
            let ticks = baseline.map_or(0, |(_, b)| b.ticks);
            let predicted = odd.map(|e| e.predicted(ticks, frame.tick_rate()));
            let cur = if key == p.own.key { &p.own } else { &frame.entities()[c] };
            let start = w.local.len();
            let len = encode_update_body(predicted.as_ref(), cur, &mut w.local);
            if len > 0 {
                w.candidates.push(Candidate {
                    key,
                    current: c as u32,
                    src: Src::Local,
                    body: (start as u32, (start + len) as u32),
                    base: if odd.is_some() {
                        Base::Odd(odd_at as u32)
                    } else {
                        Base::None
                    },
                });
            }
        } else if w.base.has(c) {
            let body = baseline.map_or((0, 0), |(_, b)| b.span(c));
            w.candidates.push(Candidate {
                key,
                current: c as u32,
                src: Src::Shared,
                body,
                base: Base::World,
            });
        } else {
            let r = news.get(frame, c);
            w.candidates.push(Candidate {
                key,
                current: c as u32,
                src: Src::New,
                body: (r.start as u32, r.end as u32),
                base: Base::None,
            });
        }
    }
    w.todo = todo;
}
