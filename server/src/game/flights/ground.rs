//! What the flights engine is given each tick besides the projectiles: the ground they fly over and the
//! players they can hit.

use arena_shared::Vec2;
use arena_shared::arena::{Arena, WallIndex};
use arena_shared::protocol::PlayerId;

/// Where projectiles fly: the map, which walls are near each part of it, and the length of a tick.
#[derive(Debug, Clone, Copy)]
pub struct Ground<'a> {
    pub arena: &'a Arena,
    pub walls: &'a WallIndex,
    pub dt: f32,
}

/// A living player a projectile can hit: its id and position.
pub type Target = (PlayerId, Vec2);
