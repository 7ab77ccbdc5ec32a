//! Portable kernels: the fallback on CPUs where neither the hand-written x86 kernels nor
//! simsimd apply, and the source of `l1` for the simsimd family (simsimd has no `f32` L1).
//!
//! Each sum is kept in [`LANES`] independent `f32` accumulators over consecutive chunks, so the
//! compiler can keep them in one SIMD register without reassociating anything itself (Rust
//! never enables fast-math). The lanes are then added in a fixed tree order and the tail that
//! does not fill a chunk is added last, element by element.
//!
//! Invariant relied on by the flat index: `cosine_parts(a, b)` is bit-for-bit
//! `(dot(a, b), dot(a, a), dot(b, b))` because all three use the same lane layout and
//! reduction. Slices of unequal length are processed over their common prefix.

use super::CosineParts;

/// Number of independent accumulators (one 256-bit register of `f32`).
const LANES: usize = 8;

/// Adds the lanes in a fixed pairwise order; shared by every kernel so that equal inputs give
/// bit-identical sums.
#[inline(always)]
fn reduce_lanes(lanes: [f32; LANES]) -> f32 {
    let quarter = [
        lanes[0] + lanes[4],
        lanes[1] + lanes[5],
        lanes[2] + lanes[6],
        lanes[3] + lanes[7],
    ];
    let half = [quarter[0] + quarter[2], quarter[1] + quarter[3]];
    half[0] + half[1]
}

/// Squared Euclidean distance with `f32` lane accumulators.
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    let length = a.len().min(b.len());
    let (a, b) = (&a[..length], &b[..length]);
    let mut lanes = [0.0f32; LANES];
    let a_chunks = a.chunks_exact(LANES);
    let b_chunks = b.chunks_exact(LANES);
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    for (a_chunk, b_chunk) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            let difference = a_chunk[lane] - b_chunk[lane];
            lanes[lane] += difference * difference;
        }
    }
    let mut sum = reduce_lanes(lanes);
    for (x, y) in a_tail.iter().zip(b_tail) {
        let difference = x - y;
        sum += difference * difference;
    }
    sum
}

/// Inner product with `f32` lane accumulators.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let length = a.len().min(b.len());
    let (a, b) = (&a[..length], &b[..length]);
    let mut lanes = [0.0f32; LANES];
    let a_chunks = a.chunks_exact(LANES);
    let b_chunks = b.chunks_exact(LANES);
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    for (a_chunk, b_chunk) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            lanes[lane] += a_chunk[lane] * b_chunk[lane];
        }
    }
    let mut sum = reduce_lanes(lanes);
    for (x, y) in a_tail.iter().zip(b_tail) {
        sum += x * y;
    }
    sum
}

/// Manhattan distance with `f32` lane accumulators.
pub fn l1(a: &[f32], b: &[f32]) -> f32 {
    let length = a.len().min(b.len());
    let (a, b) = (&a[..length], &b[..length]);
    let mut lanes = [0.0f32; LANES];
    let a_chunks = a.chunks_exact(LANES);
    let b_chunks = b.chunks_exact(LANES);
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    for (a_chunk, b_chunk) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            lanes[lane] += (a_chunk[lane] - b_chunk[lane]).abs();
        }
    }
    let mut sum = reduce_lanes(lanes);
    for (x, y) in a_tail.iter().zip(b_tail) {
        sum += (x - y).abs();
    }
    sum
}

/// Dot product and both squared norms in one pass, each with the lane layout of [`dot`].
pub fn cosine_parts(a: &[f32], b: &[f32]) -> CosineParts {
    let length = a.len().min(b.len());
    let (a, b) = (&a[..length], &b[..length]);
    let mut dot_lanes = [0.0f32; LANES];
    let mut left_lanes = [0.0f32; LANES];
    let mut right_lanes = [0.0f32; LANES];
    let a_chunks = a.chunks_exact(LANES);
    let b_chunks = b.chunks_exact(LANES);
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    for (a_chunk, b_chunk) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            let (x, y) = (a_chunk[lane], b_chunk[lane]);
            dot_lanes[lane] += x * y;
            left_lanes[lane] += x * x;
            right_lanes[lane] += y * y;
        }
    }
    let mut dot = reduce_lanes(dot_lanes);
    let mut left_squared_norm = reduce_lanes(left_lanes);
    let mut right_squared_norm = reduce_lanes(right_lanes);
    for (x, y) in a_tail.iter().zip(b_tail) {
        dot += x * y;
        left_squared_norm += x * x;
        right_squared_norm += y * y;
    }
    CosineParts {
        dot,
        left_squared_norm,
        right_squared_norm,
    }
}
