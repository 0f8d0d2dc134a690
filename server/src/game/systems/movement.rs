//! Phases 2 and 3: each player's inputs for this tick are chosen, then applied by the shared rules, which
//! move the player and may fire a projectile; then the health packs the players walk over. A living, hurt
//! player who walks over a pack that lies there takes it (the first such player in the query's order, the
//! same every run); a taken pack comes back after [`HEALTH_PACK_DELAY`].

use crate::game::components::{Body, Player, Projectile};
use crate::game::input::InputBuffer;
use crate::game::lag;
use crate::game::resources::Projectiles;
use crate::game::resources::{ArenaMap, Ids, Items, Settings, TickCount, TickStats};
use arena_shared::Vec2;
use arena_shared::arena::{Arena, MAX_HEALTH_PACKS};
use arena_shared::protocol::HealthPackSnapshot;
use arena_shared::quant::QEntity;
use arena_shared::rules::{
    HEALTH_PACK_DELAY, HEALTH_PACK_REACH, MAX_HEALTH, step_player_near, take_health_pack, touches_health_pack,
};
use bevy_ecs::prelude::*;

/// Phase 2: one input per player (the last one again when none arrived); buffers that stayed too deep drain.
pub fn select_inputs(mut buffers: Query<&mut InputBuffer>, mut stats: ResMut<TickStats>) {
    for mut buffer in &mut buffers {
        stats.inputs_drained += buffer.select_for_tick();
    }
}

/// Phase 3: the shared movement and firing rules, once per chosen input; a new projectile is flown ahead
/// by how far behind its shooter saw the others (lag compensation, [`lag`]).
pub fn move_players(
    mut projectiles: ResMut<Projectiles>,
    settings: Res<Settings>,
    arena: Res<ArenaMap>,
    tick: Res<TickCount>,
    mut ids: ResMut<Ids>,
    mut players: Query<(&Player, &InputBuffer, &mut Body)>,
) {
    let interp = lag::interp_ticks(settings.tick_rate, settings.replication.snapshot_rate);
    for (player, buffer, mut body) in &mut players {
        for input in buffer.this_tick() {
            // Only the walls near the player's path are tested (the map's wall index; the same outcome).
            let Some(shot) = step_player_near(&mut body.0, input, settings.dt, &arena.0, Some(&arena.1)) else {
                continue;
            };
            let mut state = shot.into();
            let behind = lag::ticks_behind(tick.0, buffer.ack_tick, interp, settings.lag_compensation_ticks);
            if lag::fly_ahead(&mut state, behind, settings.dt, &arena.0, &arena.1) {
                projectiles.0.push(Projectile {
                    id: ids.next_projectile(),
                    owner: player.id,
                    state,
                });
            }
        }
    }
}

/// The map's health packs, in the map's order (a pack's index is its id), and for each cell of the arena
/// the packs within reach of it, so a player finds the packs it may touch by one lookup instead of a test
/// of every pack.
#[derive(Debug)]
pub struct HealthPacks {
    packs: Vec<HealthPack>,
    cells: Cells,
    /// Whether every pack was put among the [`Items`] yet (they are then updated as they change).
    published: bool,
}

/// The packs of the simulation's map.
impl FromWorld for HealthPacks {
    fn from_world(world: &mut World) -> Self {
        match world.get_resource::<ArenaMap>() {
            Some(map) => Self::of(&map.0),
            None => Self {
                packs: Vec::new(),
                cells: Cells::default(),
                published: false,
            },
        }
    }
}

/// One health pack.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HealthPack {
    pos: Vec2,
    /// Ticks until it is back; 0 while it lies there.
    back_in: u32,
}

/// A grid over the arena: for each cell, a bit for each pack whose reach overlaps it (the first 64 packs:
/// a valid map has at most [`MAX_HEALTH_PACKS`]).
#[derive(Debug, Default)]
struct Cells {
    /// Cells per unit (the inverse of a cell's side).
    per_unit: f32,
    cols: usize,
    rows: usize,
    masks: Vec<u64>,
}

/// Most cells along one side; a huge arena gets coarser cells rather than a huge grid.
const MAX_CELLS_PER_SIDE: usize = 256;

impl Cells {
    fn of(arena: &Arena, packs: &[HealthPack]) -> Self {
        let size = (HEALTH_PACK_REACH * 4.0)
            .max(arena.width / MAX_CELLS_PER_SIDE as f32)
            .max(arena.height / MAX_CELLS_PER_SIDE as f32);
        let cols = ((arena.width / size).ceil() as usize).max(1);
        let rows = ((arena.height / size).ceil() as usize).max(1);
        let mut cells = Self {
            per_unit: 1.0 / size,
            cols,
            rows,
            masks: vec![0; cols * rows],
        };
        let reach = Vec2::new(HEALTH_PACK_REACH, HEALTH_PACK_REACH);
        for (i, pack) in packs.iter().enumerate().take(64) {
            let ((c0, r0), (c1, r1)) = (cells.cell_of(pack.pos - reach), cells.cell_of(pack.pos + reach));
            for r in r0..=r1 {
                for c in c0..=c1 {
                    cells.masks[r * cols + c] |= 1 << i;
                }
            }
        }
        cells
    }

    /// The cell holding `p`, clamped to the arena (the cast truncates, which floors a non-negative value).
    fn cell_of(&self, p: Vec2) -> (usize, usize) {
        let c = ((p.x * self.per_unit).max(0.0) as usize).min(self.cols - 1);
        let r = ((p.y * self.per_unit).max(0.0) as usize).min(self.rows - 1);
        (c, r)
    }

