//! The arena map: its bounds, its walls (axis-aligned boxes), its spawn points and its health packs.
//!
//! The server sends its map to each client in `Welcome`, so a client never assumes the map; a map that
//! arrives from the network is checked with [`Arena::validate`] before it is used.

use crate::codec::bounded;
use crate::math::Vec2;
use serde::{Deserialize, Serialize};

/// Most walls a map may have; a map with more is refused by [`Arena::validate`].
pub const MAX_WALLS: usize = 64;
/// Most spawn points a map may have; a map with more is refused by [`Arena::validate`].
pub const MAX_SPAWN_POINTS: usize = 32;
/// Most health packs a map may have; a map with more is refused by [`Arena::validate`].
pub const MAX_HEALTH_PACKS: usize = 64;
/// Largest arena side, in units; a larger map is refused by [`Arena::validate`].
pub const MAX_ARENA_SIDE: f32 = 10_000.0;

/// An axis-aligned wall, from `min` (lower-left) to `max` (upper-right).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Wall {
    pub min: Vec2,
    pub max: Vec2,
}

impl Wall {
    pub const fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self {
            min: Vec2::new(x0, y0),
            max: Vec2::new(x1, y1),
        }
    }

    /// The point of this wall closest to `p` (`p` itself when `p` is inside).
    pub fn closest_point(&self, p: Vec2) -> Vec2 {
        Vec2::new(p.x.clamp(self.min.x, self.max.x), p.y.clamp(self.min.y, self.max.y))
    }

    pub fn contains(&self, p: Vec2) -> bool {
        p.x >= self.min.x && p.x <= self.max.x && p.y >= self.min.y && p.y <= self.max.y
    }
}

/// A map: the playable rectangle is `(0, 0)` to `(width, height)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arena {
    pub width: f32,
    pub height: f32,
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_WALLS>")]
    pub walls: Vec<Wall>,
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_SPAWN_POINTS>")]
    pub spawn_points: Vec<Vec2>,
    /// Where the health packs lie (see `rules::take_health_pack`).
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_HEALTH_PACKS>")]
    pub health_packs: Vec<Vec2>,
}

/// Why a map was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArenaError {
    /// Width or height is not a finite number in `1..=MAX_ARENA_SIDE`.
    #[error("arena size {0}x{1} is outside 1..={MAX_ARENA_SIDE}")]
    BadSize(f32, f32),
    /// More walls than [`MAX_WALLS`], or a wall that is not a finite, non-empty box.
    #[error("arena walls are too many or malformed")]
    BadWalls,
    /// No spawn point, more than [`MAX_SPAWN_POINTS`], or one outside the bounds or inside a wall.
    #[error("arena spawn points are missing, too many or misplaced")]
    BadSpawns,
    /// More health packs than [`MAX_HEALTH_PACKS`], or one outside the bounds or inside a wall.
    #[error("arena health packs are too many or misplaced")]
    BadHealthPacks,
}

impl Arena {
    /// The standard map: 60 x 40 units, a central block, four pillars and two half walls.
    pub fn standard() -> Self {
        let walls = vec![
            Wall::new(27.0, 17.0, 33.0, 23.0),
            Wall::new(12.0, 8.0, 14.0, 14.0),
            Wall::new(46.0, 8.0, 48.0, 14.0),
            Wall::new(12.0, 26.0, 14.0, 32.0),
            Wall::new(46.0, 26.0, 48.0, 32.0),
            Wall::new(20.0, 0.0, 22.0, 6.0),
            Wall::new(38.0, 34.0, 40.0, 40.0),
        ];
        let spawn_points = vec![
            Vec2::new(4.0, 4.0),
            Vec2::new(56.0, 4.0),
            Vec2::new(4.0, 36.0),
            Vec2::new(56.0, 36.0),
            Vec2::new(30.0, 4.0),
            Vec2::new(30.0, 36.0),
            Vec2::new(4.0, 20.0),
            Vec2::new(56.0, 20.0),
        ];
        // One in each open quarter, away from the spawn points.
        let health_packs = vec![
            Vec2::new(30.0, 12.0),
            Vec2::new(30.0, 28.0),
            Vec2::new(8.0, 11.0),
            Vec2::new(52.0, 29.0),
        ];
        Self {
            width: 60.0,
            height: 40.0,
            walls,
            spawn_points,
            health_packs,
        }
    }

