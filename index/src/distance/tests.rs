//! Every kernel family against the reference loops, on random and adversarial inputs, and the
//! public functions against values pgvector returns.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

/// Lengths around every block boundary of every family, plus real embedding sizes and the
/// maximum dimension.
const AWKWARD_LENGTHS: &[usize] = &[
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 39, 40, 63, 64, 65,
    384, 1536, 16_000,
];

fn random_vector(rng: &mut StdRng, length: usize, scale: f32) -> Vec<f32> {
    (0..length).map(|_| rng.gen_range(-scale..scale)).collect()
}

fn families_except_reference() -> Vec<Kernels> {
    Kernels::all_available()
        .into_iter()
        .filter(|family| family.name != "reference")
        .collect()
}

/// `Σ |term|` in `f64`, the scale of the rounding error of any summation order.
fn l2_squared_magnitude(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(x - y) * f64::from(x - y))
        .sum()
}

fn dot_magnitude(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) * f64::from(*y)).abs())
        .sum()
}

fn l1_magnitude(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs())).sum()
}

/// Two `f32` sums of the same `terms` terms in different orders (with or without fused
/// multiply-add) differ by at most `2 (terms + 2) u Σ|term|`, plus the absolute error of
/// products that land among the subnormals.
fn assert_sums_agree(found: f32, expected: f32, magnitude: f64, terms: usize, what: &str) {
    if magnitude >= f64::from(f32::MAX) / 2.0 && !(found.is_finite() && expected.is_finite()) {
        // At the edge of f32's range, whether a partial sum overflows depends on the order.
        return;
    }
    if expected.is_nan() {
        assert!(found.is_nan(), "{what}: expected NaN, found {found}");
        return;
    }
    if expected.is_infinite() {
        assert_eq!(found, expected, "{what}");
        return;
    }
    let unit_roundoff = f64::from(f32::EPSILON) / 2.0;
    let smallest_subnormal = f64::from(f32::from_bits(1));
    let slack = 2.0 * (terms as f64 + 2.0);
    let bound = slack * unit_roundoff * magnitude + slack * smallest_subnormal;
    let error = (f64::from(found) - f64::from(expected)).abs();
    assert!(
        error <= bound,
        "{what}: found {found}, expected {expected}, error {error} > bound {bound}"
    );
}

fn assert_family_matches_reference(family: &Kernels, a: &[f32], b: &[f32], context: &str) {
    let n = a.len();
    let what = |kernel: &str| format!("{} {kernel} n={n} {context}", family.name);
    assert_sums_agree(
        (family.l2_squared)(a, b),
        reference::l2_squared(a, b),
        l2_squared_magnitude(a, b),
        n,
        &what("l2_squared"),
    );
    assert_sums_agree(
        (family.dot)(a, b),
        reference::dot(a, b),
        dot_magnitude(a, b),
        n,
        &what("dot"),
    );
    assert_sums_agree(
        (family.l1)(a, b),
        reference::l1(a, b),
        l1_magnitude(a, b),
        n,
        &what("l1"),
    );
    let parts = (family.cosine_parts)(a, b);
    let expected = reference::cosine_parts(a, b);
    assert_sums_agree(
        parts.dot,
        expected.dot,
        dot_magnitude(a, b),
        n,
        &what("cosine dot"),
    );
    assert_sums_agree(
        parts.left_squared_norm,
        expected.left_squared_norm,
        dot_magnitude(a, a),
        n,
        &what("cosine left norm"),
    );
    assert_sums_agree(
        parts.right_squared_norm,
        expected.right_squared_norm,
        dot_magnitude(b, b),
        n,
        &what("cosine right norm"),
    );
}

#[test]
fn every_family_matches_reference_on_random_vectors_of_awkward_lengths() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0001);
    for family in families_except_reference() {
        for &length in AWKWARD_LENGTHS {
            for scale in [1.0f32, 1e-3, 1e3] {
                let a = random_vector(&mut rng, length, scale);
                let b = random_vector(&mut rng, length, scale);
                assert_family_matches_reference(&family, &a, &b, &format!("scale={scale}"));
            }
        }
    }
}

#[test]
fn every_family_matches_reference_on_unaligned_slices() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0002);
    let a_buffer = random_vector(&mut rng, 1600, 1.0);
    let b_buffer = random_vector(&mut rng, 1600, 1.0);
    for family in families_except_reference() {
        for a_shift in 0..4 {
            for b_shift in [0, 1, 3] {
                for length in [1, 7, 9, 33, 384, 1536] {
                    let a = &a_buffer[a_shift..a_shift + length];
                    let b = &b_buffer[b_shift..b_shift + length];
                    let context = format!("shifts {a_shift}/{b_shift}");
                    assert_family_matches_reference(&family, a, b, &context);
                }
            }
        }
    }
}

