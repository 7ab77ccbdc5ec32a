//! Vector distances with pgvector's semantics.
//!
//! What this module owns: the four metrics of pgvector's operators and SQL functions, and the
//! kernels that compute them.
//!
//! | operator | [`Metric`]      | ORDER BY key ([`distance`])   | SQL function                  |
//! |----------|-----------------|-------------------------------|-------------------------------|
//! | `<->`    | `L2`            | `sqrt(Σ (a-b)²)`              | [`l2_distance`]               |
//! | `<=>`    | `Cosine`        | `1 - a·b / sqrt(‖a‖²‖b‖²)`    | [`cosine_distance`]           |
//! | `<#>`    | `InnerProduct`  | `-(a·b)`                      | [`inner_product`] (positive)  |
//! | `<+>`    | `L1`            | `Σ abs(a - b)`                | [`l1_distance`]               |
//!
//! Numerics follow pgvector's `src/vector.c`: sums are accumulated in `f32`; the final step
//! (square root, cosine division, negation) is done in `f64`, which is what the SQL functions
//! return. Cosine similarity is clamped to `[-1, 1]`; when either norm is zero the cosine
//! distance is NaN, as in pgvector (NaN sorts after every number in PostgreSQL). Results agree
//! with pgvector to `f32` rounding of a reordered sum, not bit for bit: pgvector itself is
//! compiled with `-fassociative-math`, so its summation order depends on its compiler.
//!
//! Which code runs: [`kernels()`] picks one [`Kernels`] family at first use (hand-written
//! AVX2 + FMA on x86_64 when the CPU has it, simsimd otherwise) and keeps it for the life of
//! the process. The reference family in `reference.rs` is the oracle the tests compare every
//! family against.
//!
//! Callers: the SQL layer calls the `Result`-returning functions (dimension mismatches become
//! `22000 different vector dimensions`); index code calls [`distance`] or the kernels directly
//! on vectors whose dimensions it has already checked. Nothing here allocates except the
//! element-wise helpers, which return a new vector.

mod elementwise;
mod kernels;
mod portable;
mod reference;
mod simsimd_backend;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod x86_avx2;
#[cfg(target_arch = "x86_64")]
mod x86_avx512;

pub use elementwise::{add, l2_normalize, multiply, subtract};
pub use kernels::{kernels, CosineParts, Kernels, PairKernel};

/// Largest number of dimensions a `vector` may have (pgvector's `VECTOR_MAX_DIM`).
pub const MAX_VECTOR_DIMENSIONS: usize = 16_000;

/// A distance metric, one per pgvector operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// `<->`, Euclidean distance.
    L2,
    /// `<=>`, cosine distance `1 - cos(a, b)`.
    Cosine,
    /// `<#>`, negative inner product (so that smaller means closer).
    InnerProduct,
    /// `<+>`, Manhattan (taxicab) distance.
    L1,
}

impl Metric {
    /// Every metric, in a stable order.
    pub const ALL: [Metric; 4] = [Metric::L2, Metric::Cosine, Metric::InnerProduct, Metric::L1];

    /// The pgvector operator whose ORDER BY key this metric computes.
    pub fn operator(self) -> &'static str {
        match self {
            Metric::L2 => "<->",
            Metric::Cosine => "<=>",
            Metric::InnerProduct => "<#>",
            Metric::L1 => "<+>",
        }
    }

    /// The metric of a pgvector distance operator, if `operator` is one.
    pub fn from_operator(operator: &str) -> Option<Metric> {
        Metric::ALL
            .into_iter()
            .find(|metric| metric.operator() == operator)
    }

    /// The pgvector operator class for `vector` columns, as written in `CREATE INDEX`.
    pub fn operator_class(self) -> &'static str {
        match self {
            Metric::L2 => "vector_l2_ops",
            Metric::Cosine => "vector_cosine_ops",
            Metric::InnerProduct => "vector_ip_ops",
            Metric::L1 => "vector_l1_ops",
        }
    }

    /// The metric of a pgvector operator class name, if `name` is one.
    pub fn from_operator_class(name: &str) -> Option<Metric> {
        Metric::ALL
            .into_iter()
            .find(|metric| metric.operator_class() == name)
    }
}

/// An error from vector arithmetic, with pgvector's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VectorMathError {
    /// The two operands have different dimensions (SQLSTATE 22000).
    #[error("different vector dimensions {left} and {right}")]
    DimensionMismatch { left: usize, right: usize },
    /// An element of the result is infinite (SQLSTATE 22003).
    #[error("value out of range: overflow")]
    Overflow,
    /// An element of a product rounded to zero from non-zero factors (SQLSTATE 22003).
    #[error("value out of range: underflow")]
    Underflow,
}

