//! What replication keeps from one snapshot to the next, and what one snapshot is built in: a client's views
//! ([`Replicator`]), the buffers and lists of the snapshot being built ([`Scratch`]), what it needs to know
//! about the client ([`SnapshotParams`]) and what it came to ([`Built`]). The work on them is in the
//! sibling modules: the general path ([`super::collect`], [`super::budget`]), the short one ([`super::fast`]).

use super::bits::Bits;
use super::frame::VIEW_RING;
use super::news::NewBodies;
use arena_shared::Vec2;
use arena_shared::quant::QEntity;
use bevy_ecs::prelude::*;
use std::collections::VecDeque;

/// One view sent to a client.
#[derive(Debug, Default)]
pub(super) struct View {
    pub(super) tick: u32,
    /// Entities (indices into that tick's frame) the client holds with the world's state at that tick.
    pub(super) exact: Bits,
    /// Entities the client holds with another state, sorted by key (never also in `exact`).
    pub(super) odd: Vec<QEntity>,
}

/// Stores the view the client will hold, newest last; when the ring is full its oldest goes to the spares.
pub(super) fn keep_view(ring: &mut VecDeque<View>, spare: &mut Vec<View>, view: View) {
    if ring.len() == VIEW_RING
        && let Some(old) = ring.pop_front()
    {
        spare.push(old);
    }
    ring.push_back(view);
}

/// One client's replication state.
#[derive(Component, Debug)]
pub struct Replicator {
    /// Views sent, oldest first.
    pub(super) ring: VecDeque<View>,
    /// Snapshots each left-out entity has waited, sorted by key.
    pub(super) waiting: Vec<(u32, u32)>,
    /// Bytes the bandwidth budget allows now.
    pub(super) tokens: f64,
    /// Cleared views from the ring, reused.
    pub(super) spare: Vec<View>,
}

impl Default for Replicator {
    fn default() -> Self {
        Self {
            ring: VecDeque::new(),
            waiting: Vec::new(),
            tokens: 0.0,
            spare: Vec::new(),
        }
    }
}

/// Buffers one snapshot is built in, kept by the thread that builds snapshots (so they stay in its
/// cache from one client to the next) and used for each client's [`Replicator`] in turn.
#[derive(Debug, Default)]
pub struct Scratch {
    pub(super) work: Work,
    /// Bodies of entities new to the thread's clients, this tick.
    pub(super) news: NewBodies,
}

#[derive(Debug, Default)]
pub(super) struct Work {
    pub(super) local: Vec<u8>,
    pub(super) candidates: Vec<Candidate>,
    pub(super) removals: Vec<Removal>,
    pub(super) removed: Vec<u32>,
    /// The short path's updates, before they go onto the datagram.
    pub(super) room: Vec<u8>,
    pub(super) chosen: Vec<bool>,
    pub(super) priorities: Vec<f32>,
    pub(super) order: Vec<usize>,
    /// The waiting counts before this snapshot, while they are rebuilt.
    pub(super) waited: Vec<(u32, u32)>,
    /// The baseline's exact entities and its odd entities still visible, by index now.
    pub(super) base: Bits,
    pub(super) odd_now: Bits,
    /// The short path's baseline view translated to this snapshot's slots (after a new layout), and
    /// scratch for that.
    pub(super) held_now: Bits,
    pub(super) dense: Vec<u64>,
    /// The visible entities to look at one by one.
    pub(super) todo: Vec<u32>,
}

/// Where an entity's state in the baseline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Base {
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
pub(super) enum Src {
    /// The frame's bodies against the baseline.
    Shared,
    /// The thread's bodies of new entities.
    New,
    /// This client's own buffer.
    Local,
}

#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub(super) key: u32,
    /// Index into the frame's entities.
    pub(super) current: u32,
    pub(super) src: Src,
    pub(super) body: (u32, u32),
    pub(super) base: Base,
}

impl Candidate {
    pub(super) fn len(&self) -> usize {
        (self.body.1 - self.body.0) as usize
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Removal {
    pub(super) key: u32,
    pub(super) base: Base,
}

/// What one snapshot needs to know about the client.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotParams {
    pub last_input_seq: u32,
    /// How early the client's newest input arrived, in `MARGIN_UNIT`s (see `protocol::Snapshot`).
    pub input_margin: Option<i16>,
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
    /// Which way it was built.
    pub path: SnapshotPath,
}

/// Which way a snapshot was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SnapshotPath {
    /// The general path: lists the priority accumulator can choose from ([`super::collect`],
    /// [`super::budget`]).
    #[default]
    General,
    /// The short path ([`super::fast`]), against a baseline in this snapshot's slots.
    Short,
    /// The short path, against a baseline from any earlier layout whose entities alive at its tick all still
    /// have a slot now (its view translated to these slots a word at a time).
    ShortTranslated,
}
