//! The HNSW traversal shared by the build (over in-memory link arrays) and by searches (over
//! the mapped file): traversal keys, the per-thread scratch buffers, greedy descent through
//! the upper layers and the best-first search of one layer with an optional filter.
//!
//! Traversal keys are `f32`, smaller is nearer, and only ever compared for one query: squared
//! L2 for L2, `-a·b` for inner product, `-a·b / (‖a‖‖b‖)` for cosine (the norms' reciprocals
//! are stored, so no square root is taken per step), L1 for L1. NaN keys become +∞ so that
//! heaps stay ordered. The ORDER BY distances returned to callers are recomputed with the
//! selected kernels for the final candidates (see `super::HnswIndex`), so the keys may differ
//! from them by rounding.
//!
//! Candidates are packed into one `u64`, `(order-preserving key bits << 32) | node`, so heap
//! comparisons are single integer compares and ties fall to the smaller node id.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::distance::{kernels, Kernels, Metric, PairKernel};

/// Computes traversal keys for one metric: with the AVX-512 kernels where the CPU has them
/// (about a third faster on 384 dimensions), else with the selected family.
#[derive(Clone, Copy)]
pub(super) struct KeyFunction {
    metric: Metric,
    kernel: PairKernel,
    /// Whether the kernel is the selected family's, so that an L2, inner-product or L1 key
    /// is bit for bit the kernel result [`crate::distance::distance`] finishes.
    selected_family: bool,
}

impl KeyFunction {
    pub(super) fn new(metric: Metric) -> KeyFunction {
        let family = Kernels::avx512().unwrap_or(*kernels());
        let kernel = match metric {
            Metric::L2 => family.l2_squared,
            Metric::Cosine | Metric::InnerProduct => family.dot,
            Metric::L1 => family.l1,
        };
        KeyFunction {
            metric,
            kernel,
            selected_family: family.name == kernels().name,
        }
    }

    /// Whether keys come from the selected kernel family (see the field).
    pub(super) fn uses_selected_family(&self) -> bool {
        self.selected_family
    }

    /// The key between `query` and `vector`; `scale` is the vector's `1/‖v‖` (cosine only,
    /// not read otherwise).
    #[inline(always)]
    pub(super) fn key(
        &self,
        query: &TraversalQuery<'_>,
        vector: &[f32],
        scale: impl FnOnce() -> f32,
    ) -> f32 {
        let raw = (self.kernel)(query.vector, vector);
        let key = match self.metric {
            Metric::L2 | Metric::L1 => raw,
            Metric::InnerProduct => -raw,
            Metric::Cosine => -(raw * (query.scale * scale())),
        };
        if key.is_nan() {
            f32::INFINITY
        } else {
            key
        }
    }
}

/// A vector to search for, with its `1/‖q‖` for cosine (1 otherwise).
#[derive(Clone, Copy)]
pub(super) struct TraversalQuery<'q> {
    pub vector: &'q [f32],
    pub scale: f32,
}

/// What a traversal needs of a graph.
pub(super) trait GraphLayers: Sync {
    /// Neighbours of `node` at `level` (0 is the base layer). `node` must be on that level.
    fn neighbors(&self, level: usize, node: u32) -> &[u32];
    /// The traversal key from `query` to `node`.
    fn key(&self, query: &TraversalQuery<'_>, node: u32) -> f32;
    /// Hint that `node`'s vector will be read soon.
    #[inline(always)]
    fn prefetch(&self, _node: u32) {}
}

/// Cache lines of a vector prefetched ahead of computing its key.
pub(super) const PREFETCH_LINES: usize = 8;

/// Asks the CPU to start loading the first `max_lines` cache lines of `values`.
#[inline(always)]
pub(super) fn prefetch_lines(values: &[f32], max_lines: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let lines = (values.len() * 4).div_ceil(64).min(max_lines);
        let pointer = values.as_ptr().cast::<i8>();
        for line in 0..lines {
            // SAFETY: every address is inside `values` (lines ≤ its length in cache lines,
            // starting at its first byte), and a prefetch never faults anyway.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(pointer.wrapping_add(line * 64)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (values, max_lines);
    }
}

/// `key` and `node` as one integer ordered by (key, node); `key` must not be NaN.
#[inline(always)]
pub(super) fn pack(key: f32, node: u32) -> u64 {
    let bits = key.to_bits();
    let ordered = if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    };
    (u64::from(ordered) << 32) | u64::from(node)
}

/// The node of a packed candidate.
#[inline(always)]
pub(super) fn node_of(packed: u64) -> u32 {
    packed as u32
}

/// The key of a packed candidate.
#[inline(always)]
pub(super) fn key_of(packed: u64) -> f32 {
    let ordered = (packed >> 32) as u32;
    let bits = if ordered & 0x8000_0000 != 0 {
        ordered & 0x7fff_ffff
    } else {
        !ordered
    };
    f32::from_bits(bits)
}

/// Visited marks for one traversal: an epoch per node, so that starting a traversal costs
/// one increment instead of clearing (the array is cleared once every 65,535 traversals).
#[derive(Debug, Default)]
pub(super) struct VisitedSet {
    marks: Vec<u16>,
    epoch: u16,
}

