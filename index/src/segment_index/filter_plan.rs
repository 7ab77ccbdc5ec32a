//! Filtered search planning: estimate how many rows a filter accepts, then choose between an
//! exact scan of the accepted rows and a filter-aware index search.
//!
//! The estimate calls `accept` on row offsets spread evenly over the segment: first
//! [`QUICK_SAMPLE`] of them, and [`SELECTIVITY_SAMPLE`] when fewer than half of those pass (so
//! an unfiltered search pays a few dozen calls). The choice compares two rough costs in
//! nanoseconds on one core (only their ratio matters), calibrated on this project's machine:
//! - exact: every row's filter and NULL check ([`ROW_SCAN_COST`]) plus the accepted rows'
//!   distances (two dot products each for cosine);
//! - graph: the distance evaluations of an unfiltered search, [`GRAPH_BASE_EVALUATIONS`] +
//!   [`GRAPH_EVALUATIONS_PER_EF`] × ef (measured 313 / 841 / 3,273 / 5,946 at ef 10 / 40 /
//!   200 / 400 on 390k GloVe vectors, fewer on small graphs), times `s^-0.85` for accepted
//!   fraction `s` (a filtered traversal walks through rejected nodes: measured 1.8× at 50 %
//!   and 7.1× at 10 %), each paying a distance and, when the graph is larger than the cache,
//!   a cache miss.
//!
//! A filter also widens the graph search's candidate list ([`filtered_ef`]): with a fraction
//! `s` of the rows accepted, the list holds `ef_search / s` accepted nodes (at most
//! [`MAX_FILTER_WIDENING`] times `ef_search`, and [`MAX_EF_SEARCH`]), so the traversal
//! explores about as many nodes around the query as an unfiltered search with `ef_search`
//! does and filtered recall keeps up with unfiltered recall. The cost model prices the
//! widened list.
//!
//! The graph search also gets an evaluation budget ([`BUDGET_FACTOR`] times its estimate, and
//! at least what the exact scan would cost): a filter whose accepted rows all sit far from the
//! query makes the traversal give up and scan exactly instead of walking the whole graph.
//! Either way the caller returns min(k, accepted rows): the plan only decides the cost.

use super::MAX_EF_SEARCH;

/// Rows tested first.
pub(super) const QUICK_SAMPLE: usize = 64;
/// Rows tested when the quick sample suggests a selective filter.
pub(super) const SELECTIVITY_SAMPLE: usize = 512;
/// Distance evaluations of an unfiltered HNSW search: this plus [`GRAPH_EVALUATIONS_PER_EF`]
/// times ef.
pub(super) const GRAPH_BASE_EVALUATIONS: f64 = 150.0;
pub(super) const GRAPH_EVALUATIONS_PER_EF: f64 = 15.0;
/// How the evaluations grow as the accepted fraction `s` shrinks: `s^-FILTER_EXPONENT`.
pub(super) const FILTER_EXPONENT: f64 = 0.85;
/// Per-row cost of an exact scan besides distances: the filter call and NULL check.
pub(super) const ROW_SCAN_COST: f64 = 2.5;
/// Per-evaluation overhead of a graph search whose records fit in the cache, and of one
/// whose records do not (a cache miss per evaluation).
pub(super) const CACHED_EVALUATION_OVERHEAD: f64 = 8.0;
pub(super) const UNCACHED_EVALUATION_OVERHEAD: f64 = 60.0;
/// Graphs with more record bytes than this are taken not to fit in the cache.
pub(super) const CACHED_GRAPH_BYTES: usize = 16 << 20;
/// The budget is this many times the graph estimate (or the exact cost, if larger).
pub(super) const BUDGET_FACTOR: f64 = 4.0;

/// Most a filter multiplies the candidate list by.
pub(super) const MAX_FILTER_WIDENING: usize = 8;

