//! One replication thread's share of the clients: for each, the visible set from the grid, the delta from
//! its [`Replicator`], and the datagram, written into the thread's own buffer.

use crate::game::edge::{ClientId, Outbound};
use crate::game::interest::Grid;
use crate::game::replication::bits::Bits;
use crate::game::replication::frame::Frame;
use crate::game::replication::state::{Replicator, Scratch, SnapshotParams};
use arena_shared::Vec2;
use arena_shared::codec::{DELTA_PREFIX_MAX, delta_datagram_prefix};
use arena_shared::protocol::TARGET_DATAGRAM_LEN;
use arena_shared::quant::QEntity;
use bytes::Bytes;
use std::ops::Range;

/// Clients one thread handles at least before another thread is worth starting.
pub const CLIENTS_PER_THREAD: usize = 64;

/// What every thread reads.
pub(super) struct Shared<'a> {
    pub frame: &'a Frame,
    pub grid: &'a Grid,
    pub view_radius: f32,
    /// Bytes per snapshot each client's budget refills.
    pub refill: f64,
}

/// One client's snapshot to build: who it is for, its own player (timers included), where it looks from,
/// what it acknowledged, and its replication state.
pub struct Client<'a> {
    pub client: ClientId,
    /// The client's player, timers included.
    pub own: QEntity,
    pub center: Vec2,
    pub last_input_seq: u32,
    /// How early its newest input arrived ([`arena_shared::protocol::Snapshot::input_margin`]).
    pub input_margin: Option<i16>,
    pub ack_tick: u32,
    pub replicator: &'a mut Replicator,
}

/// What a snapshot tick's work adds up to (per thread, then for the tick).
#[derive(Debug, Default)]
pub struct Counts {
    pub snapshots: u32,
    pub snapshot_bytes: u64,
    pub entities_visible: u64,
    pub moving_visible: u64,
    pub updates_sent: u64,
    pub updates_left_out: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.snapshots += other.snapshots;
        self.snapshot_bytes += other.snapshot_bytes;
        self.entities_visible += other.entities_visible;
        self.moving_visible += other.moving_visible;
        self.updates_sent += other.updates_sent;
        self.updates_left_out += other.updates_left_out;
    }
}

/// One thread's buffers, kept between ticks.
#[derive(Default)]
pub(super) struct Worker {
    /// Buffers snapshots are built in (and the bodies of new entities this thread encoded this tick).
    scratch: Scratch,
    /// One client's visible entities.
    visible: Bits,
    /// The datagrams built, back to back, and which range is whose.
    pub buf: Vec<u8>,
    pub sent: Vec<(ClientId, Range<usize>)>,
    /// The runs of clients this thread took this tick: the run's index, and its range in `sent`.
    pub runs: Vec<(usize, Range<usize>)>,
    /// The datagrams addressed, in the order of `sent` (made by [`Worker::finish`]).
    pub out: Vec<Outbound>,
    pub stats: Counts,
}

impl Worker {
    /// Empties the buffers for a snapshot tick in which this thread will take about `clients` clients.
    pub fn begin(&mut self, clients: usize) {
        self.buf.clear();
        self.buf.reserve(clients * 256);
        self.sent.clear();
        self.runs.clear();
    }

    /// Builds the datagram of every client of run `index`.
    pub fn run(&mut self, shared: &Shared<'_>, index: usize, clients: &mut [Client<'_>]) {
        let frame = shared.frame;
        let n = frame.entities().len();
        let first = self.sent.len();
        let datagram_budget = TARGET_DATAGRAM_LEN - DELTA_PREFIX_MAX;
        for job in clients {
            let Some(own_at) = frame.slot(job.own.key) else {
                continue; // not in this frame (cannot happen: every client is a player)
            };
            self.visible.clear(n);
            shared
                .grid
                .mark_within(job.center, shared.view_radius, self.visible.words_mut());
            self.visible.set(own_at);
            let params = SnapshotParams {
                last_input_seq: job.last_input_seq,
                input_margin: job.input_margin,
                ack_tick: job.ack_tick,
                own: job.own,
                own_slot: Some(own_at),
                center: job.center,
                datagram_budget,
                refill: shared.refill,
            };
            // The payload is built in place after room for its prefix, which then goes right before it.
            let start = self.buf.len();
            self.buf.resize(start + DELTA_PREFIX_MAX, 0);
            let built = job
                .replicator
                .build(frame, &mut self.scratch, &mut self.visible, &params, &mut self.buf);
            let Ok((prefix, n)) = delta_datagram_prefix(built.bytes) else {
                self.buf.truncate(start); // cannot happen: the payload is within the datagram budget
                continue;
            };
            let at = start + DELTA_PREFIX_MAX - n;
            self.buf[at..start + DELTA_PREFIX_MAX].copy_from_slice(&prefix[..n]);
            self.sent.push((job.client, at..self.buf.len()));
            self.stats.snapshots += 1;
            self.stats.snapshot_bytes += built.bytes as u64;
            self.stats.entities_visible += built.entities_visible as u64;
            // Other moving players (the frame counts the own player by its shared state).
            let own_moving = frame.moving().has(own_at);
            self.stats.moving_visible += built.moving_visible.saturating_sub(usize::from(own_moving)) as u64;
            self.stats.updates_sent += built.updates_sent as u64;
            self.stats.updates_left_out += built.updates_left_out as u64;
        }
        self.runs.push((index, first..self.sent.len()));
    }

    /// Addresses this thread's datagrams of snapshot `tick` (slices of its one buffer), on this thread.
    pub fn finish(&mut self, tick: u32) {
        let buf = Bytes::from(std::mem::take(&mut self.buf));
        self.out.clear();
        self.out.extend(self.sent.iter().map(|(client, range)| Outbound::Delta {
            client: *client,
            tick,
            datagram: buf.slice(range.clone()),
        }));
    }
}
