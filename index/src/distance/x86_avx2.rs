//! Hand-written x86_64 AVX2 + FMA kernels.
//!
//! Why our own: simsimd's AVX2 and AVX-512 `f32` kernels keep one accumulator register, so
//! every fused multiply-add waits for the previous one (4 cycles of latency). These keep four
//! independent 8-lane accumulators per sum, which hides that latency while the data is in
//! cache; the bench `index/benches/distance_kernels.rs` measures the difference.
//!
//! Layout of every sum (the same for `dot` and for each sum of `cosine_parts`, so that
//! `cosine_parts(a, b)` is bit-for-bit `(dot(a, b), dot(a, a), dot(b, b))`, an invariant the
//! flat index relies on):
//! 1. blocks of 32 elements feed accumulators 0..4 (8 lanes each);
//! 2. remaining blocks of 8 feed accumulator 0;
//! 3. the accumulators are added as `(0 + 1) + (2 + 3)`, then the 8 lanes horizontally;
//! 4. the last `len % 8` elements are added one by one in scalar `f32`.
//!
//! Safety: the `unsafe fn`s require AVX2 and FMA. They are reachable only through
//! [`kernels`], which returns `None` unless the running CPU reports both features, and every
//! load stays inside the common prefix of the two slices.

use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_andnot_ps, _mm256_castps256_ps128, _mm256_extractf128_ps,
    _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_sub_ps, _mm_add_ps,
    _mm_add_ss, _mm_cvtss_f32, _mm_movehl_ps, _mm_shuffle_ps,
};

use super::{CosineParts, Kernels};

const LANES: usize = 8;
const BLOCK: usize = 4 * LANES;

/// The AVX2 + FMA kernel family, or `None` when this CPU lacks either feature.
pub fn kernels() -> Option<Kernels> {
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        Some(Kernels {
            name: "avx2-fma",
            l2_squared,
            dot,
            l1,
            cosine_parts,
        })
    } else {
        None
    }
}

// The safe wrappers below are private: they are only handed out by `kernels()` after the
// feature check, which is what makes calling the `target_feature` functions sound.

fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    let length = a.len().min(b.len());
    // SAFETY: `kernels()` checked AVX2 and FMA; both slices hold at least `length` elements.
    unsafe { l2_squared_avx2(&a[..length], &b[..length]) }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    let length = a.len().min(b.len());
    // SAFETY: as in `l2_squared`.
    unsafe { dot_avx2(&a[..length], &b[..length]) }
}

fn l1(a: &[f32], b: &[f32]) -> f32 {
    let length = a.len().min(b.len());
    // SAFETY: as in `l2_squared`.
    unsafe { l1_avx2(&a[..length], &b[..length]) }
}

fn cosine_parts(a: &[f32], b: &[f32]) -> CosineParts {
    let length = a.len().min(b.len());
    // SAFETY: as in `l2_squared`.
    unsafe { cosine_parts_avx2(&a[..length], &b[..length]) }
}

/// Adds the four accumulators as `(0 + 1) + (2 + 3)` and then the 8 lanes of the result.
#[target_feature(enable = "avx2,fma")]
fn reduce(accumulators: [__m256; 4]) -> f32 {
    let combined = _mm256_add_ps(
        _mm256_add_ps(accumulators[0], accumulators[1]),
        _mm256_add_ps(accumulators[2], accumulators[3]),
    );
    let low = _mm256_castps256_ps128(combined);
    let high = _mm256_extractf128_ps::<1>(combined);
    let four = _mm_add_ps(low, high);
    let two = _mm_add_ps(four, _mm_movehl_ps(four, four));
    let one = _mm_add_ss(two, _mm_shuffle_ps::<0b01>(two, two));
    _mm_cvtss_f32(one)
}

/// # Safety
/// The CPU must support AVX2 and FMA, and `a.len() == b.len()`.
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let length = a.len();
    let (a_ptr, b_ptr) = (a.as_ptr(), b.as_ptr());
    let mut sums = [_mm256_setzero_ps(); 4];
    let mut index = 0;
    while index + BLOCK <= length {
        for (lane_block, sum) in sums.iter_mut().enumerate() {
            let at = index + lane_block * LANES;
            let x = _mm256_loadu_ps(a_ptr.add(at));
            let y = _mm256_loadu_ps(b_ptr.add(at));
            *sum = _mm256_fmadd_ps(x, y, *sum);
        }
        index += BLOCK;
    }
    while index + LANES <= length {
        let x = _mm256_loadu_ps(a_ptr.add(index));
        let y = _mm256_loadu_ps(b_ptr.add(index));
        sums[0] = _mm256_fmadd_ps(x, y, sums[0]);
        index += LANES;
    }
    let mut total = reduce(sums);
    for (x, y) in a[index..].iter().zip(&b[index..]) {
        total += x * y;
    }
    total
}

