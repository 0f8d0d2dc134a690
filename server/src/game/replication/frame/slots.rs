//! What a frame holds: this snapshot's slots and the recent ones before it ([`Frame`], [`Snap`]), and the
//! baselines prepared against them ([`Baseline`]). The work on them is in [`super`] (a snapshot begins,
//! baselines are prepared) and [`super::layout`] (the slots are filled or laid out afresh).

use crate::game::replication::bits::Bits;
use crate::game::replication::translate::Landing;
use arena_shared::quant::{Prediction, QEntity};
use std::collections::VecDeque;

/// Marks an index or a body not known.
pub(in crate::game::replication) const NONE: u32 = u32::MAX;

/// One snapshot tick's entities and the recent ones before it.
///
/// Entities live in slots, in key order. A slot keeps its entity from one snapshot to the next, and an
/// entity that leaves the world leaves a dead slot behind, so the views of recent snapshots (bitsets over
/// slots) compare with this one's word by word. An entity new to the world takes a new slot after the last
/// one when its key comes after every slot's: a new projectile's does (projectile ids only grow, and every
/// projectile key is above every player key), a joining player's only while no projectile holds a slot. A
/// player's key is below every projectile key, so whenever any projectile slot exists (alive or dead) a
/// joining player's key falls between slots. When a new key falls between slots, or dead slots pass their
/// limit, the slots are laid out afresh (a new *layout*): every entity of this snapshot, and every dead slot
/// a client's baseline may still hold (alive at or after [`Frame::set_referenced_since`]), in key order. A
/// layout keeps the slots' key order, so a view from any earlier layout (a snapshot still in the history)
/// is translated to these slots a word at a time on the short path ([`Baseline::landing`]; bit by bit through
/// [`Baseline::moved`] without PEXT and PDEP), as long as every entity alive then still has a slot
/// ([`Baseline::translatable`]); otherwise the view is compared by key, entity by entity (the general
/// path).
#[derive(Debug, Default)]
pub struct Frame {
    pub(super) tick: u32,
    pub(super) tick_rate: u16,
    /// This snapshot: per slot, the entity's state (a dead slot keeps its last). Timers are zero: a
    /// client's own player carries its own.
    pub(super) now: Snap,
    /// Per slot, its key (ascending; dead slots keep theirs).
    pub(super) keys: Vec<u32>,
    /// Per slot, the last snapshot tick its entity was alive.
    pub(super) last_alive: Vec<u32>,
    /// The oldest tick a client may still use as its baseline (0: any in the history).
    pub(super) referenced_since: u32,
    /// Earlier snapshots, oldest first.
    pub(super) history: VecDeque<Snap>,
    /// Moving players among this snapshot's live entities, one bit per slot.
    pub(super) moving: Bits,
    /// Words of `moving` up to its last one holding a moving player.
    pub(super) moving_words: usize,
    /// The baselines prepared for this tick.
    pub(super) baselines: Vec<Baseline>,
    pub(super) incoming: Vec<QEntity>,
    pub(super) spare: Vec<Snap>,
    pub(super) spare_baselines: Vec<Baseline>,
}

/// One snapshot's slots.
#[derive(Debug, Default, Clone)]
pub(super) struct Snap {
    pub(super) tick: u32,
    /// Which slot layout (counted from 1).
    pub(super) layout: u32,
    pub(super) entities: Vec<QEntity>,
    pub(super) alive: Bits,
}

/// One acknowledged snapshot, prepared for every client whose baseline it is.
#[derive(Debug, Default)]
pub struct Baseline {
    pub tick: u32,
    /// Its index in the history.
    pub history: usize,
    /// Ticks from it to now.
    pub ticks: u32,
    /// Its entities' moves over those ticks.
    pub prediction: Prediction,
    /// Whether its slots are this snapshot's (else [`Baseline::now`] translates them).
    pub same_slots: bool,
    /// Per slot of that snapshot: its slot now, or [`NONE`] when gone (only when not the same slots).
    pub now: Vec<u32>,
    /// Slots of that snapshot whose entity is gone now.
    pub gone: Bits,
    /// When not the same slots: per slot of that snapshot alive then, its slot now, dead or alive, or
    /// [`NONE`] when the layout dropped it (then views of that snapshot cannot be translated slot by slot).
    pub moved: Vec<u32>,
    /// When not the same slots: slots now (dead) of the entities gone since.
    pub gone_now: Bits,
    /// Whether every entity alive then has a slot now ([`Baseline::moved`] is complete).
    pub translatable: bool,
    /// The same as bitsets, for translating a view a word at a time.
    pub landing: Landing,
    /// Slots now whose entity's state differs from its state then moved on by prediction.
    pub changed: Bits,
    /// Per slot now: its body (start, end) in `bytes` against that snapshot, empty when unchanged or
    /// absent then.
    pub(super) spans: Vec<(u32, u32)>,
    pub(super) bytes: Vec<u8>,
}

/// A player with a velocity (projectiles always move, but predictably).
pub(super) fn is_moving(e: &QEntity) -> bool {
    !e.is_projectile() && (e.vx, e.vy) != (0, 0)
}
