//! Kernel families and the one-time choice among them.
//!
//! A [`Kernels`] value is a table of plain function pointers, one per primitive sum. The
//! process picks one family the first time [`kernels`] is called (CPU feature detection, then
//! a `OnceLock`), so hot loops pay one indirect call per vector, never a feature test.
//!
//! Every family upholds the same contract, which the tests in `distance/tests.rs` check
//! against [`Kernels::reference`]:
//! - sums are accumulated in `f32`, as pgvector does, so results agree with pgvector within
//!   `f32` rounding of a reordered sum;
//! - within one family, `cosine_parts(a, b)` is bit-for-bit
//!   `(dot(a, b), dot(a, a), dot(b, b))`, so a norm computed once (and stored in an index
//!   file) gives the same cosine distance as the fused kernel;
//! - slices of unequal length are processed over their common prefix, never out of bounds
//!   (callers that care check lengths first; see [`super::try_distance`]).

use std::sync::OnceLock;

use super::{portable, reference, simsimd_backend};

/// A kernel over two vectors of equal length.
pub type PairKernel = fn(&[f32], &[f32]) -> f32;

/// The three sums cosine distance needs, each accumulated in `f32`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineParts {
    /// `Σ a[i] · b[i]`
    pub dot: f32,
    /// `Σ a[i]²`
    pub left_squared_norm: f32,
    /// `Σ b[i]²`
    pub right_squared_norm: f32,
}

/// One family of distance kernels (see the module docs for the contract they share).
#[derive(Debug, Clone, Copy)]
pub struct Kernels {
    /// Short name for logs and benchmarks: `reference`, `portable`, `simsimd`, `avx2-fma`.
    pub name: &'static str,
    /// `Σ (a[i] - b[i])²`
    pub l2_squared: PairKernel,
    /// `Σ a[i] · b[i]`
    pub dot: PairKernel,
    /// `Σ |a[i] - b[i]|`
    pub l1: PairKernel,
    /// `(Σ a[i]·b[i], Σ a[i]², Σ b[i]²)` in one pass.
    pub cosine_parts: fn(&[f32], &[f32]) -> CosineParts,
}

impl Kernels {
    /// Sequential loops with pgvector's arithmetic: the test oracle.
    pub fn reference() -> Kernels {
        Kernels {
            name: "reference",
            l2_squared: reference::l2_squared,
            dot: reference::dot,
            l1: reference::l1,
            cosine_parts: reference::cosine_parts,
        }
    }

    /// Lane-chunked loops the compiler vectorises for the build target; runs anywhere.
    pub fn portable() -> Kernels {
        Kernels {
            name: "portable",
            l2_squared: portable::l2_squared,
            dot: portable::dot,
            l1: portable::l1,
            cosine_parts: portable::cosine_parts,
        }
    }

    /// simsimd's run-time dispatched kernels for `l2_squared` and `dot` (and cosine built on
    /// `dot`); `l1` from the portable family.
    pub fn simsimd() -> Kernels {
        Kernels {
            name: "simsimd",
            l2_squared: simsimd_backend::l2_squared,
            dot: simsimd_backend::dot,
            l1: portable::l1,
            cosine_parts: simsimd_backend::cosine_parts,
        }
    }

    /// The hand-written AVX2 + FMA family, or `None` when the CPU (or the target
    /// architecture) lacks it.
    pub fn avx2_fma() -> Option<Kernels> {
        #[cfg(target_arch = "x86_64")]
        {
            super::x86_avx2::kernels()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            None
        }
    }

    /// The hand-written AVX-512F family, or `None` when the CPU (or the target architecture)
    /// lacks it. Never the selected family (see `x86_avx512.rs`): the HNSW traversal uses it
    /// for its keys and re-scores results with the selected one.
    pub fn avx512() -> Option<Kernels> {
        #[cfg(target_arch = "x86_64")]
        {
            super::x86_avx512::kernels()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            None
        }
    }

    /// Every family this CPU can run, the selected one first. Tests and benchmarks iterate
    /// over all of them.
    pub fn all_available() -> Vec<Kernels> {
        let mut families = Vec::with_capacity(5);
        families.extend(Kernels::avx2_fma());
        families.extend(Kernels::avx512());
        families.push(Kernels::simsimd());
        families.push(Kernels::portable());
        families.push(Kernels::reference());
        families
    }

    /// The family to use on this CPU. On x86_64 with AVX2 + FMA the hand-written kernels;
    /// elsewhere simsimd, which carries NEON / SVE kernels and falls back to its own serial
    /// code. `benches/distance_kernels.rs` on an AVX-512 machine (where simsimd uses its
    /// AVX-512 kernels), hand-written vs simsimd: `l2_squared` and `dot` 1.4x faster at 96
    /// dimensions, level at 384, 1.1x faster at 1536; `l1` 2.4–3.4x and `cosine_parts`
    /// 2.3–3.8x faster at every size. The family is chosen whole, not per primitive, so that
    /// `cosine_parts` and `dot` keep agreeing bit for bit.
    fn best_available() -> Kernels {
        Kernels::avx2_fma().unwrap_or_else(Kernels::simsimd)
    }
}

/// The kernel family selected for this process (chosen once, on first use).
pub fn kernels() -> &'static Kernels {
    static SELECTED: OnceLock<Kernels> = OnceLock::new();
    SELECTED.get_or_init(Kernels::best_available)
}
