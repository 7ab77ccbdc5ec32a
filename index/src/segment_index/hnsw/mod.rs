//! The HNSW segment index: a hierarchical navigable small-world graph (Malkov & Yashunin)
//! over a segment's non-NULL vectors, built in parallel (`build.rs`), stored in the segment
//! index file (`layout.rs`) and searched straight from the memory mapping (`graph.rs`).
//!
//! Search: greedy descent through the upper layers, then a best-first search of layer 0 with
//! a candidate list of `max(ef_search, k)`. Filters are applied inside the layer-0 search
//! (rejected nodes are walked through but never returned), the candidate list grows with the
//! filter's estimated selectivity (`filter_plan::filtered_ef`), and the search goes on until
//! that many accepted nodes are found or the graph is exhausted; `filter_plan.rs` decides beforehand
//! whether an exact scan of the accepted rows is cheaper, and the search falls back to that
//! scan when the graph yields fewer than `k` accepted rows or exceeds its budget. The final
//! candidates are re-scored with [`crate::distance::distance`], so returned distances are
//! exact and ordered as a sequential scan orders them.
//!
//! Rows that cannot be placed in a graph (a NaN or infinite element; for cosine a zero
//! vector) are listed in the file as side rows and compared exactly on every search.

mod build;
mod graph;
mod layout;
mod reorder;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use rayon::prelude::*;

use self::build::{build_graph, GraphShape, NodeOrder, NodeVectors, MAX_LEVEL};
use self::graph::{
    greedy_descend, key_of, node_of, pack, prefetch_lines, search_layer, with_scratch, GraphLayers,
    KeyFunction, TraversalQuery, PREFETCH_LINES,
};
use self::layout::{check_body, write_body, BodyContents, BodyLayout, RECORD_FIELDS};
use super::filter_plan::{
    filtered_ef, plan_graph_search, GraphFacts, GraphPlan, SelectivityEstimate,
};
use super::flat::exact_top_k;
use super::format::{
    body_offset, f32_section, u32_section, write_atomically, FileHeader, RowClasses, Structure,
};
use super::progress::{self, BuildPhase, BuildProgress};
use super::top_k::{Neighbor, TopK};
use super::{
    IndexError, SearchParams, SegmentIndex, SegmentIndexSpec, VectorStore,
    DEFAULT_HNSW_EF_CONSTRUCTION, DEFAULT_HNSW_M, MAX_EF_SEARCH,
};
use crate::distance::{distance_with, finish_l2, finish_negative_inner_product, kernels, Metric};

pub use layout::HNSW_BODY_VERSION;

/// An open HNSW index over one segment.
///
/// Body of an HNSW index file, layout version [`HNSW_BODY_VERSION`] (1), starting at the body
/// offset given by the header ([`FileHeader`], structure code 2). Little-endian; "at" offsets
/// are file offsets, and sections marked ⁶⁴ start at a multiple of 64 bytes.
///
/// ```text
/// fixed part, 64 bytes:
///   +0  u32  body layout version = 1
///   +4  u32  m: links per node on levels ≥ 1
///   +8  u32  m0 = 2·m: links per node on level 0
///  +12  u32  ef_construction the graph was built with
///  +16  u32  N: nodes in the graph (N ≥ 1)
///  +20  u32  L: top level (0 when the graph has only level 0)
///  +24  u32  entry point node = 0 (nodes are numbered by level, highest first)
///  +28  u32  S: bytes per level-0 record = 4·(dim + 4 + m0) rounded up to a multiple of 64
///  +32  u32  E: side rows
///  +36  28 bytes reserved, zero
/// level counts: L × u32, nodes on level ≥ l for l = 1..=L (non-increasing, ≥ 1); the nodes
///               on level l are exactly 0..count(l)
/// side rows:    E × u32 row offsets of non-NULL rows outside the graph, ascending
/// ⁶⁴level 0:    N records of S bytes, node i at i·S:
///                 +0          dim × f32  the vector, bit for bit as in the segment
///                 +4·dim      u32        neighbour count c ≤ m0
///                 +4·dim+4    f32        scale: 1/‖v‖ for cosine, 1 otherwise
///                 +4·dim+8    u32        the node's row offset in the segment
///                 +4·dim+12   u32        reserved, zero
///                 +4·dim+16   m0 × u32   neighbour node ids, the first c valid, then zeros
///                 zero padding to S
/// upper levels: for l = 1..=L, count(l) records of (1 + m) u32: neighbour count c ≤ m, then
///               m neighbour node ids (the first c valid, all < count(l), then zeros)
/// checksum:     u32 CRC32C of the body bytes before it
/// ```
///
/// The file ends right after the checksum. Opening checks the length, the checksum, and then
/// every count, link and row offset, so a search can trust the mapping. The graph is read in
/// place: nothing is copied out of the mapping on open.
pub struct HnswIndex {
    path: PathBuf,
    spec: SegmentIndexSpec,
    store: Arc<dyn VectorStore>,
    mapping: Mmap,
    layout: BodyLayout,
    row_count: u32,
    key_function: KeyFunction,
}