    /// A square map for `players` (about 400 square units each; 1,000 players: 632 x 632), with pillars
    /// spread over it, 32 spawn points and 16 health packs: the map for scale tests and big servers.
    pub fn sized_for(players: usize) -> Self {
        let side = ((players.max(10) as f32) * 400.0).sqrt().min(MAX_ARENA_SIDE);
        let per_side = 8usize; // 64 pillars, the wall limit
        let mut walls = Vec::with_capacity(per_side * per_side);
        for i in 0..per_side {
            for j in 0..per_side {
                let (x, y) = (
                    side * (i as f32 + 0.25) / per_side as f32,
                    side * (j as f32 + 0.25) / per_side as f32,
                );
                walls.push(Wall::new(x, y, x + 2.0, y + 2.0));
            }
        }
        let spawn_points = (0..32)
            .map(|k| Vec2::new(side * ((k % 8) as f32 + 0.5) / 8.0, side * ((k / 8) as f32 + 0.5) / 4.0))
            .collect();
        // Midway between two columns and two rows of pillars (open for any side this makes).
        let health_packs = (0..16)
            .map(|k| {
                Vec2::new(
                    side * (2.0 * (k % 4) as f32 + 1.75) / 8.0,
                    side * (2.0 * (k / 4) as f32 + 1.75) / 8.0,
                )
            })
            .collect();
        Self {
            width: side,
            height: side,
            walls,
            spawn_points,
            health_packs,
        }
    }

    /// Checks a map (for example one received from the network) before it is used.
    pub fn validate(&self) -> Result<(), ArenaError> {
        let side_ok = |s: f32| s.is_finite() && (1.0..=MAX_ARENA_SIDE).contains(&s);
        if !side_ok(self.width) || !side_ok(self.height) {
            return Err(ArenaError::BadSize(self.width, self.height));
        }
        let wall_ok = |w: &Wall| w.min.is_finite() && w.max.is_finite() && w.min.x < w.max.x && w.min.y < w.max.y;
        if self.walls.len() > MAX_WALLS || !self.walls.iter().all(wall_ok) {
            return Err(ArenaError::BadWalls);
        }
        let open = |p: &Vec2| {
            p.is_finite()
                && (0.0..=self.width).contains(&p.x)
                && (0.0..=self.height).contains(&p.y)
                && !self.walls.iter().any(|w| w.contains(*p))
        };
        if self.spawn_points.is_empty()
            || self.spawn_points.len() > MAX_SPAWN_POINTS
            || !self.spawn_points.iter().all(open)
        {
            return Err(ArenaError::BadSpawns);
        }
        if self.health_packs.len() > MAX_HEALTH_PACKS || !self.health_packs.iter().all(open) {
            return Err(ArenaError::BadHealthPacks);
        }
        Ok(())
    }

    /// True when `p` is inside the bounds and not inside any wall.
    pub fn is_open(&self, p: Vec2) -> bool {
        self.is_open_among(p, u64::MAX)
    }

    /// The walls (as bits of a mask, wall `i` bit `i`; a valid map has at most [`MAX_WALLS`]) whose box
    /// overlaps the box from `lo` to `hi`. A point in that box can only be inside those walls, so a moving
    /// point tests just them ([`Arena::is_open_among`]).
    pub fn walls_overlapping(&self, lo: Vec2, hi: Vec2) -> u64 {
        let mut mask = 0;
        for (i, w) in self.walls.iter().enumerate().take(64) {
            if w.min.x <= hi.x && w.max.x >= lo.x && w.min.y <= hi.y && w.max.y >= lo.y {
                mask |= 1 << i;
            }
        }
        if self.walls.len() > 64 { u64::MAX } else { mask }
    }

