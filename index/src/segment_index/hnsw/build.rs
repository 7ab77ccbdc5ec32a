//! Building the HNSW graph in memory: level assignment, node numbering, and parallel
//! insertion in batches.
//!
//! Node numbering: every vector gets a random level (`⌊-ln U / ln m⌋`, from a hash of its row
//! offset, so builds are reproducible) and nodes are numbered by level, highest first, then by
//! row offset. Node 0 is therefore the entry point, and the nodes present on level `l` are
//! exactly `0..count(l)`, which lets every upper layer be a dense array.
//!
//! Insertion is batched so that two cores can work without locks: nodes are inserted in
//! numbering order, the first [`SERIAL_PREFIX`] one at a time, then in batches of about
//! 1/[`BATCH_DIVISOR`] of the nodes already in the graph. For a batch:
//! 1. in parallel, each new node searches the graph as it was before the batch (read-only)
//!    from the entry point down to its level with `ef_construction`, and picks its neighbours
//!    per level with the usual heuristic (a candidate is kept only if it is nearer to the new
//!    node than to every neighbour already kept; `m` per upper level, `m0 = 2m` on level 0);
//! 2. the new nodes' links are written, and the reverse links are grouped by target node;
//! 3. in parallel per target, its list gets the new sources appended, or, when that would
//!    overflow, is re-selected with the same heuristic from old and new neighbours (keys to
//!    the target are kept beside the links, so only keys between candidates are computed);
//! 4. the new lists are written.
//!
//! Nodes of one batch do not see each other while they search; with batches of 1/32 of the
//! graph this costs no measurable recall, and the result is the same whatever the number of
//! threads.

use rayon::prelude::*;

use super::graph::{
    greedy_descend, key_of, node_of, pack, prefetch_lines, search_layer, with_scratch, GraphLayers,
    KeyFunction, TraversalQuery, PREFETCH_LINES,
};
use crate::segment_index::progress::{self, BuildProgress};
use crate::segment_index::random::mix;

/// Nodes inserted one at a time before batching starts (so the first layers are connected).
pub(super) const SERIAL_PREFIX: usize = 256;
/// A batch holds about `inserted / BATCH_DIVISOR` nodes.
pub(super) const BATCH_DIVISOR: usize = 32;
/// Largest batch.
pub(super) const MAX_BATCH: usize = 16_384;
/// Highest level a node can get (the levels above are empty with overwhelming probability).
pub(crate) const MAX_LEVEL: usize = 16;
/// Seed of the level hash (changing it changes every file, not their validity).
const LEVEL_SEED: u64 = 0x6375_7374_6f73_686e;

/// The level of the node for row `offset`, for links-per-node `m`.
pub(super) fn random_level(offset: u32, m: usize) -> usize {
    let unit = (mix(u64::from(offset) ^ LEVEL_SEED) >> 11) as f64 / (1u64 << 53) as f64;
    // 1 - unit is in (0, 1], so the logarithm is finite.
    let level = -(1.0 - unit).ln() / (m as f64).ln();
    (level as usize).min(MAX_LEVEL)
}

/// The graph's numbering: node i is row `offsets[i]`, and `level_counts[l - 1]` nodes are on
/// level `l` or above, for `l = 1..=level_counts.len()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NodeOrder {
    pub offsets: Vec<u32>,
    pub level_counts: Vec<u32>,
}

impl NodeOrder {
    /// Numbers the rows at `offsets` (ascending) by level, highest first.
    pub(super) fn new(offsets: &[u32], m: usize) -> NodeOrder {
        let mut by_level: Vec<(usize, u32)> = offsets
            .iter()
            .map(|&offset| (random_level(offset, m), offset))
            .collect();
        by_level.sort_unstable_by(|left, right| right.0.cmp(&left.0).then(left.1.cmp(&right.1)));
        let top = by_level.first().map_or(0, |&(level, _)| level);
        let level_counts = (1..=top)
            .map(|level| by_level.iter().take_while(|&&(l, _)| l >= level).count() as u32)
            .collect();
        NodeOrder {
            offsets: by_level.into_iter().map(|(_, offset)| offset).collect(),
            level_counts,
        }
    }

    pub(super) fn top_level(&self) -> usize {
        self.level_counts.len()
    }

