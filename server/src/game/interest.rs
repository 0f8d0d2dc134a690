//! Interest management: a uniform grid over the arena, rebuilt each snapshot, so finding what one client can
//! see costs the cells around it, not a scan of every entity.

use arena_shared::Vec2;

/// Most cells along one side of the grid; a huge arena gets coarser cells rather than a huge grid.
pub const MAX_CELLS_PER_SIDE: usize = 256;

/// Entries tested at once by [`Grid::mark_within`] (the compiler turns the test of a group into a few
/// vector instructions).
const LANES: usize = 8;

/// Entity indices bucketed by position: cells in row-major order, each cell's entries contiguous (so the
/// cells of one row of a query are one run of entries), entries within a cell in index order. The entries
/// are kept as columns (x, y, index), each with [`LANES`] entries of room after the last, so a group of
/// entries can always be read whole.
#[derive(Debug, Default)]
pub struct Grid {
    cell: f32,
    cols: usize,
    rows: usize,
    /// Where each cell's entries start; one more than there are cells.
    starts: Vec<u32>,
    xs: Vec<f32>,
    ys: Vec<f32>,
    ids: Vec<u32>,
    /// Each entity's cell, the next free entry per cell, and the entries in entity order, while rebuilding.
    cells_of: Vec<u32>,
    next: Vec<u32>,
    unplaced: Vec<(Vec2, u32)>,
}

impl Grid {
    /// Rebuilds the grid for an arena of `width` × `height` with cells of about `cell` units, from the
    /// positions of entities `0..positions.len()`. Buffers are reused between rebuilds.
    pub fn rebuild(&mut self, width: f32, height: f32, cell: f32, positions: impl Iterator<Item = Vec2>) {
        self.rebuild_indexed(width, height, cell, positions.enumerate().map(|(i, p)| (i as u32, p)));
    }

    /// [`Grid::rebuild`] from entities given as (index, position), indices ascending.
    pub fn rebuild_indexed(&mut self, width: f32, height: f32, cell: f32, entities: impl Iterator<Item = (u32, Vec2)>) {
        let cell = cell
            .max(width / MAX_CELLS_PER_SIDE as f32)
            .max(height / MAX_CELLS_PER_SIDE as f32)
            .max(1.0);
        self.cell = cell;
        self.cols = ((width / cell).ceil() as usize).max(1);
        self.rows = ((height / cell).ceil() as usize).max(1);
        let n = self.cols * self.rows;
        // A counting sort by cell: count, prefix sums, place.
        self.unplaced.clear();
        self.cells_of.clear();
        self.starts.clear();
        self.starts.resize(n + 1, 0);
        for (i, p) in entities {
            let (c, r) = self.cell_of(p);
            let at = r * self.cols + c;
            self.starts[at + 1] += 1;
            self.cells_of.push(at as u32);
            self.unplaced.push((p, i));
        }
        for i in 0..n {
            self.starts[i + 1] += self.starts[i];
        }
        self.next.clear();
        self.next.extend_from_slice(&self.starts[..n]);
        let len = self.unplaced.len() + LANES;
        for column in [&mut self.xs, &mut self.ys] {
            column.clear();
            column.resize(len, f32::NAN);
        }
        self.ids.clear();
        self.ids.resize(len, 0);
        for (&at, &(p, i)) in self.cells_of.iter().zip(&self.unplaced) {
            let slot = &mut self.next[at as usize];
            let e = *slot as usize;
            (self.xs[e], self.ys[e], self.ids[e]) = (p.x, p.y, i);
            *slot += 1;
        }
    }

    fn cell_of(&self, p: Vec2) -> (usize, usize) {
        let c = ((p.x / self.cell).floor().max(0.0) as usize).min(self.cols - 1);
        let r = ((p.y / self.cell).floor().max(0.0) as usize).min(self.rows - 1);
        (c, r)
    }

