//! Element-wise vector arithmetic with pgvector's checks: `+`, `-`, `*` and `l2_normalize`.
//!
//! Each function returns a new vector or pgvector's error: operands of different dimensions,
//! an infinite element (overflow), or for `*` a product that rounded to zero from non-zero
//! factors (underflow). Inputs are assumed finite, as every stored `vector` is; an infinite
//! input element therefore surfaces as an overflow, like in pgvector.

use super::{check_same_dimensions, squared_norm_f64, VectorMathError};

fn check_no_overflow(result: Vec<f32>) -> Result<Vec<f32>, VectorMathError> {
    if result.iter().any(|x| x.is_infinite()) {
        Err(VectorMathError::Overflow)
    } else {
        Ok(result)
    }
}

/// `a + b` (pgvector `vector_add`).
pub fn add(a: &[f32], b: &[f32]) -> Result<Vec<f32>, VectorMathError> {
    check_same_dimensions(a, b)?;
    check_no_overflow(a.iter().zip(b).map(|(x, y)| x + y).collect())
}

/// `a - b` (pgvector `vector_sub`).
pub fn subtract(a: &[f32], b: &[f32]) -> Result<Vec<f32>, VectorMathError> {
    check_same_dimensions(a, b)?;
    check_no_overflow(a.iter().zip(b).map(|(x, y)| x - y).collect())
}

/// `a * b`, element by element (pgvector `vector_mul`).
pub fn multiply(a: &[f32], b: &[f32]) -> Result<Vec<f32>, VectorMathError> {
    check_same_dimensions(a, b)?;
    let product: Vec<f32> = a.iter().zip(b).map(|(x, y)| x * y).collect();
    let underflowed = product
        .iter()
        .zip(a.iter().zip(b))
        .any(|(&p, (&x, &y))| p == 0.0 && x != 0.0 && y != 0.0);
    let product = check_no_overflow(product)?;
    if underflowed {
        return Err(VectorMathError::Underflow);
    }
    Ok(product)
}

/// `a / ‖a‖` with the norm in `f64` (pgvector `l2_normalize`); a zero vector stays zero.
pub fn l2_normalize(a: &[f32]) -> Result<Vec<f32>, VectorMathError> {
    let norm = squared_norm_f64(a).sqrt();
    if norm > 0.0 {
        check_no_overflow(a.iter().map(|&x| (f64::from(x) / norm) as f32).collect())
    } else {
        Ok(vec![0.0; a.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_subtract_multiply_work_element_wise() {
        assert_eq!(add(&[1.0, 2.0], &[3.0, 4.0]), Ok(vec![4.0, 6.0]));
        assert_eq!(subtract(&[1.0, 2.0], &[3.0, 5.0]), Ok(vec![-2.0, -3.0]));
        assert_eq!(multiply(&[1.0, 2.0], &[3.0, 4.0]), Ok(vec![3.0, 8.0]));
    }

    #[test]
    fn mismatched_dimensions_are_reported_with_both_sizes() {
        let error = add(&[1.0, 2.0, 3.0], &[1.0]).unwrap_err();
        assert_eq!(error.to_string(), "different vector dimensions 3 and 1");
    }

    #[test]
    fn overflow_and_underflow_are_errors_like_pgvector() {
        assert_eq!(
            add(&[f32::MAX], &[f32::MAX]),
            Err(VectorMathError::Overflow)
        );
        assert_eq!(multiply(&[1e30], &[1e30]), Err(VectorMathError::Overflow));
        assert_eq!(
            multiply(&[1e-30], &[1e-30]),
            Err(VectorMathError::Underflow)
        );
        assert_eq!(multiply(&[0.0], &[1e-30]), Ok(vec![0.0]));
    }

    #[test]
    fn l2_normalize_gives_unit_vectors_and_keeps_zero_vectors() {
        assert_eq!(l2_normalize(&[3.0, 4.0]), Ok(vec![0.6, 0.8]));
        assert_eq!(l2_normalize(&[0.0, 0.0]), Ok(vec![0.0, 0.0]));
        // Tiny values whose f32 squares would underflow still normalise, thanks to f64.
        let normalized = l2_normalize(&[1e-30, 1e-30]).unwrap();
        assert!((normalized[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    }
}
