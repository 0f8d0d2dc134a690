//! A small seeded xorshift generator for tests that draw many numbers (positions, layouts, views): the same
//! sequence for the same seed, on every machine.

/// Marsaglia's xorshift64 (shifts 13, 7, 17); the seed must not be zero.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next number of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// The next number, below `m` (which must not be zero).
    pub fn below(&mut self, m: u64) -> u64 {
        self.next_u64() % m
    }
}