    /// The packs (bits) whose reach overlaps the cell of `p`: every pack `p` may touch is among them.
    fn near(&self, p: Vec2) -> u64 {
        let (c, r) = self.cell_of(p);
        self.masks.get(r * self.cols + c).copied().unwrap_or(0)
    }
}

impl HealthPacks {
    /// Every pack of `arena` (at most [`MAX_HEALTH_PACKS`]), lying there.
    pub fn of(arena: &Arena) -> Self {
        let points = arena.health_packs.iter().take(MAX_HEALTH_PACKS);
        let packs: Vec<HealthPack> = points.map(|&pos| HealthPack { pos, back_in: 0 }).collect();
        let cells = Cells::of(arena, &packs);
        Self {
            packs,
            cells,
            published: false,
        }
    }

    /// Pack `i` as snapshots show it (lying there or not).
    fn item(&self, i: usize) -> Option<QEntity> {
        let p = self.packs.get(i)?;
        let snapshot = HealthPackSnapshot {
            id: i as u32,
            pos: p.pos,
        };
        Some(QEntity::from_health_pack(&snapshot, p.back_in == 0))
    }

    /// Puts the packs `which` among the items (all of them the first time).
    fn publish(&mut self, items: &mut Items, which: impl Iterator<Item = usize>) {
        let all = !std::mem::replace(&mut self.published, true);
        let changed: Vec<usize> = if all {
            (0..self.packs.len()).collect()
        } else {
            which.collect()
        };
        for e in changed.into_iter().filter_map(|i| self.item(i)) {
            items.0.insert(e.key, e);
        }
    }

    /// The pack lying there that a player at `pos` touches, if any (the first in the map's order).
    fn touched(&self, pos: Vec2) -> Option<usize> {
        let mut near = self.cells.near(pos);
        while near != 0 {
            let i = near.trailing_zeros() as usize;
            near &= near - 1;
            if self
                .packs
                .get(i)
                .is_some_and(|p| p.back_in == 0 && touches_health_pack(pos, p.pos))
            {
                return Some(i);
            }
        }
        None
    }
}

/// Phase 3, after the moves: packs come back, then hurt players take those they touch; the packs that
/// changed are updated among the [`Items`] the snapshots send.
pub fn pick_up_health_packs(
    settings: Res<Settings>,
    mut packs: Local<HealthPacks>,
    mut items: ResMut<Items>,
    mut players: Query<&mut Body, With<Player>>,
) {
    let delay = (HEALTH_PACK_DELAY * f32::from(settings.tick_rate)).round() as u32;
    let packs = &mut *packs;
    let mut changed = 0u64; // bits of the packs taken or back (a map has at most 64)
    for (i, p) in packs.packs.iter_mut().enumerate() {
        if p.back_in == 1 {
            changed |= 1 << i;
        }
        p.back_in = p.back_in.saturating_sub(1);
    }
    if packs.packs.iter().any(|p| p.back_in == 0) {
        for mut body in &mut players {
            let b = &body.0; // (read only, so the unhurt are not marked changed)
            if !b.is_alive() || b.health >= MAX_HEALTH {
                continue;
            }
            if let Some(i) = packs.touched(b.pos)
                && take_health_pack(&mut body.0)
            {
                packs.packs[i].back_in = delay;
                changed |= 1 << i;
            }
        }
    }
    packs.publish(&mut items, (0..64).filter(|i| changed & (1 << i) != 0));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::test_rng::XorShift;

    #[test]
    fn the_cells_find_the_pack_a_player_touches_as_testing_every_pack_does() {
        let mut rng = XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = move |m: u32| rng.below(u64::from(m)) as f32;
        for round in 0..20 {
            // Small and big arenas (coarser cells), packs anywhere, some close together or on the border.
            let side = [40.0, 632.0, 5_000.0][round % 3];
            let mut arena = Arena::sized_for(10);
            (arena.width, arena.height) = (side, side * 0.75);
            arena.health_packs = (0..MAX_HEALTH_PACKS)
                .map(|k| match k % 4 {
                    0 => Vec2::new(0.0, next(100) / 100.0 * arena.height),
                    1 => Vec2::new(10.0 + next(30) / 10.0, 10.0),
                    _ => Vec2::new(
                        next(1_000) / 1_000.0 * arena.width,
                        next(1_000) / 1_000.0 * arena.height,
                    ),
                })
                .collect();
            let mut packs = HealthPacks::of(&arena);
            for (i, pack) in packs.packs.iter_mut().enumerate() {
                pack.back_in = u32::from(i % 5 == 0); // some taken
            }
            let mut found = 0;
            for k in 0..4_000 {
                let pos = match k % 2 {
                    0 => Vec2::new(
                        next(10_000) / 10_000.0 * arena.width,
                        next(10_000) / 10_000.0 * arena.height,
                    ),
                    _ => {
                        let p = arena.health_packs[k % MAX_HEALTH_PACKS];
                        let angle = next(6_283) / 1_000.0;
                        p + Vec2::new(angle.cos(), angle.sin()) * (HEALTH_PACK_REACH * next(120) / 100.0)
                    }
                };
                let every = packs
                    .packs
                    .iter()
                    .position(|p| p.back_in == 0 && touches_health_pack(pos, p.pos));
                let by_cells = packs.touched(pos).map(|i| packs.packs[i].pos);
                assert_eq!(by_cells, every.map(|i| packs.packs[i].pos), "{pos:?} in {side}");
                found += usize::from(every.is_some());
            }
            assert!(found > 500, "{found} touches: the test finds packs");
        }
    }
}
