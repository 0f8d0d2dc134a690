//! The snapshot engine: one snapshot tick's work for every client, from the world's entities to addressed
//! datagrams, on the pool's threads.
//!
//! # How it is laid out
//! - [`Snapshots::build`] (here): the order of the work, and the clients dealt out to the threads.
//! - `prepare`: the work every client shares, done once: the entities quantized, sorted by key and laid out
//!   in the [`Frame`]'s slots, the interest grid over them, and the baselines the clients acknowledged.
//! - `worker`: one thread's share of the clients: the visible set, the delta ([`crate::game::replication`]),
//!   the datagram.
//! - `sort`: the radix sort of the entities' keys.
//!
//! It knows nothing of the ECS: it is given the entities quantized (but the projectiles), the projectiles, a way to list the
//! clients (called on the tick's thread while a pool thread sorts the entities), and the pool.

mod prepare;
mod sort;
mod worker;

use crate::game::components::Projectile;
use crate::game::edge::Outbound;
use crate::game::threads::Workers;
use arena_shared::quant::QEntity;
use prepare::Preparation;
pub use prepare::Round;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
pub use worker::{CLIENTS_PER_THREAD, Client, Counts};
use worker::{Shared, Worker};

/// Clients handed to a snapshot thread at a time (a short run, so a thread held up holds up few clients).
const CLIENTS_PER_RUN: usize = 16;

/// The snapshot engine: buffers, and the frame kept from one snapshot tick to the next (its history holds
/// the baselines).
#[derive(Default)]
pub struct Snapshots {
    shared: Preparation,
    workers: Vec<Worker>,
}

impl Snapshots {
    /// The buffer for every entity but the projectiles, quantized, in any order (a player's timers zero:
    /// they only matter for a client's own player, which each [`Client`] brings whole), emptied for the
    /// caller to fill.
    pub fn entities(&mut self) -> &mut Vec<QEntity> {
        self.shared.entities()
    }

    /// Builds every client's snapshot of `round` and adds the addressed datagrams to `out` in the order
    /// `clients` lists them; returns what the work added up to. The entities are those given through
    /// [`Snapshots::entities`] and the projectiles; `clients` is called on this thread while a pool thread sorts the entities.
    pub fn build<'c>(
        &mut self,
        pool: &Workers,
        round: &Round,
        projectiles: &[Projectile],
        clients: impl FnOnce() -> Vec<Client<'c>>,
        out: &mut Vec<Outbound>,
    ) -> Counts {
        let mut clients = self.shared.prepare(pool, round, projectiles, clients);
        let threads = self.deal(pool, round, &mut clients);
        self.collect(threads, out)
    }

    /// The clients in short runs, each taken by whichever thread is free next (even halves of the clients
    /// finished far apart), each thread building its clients' datagrams in its own buffer. Returns the
    /// threads (workers) that took part.
    fn deal(&mut self, pool: &Workers, round: &Round, clients: &mut [Client<'_>]) -> usize {
        let shared = Shared {
            frame: self.shared.frame(),
            grid: self.shared.grid(),
            view_radius: round.view_radius,
            refill: round.refill,
        };
        let threads = pool.threads().min(clients.len().div_ceil(CLIENTS_PER_THREAD).max(1));
        self.workers
            .resize_with(threads.max(self.workers.len()), Worker::default);
        let per_thread = clients.len().div_ceil(threads);
        let runs: Vec<Mutex<&mut [Client<'_>]>> = clients.chunks_mut(CLIENTS_PER_RUN).map(Mutex::new).collect();
        let next = AtomicUsize::new(0);
        let mut workers: Vec<&mut Worker> = self.workers.iter_mut().take(threads).collect();
        pool.for_each(&mut workers, |worker| {
            worker.begin(per_thread);
            loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some(Ok(mut run)) = runs.get(at).map(|r| r.lock()) else {
                    break;
                };
                worker.run(&shared, at, &mut run);
            }
            worker.finish(round.tick);
        });
        threads
    }

    /// Each worker addressed its datagrams (slices of its one buffer); `out` takes them run after run (the
    /// clients' order). Each worker's runs ascend, so its datagrams are taken from the front.
    fn collect(&mut self, threads: usize, out: &mut Vec<Outbound>) -> Counts {
        let workers = &mut self.workers[..threads];
        let mut order: Vec<(usize, usize, usize)> = workers
            .iter()
            .enumerate()
            .flat_map(|(w, worker)| worker.runs.iter().map(move |(run, sent)| (*run, w, sent.len())))
            .collect();
        order.sort_unstable_by_key(|o| o.0);
        let mut addressed: Vec<_> = workers.iter_mut().map(|w| w.out.drain(..)).collect();
        for (_, w, len) in order {
            if let Some(datagrams) = addressed.get_mut(w) {
                out.extend(datagrams.by_ref().take(len));
            }
        }
        drop(addressed);
        let mut total = Counts::default();
        for worker in workers {
            total.add(std::mem::take(&mut worker.stats));
        }
        total
    }
}
