//! Sorting the tick's entities by key: a radix sort of (key, index) pairs on the key's bytes, skipping the
//! bytes every key shares (the high bytes of a player's id, for one): quicker than a comparison sort for the
//! pairs of a big tick, in the order the tick leaves them.

/// Sorts `pairs` by their upper 32 bits (the key), keeping the order of equal keys; `spare` is scratch.
pub fn by_key(pairs: &mut Vec<u64>, spare: &mut Vec<u64>) {
    if pairs.len() < 64 {
        pairs.sort_unstable_by_key(|p| p >> 32);
        return;
    }
    for byte in 0..4 {
        let shift = 32 + 8 * byte;
        let mut counts = [0usize; 256];
        for p in pairs.iter() {
            counts[(p >> shift) as usize & 0xff] += 1;
        }
        if counts.contains(&pairs.len()) {
            continue; // every key has this byte: the order stays
        }
        let mut at = 0;
        for c in counts.iter_mut() {
            (*c, at) = (at, at + *c);
        }
        spare.clear();
        spare.resize(pairs.len(), 0);
        for p in pairs.iter() {
            let slot = &mut counts[(p >> shift) as usize & 0xff];
            spare[*slot] = *p;
            *slot += 1;
        }
        std::mem::swap(pairs, spare);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_a_comparison_sort_does() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut pairs, mut spare) = (Vec::new(), Vec::new());
        for len in [0, 1, 5, 63, 64, 65, 1000, 4000] {
            for spread in [0xffu64, 0xffff, 0x7fff_ffff] {
                // Unique keys (as entity keys are), some with the projectile bit, in any order.
                let mut keys: Vec<u32> = (0..len)
                    .map(|_| (next() & spread) as u32 | (next() as u32 & 1) << 31)
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                for i in (1..keys.len()).rev() {
                    keys.swap(i, next() as usize % (i + 1));
                }
                pairs.clear();
                pairs.extend(keys.iter().enumerate().map(|(i, k)| u64::from(*k) << 32 | i as u64));
                let mut want = pairs.clone();
                want.sort_unstable();
                by_key(&mut pairs, &mut spare);
                assert_eq!(pairs, want, "{len} pairs, keys within {spread:#x}");
            }
        }
    }
}
