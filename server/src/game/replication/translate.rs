//! A client's view from an earlier slot layout, in this snapshot's slots: on the short path, for a client
//! whose baseline is of another layout than this snapshot's (every client, on the tick after a new layout).
//! A layout keeps the slots' key order, so the translation drops the slots the layouts since dropped and
//! spreads the rest over the slots now, both a word at a time (PEXT and PDEP), instead of a bit at a time
//! (every client translates its view on a layout tick: bit by bit, those ticks were the slowest).

use super::bits::Bits;

/// How the slots of a snapshot of an earlier layout land in the slots now: which slots then have a slot now
/// (`kept`, over the slots then), and which slots now they take (`lands`, over the slots now), in the same
/// order. Made with the baseline ([`super::Frame::fill`]).
#[derive(Debug, Default)]
pub struct Landing {
    pub kept: Bits,
    pub lands: Bits,
}

/// Puts into `out` (`words` words) the slots now of the slots then in `exact`, by words through `landing`
/// (`dense` is scratch). False when a slot in `exact` has no slot now, or one lands past `words`.
pub fn by_words(exact: &Bits, landing: &Landing, words: usize, out: &mut Bits, dense: &mut Vec<u64>) -> bool {
    let (exact, kept, lands) = (exact.words(), landing.kept.words(), landing.lands.words());
    if exact.len() > kept.len() || lands.len() > words {
        return false;
    }
    // The kept slots' bits packed together, in order (one more word for the last one's spill).
    dense.clear();
    dense.resize(kept.len() + 1, 0);
    let mut at = 0;
    for (&x, &k) in exact.iter().zip(kept) {
        if x & !k != 0 {
            return false; // held, and dropped by the layout
        }
        put(dense, at, pext(x, k));
        at += k.count_ones() as usize;
    }
    // Then spread over the slots they land in.
    out.clear(words * 64);
    let mut at = 0;
    for (o, &m) in out.words_mut().iter_mut().zip(lands) {
        *o = pdep(take(dense, at), m);
        at += m.count_ones() as usize;
    }
    true
}

/// The same by bits, through `moved` (each slot then's slot now, ascending, or [`super::frame::NONE`]):
/// where PDEP and PEXT are not instructions (a build for x86-64 before v3, or another architecture), and
/// the reference for the word-wide one in tests.
pub fn by_bits(exact: &Bits, moved: &[u32], words: usize, out: &mut Bits) -> bool {
    out.clear(words * 64);
    let out = out.words_mut();
    let (mut word, mut acc, mut last) = (0, 0u64, 0);
    for j in exact.ones() {
        let Some(&s) = moved.get(j) else {
            return false;
        };
        let s = s as usize;
        if s < last || s >= words * 64 {
            return false; // no slot now (or out of order, which a layout never is)
        }
        last = s;
        if s / 64 != word {
            if let Some(w) = out.get_mut(word) {
                *w = acc;
            }
            (word, acc) = (s / 64, 0);
        }
        acc |= 1 << (s % 64);
    }
    if let Some(w) = out.get_mut(word) {
        *w |= acc;
    }
    true
}

/// Whether [`by_words`] runs on instructions of its own here (else [`by_bits`] is faster).
pub const WORD_WIDE: bool = cfg!(all(target_arch = "x86_64", target_feature = "bmi2"));

/// ORs `bits` into `dense` from bit `at` on (`dense` has a word past the last one `at` reaches).
fn put(dense: &mut [u64], at: usize, bits: u64) {
    let (w, b) = (at / 64, at % 64);
    if let Some(word) = dense.get_mut(w) {
        *word |= bits << b;
    }
    if b != 0
        && let Some(word) = dense.get_mut(w + 1)
    {
        *word |= bits >> (64 - b);
    }
}

/// The 64 bits of `dense` from bit `at` on (zeros past its end).
fn take(dense: &[u64], at: usize) -> u64 {
    let (w, b) = (at / 64, at % 64);
    let low = dense.get(w).map_or(0, |x| x >> b);
    let high = if b == 0 {
        0
    } else {
        dense.get(w + 1).map_or(0, |x| x << (64 - b))
    };
    low | high
}

