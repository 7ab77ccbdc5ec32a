//! Hand-written x86_64 AVX-512F kernels.
//!
//! Not the family [`super::kernels`] selects (SQL results keep the AVX2 family's rounding, so
//! that they do not change with the CPU a server happens to run on): the HNSW traversal uses
//! these for its keys, and re-scores the rows it returns with the selected family.
//!
//! Layout of every sum (the same for `dot` and for each sum of `cosine_parts`, so that
//! `cosine_parts(a, b)` is bit-for-bit `(dot(a, b), dot(a, a), dot(b, b))`):
//! 1. blocks of 64 elements feed accumulators 0..4 (16 lanes each);
//! 2. remaining blocks of 16 feed accumulator 0;
//! 3. the last `len % 16` elements are loaded with a mask (zeros elsewhere) into accumulator 1;
//! 4. the accumulators are added as `(0 + 1) + (2 + 3)`, then the 16 lanes horizontally.
//!
//! Safety: the `unsafe fn`s require AVX-512F. They are reachable only through [`kernels`],
//! which returns `None` unless the running CPU reports it; every full load stays inside the
//! common prefix of the two slices, and masked loads never touch the masked-out lanes.

use std::arch::x86_64::{
    __m512, __mmask16, _mm512_abs_ps, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps,
    _mm512_maskz_loadu_ps, _mm512_reduce_add_ps, _mm512_setzero_ps, _mm512_sub_ps,
};

use super::{CosineParts, Kernels};

const LANES: usize = 16;
const BLOCK: usize = 4 * LANES;

/// The AVX-512F kernel family, or `None` when this CPU lacks it.
pub fn kernels() -> Option<Kernels> {
    if is_x86_feature_detected!("avx512f") {
        Some(Kernels {
            name: "avx512f",
            l2_squared,
            dot,
            l1,
            cosine_parts,
        })
    } else {
        None
    }
}

// The safe wrappers are private: only `kernels()` hands them out, after the feature check.

fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    let length = a.len().min(b.len());
    // SAFETY: `kernels()` checked AVX-512F; both slices hold at least `length` elements.
    unsafe { sum_avx512::<L2_SQUARED>(&a[..length], &b[..length]) }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    let length = a.len().min(b.len());
    // SAFETY: as in `l2_squared`.
    unsafe { sum_avx512::<DOT>(&a[..length], &b[..length]) }
}

fn l1(a: &[f32], b: &[f32]) -> f32 {
    let length = a.len().min(b.len());
    // SAFETY: as in `l2_squared`.
    unsafe { sum_avx512::<L1>(&a[..length], &b[..length]) }
}

fn cosine_parts(a: &[f32], b: &[f32]) -> CosineParts {
    let length = a.len().min(b.len());
    // SAFETY: as in `l2_squared`. Each sum has the layout of `dot`, hence the bit-for-bit
    // agreement with three `dot` calls.
    unsafe {
        CosineParts {
            dot: sum_avx512::<DOT>(&a[..length], &b[..length]),
            left_squared_norm: sum_avx512::<DOT>(&a[..length], &a[..length]),
            right_squared_norm: sum_avx512::<DOT>(&b[..length], &b[..length]),
        }
    }
}

/// Which sum [`sum_avx512`] computes (a const parameter, so each is its own loop).
const DOT: u8 = 0;
const L2_SQUARED: u8 = 1;
const L1: u8 = 2;

/// One lane-wise step of sum `SUM`: `accumulator + term(x, y)`.
#[target_feature(enable = "avx512f")]
#[inline]
fn step<const SUM: u8>(x: __m512, y: __m512, accumulator: __m512) -> __m512 {
    match SUM {
        DOT => _mm512_fmadd_ps(x, y, accumulator),
        L2_SQUARED => {
            let difference = _mm512_sub_ps(x, y);
            _mm512_fmadd_ps(difference, difference, accumulator)
        }
        _ => _mm512_add_ps(accumulator, _mm512_abs_ps(_mm512_sub_ps(x, y))),
    }
}

/// # Safety
/// The CPU must support AVX-512F, and `a.len() == b.len()`.
#[target_feature(enable = "avx512f")]
unsafe fn sum_avx512<const SUM: u8>(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let length = a.len();
    let (a_ptr, b_ptr) = (a.as_ptr(), b.as_ptr());
    let mut sums = [_mm512_setzero_ps(); 4];
    let mut index = 0;
    while index + BLOCK <= length {
        for (lane_block, accumulator) in sums.iter_mut().enumerate() {
            let at = index + lane_block * LANES;
            let x = _mm512_loadu_ps(a_ptr.add(at));
            let y = _mm512_loadu_ps(b_ptr.add(at));
            *accumulator = step::<SUM>(x, y, *accumulator);
        }
        index += BLOCK;
    }
    while index + LANES <= length {
        let x = _mm512_loadu_ps(a_ptr.add(index));
        let y = _mm512_loadu_ps(b_ptr.add(index));
        sums[0] = step::<SUM>(x, y, sums[0]);
        index += LANES;
    }
    if index < length {
        let mask: __mmask16 = ((1u32 << (length - index)) - 1) as __mmask16;
        let x = _mm512_maskz_loadu_ps(mask, a_ptr.add(index));
        let y = _mm512_maskz_loadu_ps(mask, b_ptr.add(index));
        sums[1] = step::<SUM>(x, y, sums[1]);
    }
    let combined = _mm512_add_ps(
        _mm512_add_ps(sums[0], sums[1]),
        _mm512_add_ps(sums[2], sums[3]),
    );
    _mm512_reduce_add_ps(combined)
}