impl std::fmt::Debug for HnswIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HnswIndex")
            .field("path", &self.path)
            .field("spec", &self.spec)
            .field("row_count", &self.row_count)
            .field("nodes", &self.layout.node_count)
            .field("top_level", &self.layout.top_level)
            .finish()
    }
}

/// Builds the graph for `rows` of `store` and writes the file (spec and store checked).
pub(super) fn write_hnsw_index(
    spec: &SegmentIndexSpec,
    store: &dyn VectorStore,
    rows: &RowClasses,
    path: &Path,
    progress: Option<&BuildProgress>,
) -> Result<(), IndexError> {
    let option = |name: &str, default: i64| spec.integer_option(name).unwrap_or(default) as usize;
    let m = option("m", DEFAULT_HNSW_M);
    let shape = GraphShape {
        m,
        m0: 2 * m,
        ef_construction: option("ef_construction", DEFAULT_HNSW_EF_CONSTRUCTION),
    };
    let dim = spec.dim;
    let order = NodeOrder::new(&rows.indexed, m);
    let mut vectors = vec![0f32; order.offsets.len() * dim];
    vectors
        .par_chunks_mut(dim)
        .zip(order.offsets.par_iter())
        .for_each(|(slot, &offset)| {
            // `classify_rows` put only non-NULL rows of the right length in `indexed`.
            if let Some(vector) = store.vector(offset) {
                slot.copy_from_slice(vector);
            }
        });
    let scales: Vec<f32> = if spec.metric == Metric::Cosine {
        let dot = kernels().dot;
        vectors
            .par_chunks(dim)
            .map(|vector| 1.0 / dot(vector, vector).sqrt())
            .collect()
    } else {
        Vec::new()
    };
    progress::set_phase(progress, BuildPhase::LoadingTuples);
    let graph = build_graph(
        NodeVectors {
            dim,
            values: &vectors,
            scales: &scales,
            key_function: KeyFunction::new(spec.metric),
        },
        &order,
        shape,
        progress,
    );
    let renumbering = reorder::breadth_first(&graph, &order);
    let header = FileHeader {
        structure: Structure::Hnsw,
        spec: spec.clone(),
        row_count: store.len() as u64,
    };
    let header_bytes = header.encode()?;
    let body_start = body_offset(header_bytes.len());
    let contents = BodyContents {
        m,
        ef_construction: shape.ef_construction,
        dim,
        order: &order,
        vectors: &vectors,
        scales: &scales,
        graph: &graph,
        renumbering: &renumbering,
        side_offsets: &rows.side,
    };
    write_atomically(path, |writer| {
        use std::io::Write;
        writer.write_all(&header_bytes)?;
        writer.write_all(&[0u8; 8][..body_start - header_bytes.len()])?;
        write_body(writer, body_start, &contents)
    })
}

impl HnswIndex {
    /// Checks the body of a mapped HNSW file and that `store` is the segment it was built for.
    pub(super) fn open(
        path: &Path,
        header: FileHeader,
        body_start: usize,
        mapping: Mmap,
        store: Arc<dyn VectorStore>,
    ) -> Result<HnswIndex, IndexError> {
        debug_assert_eq!(header.structure, Structure::Hnsw);
        let row_count = u32::try_from(header.row_count).map_err(|_| {
            IndexError::corrupt(path, format!("row count {} too large", header.row_count))
        })?;
        let layout = check_body(
            path,
            &mapping,
            body_start,
            header.spec.dim,
            row_count as usize,
        )?;
        check_store(path, &header.spec, row_count, store.as_ref())?;
        #[cfg(unix)]
        {
            // Graph walks jump around the file; read-ahead would only evict useful pages.
            let _ = mapping.advise(memmap2::Advice::Random);
        }
        Ok(HnswIndex {
            path: path.to_path_buf(),
            key_function: KeyFunction::new(header.spec.metric),
            spec: header.spec,
            store,
            mapping,
            layout,
            row_count,
        })
    }