    /// The level of `node`.
    pub(super) fn level_of(&self, node: u32) -> usize {
        self.level_counts
            .iter()
            .take_while(|&&count| node < count)
            .count()
    }
}

/// Links per node: `m` on upper levels, `m0` on level 0, and the search width of the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GraphShape {
    pub m: usize,
    pub m0: usize,
    pub ef_construction: usize,
}

impl GraphShape {
    fn max_links(&self, level: usize) -> usize {
        if level == 0 {
            self.m0
        } else {
            self.m
        }
    }
}

/// One layer's links: per node a count, then `width` neighbour ids, with each neighbour's key
/// to the node beside it.
#[derive(Debug, Clone)]
pub(super) struct LayerLinks {
    width: usize,
    /// Per node: `[count, id × width]`.
    pub links: Vec<u32>,
    /// Per node: `key × width`.
    keys: Vec<f32>,
}

impl LayerLinks {
    fn new(node_count: usize, width: usize) -> LayerLinks {
        LayerLinks {
            width,
            links: vec![0; node_count * (1 + width)],
            keys: vec![0.0; node_count * width],
        }
    }

    /// Links of every node, `1 + width` words each: the count, then the ids (zero-filled).
    pub(super) fn words_per_node(&self) -> usize {
        1 + self.width
    }

    #[inline(always)]
    pub(super) fn neighbors(&self, node: u32) -> &[u32] {
        let base = node as usize * (1 + self.width);
        let count = self.links[base] as usize;
        &self.links[base + 1..base + 1 + count]
    }

    fn keys(&self, node: u32) -> &[f32] {
        let base = node as usize * self.width;
        let count = self.links[node as usize * (1 + self.width)] as usize;
        &self.keys[base..base + count]
    }

    fn set(&mut self, node: u32, neighbors: &[(f32, u32)]) {
        debug_assert!(neighbors.len() <= self.width);
        let base = node as usize * (1 + self.width);
        self.links[base] = neighbors.len() as u32;
        let key_base = node as usize * self.width;
        for (slot, &(key, neighbor)) in neighbors.iter().enumerate() {
            self.links[base + 1 + slot] = neighbor;
            self.keys[key_base + slot] = key;
        }
        for slot in neighbors.len()..self.width {
            self.links[base + 1 + slot] = 0;
        }
    }

    fn push(&mut self, node: u32, key: f32, neighbor: u32) {
        let base = node as usize * (1 + self.width);
        let count = self.links[base] as usize;
        debug_assert!(count < self.width);
        self.links[base + 1 + count] = neighbor;
        self.keys[node as usize * self.width + count] = key;
        self.links[base] = count as u32 + 1;
    }
}

/// The vectors of the nodes, in node order, and how to compare them.
pub(super) struct NodeVectors<'a> {
    pub dim: usize,
    /// `dim` values per node.
    pub values: &'a [f32],
    /// `1/‖v‖` per node for cosine; empty otherwise.
    pub scales: &'a [f32],
    pub key_function: KeyFunction,
}

impl NodeVectors<'_> {
    #[inline(always)]
    fn vector(&self, node: u32) -> &[f32] {
        let start = node as usize * self.dim;
        &self.values[start..start + self.dim]
    }

    #[inline(always)]
    fn scale(&self, node: u32) -> f32 {
        self.scales.get(node as usize).copied().unwrap_or(1.0)
    }

    fn query(&self, node: u32) -> TraversalQuery<'_> {
        TraversalQuery {
            vector: self.vector(node),
            scale: self.scale(node),
        }
    }

    /// The key between two nodes.
    #[inline(always)]
    fn key_between(&self, left: u32, right: u32) -> f32 {
        self.key_function
            .key(&self.query(left), self.vector(right), || self.scale(right))
    }
}

/// The built links: level 0 and each upper level (index `l - 1` for level `l`).
pub(super) struct BuiltGraph {
    pub layer0: LayerLinks,
    pub upper: Vec<LayerLinks>,
}

