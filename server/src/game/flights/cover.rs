//! The cells of the arena near a set of points (the living players): a bit per cell, so that a projectile
//! far from every player is known by one lookup instead of a query of the hit grid.

use arena_shared::Vec2;

/// Most cells along one side; a huge arena gets coarser cells rather than a huge bitmap.
const MAX_CELLS_PER_SIDE: usize = 1024;

/// Marks every cell that a square of half-side `reach` around one of the points overlaps. A position whose
/// cell is unmarked has no point within `reach` of it (in either axis, so not in distance either).
#[derive(Debug, Default)]
pub struct Cover {
    cell: f32,
    cols: usize,
    rows: usize,
    reach: f32,
    bits: Vec<u64>,
}

impl Cover {
    /// Rebuilds the cover of `points` for an arena of `width` × `height`, with cells of about `cell` units
    /// and the given `reach`. Buffers are reused between rebuilds.
    pub fn rebuild(&mut self, width: f32, height: f32, cell: f32, reach: f32, points: impl Iterator<Item = Vec2>) {
        let cell = cell
            .max(width / MAX_CELLS_PER_SIDE as f32)
            .max(height / MAX_CELLS_PER_SIDE as f32)
            .max(0.25);
        self.cell = cell;
        self.reach = reach.max(0.0);
        self.cols = ((width / cell).ceil() as usize).max(1);
        self.rows = ((height / cell).ceil() as usize).max(1);
        self.bits.clear();
        self.bits.resize((self.cols * self.rows).div_ceil(64), 0);
        let r = Vec2::new(self.reach, self.reach);
        for p in points {
            let ((c0, r0), (c1, r1)) = (self.cell_of(p - r), self.cell_of(p + r));
            for row in r0..=r1 {
                self.set_run(row * self.cols + c0, row * self.cols + c1);
            }
        }
    }

    /// Marks cells `from..=to`, a word at a time.
    fn set_run(&mut self, from: usize, to: usize) {
        let (first, last) = (from / 64, to / 64);
        let (head, tail) = (!0u64 << (from % 64), !0u64 >> (63 - to % 64));
        if first == last {
            if let Some(word) = self.bits.get_mut(first) {
                *word |= head & tail;
            }
            return;
        }
        if let Some(word) = self.bits.get_mut(first) {
            *word |= head;
        }
        for word in self.bits.iter_mut().take(last).skip(first + 1) {
            *word = !0;
        }
        if let Some(word) = self.bits.get_mut(last) {
            *word |= tail;
        }
    }

    /// The reach the cover was built with.
    pub fn reach(&self) -> f32 {
        self.reach
    }

    /// Whether a point may be within [`Cover::reach`] of `p`: false means none is. (Positions outside the
    /// arena fall in its border cells, as the points' squares do.)
    pub fn near(&self, p: Vec2) -> bool {
        if self.bits.is_empty() {
            return false; // never built: no points
        }
        let (c, r) = self.cell_of(p);
        let at = r * self.cols + c;
        self.bits.get(at / 64).is_none_or(|w| w >> (at % 64) & 1 == 1)
    }

    /// The cell holding `p`, clamped to the arena (the clamp keeps the order of positions, so the squares'
    /// cells still hold every position within them).
    fn cell_of(&self, p: Vec2) -> (usize, usize) {
        let c = ((p.x / self.cell).floor().max(0.0) as usize).min(self.cols - 1);
        let r = ((p.y / self.cell).floor().max(0.0) as usize).min(self.rows - 1);
        (c, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::test_rng::XorShift;

    #[test]
    fn a_position_with_a_point_within_reach_is_always_near() {
        // Points and positions on an eighth-unit lattice (as quantized states are) and off it, many on
        // cell borders, some outside the arena; every position within reach of a point must be near.
        let mut rng = XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut next = move |m: u32| rng.below(u64::from(m)) as f32;
        let (mut near, mut far) = (0, 0);
        for round in 0..100 {
            let (width, height) = (60.0 + next(60), 60.0 + next(60));
            let (cell, reach) = ([1.0, 2.0, 2.5][round % 3], [0.5, 1.2, 1.3125, 3.0][round % 4]);
            let points: Vec<Vec2> = (0..20)
                .map(|_| Vec2::new(next(8 * 130) / 8.0 - 5.0, next(8 * 130) / 8.0 - 5.0))
                .collect();
            let mut cover = Cover::default();
            cover.rebuild(width, height, cell, reach, points.iter().copied());
            for k in 0..2_000 {
                let q = if k % 2 == 0 {
                    Vec2::new(next(8 * 140) / 8.0 - 10.0, next(8 * 140) / 8.0 - 10.0)
                } else {
                    // Just inside or just outside a point's reach, at any angle.
                    let p = points[k % points.len()];
                    let angle = next(6283) / 1000.0;
                    p + Vec2::new(angle.cos(), angle.sin()) * (reach * (0.9 + next(200) / 1000.0))
                };
                let within = points.iter().any(|p| (*p - q).length() <= reach);
                if within {
                    assert!(cover.near(q), "{q:?} is within {reach} of a point, cell {cell}");
                }
                if k % 2 == 0 && cover.near(q) {
                    near += 1;
                } else if k % 2 == 0 {
                    far += 1;
                }
            }
        }
        // And it is a filter: most positions anywhere are found far.
        assert!(far > near, "{far} far, {near} near");
    }

    #[test]
    fn an_empty_cover_is_near_nothing() {
        let mut cover = Cover::default();
        assert!(!cover.near(Vec2::new(1.0, 1.0)));
        cover.rebuild(10.0, 10.0, 1.0, 1.0, std::iter::empty());
        assert!(!cover.near(Vec2::new(1.0, 1.0)));
        cover.rebuild(10.0, 10.0, 1.0, 1.0, [Vec2::new(5.0, 5.0)].into_iter());
        assert!(cover.near(Vec2::new(5.9, 4.1)));
        assert!(!cover.near(Vec2::new(8.5, 5.0)));
        // A reach of many words of cells per row: every cell of the square is marked, none outside it.
        cover.rebuild(200.0, 10.0, 0.5, 60.0, [Vec2::new(100.0, 5.0)].into_iter());
        for x in 0..400 {
            let q = Vec2::new(x as f32 * 0.5 + 0.25, 5.0);
            assert_eq!(cover.near(q), (40.0..160.5).contains(&q.x), "{q:?}");
        }
    }
}