#[test]
fn cosine_parts_equal_three_dot_products_bit_for_bit_in_every_family() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0003);
    for family in Kernels::all_available() {
        for &length in AWKWARD_LENGTHS {
            let a = random_vector(&mut rng, length, 10.0);
            let b = random_vector(&mut rng, length, 10.0);
            let parts = (family.cosine_parts)(&a, &b);
            let name = family.name;
            assert_eq!(
                parts.dot.to_bits(),
                (family.dot)(&a, &b).to_bits(),
                "{name}"
            );
            let left = (family.dot)(&a, &a).to_bits();
            assert_eq!(parts.left_squared_norm.to_bits(), left, "{name}");
            let right = (family.dot)(&b, &b).to_bits();
            assert_eq!(parts.right_squared_norm.to_bits(), right, "{name}");
        }
    }
}

#[test]
fn zero_vectors_give_zero_sums_and_nan_cosine_in_every_family() {
    for family in Kernels::all_available() {
        for length in [1, 8, 17, 384] {
            let zeros = vec![0.0f32; length];
            let ones = vec![1.0f32; length];
            assert_eq!((family.l2_squared)(&zeros, &zeros), 0.0);
            assert_eq!((family.dot)(&zeros, &ones), 0.0);
            assert_eq!((family.l1)(&zeros, &zeros), 0.0);
            assert!(distance_with(&family, Metric::Cosine, &zeros, &ones).is_nan());
            assert!(distance_with(&family, Metric::Cosine, &zeros, &zeros).is_nan());
            assert_eq!(distance_with(&family, Metric::L2, &zeros, &zeros), 0.0);
        }
    }
}

#[test]
fn huge_magnitudes_overflow_the_same_way_in_every_family() {
    for family in Kernels::all_available() {
        for length in [1, 9, 33, 384] {
            let huge = vec![1e20f32; length];
            let negative_huge = vec![-1e20f32; length];
            let name = family.name;
            assert_eq!((family.dot)(&huge, &huge), f32::INFINITY, "{name}");
            assert_eq!(
                (family.dot)(&huge, &negative_huge),
                f32::NEG_INFINITY,
                "{name}"
            );
            assert_eq!(
                (family.l2_squared)(&huge, &negative_huge),
                f32::INFINITY,
                "{name}"
            );
            let alternating: Vec<f32> = (0..length.max(2))
                .map(|i| if i % 2 == 0 { 1e20 } else { -1e20 })
                .collect();
            let positive = vec![1e20f32; alternating.len()];
            assert!((family.dot)(&alternating, &positive).is_nan(), "{name}");
            let near_max = vec![f32::MAX; length];
            let near_min = vec![-f32::MAX; length];
            assert_eq!((family.l1)(&near_max, &near_min), f32::INFINITY, "{name}");
        }
    }
}

#[test]
fn large_but_finite_sums_match_reference() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0004);
    for family in families_except_reference() {
        for length in [3, 17, 384, 1536] {
            let a = random_vector(&mut rng, length, 1e15);
            let b = random_vector(&mut rng, length, 1e15);
            assert_family_matches_reference(&family, &a, &b, "scale=1e15");
        }
    }
}

#[test]
fn tiny_magnitudes_match_reference_and_underflowed_norms_give_nan_cosine() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0005);
    for family in Kernels::all_available() {
        for length in [1, 8, 17, 384] {
            // Squares land among the subnormals.
            let a = random_vector(&mut rng, length, 1e-20);
            let b = random_vector(&mut rng, length, 1e-20);
            assert_family_matches_reference(&family, &a, &b, "scale=1e-20");
            // Squares round to zero: pgvector's f32 sums are 0 and the cosine is 0 / 0.
            let vanishing = vec![1e-30f32; length];
            assert_eq!((family.dot)(&vanishing, &vanishing), 0.0);
            let cosine = distance_with(&family, Metric::Cosine, &vanishing, &vanishing);
            assert!(cosine.is_nan(), "{}", family.name);
        }
    }
}

#[test]
fn every_family_agrees_on_final_distances_for_well_conditioned_inputs() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0006);
    let reference_kernels = Kernels::reference();
    for family in families_except_reference() {
        for length in [1, 5, 16, 100, 384, 1536] {
            let a = random_vector(&mut rng, length, 1.0);
            let b = random_vector(&mut rng, length, 1.0);
            for metric in Metric::ALL {
                let found = distance_with(&family, metric, &a, &b);
                let expected = distance_with(&reference_kernels, metric, &a, &b);
                let tolerance = 1e-5 * (1.0 + expected.abs());
                assert!(
                    (found - expected).abs() <= tolerance,
                    "{} {metric:?} n={length}: {found} vs {expected}",
                    family.name
                );
            }
        }
    }
}