/// The candidate list of a filtered graph search: `ef / s` for accepted fraction `s`
/// (`ef` itself when every sampled row was accepted), at most `ef × MAX_FILTER_WIDENING`
/// and [`MAX_EF_SEARCH`], never below `ef`.
pub(super) fn filtered_ef(ef: usize, estimate: &SelectivityEstimate) -> usize {
    if estimate.accepted >= estimate.sampled {
        return ef;
    }
    let widened = (ef as f64 / estimate.smoothed_fraction()).ceil();
    let cap = ef.saturating_mul(MAX_FILTER_WIDENING).min(MAX_EF_SEARCH);
    (widened.min(cap as f64) as usize).max(ef)
}

/// Cost of one `dim`-dimensional dot product or distance with the selected kernels.
pub(super) fn distance_cost(dim: usize) -> f64 {
    4.0 + dim as f64 / 16.0
}

/// How many of a sample of rows a filter accepted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SelectivityEstimate {
    pub sampled: usize,
    pub accepted: usize,
    /// Whether every row was tested (then `accepted` is exact).
    pub complete: bool,
}

impl SelectivityEstimate {
    /// Tests `accept` on row offsets spread over `0..row_count`.
    pub(super) fn sample(row_count: usize, accept: &dyn Fn(u32) -> bool) -> SelectivityEstimate {
        let test = |sampled: usize| {
            (0..sampled)
                .filter(|&draw| accept((draw * row_count / sampled.max(1)) as u32))
                .count()
        };
        let quick = row_count.min(QUICK_SAMPLE);
        let accepted = test(quick);
        let sampled = if 2 * accepted >= quick {
            quick
        } else {
            row_count.min(SELECTIVITY_SAMPLE)
        };
        let accepted = if sampled == quick {
            accepted
        } else {
            test(sampled)
        };
        SelectivityEstimate {
            sampled,
            accepted,
            complete: sampled == row_count,
        }
    }

    /// Estimated accepted rows among `row_count`.
    pub(super) fn accepted_rows(&self, row_count: usize) -> f64 {
        if self.sampled == 0 {
            return 0.0;
        }
        self.accepted as f64 * row_count as f64 / self.sampled as f64
    }

    /// Accepted fraction, pulled away from 0 (half a hit) so it can divide.
    pub(super) fn smoothed_fraction(&self) -> f64 {
        ((self.accepted as f64 + 0.5) / (self.sampled as f64 + 1.0)).min(1.0)
    }
}

/// What the cost model needs to know about an HNSW index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct GraphFacts {
    pub node_count: usize,
    pub row_count: usize,
    pub dim: usize,
    /// Bytes of the level-0 records.
    pub graph_bytes: usize,
    /// Whether an exact distance takes two dot products (cosine without stored norms).
    pub cosine: bool,
}

/// What a filtered HNSW search should do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum GraphPlan {
    /// Scan the accepted rows exactly.
    Exact,
    /// Search the graph; give up after `budget` distance evaluations.
    Graph { budget: usize },
}