/// # Safety
/// The CPU must support AVX2 and FMA, and `a.len() == b.len()`.
#[target_feature(enable = "avx2,fma")]
unsafe fn l2_squared_avx2(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let length = a.len();
    let (a_ptr, b_ptr) = (a.as_ptr(), b.as_ptr());
    let mut sums = [_mm256_setzero_ps(); 4];
    let mut index = 0;
    while index + BLOCK <= length {
        for (lane_block, sum) in sums.iter_mut().enumerate() {
            let at = index + lane_block * LANES;
            let difference = _mm256_sub_ps(
                _mm256_loadu_ps(a_ptr.add(at)),
                _mm256_loadu_ps(b_ptr.add(at)),
            );
            *sum = _mm256_fmadd_ps(difference, difference, *sum);
        }
        index += BLOCK;
    }
    while index + LANES <= length {
        let difference = _mm256_sub_ps(
            _mm256_loadu_ps(a_ptr.add(index)),
            _mm256_loadu_ps(b_ptr.add(index)),
        );
        sums[0] = _mm256_fmadd_ps(difference, difference, sums[0]);
        index += LANES;
    }
    let mut total = reduce(sums);
    for (x, y) in a[index..].iter().zip(&b[index..]) {
        let difference = x - y;
        total += difference * difference;
    }
    total
}

/// # Safety
/// The CPU must support AVX2 and FMA, and `a.len() == b.len()`.
#[target_feature(enable = "avx2,fma")]
unsafe fn l1_avx2(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let length = a.len();
    let (a_ptr, b_ptr) = (a.as_ptr(), b.as_ptr());
    // Clearing the sign bit is |x|; `andnot(-0.0, x)` does exactly that.
    let sign_bit = _mm256_set1_ps(-0.0);
    let mut sums = [_mm256_setzero_ps(); 4];
    let mut index = 0;
    while index + BLOCK <= length {
        for (lane_block, sum) in sums.iter_mut().enumerate() {
            let at = index + lane_block * LANES;
            let difference = _mm256_sub_ps(
                _mm256_loadu_ps(a_ptr.add(at)),
                _mm256_loadu_ps(b_ptr.add(at)),
            );
            *sum = _mm256_add_ps(*sum, _mm256_andnot_ps(sign_bit, difference));
        }
        index += BLOCK;
    }
    while index + LANES <= length {
        let difference = _mm256_sub_ps(
            _mm256_loadu_ps(a_ptr.add(index)),
            _mm256_loadu_ps(b_ptr.add(index)),
        );
        sums[0] = _mm256_add_ps(sums[0], _mm256_andnot_ps(sign_bit, difference));
        index += LANES;
    }
    let mut total = reduce(sums);
    for (x, y) in a[index..].iter().zip(&b[index..]) {
        total += (x - y).abs();
    }
    total
}

/// # Safety
/// The CPU must support AVX2 and FMA, and `a.len() == b.len()`.
#[target_feature(enable = "avx2,fma")]
unsafe fn cosine_parts_avx2(a: &[f32], b: &[f32]) -> CosineParts {
    debug_assert_eq!(a.len(), b.len());
    let length = a.len();
    let (a_ptr, b_ptr) = (a.as_ptr(), b.as_ptr());
    // 12 accumulators + 2 operands fit in the 16 ymm registers.
    let mut dots = [_mm256_setzero_ps(); 4];
    let mut left_squares = [_mm256_setzero_ps(); 4];
    let mut right_squares = [_mm256_setzero_ps(); 4];
    let mut index = 0;
    while index + BLOCK <= length {
        for lane_block in 0..4 {
            let at = index + lane_block * LANES;
            let x = _mm256_loadu_ps(a_ptr.add(at));
            let y = _mm256_loadu_ps(b_ptr.add(at));
            dots[lane_block] = _mm256_fmadd_ps(x, y, dots[lane_block]);
            left_squares[lane_block] = _mm256_fmadd_ps(x, x, left_squares[lane_block]);
            right_squares[lane_block] = _mm256_fmadd_ps(y, y, right_squares[lane_block]);
        }
        index += BLOCK;
    }
    while index + LANES <= length {
        let x = _mm256_loadu_ps(a_ptr.add(index));
        let y = _mm256_loadu_ps(b_ptr.add(index));
        dots[0] = _mm256_fmadd_ps(x, y, dots[0]);
        left_squares[0] = _mm256_fmadd_ps(x, x, left_squares[0]);
        right_squares[0] = _mm256_fmadd_ps(y, y, right_squares[0]);
        index += LANES;
    }
    let mut parts = CosineParts {
        dot: reduce(dots),
        left_squared_norm: reduce(left_squares),
        right_squared_norm: reduce(right_squares),
    };
    for (x, y) in a[index..].iter().zip(&b[index..]) {
        parts.dot += x * y;
        parts.left_squared_norm += x * x;
        parts.right_squared_norm += y * y;
    }
    parts
}