impl VisitedSet {
    /// Forgets every mark; the set then covers nodes `0..node_count`.
    pub(super) fn reset(&mut self, node_count: usize) {
        if self.marks.len() < node_count {
            self.marks.resize(node_count, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.fill(0);
            self.epoch = 1;
        }
    }

    /// Marks `node`; false if it was already marked in this traversal.
    #[inline(always)]
    pub(super) fn insert(&mut self, node: u32) -> bool {
        let mark = &mut self.marks[node as usize];
        if *mark == self.epoch {
            false
        } else {
            *mark = self.epoch;
            true
        }
    }
}

/// Reusable buffers of one thread's traversals.
#[derive(Debug, Default)]
pub(super) struct SearchScratch {
    pub visited: VisitedSet,
    /// Nodes to expand, nearest first.
    pub candidates: BinaryHeap<Reverse<u64>>,
    /// The best `ef` accepted nodes found, worst on top.
    pub results: BinaryHeap<u64>,
    /// Unvisited neighbours of the node being expanded.
    pub fresh: Vec<u32>,
    /// Entry points of the next layer search (packed candidates).
    pub entries: Vec<u64>,
}

thread_local! {
    static SCRATCH: RefCell<SearchScratch> = RefCell::new(SearchScratch::default());
}

/// Runs `work` with this thread's scratch buffers (or fresh ones if a filter callback
/// re-entered a search on this thread while they are in use).
pub(super) fn with_scratch<R>(work: impl FnOnce(&mut SearchScratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => work(&mut scratch),
        Err(_) => work(&mut SearchScratch::default()),
    })
}

/// Greedy descent: from `current` (packed), on each level from `top` down to `bottom + 1`,
/// move to the nearest neighbour while that is nearer. Returns the packed nearest found.
pub(super) fn greedy_descend<G: GraphLayers + ?Sized>(
    graph: &G,
    query: &TraversalQuery<'_>,
    mut current: u64,
    top: usize,
    bottom: usize,
) -> u64 {
    for level in (bottom + 1..=top).rev() {
        loop {
            let mut improved = false;
            for &neighbor in graph.neighbors(level, node_of(current)) {
                let candidate = pack(graph.key(query, neighbor), neighbor);
                if candidate < current {
                    current = candidate;
                    improved = true;
                }
            }
            if !improved {
                break;
            }
        }
    }
    current
}

/// Best-first search of one layer from `scratch.entries`, keeping the `ef` nearest nodes for
/// which `accept(node)` holds in `scratch.results`.
///
/// Rejected nodes are still expanded (the traversal walks through them), so a filter narrows
/// the results, not the paths. The search stops when the nearest unexpanded candidate is
/// farther than the worst of `ef` accepted results, or when no candidate is left (the
/// reachable part of the layer is exhausted). Returns false, with partial results, as soon as
/// more than `budget` keys have been computed.
#[allow(clippy::too_many_arguments)]
pub(super) fn search_layer<G: GraphLayers + ?Sized>(
    graph: &G,
    query: &TraversalQuery<'_>,
    level: usize,
    ef: usize,
    node_count: usize,
    scratch: &mut SearchScratch,
    mut accept: impl FnMut(u32) -> bool,
    budget: usize,
) -> bool {
    debug_assert!(ef > 0);
    let SearchScratch {
        visited,
        candidates,
        results,
        fresh,
        entries,
    } = scratch;
    visited.reset(node_count);
    candidates.clear();
    results.clear();
    for &entry in entries.iter() {
        if !visited.insert(node_of(entry)) {
            continue;
        }
        candidates.push(Reverse(entry));
        if accept(node_of(entry)) {
            results.push(entry);
            if results.len() > ef {
                results.pop();
            }
        }
    }
    let mut evaluations = 0usize;
    while let Some(Reverse(nearest)) = candidates.pop() {
        let worst = match results.peek() {
            Some(&worst) if results.len() >= ef => worst,
            _ => u64::MAX,
        };
        if nearest > worst {
            break;
        }
        fresh.clear();
        for &neighbor in graph.neighbors(level, node_of(nearest)) {
            if visited.insert(neighbor) {
                fresh.push(neighbor);
            }
        }
        if let Some(&first) = fresh.first() {
            graph.prefetch(first);
        }
        for (position, &neighbor) in fresh.iter().enumerate() {
            if let Some(&next) = fresh.get(position + 1) {
                graph.prefetch(next);
            }
            let candidate = pack(graph.key(query, neighbor), neighbor);
            let worst = match results.peek() {
                Some(&worst) if results.len() >= ef => worst,
                _ => u64::MAX,
            };
            if candidate < worst {
                candidates.push(Reverse(candidate));
                if accept(neighbor) {
                    results.push(candidate);
                    if results.len() > ef {
                        results.pop();
                    }
                }
            }
        }
        evaluations += fresh.len();
        if evaluations > budget {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_orders_by_key_then_node_and_round_trips() {
        let keys = [
            f32::NEG_INFINITY,
            -3.5,
            -0.0,
            0.0,
            1e-30,
            2.0,
            f32::INFINITY,
        ];
        for pair in keys.windows(2) {
            assert!(pack(pair[0], 9) <= pack(pair[1], 9), "{pair:?}");
        }
        assert!(pack(1.0, 3) < pack(1.0, 4));
        for key in keys {
            assert_eq!(key_of(pack(key, 7)).to_bits(), key.to_bits());
            assert_eq!(node_of(pack(key, 7)), 7);
        }
    }

    #[test]
    fn visited_marks_reset_by_epoch_and_survive_wraparound() {
        let mut visited = VisitedSet::default();
        for _ in 0..70_000 {
            visited.reset(4);
            assert!(visited.insert(2));
            assert!(!visited.insert(2));
            assert!(visited.insert(3));
        }
    }
}