    /// The entries of the cells the box around a circle at `center` of `radius` touches: one run per row.
    fn rows_around(&self, center: Vec2, radius: f32) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let ready = self.cols > 0 && self.starts.len() == self.cols * self.rows + 1;
        let ((c0, r0), (c1, r1)) = if ready {
            (
                self.cell_of(center - Vec2::new(radius, radius)),
                self.cell_of(center + Vec2::new(radius, radius)),
            )
        } else {
            ((1, 1), (0, 0)) // no rows
        };
        (r0..=r1).map(move |r| {
            let from = self.starts[r * self.cols + c0] as usize;
            let to = self.starts[r * self.cols + c1 + 1] as usize;
            from..to
        })
    }

    /// Calls `found` with the index of every entity within `radius` of `center`, row by row (not in index
    /// order).
    pub fn for_each_within(&self, center: Vec2, radius: f32, mut found: impl FnMut(u32)) {
        let r2 = radius * radius;
        for row in self.rows_around(center, radius) {
            for ((x, y), i) in self.xs[row.clone()]
                .iter()
                .zip(&self.ys[row.clone()])
                .zip(&self.ids[row])
            {
                if (Vec2::new(*x, *y) - center).length_squared() <= r2 {
                    found(*i);
                }
            }
        }
    }

    /// Sets bit `i` of `bits` for every entity `i` within `radius` of `center`; `bits` must have a bit for
    /// every entity. The entries of a row are tested [`LANES`] at a time, with the same arithmetic as
    /// [`Grid::for_each_within`] (so the same outcome to the last bit), and only the entities inside are
    /// visited one by one. (Limiting each row to the circle's chord, and marking cells wholly inside without
    /// a test, scans fewer entities but cost more: the entities are few per row, the bounds many.)
    pub fn mark_within(&self, center: Vec2, radius: f32, bits: &mut [u64]) {
        let r2 = radius * radius;
        for row in self.rows_around(center, radius) {
            let mut at = row.start;
            while at < row.end {
                let (Some(xs), Some(ys), Some(ids)) = (
                    self.xs.get(at..at + LANES),
                    self.ys.get(at..at + LANES),
                    self.ids.get(at..at + LANES),
                ) else {
                    break; // cannot happen: the columns have room for a whole group after the last entry
                };
                let mut inside = within(xs, ys, center, r2);
                // Entries past the row's end belong to other cells.
                let left = row.end - at;
                if left < LANES {
                    inside &= (1 << left) - 1;
                }
                // Every entry of the group, inside or not: a branch per entity inside would be mispredicted.
                for (k, &i) in ids.iter().enumerate() {
                    if let Some(word) = bits.get_mut(i as usize / 64) {
                        *word |= u64::from(inside >> k & 1) << (i % 64);
                    }
                }
                at += LANES;
            }
        }
    }

    /// Appends to `out` the indices of entities within `radius` of `center`, in no particular order.
    pub fn query(&self, center: Vec2, radius: f32, out: &mut Vec<u32>) {
        self.for_each_within(center, radius, |i| out.push(i));
    }
}

