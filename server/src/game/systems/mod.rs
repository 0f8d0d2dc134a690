//! The systems of a tick, one module per phase of [`super::TickSet`].

pub mod announce;
pub mod combat;
pub mod full_snapshots;
pub mod inbox;
pub mod movement;
mod outgoing;
pub mod pickups;
pub mod record;
pub mod replicate;
pub mod sessions;

use crate::game::resources::ArenaMap;
use bevy_ecs::prelude::*;

/// Inserts the resources the systems keep for themselves: the sessions' tokens and names, the health packs
/// of the map (inserted first, by `resources::insert_all`).
pub(super) fn insert_resources(world: &mut World) {
    world.insert_resource(sessions::Sessions::from_os());
    world.insert_resource(sessions::Names::default());
    let packs = world
        .get_resource::<ArenaMap>()
        .map(|a| pickups::HealthPacks::of(&a.0))
        .unwrap_or_default();
    world.insert_resource(packs);
}
