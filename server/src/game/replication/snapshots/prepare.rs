//! The work a snapshot tick's clients share, done once: the entities quantized, sorted by key and laid out
//! in the frame's slots, the interest grid over them, and the baselines the clients acknowledged.

use super::sort;
use super::worker::Client;
use crate::game::components::Projectile;
use crate::game::interest::Grid;
use crate::game::replication::frame::{Baseline, Frame};
use crate::game::threads::{Handover, Workers};
use arena_shared::protocol::ProjectileSnapshot;
use arena_shared::quant::QEntity;

/// What one snapshot tick is made of, besides the entities and the clients.
#[derive(Debug, Clone, Copy)]
pub struct Round {
    pub tick: u32,
    pub tick_rate: u16,
    /// The arena's size, for the interest grid.
    pub width: f32,
    pub height: f32,
    pub view_radius: f32,
    /// Bytes per snapshot each client's budget refills.
    pub refill: f64,
    /// Whether the shared preparation is split between threads too (a big world: see
    /// `Handoffs::clients_to_split_preparation`).
    pub split: bool,
}

/// The work every client shares, and the frame kept from one snapshot tick to the next (its history holds
/// the baselines).
#[derive(Default)]
pub(super) struct Preparation {
    /// The world's entities but the projectiles (which are many, and listed in key order already),
    /// quantized, in any order: filled by the engine's caller.
    others: Vec<QEntity>,
    projectiles: Vec<QEntity>,
    /// Every entity's key and index (the others first, then projectiles), sorted.
    order: Vec<u64>,
    /// Scratch for the sort.
    spare: Vec<u64>,
    frame: Frame,
    grid: Grid,
    /// The oldest tick a client acknowledged at the last snapshot (acknowledgements only move forward, so
    /// no client's baseline is older from now on).
    oldest_ack: u32,
}

impl Preparation {
    /// The buffer for the world's entities but the projectiles, emptied.
    pub fn entities(&mut self) -> &mut Vec<QEntity> {
        self.others.clear();
        &mut self.others
    }

    pub fn frame(&self) -> &Frame {
        &self.frame
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Lays the entities out in the frame and prepares the grid and the baselines; returns the clients.
    ///
    /// While this thread quantizes the projectiles, then lists the clients, a pool thread (in a big world)
    /// sorts the entities by key and lays them out in the frame's slots, the projectiles last (by then they
    /// are ready): the two sides take about as long (quicker than this thread only listing the clients).
    pub fn prepare<'c>(
        &mut self,
        pool: &Workers,
        round: &Round,
        flying: &[Projectile],
        clients: impl FnOnce() -> Vec<Client<'c>>,
    ) -> Vec<Client<'c>> {
        let Preparation {
            others,
            projectiles,
            order,
            spare,
            frame,
            grid,
            oldest_ack,
        } = self;
        frame.set_referenced_since(*oldest_ack);
        // Projectiles are listed in id order, so in key order, after every other kind (unless ids wrapped):
        // then only the other entities are sorted.
        let presorted = flying
            .windows(2)
            .all(|w| QEntity::projectile_key(w[0].id) < QEntity::projectile_key(w[1].id))
            && match (others.iter().map(|e| e.key).max(), flying.first()) {
                (Some(last), Some(first)) => last < QEntity::projectile_key(first.id),
                _ => true,
            };
        let quantized = Handover::default();
        let (clients, ()) = pool.join_when(
            round.split,
            || {
                let giver = quantized.giver();
                projectiles.clear();
                projectiles.extend(flying.iter().map(|p| {
                    QEntity::from_projectile(&ProjectileSnapshot {
                        id: p.id,
                        owner: p.owner,
                        pos: p.state.pos,
                        vel: p.state.vel,
                    })
                }));
                giver.give(&projectiles[..]);
                clients()
            },
            || {
                // Sorted by key as (key, index) pairs, not as whole entities: an eighth of the bytes to move.
                order.clear();
                let (tick, tick_rate) = (round.tick, round.tick_rate);
                if presorted {
                    order.extend(
                        others
                            .iter()
                            .enumerate()
                            .map(|(i, e)| u64::from(e.key) << 32 | i as u64),
                    );
                    sort::by_key(order, spare);
                    let others = order.iter().filter_map(|o| others.get((o & 0xffff_ffff) as usize));
                    let projectiles = std::iter::once(()).flat_map(|()| quantized.wait().copied().unwrap_or_default());
                    frame.begin(tick, tick_rate, others.chain(projectiles).copied());
                } else {
                    let projectiles = quantized.wait().copied().unwrap_or_default();
                    let all = others.iter().chain(projectiles);
                    order.extend(all.enumerate().map(|(i, e)| u64::from(e.key) << 32 | i as u64));
                    sort::by_key(order, spare);
                    let at = |i: usize| others.get(i).or_else(|| projectiles.get(i - others.len()));
                    let sorted = order.iter().filter_map(|o| at((o & 0xffff_ffff) as usize));
                    frame.begin(tick, tick_rate, sorted.copied());
                }
            },
        );
        *oldest_ack = clients
            .iter()
            .map(|c| c.ack_tick)
            .filter(|a| *a != 0)
            .min()
            .unwrap_or(round.tick);
        prepare_grid_and_baselines(pool, round, frame, grid, &clients);
        clients
    }
}

/// The grid, and the baselines the clients acknowledged: in a big world beside each other, otherwise the
/// grid first and the baselines spread over the threads when there are several (clients may acknowledge up
/// to `VIEW_RING` different ticks).
fn prepare_grid_and_baselines(
    pool: &Workers,
    round: &Round,
    frame: &mut Frame,
    grid: &mut Grid,
    clients: &[Client<'_>],
) {
    let mut baselines = frame.take_baselines(clients.iter().map(|c| c.ack_tick));
    {
        let frame = &*frame;
        // Cells of a quarter of the view radius: a query scans few entities beyond those it finds.
        let cell = (round.view_radius / 4.0).max(1.0);
        let (width, height) = (round.width, round.height);
        if round.split {
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