#[test]
fn sql_functions_return_pgvector_values() {
    assert_eq!(l2_distance(&[0.0, 0.0], &[3.0, 4.0]), Ok(5.0));
    assert_eq!(
        l2_distance(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0]),
        Ok(6f64.sqrt())
    );
    assert_eq!(l2_squared_distance(&[0.0, 0.0], &[3.0, 4.0]), Ok(25.0));
    assert_eq!(inner_product(&[1.0, 2.0], &[3.0, 4.0]), Ok(11.0));
    assert_eq!(negative_inner_product(&[1.0, 2.0], &[3.0, 4.0]), Ok(-11.0));
    assert_eq!(cosine_distance(&[1.0, 2.0], &[2.0, 4.0]), Ok(0.0));
    assert_eq!(cosine_distance(&[1.0, 1.0], &[-1.0, -1.0]), Ok(2.0));
    assert_eq!(cosine_distance(&[1.0, 0.0], &[0.0, 2.0]), Ok(1.0));
    assert!(cosine_distance(&[1.0, 2.0], &[0.0, 0.0]).is_ok_and(f64::is_nan));
    assert_eq!(l1_distance(&[0.0, 0.0], &[3.0, 4.0]), Ok(7.0));
    assert_eq!(norm(&[3.0, 4.0]), 5.0);
    assert_eq!(norm(&[]), 0.0);
}

#[test]
fn cosine_similarity_is_clamped_so_parallel_vectors_are_at_distance_zero() {
    // The f32 sums make the similarity of these parallel vectors round above 1.
    for scale in [1.1f32, 3.3, 7.7, 0.1] {
        let a = [1.0f32, 1.0, 1.0];
        let b = [scale, scale, scale];
        let found = cosine_distance(&a, &b).unwrap_or(f64::NAN);
        assert!((0.0..1e-7).contains(&found), "{scale}: {found}");
    }
}

#[test]
fn distance_gives_each_operators_order_by_key() {
    let a = [1.0f32, 2.0];
    let b = [3.0f32, 4.0];
    assert_eq!(distance(Metric::L2, &a, &b), 8f32.sqrt());
    assert_eq!(distance(Metric::InnerProduct, &a, &b), -11.0);
    assert_eq!(distance(Metric::L1, &a, &b), 4.0);
    let expected_cosine = (1.0 - 11.0 / (5.0f64 * 25.0).sqrt()) as f32;
    assert_eq!(distance(Metric::Cosine, &a, &b), expected_cosine);
}

#[test]
fn mismatched_dimensions_are_nan_or_an_error_never_a_panic() {
    let a = [1.0f32, 2.0, 3.0];
    let b = [1.0f32, 2.0];
    for metric in Metric::ALL {
        assert!(distance(metric, &a, &b).is_nan());
        assert_eq!(
            try_distance(metric, &a, &b),
            Err(VectorMathError::DimensionMismatch { left: 3, right: 2 })
        );
    }
    assert!(l2_distance(&a, &b).is_err());
    assert!(cosine_distance(&a, &b).is_err());
    for family in Kernels::all_available() {
        // Kernels called directly stay in bounds and use the common prefix.
        assert_eq!((family.dot)(&a, &b), 5.0, "{}", family.name);
    }
}

#[test]
fn metric_names_round_trip() {
    for metric in Metric::ALL {
        assert_eq!(Metric::from_operator(metric.operator()), Some(metric));
        assert_eq!(
            Metric::from_operator_class(metric.operator_class()),
            Some(metric)
        );
    }
    assert_eq!(Metric::from_operator("<~>"), None);
}

#[test]
fn the_selected_family_is_the_preferred_available_one() {
    let preferred = Kernels::all_available()
        .first()
        .map(|family| family.name)
        .unwrap_or("none");
    assert_eq!(kernels().name, preferred);
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        assert_eq!(kernels().name, "avx2-fma");
    }
}

fn equal_length_pair(max_length: usize) -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
    (0..=max_length).prop_flat_map(|length| {
        let element = prop_oneof![
            4 => -1e3f32..1e3f32,
            1 => Just(0.0f32),
            1 => -1e-3f32..1e-3f32,
            1 => prop::num::f32::NORMAL.prop_map(|x| x.clamp(-1e15, 1e15)),
        ];
        (
            prop::collection::vec(element.clone(), length),
            prop::collection::vec(element, length),
        )
    })
}

proptest! {
    #[test]
    fn every_family_matches_reference_on_arbitrary_vectors((a, b) in equal_length_pair(80)) {
        for family in families_except_reference() {
            assert_family_matches_reference(&family, &a, &b, "proptest");
        }
    }
}
