//! A small deterministic pseudo-random generator (SplitMix64) for index builds: HNSW levels,
//! k-means sampling and seeding. Builds must be reproducible (the same segment gives the same
//! file, whatever the thread count), so nothing here reads the clock or the OS.

/// SplitMix64 (Steele, Lea, Flood 2014): one 64-bit state, one add and a mix per draw.
#[derive(Debug, Clone)]
pub(super) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(super) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// Uniform in `[0, 1)`, 53 bits of precision.
    pub(super) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..bound` (`bound > 0`), by multiply-shift (bias below 2^-32 for the
    /// bounds used here).
    pub(super) fn below(&mut self, bound: usize) -> usize {
        debug_assert!(bound > 0);
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}

/// The SplitMix64 finaliser: a bijective mix of 64 bits, also used as a hash of a row offset.
pub(super) fn mix(value: u64) -> u64 {
    let mut z = value;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_in_range() {
        let mut first = SplitMix64::new(7);
        let mut second = SplitMix64::new(7);
        for _ in 0..1000 {
            assert_eq!(first.next_u64(), second.next_u64());
            let unit = first.next_f64();
            assert!((0.0..1.0).contains(&unit));
            assert!(first.below(13) < 13);
            second.next_f64();
            second.below(13);
        }
    }
}
