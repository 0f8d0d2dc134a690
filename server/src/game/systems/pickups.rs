//! Phase 3, after the moves: health packs. A living, hurt player who walks over a pack that lies there
//! takes it (the first such player in the query's order, the same every run); a taken pack comes back
//! after [`HEALTH_PACK_DELAY`].

use crate::game::components::{Body, Player};
use crate::game::resources::Settings;
use arena_shared::Vec2;
use arena_shared::arena::Arena;
use arena_shared::rules::{HEALTH_PACK_DELAY, MAX_HEALTH, take_health_pack, touches_health_pack};
use bevy_ecs::prelude::*;

/// The map's health packs, in the map's order (a pack's index is its id).
#[derive(Resource, Debug, Default)]
pub struct HealthPacks(pub Vec<HealthPack>);

/// One health pack.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthPack {
    pub pos: Vec2,
    /// Ticks until it is back; 0 while it lies there.
    pub back_in: u32,
}

impl HealthPacks {
    /// Every pack of `arena`, lying there.
    pub fn of(arena: &Arena) -> Self {
        Self(
            arena
                .health_packs
                .iter()
                .map(|&pos| HealthPack { pos, back_in: 0 })
                .collect(),
        )
    }

    /// Every pack: (index, position, whether it lies there now).
    pub fn all(&self) -> impl Iterator<Item = (u32, Vec2, bool)> + '_ {
        let packs = self.0.iter().enumerate();
        packs.map(|(i, p)| (i as u32, p.pos, p.back_in == 0))
    }
}

/// Phase 3, after the moves: packs come back, then hurt players take those they touch.
pub fn pick_up_health_packs(
    settings: Res<Settings>,
    mut packs: ResMut<HealthPacks>,
    mut players: Query<&mut Body, With<Player>>,
) {
    let delay = (HEALTH_PACK_DELAY * f32::from(settings.tick_rate)).round() as u32;
    packs.0.iter_mut().for_each(|p| p.back_in = p.back_in.saturating_sub(1));
    if packs.0.iter().all(|p| p.back_in > 0) {
        return;
    }
    for mut body in &mut players {
        let b = &body.0; // (read only, so the unhurt are not marked changed)
        if !b.is_alive() || b.health >= MAX_HEALTH {
            continue;
        }
        let touched = packs
            .0
            .iter_mut()
            .find(|p| p.back_in == 0 && touches_health_pack(b.pos, p.pos));
        if let Some(pack) = touched
            && take_health_pack(&mut body.0)
        {
            pack.back_in = delay;
        }
    }
}