/// Which of the [`LANES`] entries at `xs`, `ys` (bit `k` for entry `k`) are within `sqrt(r2)` of `center`.
/// Written as two loops over fixed-size arrays so the compiler makes vector instructions of both: the
/// squared distances, then the comparisons packed into bits.
#[inline(always)]
fn within(xs: &[f32], ys: &[f32], center: Vec2, r2: f32) -> u32 {
    let (Ok(xs), Ok(ys)) = (<&[f32; LANES]>::try_from(xs), <&[f32; LANES]>::try_from(ys)) else {
        return 0;
    };
    let mut d2 = [0.0f32; LANES];
    for ((d, x), y) in d2.iter_mut().zip(xs).zip(ys) {
        let (dx, dy) = (x - center.x, y - center.y);
        *d = dx * dx + dy * dy;
    }
    let mut inside = 0;
    for (k, d) in d2.iter().enumerate() {
        inside |= u32::from(*d <= r2) << k;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::test_rng::XorShift;

    #[test]
    fn a_query_finds_exactly_the_entities_in_the_radius() {
        let positions: Vec<Vec2> = (0..400)
            .map(|i| Vec2::new((i % 20) as f32 * 3.0, (i / 20) as f32 * 2.0))
            .collect();
        let mut grid = Grid::default();
        grid.rebuild(60.0, 40.0, 10.0, positions.iter().copied());
        for (center, radius) in [
            (Vec2::new(30.0, 20.0), 7.5),
            (Vec2::new(0.0, 0.0), 12.0),
            (Vec2::new(59.0, 39.0), 100.0),
        ] {
            let mut got = vec![];
            grid.query(center, radius, &mut got);
            got.sort_unstable();
            let want: Vec<u32> = (0..400u32)
                .filter(|i| (positions[*i as usize] - center).length() <= radius)
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn marking_finds_what_a_query_finds() {
        let positions: Vec<Vec2> = (0..300)
            .map(|i| Vec2::new((i * 37 % 100) as f32 * 0.7, (i * 13 % 80) as f32 * 0.5))
            .collect();
        let mut grid = Grid::default();
        grid.rebuild(70.0, 40.0, 4.0, positions.iter().copied());
        for center in [Vec2::new(35.0, 20.0), Vec2::new(0.0, 0.0), Vec2::new(69.0, 39.0)] {
            let mut found = vec![];
            grid.query(center, 9.0, &mut found);
            found.sort_unstable();
            let mut bits = vec![0u64; 300usize.div_ceil(64)];
            grid.mark_within(center, 9.0, &mut bits);
            let marked: Vec<u32> = (0..300u32)
                .filter(|i| bits[*i as usize / 64] >> (i % 64) & 1 == 1)
                .collect();
            assert_eq!(marked, found);
        }
    }

    #[test]
    fn marking_agrees_with_testing_every_entity() {
        // Positions on an eighth-unit lattice (as quantized states are), many exactly on cell borders,
        // some outside the arena; centers anywhere, radii from under a cell to over the arena.
        let mut rng = XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = move |m: u32| rng.below(u64::from(m)) as f32;
        for round in 0..200 {
            let (width, height, cell) = (40.0 + next(80), 40.0 + next(80), [2.0, 2.5, 4.0, 7.0][round % 4]);
            let positions: Vec<Vec2> = (0..500)
                .map(|_| Vec2::new(next(8 * 140) / 8.0 - 10.0, next(8 * 140) / 8.0 - 10.0))
                .collect();
            let mut grid = Grid::default();
            grid.rebuild(width, height, cell, positions.iter().copied());
            for _ in 0..20 {
                let center = Vec2::new(next(8 * 130) / 8.0 - 5.0, next(8 * 130) / 8.0 - 5.0);
                let radius = [0.5 + next(40) / 8.0, 2.0 + next(60), next(16) * cell / 4.0][round % 3];
                let mut bits = vec![0u64; positions.len().div_ceil(64)];
                grid.mark_within(center, radius, &mut bits);
                for (i, p) in positions.iter().enumerate() {
                    let want = (*p - center).length_squared() <= radius * radius;
                    assert_eq!(
                        bits[i / 64] >> (i % 64) & 1 == 1,
                        want,
                        "{p:?} {center:?} {radius} {cell}"
                    );
                }
            }
        }
    }

    #[test]
    fn entities_outside_the_arena_are_still_found() {
        let mut grid = Grid::default();
        grid.rebuild(10.0, 10.0, 5.0, [Vec2::new(-1.0, 12.0)].into_iter());
        let mut got = vec![];
        grid.query(Vec2::new(0.0, 10.0), 3.0, &mut got);
        assert_eq!(got, vec![0]);
    }
}