impl BuiltGraph {
    /// A graph whose level-0 links form a chain `i → i + 1` (tests of renumbering and layout).
    #[cfg(test)]
    pub(super) fn chain(order: &NodeOrder, m: usize) -> BuiltGraph {
        let node_count = order.offsets.len();
        let mut layer0 = LayerLinks::new(node_count, 2 * m);
        for node in 0..node_count.saturating_sub(1) {
            layer0.set(node as u32, &[(1.0, node as u32 + 1)]);
        }
        BuiltGraph {
            layer0,
            upper: order
                .level_counts
                .iter()
                .map(|&count| LayerLinks::new(count as usize, m))
                .collect(),
        }
    }
}

struct Builder<'a> {
    vectors: NodeVectors<'a>,
    order: &'a NodeOrder,
    shape: GraphShape,
    graph: BuiltGraph,
}

impl GraphLayers for Builder<'_> {
    #[inline(always)]
    fn neighbors(&self, level: usize, node: u32) -> &[u32] {
        if level == 0 {
            self.graph.layer0.neighbors(node)
        } else {
            self.graph.upper[level - 1].neighbors(node)
        }
    }

    #[inline(always)]
    fn key(&self, query: &TraversalQuery<'_>, node: u32) -> f32 {
        self.vectors
            .key_function
            .key(query, self.vectors.vector(node), || {
                self.vectors.scale(node)
            })
    }

    #[inline(always)]
    fn prefetch(&self, node: u32) {
        prefetch_lines(self.vectors.vector(node), PREFETCH_LINES);
    }
}

/// The neighbours one new node links to, per level (from its level down to 0).
struct Insertion {
    node: u32,
    levels: Vec<(usize, Vec<(f32, u32)>)>,
}

/// A reverse link to add: `source` (new) into `target`'s list on `level`.
#[derive(Debug, Clone, Copy)]
struct ReverseLink {
    level: u32,
    target: u32,
    source: u32,
    key: f32,
}

/// Builds the graph over `vectors` (numbered as `order`) on the current rayon pool.
pub(super) fn build_graph(
    vectors: NodeVectors<'_>,
    order: &NodeOrder,
    shape: GraphShape,
    progress: Option<&BuildProgress>,
) -> BuiltGraph {
    let node_count = order.offsets.len();
    debug_assert_eq!(vectors.values.len(), node_count * vectors.dim);
    let graph = BuiltGraph {
        layer0: LayerLinks::new(node_count, shape.m0),
        upper: order
            .level_counts
            .iter()
            .map(|&count| LayerLinks::new(count as usize, shape.m))
            .collect(),
    };
    let mut builder = Builder {
        vectors,
        order,
        shape,
        graph,
    };
    // Node 0 is the entry point: it starts the graph with no links.
    let mut inserted = node_count.min(1);
    progress::advance(progress, inserted as u64);
    while inserted < node_count {
        let batch = if inserted < SERIAL_PREFIX {
            1
        } else {
            (inserted / BATCH_DIVISOR).clamp(1, MAX_BATCH)
        }
        .min(node_count - inserted);
        let nodes = inserted as u32..(inserted + batch) as u32;
        // Progress counts a node when its neighbours are chosen (its links are written at
        // the end of the batch).
        let plan = |node: u32| {
            let insertion = builder.plan_insertion(node);
            progress::advance(progress, 1);
            insertion
        };
        let insertions: Vec<Insertion> = if batch == 1 {
            nodes.map(plan).collect()
        } else {
            nodes.into_par_iter().map(plan).collect()
        };
        builder.apply(insertions);
        inserted += batch;
    }
    builder.graph
}

