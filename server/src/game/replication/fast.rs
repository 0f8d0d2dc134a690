//! The common snapshot, built without the general path's lists: the client's baseline has this tick's
//! slots, or those of any earlier layout as long as every entity alive at its tick still has a slot now (its
//! view is then translated to these slots a word at a time, [`translate`]), its only odd entity is its own
//! player, nothing waits for room, and everything fits. Then, after a short count of the visible moving
//! players over the first words (where the players are), one walk over the words finds the removals and
//! writes the updates into the datagram as it finds them.
//! When the delta turns out not to fit, the output is rolled back and the general path takes over (the
//! same decision it would make: the same bytes are counted against the same limit).

use super::bits::Bits;
use super::frame::{Baseline, Frame};
use super::state::{Replicator, Scratch, SnapshotParams, keep_view};
use super::translate;
use arena_shared::codec::delta::{DeltaHeader, DeltaWriter, MAX_DELTA_OVERHEAD, encode_update_body};

impl Replicator {
    /// Builds the snapshot against the view at `at` in the ring (prepared as `b`) when the common case
    /// holds; returns what it came to, or `None` (nothing written) otherwise.
    pub(super) fn build_fast(
        &mut self,
        scratch: &mut Scratch,
        frame: &Frame,
        visible: &mut Bits,
        p: &SnapshotParams,
        (at, b): (usize, &Baseline),
        out: &mut Vec<u8>,
    ) -> Option<Fast> {
        let Replicator {
            ring,
            waiting,
            tokens,
            spare,
            ..
        } = self;
        let Scratch { work: w, news } = scratch;
        let bv = ring.get(at)?;
        let vis = visible.words();
        let own_at = match p.own_slot {
            Some(at) => at,
            None => frame.slot(p.own.key)?,
        };
        debug_assert_eq!(Some(own_at), frame.slot(p.own.key));
        let own_odd = match bv.odd.as_slice() {
            [own] if own.key == p.own.key => own,
            _ => return None,
        };
        if !waiting.is_empty() || !(b.same_slots || b.translatable) {
            return None;
        }
        // The view held, and the entities gone since, in this snapshot's slots.
        let held_now = &mut w.held_now;
        let (exact, gone) = if b.same_slots {
            (&bv.exact, &b.gone)
        } else {
            let translated = if translate::WORD_WIDE {
                translate::by_words(&bv.exact, &b.landing, vis.len(), held_now, &mut w.dense)
            } else {
                translate::by_bits(&bv.exact, &b.moved, vis.len(), held_now)
            };
            if !translated {
                return None;
            }
            (&*held_now, &b.gone_now)
        };
        // The own player is odd in every stored view, so never held exact; it is always visible.
        let own_ok = visible.has(own_at) && !exact.has(own_at);
        let (exact, gone, changed) = (exact.words(), gone.words(), b.changed.words());
        if exact.len() > vis.len() || !own_ok {
            return None;
        }
        let keys = frame.keys();

        // The own player against its own state then, moved on by prediction.
        w.local.clear();
        let own_len = encode_update_body(Some(&b.prediction.of(own_odd)), &p.own, &mut w.local);

        // One walk over the words: per word, the removals (exact then, gone from the world or out of view)
        // are listed, and the updates (visible, and new to the client or changed since) written at once;
        // slots added since the baseline hold nothing then. The header's update count is known only at the
        // end: a one-byte placeholder, fixed then.
        let held_len = exact.len();
        let moving = frame.moving().words();
        if gone.len() != held_len || changed.len() != vis.len() || moving.len() != vis.len() {
            return None;
        }
        let start = out.len();
        let limit = p
            .datagram_budget
            .min(tokens.max(0.0) as usize)
            .saturating_sub(MAX_DELTA_OVERHEAD);
        // The updates go into room set aside for them (one that runs out of it could not fit anyway), then
        // onto the datagram at once.
        let room_len = limit + ROOM_PAST_LIMIT;
        if w.room.len() < room_len {
            w.room.resize(room_len, 0);
        }
        let room = &mut w.room[..room_len];
        let header = DeltaHeader {
            tick: frame.tick(),
            baseline_tick: b.tick,
            last_input_seq: p.last_input_seq,
            input_margin: p.input_margin,
        };
        let (mut writer, count_at) = DeltaWriter::begin_uncounted(&header, out);
        let (mut count, mut seen, mut seen_moving, mut at) = (0, 0, 0, 0);
        w.removed.clear();
        let own_bit = if own_len == 0 { own_at } else { usize::MAX };
        // Moving players hold the first slots (players' keys come before projectiles').
        let players = frame.moving_words();
        for (&v, &m) in vis.iter().zip(moving).take(players) {
            seen_moving += (v & m).count_ones() as usize;
        }
        for (i, (&v, &c)) in vis.iter().zip(changed).enumerate() {
            let (e, g) = (exact.get(i).copied().unwrap_or(0), gone.get(i).copied().unwrap_or(0));
            seen += v.count_ones() as usize;
            let held = e & !g;
            let mut removed = e & (g | !v);
            while removed != 0 {
                w.removed.push(keys[i * 64 + removed.trailing_zeros() as usize]);
                removed &= removed - 1;
            }
            let mut word = v & (!held | c);
            while word != 0 {
                let bit = word.trailing_zeros();
                word &= word - 1;
                let s = i * 64 + bit as usize;
                if s == own_bit {
                    continue; // the own player, unchanged (its bit is among the updates: visible, not held)
                }
                count += 1;
                let next = if s == own_at {
                    writer.update_at(keys[s], &w.local, 0..w.local.len(), room, at)
                } else if held >> bit & 1 == 1 {
                    let (from, to) = b.span(s);
                    writer.update_at(keys[s], b.bytes(), from as usize..to as usize, room, at)
                } else {
                    let r = news.get(frame, s);
                    writer.update_at(keys[s], &news.bytes, r, room, at)
                };
                let Some(next) = next else {
                    out.truncate(start);
                    return None; // over the limit
                };
                at = next;
            }
        }
        out.extend_from_slice(&room[..at]);
        DeltaWriter::set_count(count_at, count, out);
        let total = at + writer.removals(w.removed.iter().copied(), w.removed.len(), out);
        if total > limit {
            out.truncate(start);
            return None;
        }

        // The view the client will hold: everything visible as it is now, its own player odd.
        let bytes = out.len() - start;
        *tokens -= bytes as f64;
        let mut view = spare.pop().unwrap_or_default();
        view.tick = frame.tick();
        std::mem::swap(&mut view.exact, visible);
        view.exact.unset(own_at);
        view.odd.clear();
        view.odd.push(p.own);
        keep_view(ring, spare, view);
        Some(Fast {
            bytes,
            sent: count,
            visible: seen,
            moving: seen_moving,
        })
    }
}

/// Room for updates past the limit: one update whose key gap and 16-byte block start just before it.
const ROOM_PAST_LIMIT: usize = 26;

/// What a snapshot built on the short path came to.
pub(super) struct Fast {
    /// The payload's length.
    pub bytes: usize,
    /// Updates sent.
    pub sent: usize,
    /// Visible entities, and moving players among them.
    pub visible: usize,
    pub moving: usize,
}
