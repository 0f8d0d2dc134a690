//! A bitset over entity indices: visible sets, baselines and changed sets are combined a word (64
//! entities) at a time instead of entity by entity.

/// A set of indices, one bit each.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Bits(Vec<u64>);

impl Bits {
    /// Empties the set and sizes it for indices `0..n`.
    pub fn clear(&mut self, n: usize) {
        self.0.clear();
        self.0.resize(n.div_ceil(64), 0);
    }

    /// Sizes the set for indices `0..n`, keeping what it holds below `n`.
    pub fn grow(&mut self, n: usize) {
        self.0.resize(n.div_ceil(64).max(self.0.len()), 0);
    }

    pub fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    pub fn unset(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w &= !(1 << (i % 64));
        }
    }

    pub fn has(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    pub fn words(&self) -> &[u64] {
        &self.0
    }

    pub fn words_mut(&mut self) -> &mut [u64] {
        &mut self.0
    }

    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The indices in the set, ascending.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        ones(self.0.iter().copied())
    }
}

/// The indices of the set bits of `words` (word `w` holding indices `64 w ..`), ascending.
pub fn ones(words: impl Iterator<Item = u64>) -> impl Iterator<Item = usize> {
    words.enumerate().flat_map(|(w, mut word)| {
        std::iter::from_fn(move || {
            if word == 0 {
                return None;
            }
            let bit = word.trailing_zeros() as usize;
            word &= word - 1;
            Some(w * 64 + bit)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_walks_indices_in_order() {
        let mut b = Bits::default();
        b.clear(200);
        for i in [0, 5, 63, 64, 130, 199] {
            b.set(i);
        }
        b.unset(5);
        b.set(1_000); // out of range: ignored
        assert_eq!(b.ones().collect::<Vec<_>>(), vec![0, 63, 64, 130, 199]);
        assert_eq!(b.count(), 5);
        assert!(b.has(64) && !b.has(65) && !b.has(1_000));
    }
}
