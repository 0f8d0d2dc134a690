//! The systems of a tick, one module per phase of [`super::TickSet`].

pub mod announce;
pub mod combat;
pub mod full_snapshots;
pub mod inbox;
pub mod matches;
pub mod movement;
mod outgoing;
pub mod record;
pub mod replicate;
pub mod sessions;

use bevy_ecs::prelude::*;

/// Inserts the resources the systems keep for themselves: the sessions' tokens and names, the match.
pub(super) fn insert_resources(world: &mut World) {
    world.insert_resource(matches::Match::default());
    world.insert_resource(sessions::Sessions::from_os());
    world.insert_resource(sessions::Names::default());
}