/// Chooses between the graph and an exact scan for a search with candidate list `ef`.
pub(super) fn plan_graph_search(
    estimate: &SelectivityEstimate,
    facts: &GraphFacts,
    ef: usize,
    k: usize,
) -> GraphPlan {
    let accepted = estimate.accepted_rows(facts.row_count);
    // A candidate list as large as half the graph, or fewer accepted rows than wanted, means
    // visiting (nearly) every node: the scan is cheaper and exact.
    if ef.saturating_mul(2) >= facts.node_count
        || (estimate.complete && estimate.accepted < k)
        || accepted < k as f64
    {
        return GraphPlan::Exact;
    }
    let distance = distance_cost(facts.dim);
    let exact_distance = if facts.cosine {
        2.0 * distance
    } else {
        distance
    };
    let exact_cost = facts.row_count as f64 * ROW_SCAN_COST + accepted * exact_distance;
    let unfiltered = GRAPH_BASE_EVALUATIONS + GRAPH_EVALUATIONS_PER_EF * ef as f64;
    let evaluations = unfiltered / estimate.smoothed_fraction().powf(FILTER_EXPONENT);
    let overhead = if facts.graph_bytes > CACHED_GRAPH_BYTES {
        UNCACHED_EVALUATION_OVERHEAD
    } else {
        CACHED_EVALUATION_OVERHEAD
    };
    let graph_cost = evaluations * (distance + overhead);
    if exact_cost <= graph_cost {
        return GraphPlan::Exact;
    }
    let exact_evaluations = exact_cost / (distance + overhead);
    let budget = (evaluations * BUDGET_FACTOR).max(exact_evaluations);
    GraphPlan::Graph {
        budget: budget.min(usize::MAX as f64 / 2.0) as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(rows: usize, dim: usize) -> GraphFacts {
        GraphFacts {
            node_count: rows,
            row_count: rows,
            dim,
            graph_bytes: rows * 4 * (dim + 36),
            cosine: true,
        }
    }

    #[test]
    fn small_segments_are_sampled_completely() {
        let estimate = SelectivityEstimate::sample(10, &|offset| offset % 2 == 0);
        assert_eq!(
            estimate,
            SelectivityEstimate {
                sampled: 10,
                accepted: 5,
                complete: true
            }
        );
        assert_eq!(estimate.accepted_rows(10), 5.0);
    }

    #[test]
    fn broad_filters_take_the_quick_sample_and_narrow_ones_the_full_one() {
        let everything = SelectivityEstimate::sample(1_000_000, &|_| true);
        assert_eq!(
            (everything.sampled, everything.accepted),
            (QUICK_SAMPLE, QUICK_SAMPLE)
        );
        let tenth = SelectivityEstimate::sample(1_000_000, &|offset| offset % 10 == 3);
        assert_eq!(tenth.sampled, SELECTIVITY_SAMPLE);
        assert!(!tenth.complete);
        let fraction = tenth.accepted as f64 / tenth.sampled as f64;
        assert!((0.05..0.15).contains(&fraction), "{fraction}");
    }

    #[test]
    fn filters_widen_the_candidate_list_by_their_selectivity_up_to_a_cap() {
        let sample = |sampled, accepted| SelectivityEstimate {
            sampled,
            accepted,
            complete: false,
        };
        assert_eq!(filtered_ef(40, &sample(64, 64)), 40);
        let half = filtered_ef(40, &sample(64, 32));
        assert!((80..=82).contains(&half), "{half}");
        assert_eq!(filtered_ef(40, &sample(512, 51)), 320);
        assert_eq!(filtered_ef(40, &sample(512, 0)), 320);
        assert_eq!(filtered_ef(400, &sample(512, 51)), MAX_EF_SEARCH);
        assert_eq!(filtered_ef(MAX_EF_SEARCH, &sample(64, 32)), MAX_EF_SEARCH);
    }

    #[test]
    fn selective_filters_scan_and_broad_ones_walk_the_graph() {
        let sample = |accepted| SelectivityEstimate {
            sampled: 512,
            accepted,
            complete: false,
        };
        // 390k × 50 (GloVe): 10 % walks the graph, 1 % scans (as measured to be faster).
        let glove = facts(390_000, 50);
        assert!(matches!(
            plan_graph_search(&sample(512), &glove, 40, 10),
            GraphPlan::Graph { .. }
        ));
        assert!(matches!(
            plan_graph_search(&sample(51), &glove, 40, 10),
            GraphPlan::Graph { .. }
        ));
        assert_eq!(
            plan_graph_search(&sample(5), &glove, 40, 10),
            GraphPlan::Exact
        );
        assert_eq!(
            plan_graph_search(&sample(0), &glove, 40, 10),
            GraphPlan::Exact
        );
        // 8k × 384 (tickets): an unfiltered search at ef 400 still walks the graph.
        assert!(matches!(
            plan_graph_search(&sample(512), &facts(8_000, 384), 400, 10),
            GraphPlan::Graph { .. }
        ));
        // ef covering most of the graph: scan.
        assert_eq!(
            plan_graph_search(&sample(512), &facts(1_000, 384), 600, 10),
            GraphPlan::Exact
        );
    }
}
