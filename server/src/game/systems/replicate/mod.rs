//! Phase 7 with deltas: the quantized entity list and the interest grid are built once per snapshot, then
//! each client gets the entities within its view radius as a delta against its acknowledged view
//! ([`crate::game::replication`]). Clients are independent of one another here, so they are split across
//! the threads of the pool the tick was lent ([`worker`]), each with its own buffers.

mod sort;
mod worker;

use crate::game::components::{Body, Client, Player, Score};
use crate::game::input::InputBuffer;
use crate::game::interest::Grid;
use crate::game::replication::{Baseline, Frame, Replicator};
use crate::game::resources::{ArenaMap, LentPool, Outbox, Projectiles, Settings, TickCount, TickStats};
use crate::game::threads::Handover;
use arena_shared::protocol::{PlayerSnapshot, ProjectileSnapshot};
use arena_shared::quant::QEntity;
use bevy_ecs::prelude::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use worker::{Job, Shared, Worker};

/// Clients handed to a snapshot thread at a time (a short run, so a thread held up holds up few clients).
const CLIENTS_PER_RUN: usize = 16;

/// Clients one thread handles at least before another thread is worth starting.
pub const CLIENTS_PER_THREAD: usize = 64;

/// Whether `tick` is a snapshot tick at `snapshot_rate` out of `tick_rate` (evenly spread).
pub fn is_snapshot_tick(tick: u32, tick_rate: u16, snapshot_rate: u16) -> bool {
    let at = |t: u32| u64::from(t) * u64::from(snapshot_rate) / u64::from(tick_rate.max(1));
    snapshot_rate >= tick_rate || at(tick) != at(tick.wrapping_sub(1))
}

/// Reusable buffers, and the frame kept from one snapshot to the next (its history holds the baselines).
#[derive(Default)]
pub struct Scratch {
    players: Vec<QEntity>,
    projectiles: Vec<QEntity>,
    /// Every entity's key and index (players first, then projectiles), sorted.
    order: Vec<u64>,
    /// Scratch for the sort.
    spare: Vec<u64>,
    frame: Frame,
    grid: Grid,
    workers: Vec<Worker>,
    /// The oldest tick a client acknowledged at the last snapshot (acknowledgements only move forward, so
    /// no client's baseline is older from now on).
    oldest_ack: u32,
}

