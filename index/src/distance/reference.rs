//! Reference kernels: pgvector's arithmetic written as plain sequential loops.
//!
//! These are the oracle every faster kernel is tested against, not the code that runs in
//! production. Each function mirrors the loop of the same name in pgvector's `src/vector.c`:
//! the sum is accumulated in `f32` (`float`), one element after the other, with a separate
//! multiply and add (no fused multiply-add). pgvector itself is compiled with
//! `-fassociative-math`, so its vectorised loops may round differently in the last bits; the
//! accumulator *type* is what we match.
//!
//! Contract shared by all kernel families (see [`super::Kernels`]): callers pass slices of
//! equal length; if they do not, the kernels work over the common prefix and never read out of
//! bounds.

use super::CosineParts;

/// Squared Euclidean distance, `Σ (a[i] - b[i])²`, accumulated in `f32`
/// (pgvector's `VectorL2SquaredDistance`).
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    let mut sum = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        let difference = x - y;
        sum += difference * difference;
    }
    sum
}

/// Inner product, `Σ a[i] · b[i]`, accumulated in `f32` (pgvector's `VectorInnerProduct`).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sum = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        sum += x * y;
    }
    sum
}

/// Manhattan distance, `Σ |a[i] - b[i]|`, accumulated in `f32` (pgvector's `VectorL1Distance`).
pub fn l1(a: &[f32], b: &[f32]) -> f32 {
    let mut sum = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        sum += (x - y).abs();
    }
    sum
}

/// The three sums of pgvector's `VectorCosineSimilarity`, each accumulated in `f32` in its own
/// sequential chain. Bit-for-bit equal to `(dot(a, b), dot(a, a), dot(b, b))`.
pub fn cosine_parts(a: &[f32], b: &[f32]) -> CosineParts {
    let mut dot = 0.0f32;
    let mut left_squared_norm = 0.0f32;
    let mut right_squared_norm = 0.0f32;
    for (x, y) in a.iter().zip(b) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_vectors_give_textbook_values() {
        let a = [1.0, 2.0, 3.0];
        let b = [4.0, 6.0, 8.0];
        assert_eq!(l2_squared(&a, &b), 9.0 + 16.0 + 25.0);
        assert_eq!(dot(&a, &b), 4.0 + 12.0 + 24.0);
        assert_eq!(l1(&a, &b), 3.0 + 4.0 + 5.0);
        let parts = cosine_parts(&a, &b);
        assert_eq!(parts.dot, 40.0);
        assert_eq!(parts.left_squared_norm, 14.0);
        assert_eq!(parts.right_squared_norm, 116.0);
    }

    #[test]
    fn unequal_lengths_use_the_common_prefix() {
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[1.0, 1.0]), 3.0);
        assert_eq!(l1(&[1.0], &[]), 0.0);
    }
}
