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
//! only changed, new, odd and removed entities are looked at one by one: in the common case in one walk over
//! the words, after a short count of the visible moving players over the first words ([`fast`]), through
//! lists the priority accumulator can choose from otherwise ([`collect`], [`budget`]).

mod bits;
mod budget;
mod collect;
mod fast;
mod frame;
mod news;
pub mod snapshots;
mod state;
mod translate;

pub use bits::Bits;
pub use frame::{Baseline, Frame, VIEW_RING};
pub use news::NewBodies;
pub use state::{Built, Replicator, Scratch, SnapshotParams, SnapshotPath};

use arena_shared::codec::delta::{DeltaHeader, encode_delta_bodies};
use state::{Candidate, Src, Work, keep_view};

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
        let baseline = self.ready(frame, p);
        if let Some(b) = baseline
            && let Some(fast) = self.build_fast(scratch, frame, visible, p, b, out)
        {
            return Built {
                bytes: fast.bytes,
                entities_visible: fast.visible,
                moving_visible: fast.moving,
                updates_sent: fast.sent,
                updates_left_out: 0,
                full: false,
                path: if b.1.same_slots {
                    SnapshotPath::Short
                } else {
                    SnapshotPath::ShortTranslated
                },
            };
        }
        self.build_general(scratch, frame, visible, p, baseline, out)
    }

    /// Refills the bandwidth budget, forgets the views older than the acknowledged one (acks only move
    /// forward: they will never be a baseline again), and finds the baseline: the acknowledged view, where
    /// it is still held and `frame` has it prepared (its place in the ring, and the frame's part).
    fn ready<'f>(&mut self, frame: &'f Frame, p: &SnapshotParams) -> Option<(usize, &'f Baseline)> {
        self.tokens = (self.tokens + p.refill).min(2.0 * p.refill.max(p.datagram_budget as f64));
        while self.ring.len() > 1 && self.ring.front().is_some_and(|v| v.tick < p.ack_tick) {
            if let Some(old) = self.ring.pop_front() {
                self.spare.push(old);
            }
        }
        (p.ack_tick != 0)
            .then(|| self.ring.iter().position(|v| v.tick == p.ack_tick))
            .flatten()
            .and_then(|at| Some((at, frame.baseline(p.ack_tick)?)))
    }

    /// The general path: every candidate update and removal listed, the budget choosing among them, and
    /// the view the client will hold made of what was sent.
    fn build_general(
        &mut self,
        scratch: &mut Scratch,
        frame: &Frame,
        visible: &mut Bits,
        p: &SnapshotParams,
        baseline: Option<(usize, &Baseline)>,
        out: &mut Vec<u8>,
    ) -> Built {
        let Scratch { work: w, news } = scratch;
        self.collect(w, frame, news, visible, p, baseline);
        let (sent, removals_sent) = self.choose(w, frame, p);
        let all_sent = sent == w.candidates.len() && removals_sent == w.removals.len();

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

        let bytes = encode_chosen(w, news, frame, p, baseline, (sent, removals_sent), out);
        self.tokens -= bytes as f64;
        keep_view(&mut self.ring, &mut self.spare, view);
        Built {
            bytes,
            entities_visible,
            moving_visible,
            updates_sent: sent,
            updates_left_out: w.candidates.len() - sent,
            full: baseline.is_none(),
            path: SnapshotPath::General,
        }
    }
}

/// Writes the general path's delta into `out`: the first `sent.0` chosen updates (each body from whichever
/// bytes hold it) and the first `sent.1` removals; returns its length.
fn encode_chosen(
    w: &mut Work,
    news: &NewBodies,
    frame: &Frame,
    p: &SnapshotParams,
    baseline: Option<(usize, &Baseline)>,
    (sent, removals_sent): (usize, usize),
    out: &mut Vec<u8>,
) -> usize {
    let header = DeltaHeader {
        tick: frame.tick(),
        baseline_tick: baseline.map_or(0, |(_, b)| b.tick),
        last_input_seq: p.last_input_seq,
        input_margin: p.input_margin,
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
    out.len() - start
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