impl Builder<'_> {
    /// Searches the current graph for `node`'s neighbours on each of its levels.
    fn plan_insertion(&self, node: u32) -> Insertion {
        let level = self.order.level_of(node);
        let top = self.order.top_level();
        let query = self.vectors.query(node);
        let node_count = self.order.offsets.len();
        with_scratch(|scratch| {
            let entry = pack(self.key(&query, 0), 0);
            let nearest = greedy_descend(self, &query, entry, top, level);
            scratch.entries.clear();
            scratch.entries.push(nearest);
            let mut levels = Vec::with_capacity(level + 1);
            for layer in (0..=level.min(top)).rev() {
                search_layer(
                    self,
                    &query,
                    layer,
                    self.shape.ef_construction,
                    node_count,
                    scratch,
                    |_| true,
                    usize::MAX,
                );
                let mut found: Vec<u64> = scratch.results.drain().collect();
                found.sort_unstable();
                let selected = self.select_neighbors(&found, self.shape.max_links(layer));
                levels.push((layer, selected));
                scratch.entries.clear();
                scratch.entries.extend_from_slice(&found);
            }
            Insertion { node, levels }
        })
    }

    /// The heuristic: walk `candidates` (packed, nearest first) and keep each one that is
    /// nearer to the base node than to every neighbour kept so far, up to `max` of them.
    fn select_neighbors(&self, candidates: &[u64], max: usize) -> Vec<(f32, u32)> {
        let mut selected: Vec<(f32, u32)> = Vec::with_capacity(max);
        for &candidate in candidates {
            if selected.len() >= max {
                break;
            }
            let (key, node) = (key_of(candidate), node_of(candidate));
            let diverse = selected
                .iter()
                .all(|&(_, kept)| self.vectors.key_between(node, kept) >= key);
            if diverse {
                selected.push((key, node));
            }
        }
        selected
    }

    fn layer_mut(&mut self, level: usize) -> &mut LayerLinks {
        if level == 0 {
            &mut self.graph.layer0
        } else {
            &mut self.graph.upper[level - 1]
        }
    }

    fn layer(&self, level: usize) -> &LayerLinks {
        if level == 0 {
            &self.graph.layer0
        } else {
            &self.graph.upper[level - 1]
        }
    }

    /// Writes a batch's links and its reverse links.
    fn apply(&mut self, insertions: Vec<Insertion>) {
        let mut reverse = Vec::new();
        for insertion in &insertions {
            for (level, neighbors) in &insertion.levels {
                self.layer_mut(*level).set(insertion.node, neighbors);
                reverse.extend(neighbors.iter().map(|&(key, target)| ReverseLink {
                    level: *level as u32,
                    target,
                    source: insertion.node,
                    key,
                }));
            }
        }
        reverse.par_sort_unstable_by_key(|link| (link.level, link.target, link.source));
        let groups: Vec<&[ReverseLink]> = reverse
            .chunk_by(|left, right| left.level == right.level && left.target == right.target)
            .collect();
        // Lists that overflow are re-selected in parallel; the others only get appends.
        let reselected: Vec<Option<Vec<(f32, u32)>>> = groups
            .par_iter()
            .map(|group| self.reselect_if_full(group))
            .collect();
        for (group, reselection) in groups.iter().zip(reselected) {
            let (level, target) = (group[0].level as usize, group[0].target);
            let layer = self.layer_mut(level);
            match reselection {
                Some(neighbors) => layer.set(target, &neighbors),
                None => group
                    .iter()
                    .for_each(|link| layer.push(target, link.key, link.source)),
            }
        }
    }

    /// For reverse links into one target: `None` if they fit after its current neighbours,
    /// else the target's new neighbour list chosen among old and new by the heuristic.
    fn reselect_if_full(&self, group: &[ReverseLink]) -> Option<Vec<(f32, u32)>> {
        let (level, target) = (group[0].level as usize, group[0].target);
        let layer = self.layer(level);
        let current = layer.neighbors(target);
        if current.len() + group.len() <= self.shape.max_links(level) {
            return None;
        }
        let mut candidates: Vec<u64> = current
            .iter()
            .zip(layer.keys(target))
            .map(|(&neighbor, &key)| pack(key, neighbor))
            .chain(group.iter().map(|link| pack(link.key, link.source)))
            .collect();
        candidates.sort_unstable();
        Some(self.select_neighbors(&candidates, self.shape.max_links(level)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_decay_geometrically_and_nodes_are_numbered_highest_first() {
        let offsets: Vec<u32> = (0..100_000).collect();
        let order = NodeOrder::new(&offsets, 16);
        let on_level_one = order.level_counts[0] as f64 / offsets.len() as f64;
        assert!((0.05..0.075).contains(&on_level_one), "{on_level_one}");
        assert!(order.level_counts.windows(2).all(|pair| pair[0] >= pair[1]));
        let levels: Vec<usize> = (0..offsets.len() as u32)
            .map(|node| order.level_of(node))
            .collect();
        assert!(levels.windows(2).all(|pair| pair[0] >= pair[1]));
        assert_eq!(levels[0], order.top_level());
        let mut sorted = order.offsets.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, offsets);
    }
}