/// The bits of `x` under `mask`, packed into the low bits.
fn pext(x: u64, mask: u64) -> u64 {
    #[cfg(all(target_arch = "x86_64", target_feature = "bmi2"))]
    {
        // SAFETY: the instruction needs only BMI2, which this build enables for all its code (the cfg
        // above): a CPU without BMI2 cannot run the binary at all.
        unsafe { std::arch::x86_64::_pext_u64(x, mask) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "bmi2")))]
    {
        let (mut out, mut k, mut m) = (0, 0, mask);
        while m != 0 {
            let low = m & m.wrapping_neg();
            out |= u64::from(x & low != 0) << k;
            (k, m) = (k + 1, m & (m - 1));
        }
        out
    }
}

/// The low bits of `x` spread over the set bits of `mask`, in order.
fn pdep(x: u64, mask: u64) -> u64 {
    #[cfg(all(target_arch = "x86_64", target_feature = "bmi2"))]
    {
        // SAFETY: the instruction needs only BMI2, which this build enables for all its code (the cfg
        // above): a CPU without BMI2 cannot run the binary at all.
        unsafe { std::arch::x86_64::_pdep_u64(x, mask) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "bmi2")))]
    {
        let (mut out, mut k, mut m) = (0, 0, mask);
        while m != 0 {
            let low = m & m.wrapping_neg();
            if x >> k & 1 == 1 {
                out |= low;
            }
            (k, m) = (k + 1, m & (m - 1));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::replication::frame::NONE;
    use crate::game::test_rng::XorShift;

    #[test]
    fn pext_and_pdep_pack_and_spread_the_bits_under_the_mask() {
        assert_eq!(pext(0b1011_0110, 0b1111_0000), 0b1011);
        assert_eq!(pext(0b1011_0110, 0b0101_0101), 0b0110);
        assert_eq!(pdep(0b1011, 0b1111_0000), 0b1011_0000);
        assert_eq!(pdep(0b0101, 0b0101_0101), 0b0001_0001);
        assert_eq!(pext(u64::MAX, 1 << 63), 1);
        assert_eq!(pdep(1, 1 << 63), 1 << 63);
        let mut rng = XorShift::new(0x9e37_79b9_7f4a_7c15);
        for _ in 0..1_000 {
            let x = rng.next_u64();
            let (v, m) = (x, x.rotate_left(17) ^ x.rotate_left(41));
            assert_eq!(pdep(pext(v, m), m), v & m);
        }
    }

    #[test]
    fn word_wide_translation_is_the_translation_bit_by_bit() {
        let mut rng = XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut next = move |m: u64| rng.below(m);
        let (mut words, mut bits) = (Bits::default(), Bits::default());
        let mut dense = Vec::new();
        for round in 0..300 {
            // A layout: slots then, some dropped (NONE), the rest landing in order among slots now (some of
            // which are new: gaps between landings).
            let then = 1 + next(700) as usize;
            let (mut moved, mut landing, mut s) = (vec![], Landing::default(), 0u32);
            landing.kept.clear(then);
            for j in 0..then {
                s += next(3) as u32; // new slots now before this one
                if next(8) == 0 {
                    moved.push(NONE);
                } else {
                    moved.push(s);
                    landing.kept.set(j);
                    s += 1;
                }
            }
            let now = s as usize + next(100) as usize;
            landing.lands.clear(now);
            moved
                .iter()
                .filter(|m| **m != NONE)
                .for_each(|m| landing.lands.set(*m as usize));
            // A view of kept slots, sometimes one dropped too.
            let mut exact = Bits::default();
            exact.clear(then);
            for (j, m) in moved.iter().enumerate() {
                if *m != NONE && next(3) == 0 || round % 10 == 0 && next(200) == 0 {
                    exact.set(j);
                }
            }
            let n = now.div_ceil(64);
            let by_w = by_words(&exact, &landing, n, &mut words, &mut dense);
            let by_b = by_bits(&exact, &moved, n, &mut bits);
            assert_eq!(by_w, by_b, "round {round}");
            if by_b {
                assert_eq!(words, bits, "round {round}");
                let want: Vec<usize> = exact.ones().map(|j| moved[j] as usize).collect();
                assert_eq!(bits.ones().collect::<Vec<_>>(), want, "round {round}");
            }
        }
    }
}