#[expect(
    clippy::too_many_arguments,
    reason = "a system's parameters declare the data it touches"
)]
pub fn replicate(
    tick: Res<TickCount>,
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    players: Query<(&Player, &Body, &Score)>,
    projectiles: Res<Projectiles>,
    mut clients: Query<(&Client, &Player, &Body, &Score, &InputBuffer, &mut Replicator)>,
    mut outbox: ResMut<Outbox>,
    mut stats: ResMut<TickStats>,
    mut pool: ResMut<LentPool>,
    mut scratch: Local<Scratch>,
) {
    let r = settings.replication;
    if r.full_snapshots || !is_snapshot_tick(tick.0, settings.tick_rate, r.snapshot_rate) {
        return;
    }
    // The snapshot threads wake while this thread quantizes the entities (when there will be work for them:
    // with few clients, this thread builds every snapshot); in a big world they take a share of the
    // preparation too.
    let n_clients = clients.iter().len();
    // (They may be awake since the flights already: then this phase ends that wake-up.)
    let _awake = pool.renew_wake(n_clients > CLIENTS_PER_THREAD);
    let split = n_clients >= settings.handoffs.clients_to_split_preparation;
    let s = &mut *scratch;
    // Every entity once, quantized, then sorted by key (players by id, then projectiles by id). Timers only
    // matter for a client's own player, so they are zero here and filled in per client.
    s.players.clear();
    s.players.extend(players.iter().map(|(p, b, sc)| {
        let mut q = QEntity::from_player(&PlayerSnapshot {
            id: p.id,
            state: b.0,
            kills: sc.kills,
            deaths: sc.deaths,
        });
        (q.cooldown, q.respawn) = (0, 0);
        q
    }));
    // While this thread quantizes the projectiles, then lists the clients (their components), a snapshot
    // thread sorts the entities by key and lays them out in the frame's slots, the projectiles last (by then
    // they are ready): the two sides take about as long (quicker than this thread only listing the
    // clients).
    let flying = &projectiles.0;
    let Scratch {
        players: players_q,
        projectiles: projectiles_q,
        order,
        spare,
        frame,
        grid,
        workers,
        oldest_ack,
    } = s;
    frame.set_referenced_since(*oldest_ack);
    // Projectiles are listed in id order, so in key order, after every player (unless ids wrapped): then
    // only the players are sorted.
    let presorted = flying
        .windows(2)
        .all(|w| QEntity::projectile_key(w[0].id) < QEntity::projectile_key(w[1].id))
        && match (players_q.iter().map(|e| e.key).max(), flying.first()) {
            (Some(last), Some(first)) => last < QEntity::projectile_key(first.id),
            _ => true,
        };
    let quantized = Handover::default();
    let (mut jobs, ()) = pool.join_when(
        split,
        || {
            let giver = quantized.giver();
            projectiles_q.clear();
            projectiles_q.extend(flying.iter().map(|p| {
                QEntity::from_projectile(&ProjectileSnapshot {
                    id: p.id,
                    owner: p.owner,
                    pos: p.state.pos,
                    vel: p.state.vel,
                })
            }));
            giver.give(&projectiles_q[..]);
            clients
                .iter_mut()
                .map(|(client, player, body, score, buffer, replicator)| Job {
                    client: client.0,
                    own: QEntity::from_player(&PlayerSnapshot {
                        id: player.id,
                        state: body.0,
                        kills: score.kills,
                        deaths: score.deaths,
                    }),
                    center: body.0.pos,
                    last_input_seq: buffer.last_applied,
                    ack_tick: buffer.ack_tick,
                    replicator: replicator.into_inner(),
                })
                .collect::<Vec<Job<'_>>>()
        },
        || {
            // Sorted by key as (key, index) pairs, not as whole entities: an eighth of the bytes to move.
            order.clear();
            if presorted {
                order.extend(
                    players_q
                        .iter()
                        .enumerate()
                        .map(|(i, e)| u64::from(e.key) << 32 | i as u64),
                );
                sort::by_key(order, spare);
                let players = order.iter().filter_map(|o| players_q.get((o & 0xffff_ffff) as usize));
                let projectiles = std::iter::once(()).flat_map(|()| quantized.wait().copied().unwrap_or_default());
                frame.begin(tick.0, settings.tick_rate, players.chain(projectiles).copied());
            } else {
                let projectiles_q = quantized.wait().copied().unwrap_or_default();
                let all = players_q.iter().chain(projectiles_q);
                order.extend(all.enumerate().map(|(i, e)| u64::from(e.key) << 32 | i as u64));
                sort::by_key(order, spare);
                let at = |i: usize| players_q.get(i).or_else(|| projectiles_q.get(i - players_q.len()));
                let sorted = order.iter().filter_map(|o| at((o & 0xffff_ffff) as usize));
                frame.begin(tick.0, settings.tick_rate, sorted.copied());
            }
        },
    );

    // Then the grid, and the baselines the clients acknowledged: in a big world beside each other, otherwise
    // the grid first and the baselines spread over the threads when there are several (clients may
    // acknowledge up to `VIEW_RING` different ticks).
    *oldest_ack = jobs
        .iter()
        .map(|j| j.ack_tick)
        .filter(|a| *a != 0)
        .min()
        .unwrap_or(tick.0);
    let mut baselines = frame.take_baselines(jobs.iter().map(|j| j.ack_tick));
    {
        let frame = &*frame;
        // Cells of a quarter of the view radius: a query scans few entities beyond those it finds.
        let cell = (r.view_radius / 4.0).max(1.0);
        let (width, height) = (arena.0.width, arena.0.height);
        if split {
            let mut tasks: Vec<Prep<'_>> = std::iter::once(Prep::Grid(grid))
                .chain(baselines.iter_mut().map(Prep::Baseline))
                .collect();
            pool.for_each(&mut tasks, |task| match task {
                Prep::Grid(grid) => index(frame, grid, width, height, cell),
                Prep::Baseline(b) => frame.fill(b),
            });
        } else {
            index(frame, grid, width, height, cell);
            pool.for_each_run(&mut baselines, |run| run.iter_mut().for_each(|b| frame.fill(b)));
        }
    }
    frame.set_baselines(baselines);
    let shared = Shared {
        frame: &*frame,
        grid: &*grid,
        view_radius: r.view_radius,
        refill: f64::from(r.client_bandwidth) / f64::from(r.snapshot_rate.max(1)),
    };
    let threads = pool.threads().min(jobs.len().div_ceil(CLIENTS_PER_THREAD).max(1));
    workers.resize_with(threads.max(workers.len()), Worker::default);
    let workers = &mut workers[..threads];
    let per_thread = jobs.len().div_ceil(threads);
    // The clients in short runs, each taken by whichever thread is free next (even halves of the clients
    // finished far apart).
    let runs: Vec<Mutex<&mut [Job<'_>]>> = jobs.chunks_mut(CLIENTS_PER_RUN).map(Mutex::new).collect();
    let next = AtomicUsize::new(0);
    let mut threads: Vec<&mut Worker> = workers.iter_mut().collect();
    pool.for_each(&mut threads, |worker| {
        worker.begin(per_thread);
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(run) = runs.get(at) else { break };
            let Ok(mut run) = run.lock() else { break };
            worker.run(&shared, at, &mut run);
        }
        worker.finish(tick.0);
    });
    drop(threads);
    drop(runs);

    // Each worker addressed its datagrams (slices of its one buffer); the outbox takes them run after run
    // (client order). Each worker's runs ascend, so its datagrams are taken from the front.
    let mut order: Vec<(usize, usize, usize)> = workers
        .iter()
        .enumerate()
        .flat_map(|(w, worker)| worker.runs.iter().map(move |(run, sent)| (*run, w, sent.len())))
        .collect();
    order.sort_unstable_by_key(|o| o.0);
    let mut addressed: Vec<_> = workers.iter_mut().map(|w| w.out.drain(..)).collect();
    for (_, w, len) in order {
        if let Some(datagrams) = addressed.get_mut(w) {
            outbox.0.extend(datagrams.by_ref().take(len));
        }
    }
    drop(addressed);
    for worker in workers.iter_mut() {
        let w = std::mem::take(&mut worker.stats);
        stats.snapshots += w.snapshots;
        stats.snapshot_bytes += w.snapshot_bytes;
        stats.entities_visible += w.entities_visible;
        stats.moving_visible += w.moving_visible;
        stats.updates_sent += w.updates_sent;
        stats.updates_left_out += w.updates_left_out;
    }
}

/// Work done beside the baselines' preparation.
enum Prep<'a> {
    /// The interest grid.
    Grid(&'a mut Grid),
    Baseline(&'a mut Baseline),
}

/// The grid over the frame's live slots (a dead slot is nobody's to see).
fn index(frame: &Frame, grid: &mut Grid, width: f32, height: f32, cell: f32) {
    let (entities, alive) = (frame.entities(), frame.alive());
    grid.rebuild_indexed(width, height, cell, alive.ones().map(|i| (i as u32, entities[i].pos())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_ticks_are_spread_evenly() {
        let count = |rate| (1..=60).filter(|t| is_snapshot_tick(*t, 60, rate)).count();
        assert_eq!(count(60), 60);
        assert_eq!(count(30), 30);
        assert_eq!(count(20), 20);
        assert_eq!(count(7), 7);
        assert!(
            is_snapshot_tick(2, 60, 30) != is_snapshot_tick(3, 60, 30),
            "every other tick"
        );
    }
}