    /// Whether `p` is inside the map and outside the walls of `walls` (a mask from
    /// [`Arena::walls_overlapping`]; all bits set tests every wall).
    pub fn is_open_among(&self, p: Vec2, walls: u64) -> bool {
        let inside = p.x >= 0.0 && p.y >= 0.0 && p.x <= self.width && p.y <= self.height;
        if !inside {
            return false;
        }
        if self.walls.len() > 64 {
            return !self.walls.iter().any(|w| w.contains(p));
        }
        let mut m = walls;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            if self.walls.get(i).is_some_and(|w| w.contains(p)) {
                return false;
            }
        }
        true
    }
}

/// Which walls are near each part of a map: a coarse grid of wall masks, built once per map, so a moving
/// point finds the walls it may meet without testing every wall.
#[derive(Debug, Clone, Default)]
pub struct WallIndex {
    cell: f32,
    cols: usize,
    rows: usize,
    masks: Vec<u64>,
}

impl WallIndex {
    /// Cells along one side, at most.
    const MAX_SIDE: usize = 64;

    pub fn new(arena: &Arena) -> Self {
        let side = arena.width.max(arena.height).max(1.0);
        let cell = (side / Self::MAX_SIDE as f32).max(1.0);
        let cols = ((arena.width / cell).ceil() as usize).clamp(1, Self::MAX_SIDE);
        let rows = ((arena.height / cell).ceil() as usize).clamp(1, Self::MAX_SIDE);
        let mut index = Self {
            cell,
            cols,
            rows,
            masks: vec![0; cols * rows],
        };
        for r in 0..rows {
            for c in 0..cols {
                let lo = Vec2::new(c as f32 * cell, r as f32 * cell);
                // A cell's box, grown a little: a wall on its edge counts for both sides.
                let grow = Vec2::new(0.01, 0.01);
                index.masks[r * cols + c] = arena.walls_overlapping(lo - grow, lo + Vec2::new(cell, cell) + grow);
            }
        }
        index
    }

    fn cell_of(&self, p: Vec2) -> (usize, usize) {
        let c = ((p.x / self.cell).floor().max(0.0) as usize).min(self.cols - 1);
        let r = ((p.y / self.cell).floor().max(0.0) as usize).min(self.rows - 1);
        (c, r)
    }

    /// The walls that may overlap the box from `lo` to `hi` (a superset of
    /// [`Arena::walls_overlapping`]): the masks of the cells the box touches.
    pub fn walls_near(&self, lo: Vec2, hi: Vec2) -> u64 {
        if self.masks.is_empty() || !(lo.is_finite() && hi.is_finite()) {
            return u64::MAX;
        }
        let (c0, r0) = self.cell_of(lo);
        let (c1, r1) = self.cell_of(hi);
        let mut mask = 0;
        for r in r0..=r1 {
            for c in c0..=c1 {
                mask |= self.masks[r * self.cols + c];
            }
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_map_is_valid() {
        assert_eq!(Arena::standard().validate(), Ok(()));
    }

    #[test]
    fn maps_sized_for_many_players_are_valid() {
        for players in [1, 10, 100, 1_000, 100_000] {
            assert_eq!(Arena::sized_for(players).validate(), Ok(()), "{players}");
        }
        assert!((Arena::sized_for(1_000).width - 632.45).abs() < 0.1);
    }

    #[test]
    fn malformed_maps_are_refused() {
        let mut a = Arena::standard();
        a.width = f32::NAN;
        assert!(matches!(a.validate(), Err(ArenaError::BadSize(..))));
        let mut a = Arena::standard();
        a.walls.push(Wall::new(5.0, 5.0, 5.0, 9.0));
        assert_eq!(a.validate(), Err(ArenaError::BadWalls));
        let mut a = Arena::standard();
        a.spawn_points = vec![Vec2::new(30.0, 20.0)];
        assert_eq!(a.validate(), Err(ArenaError::BadSpawns));
        let mut a = Arena::standard();
        a.health_packs.push(Vec2::new(61.0, 20.0));
        assert_eq!(a.validate(), Err(ArenaError::BadHealthPacks));
        let mut a = Arena::standard();
        a.health_packs = vec![Vec2::new(5.0, 5.0); MAX_HEALTH_PACKS + 1];
        assert_eq!(a.validate(), Err(ArenaError::BadHealthPacks));
    }
}
