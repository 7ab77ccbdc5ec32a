//! Kernels backed by simsimd (`simsimd::SpatialSimilarity` for `f32`), which picks its own
//! best ISA (NEON, SVE, AVX2, AVX-512) at run time. This is the family used on CPUs without
//! our hand-written x86 kernels, notably aarch64.
//!
//! simsimd accumulates `f32` products in `f32` vector lanes and reduces them (in `f64` on some
//! ISAs); the result is returned as `f64` and narrowed back to `f32` here, which keeps the
//! results within pgvector's `float` rounding. simsimd's own cosine is not used: it treats a
//! zero norm as distance 0 or 1 (pgvector gives NaN), approximates the reciprocal square root
//! and clamps at 0, so `cosine_parts` is three `dot` calls instead, which also keeps the
//! invariant that `cosine_parts(a, b) == (dot(a, b), dot(a, a), dot(b, b))` bit for bit.
//! simsimd has no `f32` L1 distance; the family borrows [`super::portable::l1`].
//!
//! simsimd returns `None` for slices of unequal length; these wrappers cut both slices to the
//! common prefix first, so `None` cannot happen and is mapped to NaN only defensively.

use simsimd::SpatialSimilarity;

use super::CosineParts;

fn common_prefix<'a>(a: &'a [f32], b: &'a [f32]) -> (&'a [f32], &'a [f32]) {
    let length = a.len().min(b.len());
    (&a[..length], &b[..length])
}

/// Squared Euclidean distance through `simsimd` `l2sq`.
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    let (a, b) = common_prefix(a, b);
    <f32 as SpatialSimilarity>::l2sq(a, b).map_or(f32::NAN, |sum| sum as f32)
}

/// Inner product through `simsimd` `dot`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (a, b) = common_prefix(a, b);
    <f32 as SpatialSimilarity>::dot(a, b).map_or(f32::NAN, |sum| sum as f32)
}

/// Dot product and squared norms as three simsimd `dot` passes.
pub fn cosine_parts(a: &[f32], b: &[f32]) -> CosineParts {
    CosineParts {
        dot: dot(a, b),
        left_squared_norm: dot(a, a),
        right_squared_norm: dot(b, b),
    }
}
