//! Interest management: a uniform grid over the arena, rebuilt each snapshot, so finding what one client can
//! see costs the cells around it, not a scan of every entity.

use arena_shared::Vec2;

/// Most cells along one side of the grid; a huge arena gets coarser cells rather than a huge grid.
pub const MAX_CELLS_PER_SIDE: usize = 256;

/// Entity indices bucketed by position.
#[derive(Debug, Default)]
pub struct Grid {
    cell: f32,
    cols: usize,
    rows: usize,
    cells: Vec<Vec<u32>>,
    positions: Vec<Vec2>,
}

impl Grid {
    /// Rebuilds the grid for an arena of `width` × `height` with cells of about `cell` units, from the
    /// positions of entities `0..positions.len()`. Buffers are reused between rebuilds.
    pub fn rebuild(&mut self, width: f32, height: f32, cell: f32, positions: impl Iterator<Item = Vec2>) {
        let cell = cell
            .max(width / MAX_CELLS_PER_SIDE as f32)
            .max(height / MAX_CELLS_PER_SIDE as f32)
            .max(1.0);
        self.cell = cell;
        self.cols = ((width / cell).ceil() as usize).max(1);
        self.rows = ((height / cell).ceil() as usize).max(1);
        let n = self.cols * self.rows;
        self.cells.resize_with(n, Vec::new);
        self.cells.truncate(n);
        self.cells.iter_mut().for_each(Vec::clear);
        self.positions.clear();
        self.positions.extend(positions);
        for (i, p) in self.positions.iter().enumerate() {
            let (c, r) = self.cell_of(*p);
            self.cells[r * self.cols + c].push(i as u32);
        }
    }

    fn cell_of(&self, p: Vec2) -> (usize, usize) {
        let c = ((p.x / self.cell).floor().max(0.0) as usize).min(self.cols - 1);
        let r = ((p.y / self.cell).floor().max(0.0) as usize).min(self.rows - 1);
        (c, r)
    }

    /// Appends to `out` the indices of entities within `radius` of `center`, in no particular order.
    pub fn query(&self, center: Vec2, radius: f32, out: &mut Vec<u32>) {
        if self.cols == 0 {
            return;
        }
        let (c0, r0) = self.cell_of(center - Vec2::new(radius, radius));
        let (c1, r1) = self.cell_of(center + Vec2::new(radius, radius));
        let r2 = radius * radius;
        for r in r0..=r1 {
            for c in c0..=c1 {
                for &i in &self.cells[r * self.cols + c] {
                    if (self.positions[i as usize] - center).length_squared() <= r2 {
                        out.push(i);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn entities_outside_the_arena_are_still_found() {
        let mut grid = Grid::default();
        grid.rebuild(10.0, 10.0, 5.0, [Vec2::new(-1.0, 12.0)].into_iter());
        let mut got = vec![];
        grid.query(Vec2::new(0.0, 10.0), 3.0, &mut got);
        assert_eq!(got, vec![0]);
    }
}
