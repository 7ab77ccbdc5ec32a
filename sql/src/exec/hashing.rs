//! Hashing for the executor's hash tables (joins, grouping, DISTINCT).
//!
//! Keys are `hash_key` bytes or integers computed by the engine itself; the tables live for
//! one statement. SipHash's protection against chosen collisions costs more than the rest
//! of a probe here, so these tables use a multiply-rotate hash over 8-byte words (the
//! approach of rustc's FxHash), which PostgreSQL's own hash joins match in spirit: a fixed,
//! unkeyed hash function.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // Mix the high bits (the best mixed) into the low ones hashbrown uses for buckets.
        let x = (self.0 ^ (self.0 >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^ (x >> 29)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }

    #[inline]
    fn write_i64(&mut self, v: i64) {
        self.add(v as u64);
    }

    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
}

pub type FastBuild = BuildHasherDefault<FastHasher>;

/// A hash map with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, FastBuild>;

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn nearby_keys_spread_over_buckets() {
        let build = FastBuild::default();
        let mut low_bits = std::collections::HashSet::new();
        for i in 0..1024i64 {
            low_bits.insert(build.hash_one(i) & 1023);
        }
        assert!(low_bits.len() > 600, "{} distinct buckets", low_bits.len());
        let mut keys = std::collections::HashSet::new();
        for i in 0..10_000u32 {
            keys.insert(build.hash_one(i.to_string().into_bytes()));
        }
        assert_eq!(keys.len(), 10_000);
    }
}