    /// The graph as stored in the mapping.
    fn graph(&self) -> MappedGraph<'_> {
        let layout = &self.layout;
        let bytes: &[u8] = &self.mapping;
        // The sections were checked (aligned, in range) when the file was opened.
        let words = u32_section(bytes, layout.layer0.clone()).unwrap_or_default();
        let floats = f32_section(bytes, layout.layer0.clone()).unwrap_or_default();
        let mut upper: [&[u32]; MAX_LEVEL] = [&[]; MAX_LEVEL];
        for (slot, range) in upper.iter_mut().zip(&layout.upper) {
            *slot = u32_section(bytes, range.clone()).unwrap_or_default();
        }
        MappedGraph {
            words,
            floats,
            stride_words: layout.stride / 4,
            dim: self.spec.dim,
            upper,
            upper_words: 1 + layout.m,
            key_function: self.key_function,
        }
    }

    fn side_offsets(&self) -> &[u32] {
        u32_section(&self.mapping, self.layout.side_offsets.clone()).unwrap_or_default()
    }

    /// Nodes in the graph (non-NULL rows minus side rows).
    pub fn node_count(&self) -> usize {
        self.layout.node_count
    }

    /// Links per node on the upper levels (`2 m` on level 0).
    pub fn m(&self) -> usize {
        self.layout.m
    }

    /// The candidate list size the graph was built with.
    pub fn ef_construction(&self) -> usize {
        self.layout.ef_construction
    }

    /// The query as a traversal needs it, or `None` when its keys would be meaningless (a NaN
    /// or infinite element, or a zero vector under cosine): then only an exact scan orders
    /// rows as ORDER BY does.
    fn traversal_query<'q>(&self, query: &'q [f32]) -> Option<TraversalQuery<'q>> {
        if !query.iter().all(|value| value.is_finite()) {
            return None;
        }
        let scale = if self.spec.metric == Metric::Cosine {
            let squared_norm = (kernels().dot)(query, query);
            if !(squared_norm > 0.0 && squared_norm.is_finite()) {
                return None;
            }
            1.0 / squared_norm.sqrt()
        } else {
            1.0
        };
        Some(TraversalQuery {
            vector: query,
            scale,
        })
    }

    fn exact(&self, query: &[f32], k: usize, accept: &dyn Fn(u32) -> bool) -> Vec<(u32, f32)> {
        let top = exact_top_k(self.store.as_ref(), self.spec.metric, query, &[], k, accept);
        into_rows(top)
    }

    /// The graph's `ef` nearest accepted nodes (packed, nearest first), or `None` if the
    /// search went over `budget`.
    fn search_graph(
        &self,
        graph: &MappedGraph<'_>,
        query: &TraversalQuery<'_>,
        ef: usize,
        budget: usize,
        accept: &dyn Fn(u32) -> bool,
    ) -> Option<Vec<u64>> {
        let node_count = self.layout.node_count;
        with_scratch(|scratch| {
            let entry = pack(graph.key(query, 0), 0);
            let nearest = greedy_descend(graph, query, entry, self.layout.top_level, 0);
            scratch.entries.clear();
            scratch.entries.push(nearest);
            let complete = search_layer(
                graph,
                query,
                0,
                ef,
                node_count,
                scratch,
                |node| accept(graph.row_offset(node)),
                budget,
            );
            complete.then(|| {
                let mut found: Vec<u64> = scratch.results.iter().copied().collect();
                found.sort_unstable();
                found
            })
        })
    }
}

impl SegmentIndex for HnswIndex {
    fn spec(&self) -> &SegmentIndexSpec {
        &self.spec
    }

    fn structure(&self) -> Structure {
        Structure::Hnsw
    }

    fn search_with(
        &self,
        query: &[f32],
        k: usize,
        params: SearchParams,
        accept: &dyn Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        if k == 0 || query.len() != self.spec.dim {
            return Vec::new();
        }
        let Some(traversal) = self.traversal_query(query) else {
            return self.exact(query, k, accept);
        };
        let graph = self.graph();
        let node_count = self.layout.node_count;
        let ef = params.ef_search.clamp(1, MAX_EF_SEARCH).max(k);
        let estimate = SelectivityEstimate::sample(self.row_count as usize, accept);
        let ef = filtered_ef(ef, &estimate);
        let facts = GraphFacts {
            node_count,
            row_count: self.row_count as usize,
            dim: self.spec.dim,
            graph_bytes: node_count * self.layout.stride,
            cosine: self.spec.metric == Metric::Cosine,
        };
        let plan = plan_graph_search(&estimate, &facts, ef, k);
        let GraphPlan::Graph { budget } = plan else {
            return self.exact(query, k, accept);
        };
        let Some(nodes) = self.search_graph(&graph, &traversal, ef, budget, accept) else {
            return self.exact(query, k, accept);
        };
        if nodes.len() < k {
            // Fewer accepted nodes were reachable than asked for: only a scan can tell
            // whether more exist.
            return self.exact(query, k, accept);
        }
        let family = kernels();
        let metric = self.spec.metric;
        let side_offsets = self.side_offsets();
        let mut top = TopK::new(k, k + side_offsets.len());
        let keys_are_distances =
            self.key_function.uses_selected_family() && metric != Metric::Cosine;
        let rescored = if keys_are_distances {
            nodes.len()
        } else {
            k.saturating_mul(RESCORED_PER_RESULT)
        };
        for &packed in nodes.iter().take(rescored) {
            let node = node_of(packed);
            let key = key_of(packed);
            let distance = match exact_distance_from_key(metric, key) {
                Some(distance) if keys_are_distances => distance,
                _ => distance_with(family, metric, query, graph.vector(node)),
            };
            top.offer(Neighbor {
                distance,
                offset: graph.row_offset(node),
            });
        }
        for &offset in side_offsets {
            if !accept(offset) {
                continue;
            }
            if let Some(vector) = self.store.vector(offset) {
                top.offer(Neighbor {
                    distance: distance_with(family, metric, query, vector),
                    offset,
                });
            }
        }
        into_rows(top)
    }
}