/// Checks that two operands have the same number of dimensions.
pub fn check_same_dimensions(a: &[f32], b: &[f32]) -> Result<(), VectorMathError> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(VectorMathError::DimensionMismatch {
            left: a.len(),
            right: b.len(),
        })
    }
}

/// The ORDER BY key of `metric`'s operator for `a` and `b` (see the table in the module
/// docs), computed with the selected kernels.
///
/// Returns NaN when the lengths differ; use [`try_distance`] where that can happen.
#[inline]
pub fn distance(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    distance_with(kernels(), metric, a, b)
}

/// [`distance`] with a dimension check.
pub fn try_distance(metric: Metric, a: &[f32], b: &[f32]) -> Result<f32, VectorMathError> {
    check_same_dimensions(a, b)?;
    Ok(distance(metric, a, b))
}

/// [`distance`] computed by a given kernel family (benchmarks and tests compare families).
#[inline]
pub fn distance_with(kernels: &Kernels, metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return f32::NAN;
    }
    let key = match metric {
        Metric::L2 => finish_l2((kernels.l2_squared)(a, b)),
        Metric::Cosine => finish_cosine((kernels.cosine_parts)(a, b)),
        Metric::InnerProduct => finish_negative_inner_product((kernels.dot)(a, b)),
        Metric::L1 => f64::from((kernels.l1)(a, b)),
    };
    key as f32
}

/// `sqrt((double) l2_squared)`, pgvector's `l2_distance` finish.
#[inline]
pub(crate) fn finish_l2(l2_squared: f32) -> f64 {
    f64::from(l2_squared).sqrt()
}

/// `-(double) dot`, pgvector's `vector_negative_inner_product` finish.
#[inline]
pub(crate) fn finish_negative_inner_product(dot: f32) -> f64 {
    -f64::from(dot)
}

/// pgvector's `cosine_distance` finish: similarity in `f64` from the `f32` sums, clamped to
/// `[-1, 1]`, NaN preserved (a zero norm gives `0 / 0`).
#[inline]
pub(crate) fn finish_cosine(parts: CosineParts) -> f64 {
    let norm_product = f64::from(parts.left_squared_norm) * f64::from(parts.right_squared_norm);
    let similarity = f64::from(parts.dot) / norm_product.sqrt();
    // Rounding can push |similarity| slightly past 1; `clamp` keeps NaN as NaN.
    1.0 - similarity.clamp(-1.0, 1.0)
}

/// pgvector `l2_distance(a, b)` / `a <-> b`.
pub fn l2_distance(a: &[f32], b: &[f32]) -> Result<f64, VectorMathError> {
    check_same_dimensions(a, b)?;
    Ok(finish_l2((kernels().l2_squared)(a, b)))
}

/// pgvector `vector_l2_squared_distance(a, b)`.
pub fn l2_squared_distance(a: &[f32], b: &[f32]) -> Result<f64, VectorMathError> {
    check_same_dimensions(a, b)?;
    Ok(f64::from((kernels().l2_squared)(a, b)))
}

/// pgvector `inner_product(a, b)`.
pub fn inner_product(a: &[f32], b: &[f32]) -> Result<f64, VectorMathError> {
    check_same_dimensions(a, b)?;
    Ok(f64::from((kernels().dot)(a, b)))
}

/// pgvector `vector_negative_inner_product(a, b)` / `a <#> b`.
pub fn negative_inner_product(a: &[f32], b: &[f32]) -> Result<f64, VectorMathError> {
    check_same_dimensions(a, b)?;
    Ok(finish_negative_inner_product((kernels().dot)(a, b)))
}

/// pgvector `cosine_distance(a, b)` / `a <=> b`; NaN when either norm is zero.
pub fn cosine_distance(a: &[f32], b: &[f32]) -> Result<f64, VectorMathError> {
    check_same_dimensions(a, b)?;
    Ok(finish_cosine((kernels().cosine_parts)(a, b)))
}

/// pgvector `l1_distance(a, b)` / `a <+> b`.
pub fn l1_distance(a: &[f32], b: &[f32]) -> Result<f64, VectorMathError> {
    check_same_dimensions(a, b)?;
    Ok(f64::from((kernels().l1)(a, b)))
}

/// pgvector `vector_norm(a)`: the Euclidean norm, accumulated in `f64` (unlike the distances).
pub fn norm(a: &[f32]) -> f64 {
    squared_norm_f64(a).sqrt()
}

/// `Σ a[i]²` in `f64`, as pgvector's `vector_norm` and `l2_normalize` compute it.
pub(crate) fn squared_norm_f64(a: &[f32]) -> f64 {
    a.iter().map(|&x| f64::from(x) * f64::from(x)).sum()
}