/// When traversal keys are not the returned distances (cosine, or keys from the AVX-512
/// kernels, which round differently), the best `RESCORED_PER_RESULT × k` candidates by key get
/// their distance computed: far more than rounding can reorder.
const RESCORED_PER_RESULT: usize = 2;

/// The ORDER BY distance of a finite traversal key computed with the selected kernels: the
/// same kernel result, finished as [`crate::distance::distance`] finishes it (None for
/// cosine, whose key is not a kernel result).
fn exact_distance_from_key(metric: Metric, key: f32) -> Option<f32> {
    if !key.is_finite() {
        return None;
    }
    match metric {
        Metric::L2 => Some(finish_l2(key) as f32),
        Metric::InnerProduct => Some(finish_negative_inner_product(-key) as f32),
        Metric::L1 => Some(key),
        Metric::Cosine => None,
    }
}

fn into_rows(top: TopK) -> Vec<(u32, f32)> {
    top.into_sorted()
        .into_iter()
        .map(|neighbor| (neighbor.offset, neighbor.distance))
        .collect()
}

/// Checks that `store` can be the segment an index of `row_count` rows was built over.
pub(super) fn check_store(
    path: &Path,
    spec: &SegmentIndexSpec,
    row_count: u32,
    store: &dyn VectorStore,
) -> Result<(), IndexError> {
    let mismatch = |reason: String| IndexError::StoreMismatch {
        path: path.to_path_buf(),
        reason,
    };
    if store.dim() != spec.dim {
        return Err(mismatch(format!(
            "index has {} dimensions, segment vectors have {}",
            spec.dim,
            store.dim()
        )));
    }
    if store.len() != row_count as usize {
        return Err(mismatch(format!(
            "index covers {row_count} rows, segment has {}",
            store.len()
        )));
    }
    Ok(())
}

/// The graph read in place from the mapping.
struct MappedGraph<'a> {
    /// Level 0 as words and as floats (the same bytes).
    words: &'a [u32],
    floats: &'a [f32],
    stride_words: usize,
    dim: usize,
    /// Level `l`'s records at index `l - 1`.
    upper: [&'a [u32]; MAX_LEVEL],
    upper_words: usize,
    key_function: KeyFunction,
}

impl MappedGraph<'_> {
    #[inline(always)]
    fn vector(&self, node: u32) -> &[f32] {
        let start = node as usize * self.stride_words;
        &self.floats[start..start + self.dim]
    }

    #[inline(always)]
    fn row_offset(&self, node: u32) -> u32 {
        self.words[node as usize * self.stride_words + self.dim + 2]
    }
}

impl GraphLayers for MappedGraph<'_> {
    #[inline(always)]
    fn neighbors(&self, level: usize, node: u32) -> &[u32] {
        if level == 0 {
            let base = node as usize * self.stride_words + self.dim;
            let count = self.words[base] as usize;
            &self.words[base + RECORD_FIELDS..base + RECORD_FIELDS + count]
        } else {
            let links = self.upper[level - 1];
            let base = node as usize * self.upper_words;
            let count = links[base] as usize;
            &links[base + 1..base + 1 + count]
        }
    }

    #[inline(always)]
    fn key(&self, query: &TraversalQuery<'_>, node: u32) -> f32 {
        let start = node as usize * self.stride_words;
        self.key_function
            .key(query, &self.floats[start..start + self.dim], || {
                self.floats[start + self.dim + 1]
            })
    }

    #[inline(always)]
    fn prefetch(&self, node: u32) {
        let start = node as usize * self.stride_words;
        if let Some(record) = self.floats.get(start..start + self.stride_words) {
            prefetch_lines(record, PREFETCH_LINES);
        }
    }
}
