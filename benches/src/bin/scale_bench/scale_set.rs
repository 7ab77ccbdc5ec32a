//! The scale set: `rows` (1,000,000 by default) 384-dimensional unit vectors built
//! deterministically from the real all-MiniLM-L6-v2 embeddings in `../shared/data` (the 5,183
//! SciFact documents and the 8,469 ticket descriptions), plus held-out queries drawn the same
//! way, and their exact nearest neighbours.
//!
//! Recipe (generator version [`GENERATOR_VERSION`]): first, each source's [`PARTNERS`]
//! nearest other distinct sources are found (the index crate's HNSW over the sources, a
//! deterministic build). Then for point `i` (base rows `0..rows`, then the queries) a
//! SplitMix64 stream seeded by `SEED` and `i` picks a primary source `a` among the 13,652,
//! a partner `b` among `a`'s nearest sources, a weight `t` uniform in
//! `[0, MAX_PARTNER_WEIGHT)` and one uniform noise value per dimension with standard deviation
//! `NOISE_NORM / √384`; the point is `(1 - t)·a + t·b + noise`, L2-normalised. Every source
//! is thus the centre of about 73 points spread towards related documents, which keeps the
//! neighbourhood structure of real embeddings (clusters of related texts, a tail of
//! near-duplicates among the tickets) at a million rows. Nothing is written to the repository:
//! the vectors live in memory, and the `.npy` copy the Python baseline reads goes to a cache
//! directory (`--cache-dir`).
//!
//! Ground truth is computed here by brute force with the index crate's kernels
//! ([`index::distance::distance`], cosine), for the unfiltered search and for each filter in
//! one pass over the base per query: top-10 ids, ties to the lower id.

use std::path::Path;
use std::sync::Arc;

use custos_benches::npy::{read_npy, words_as_f32};
use index::distance::distance;
use index::segment_index::{
    build_segment_index, open_segment_index, InMemoryVectorStore, IndexMethod, Metric,
    SearchParams, SegmentIndexSpec,
};
use rayon::prelude::*;

use crate::BenchResult;

/// Changes whenever the recipe changes (the cache files carry it in their names).
pub(crate) const GENERATOR_VERSION: u32 = 1;
/// Dimensions of the embeddings.
pub(crate) const DIM: usize = 384;
const SEED: u64 = 0x5ca1_e5e7_0000_0001;
/// Largest weight of the partner vector.
const MAX_PARTNER_WEIGHT: f32 = 0.5;
/// Partners a point's second vector is drawn from: the primary's nearest other sources.
const PARTNERS: usize = 8;
/// Expected norm of the noise added to each point (the sources are unit vectors).
const NOISE_NORM: f32 = 0.05;
/// Neighbours in the ground truth.
pub(crate) const K: usize = 10;

/// Base rows, held-out queries and their exact neighbours.
pub(crate) struct ScaleSet {
    pub(crate) rows: usize,
    /// The base rows, `rows × DIM` values, all non-NULL.
    pub(crate) base: Arc<InMemoryVectorStore>,
    /// `queries × DIM` values.
    pub(crate) queries: Vec<f32>,
    pub(crate) source_count: usize,
}

impl ScaleSet {
    pub(crate) fn query(&self, index: usize) -> &[f32] {
        &self.queries[index * DIM..(index + 1) * DIM]
    }

    pub(crate) fn query_count(&self) -> usize {
        self.queries.len() / DIM
    }

    pub(crate) fn base_vector(&self, row: u32) -> &[f32] {
        &self.base.values()[row as usize * DIM..(row as usize + 1) * DIM]
    }
}

/// The source embeddings: SciFact documents, then ticket descriptions.
fn load_sources(data_dir: &Path) -> BenchResult<Vec<f32>> {
    let mut sources = Vec::new();
    for path in [
        data_dir.join("beir/scifact/corpus_emb.npy"),
        data_dir.join("customer_support_tickets.desc_emb.npy"),
    ] {
        let (_, columns, data) = read_npy(&path)?;
        if columns != DIM {
            return Err(format!("{}: {columns} columns, expected {DIM}", path.display()).into());
        }
        sources.extend(words_as_f32(&data));
    }
    Ok(sources)
}

/// SplitMix64, as the index crate uses for its builds.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}

/// Writes point `index` of the set into `out`; `partners` holds [`PARTNERS`] neighbours per
/// source.
fn generate_point(sources: &[f32], partners: &[u32], index: u64, out: &mut [f32]) {
    let source_count = sources.len() / DIM;
    let mut random = SplitMix64(SEED ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03));
    let primary = random.below(source_count);
    let partner = partners[primary * PARTNERS + random.below(PARTNERS)] as usize;
    let weight = MAX_PARTNER_WEIGHT * random.unit();
    // Uniform in [-amplitude, amplitude) has standard deviation amplitude / √3.
    let amplitude = NOISE_NORM / (DIM as f32).sqrt() * 3f32.sqrt();
    let a = &sources[primary * DIM..(primary + 1) * DIM];
    let b = &sources[partner * DIM..(partner + 1) * DIM];
    let mut squared_norm = 0f32;
    for ((slot, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let noise = amplitude * (2.0 * random.unit() - 1.0);
        *slot = (1.0 - weight) * x + weight * y + noise;
        squared_norm += *slot * *slot;
    }
    let scale = 1.0 / squared_norm.sqrt();
    out.iter_mut().for_each(|value| *value *= scale);
}

/// The [`PARTNERS`] nearest other distinct sources of every source (by cosine), found with
/// the index crate's HNSW (a deterministic build; ef 64), [`PARTNERS`] ids per source. Exact
/// duplicates of a source are skipped; a source with too few distinct neighbours repeats its
/// nearest.
fn source_partners(sources: &[f32], scratch: &Path) -> BenchResult<Vec<u32>> {
    let store = Arc::new(InMemoryVectorStore::from_dense(DIM, sources.to_vec())?);
    let spec = SegmentIndexSpec {
        method: IndexMethod::Hnsw,
        metric: Metric::Cosine,
        dim: DIM,
        options: vec![
            ("m".into(), "16".into()),
            ("ef_construction".into(), "64".into()),
        ],
    };
    let path = scratch.join("sources.hnsw");
    build_segment_index(&spec, store.as_ref(), &path)?;
    let index = open_segment_index(&path, store.clone())?;
    let params = SearchParams {
        ef_search: 64,
        ..SearchParams::default()
    };
    let wanted = PARTNERS + 8;
    let partners: Vec<Vec<u32>> = sources
        .par_chunks_exact(DIM)
        .enumerate()
        .map(|(source, vector)| {
            let mut found: Vec<u32> = index
                .search_with(vector, wanted, params, &|_| true)
                .into_iter()
                .filter(|&(row, distance)| row as usize != source && distance > 1e-6)
                .map(|(row, _)| row)
                .take(PARTNERS)
                .collect();
            let nearest = found
                .first()
                .copied()
                .unwrap_or(((source + 1) % (sources.len() / DIM)) as u32);
            found.resize(PARTNERS, nearest);
            found
        })
        .collect();
    drop(index);
    let _ = std::fs::remove_file(&path);
    Ok(partners.concat())
}

/// Builds the set: `rows` base points and `query_count` held-out queries (`scratch` holds a
/// temporary index over the sources).
pub(crate) fn generate(
    data_dir: &Path,
    rows: usize,
    query_count: usize,
    scratch: &Path,
) -> BenchResult<ScaleSet> {
    let sources = load_sources(data_dir)?;
    let source_count = sources.len() / DIM;
    if source_count <= PARTNERS {
        return Err("the scale set needs more source embeddings".into());
    }
    let partners = source_partners(&sources, scratch)?;
    let mut values = vec![0f32; (rows + query_count) * DIM];
    values
        .par_chunks_mut(DIM)
        .enumerate()
        .for_each(|(index, out)| generate_point(&sources, &partners, index as u64, out));
    let queries = values.split_off(rows * DIM);
    Ok(ScaleSet {
        rows,
        base: Arc::new(InMemoryVectorStore::from_dense(DIM, values)?),
        queries,
        source_count,
    })
}

/// Keeps about `permille` / 1000 of the rows, chosen by a hash so that they are scattered
/// (the same function as `ann_bench`'s, and the `sel` column of the SQL table).
pub(crate) fn permille_of(row: u32) -> u32 {
    (row.wrapping_mul(2_654_435_761) >> 7) % 1000
}

/// The exact top-[`K`] base rows of every query, once unfiltered and once per filter in
/// `filters_permille` (rows with [`permille_of`] below the value), nearest first, ties to the
/// lower row. `truth[f][q]` is filter `f`'s answer for query `q`, filter 0 being "all rows".
pub(crate) fn exact_truths(set: &ScaleSet, filters_permille: &[u32]) -> Vec<Vec<Vec<u32>>> {
    let per_query: Vec<Vec<Vec<u32>>> = (0..set.query_count())
        .into_par_iter()
        .map(|query| {
            let query = set.query(query);
            let mut tops: Vec<Vec<(f32, u32)>> =
                vec![Vec::with_capacity(K + 1); 1 + filters_permille.len()];
            for (row, vector) in set.base.values().chunks_exact(DIM).enumerate() {
                let row = row as u32;
                let key = distance(Metric::Cosine, query, vector);
                let permille = permille_of(row);
                for (slot, top) in tops.iter_mut().enumerate() {
                    if slot > 0 && permille >= filters_permille[slot - 1] {
                        continue;
                    }
                    offer(top, key, row);
                }
            }
            tops.into_iter()
                .map(|top| top.into_iter().map(|(_, row)| row).collect())
                .collect()
        })
        .collect();
    (0..=filters_permille.len())
        .map(|filter| per_query.iter().map(|tops| tops[filter].clone()).collect())
        .collect()
}

/// Inserts (key, row) into `top` (sorted by key then row, at most [`K`] long).
fn offer(top: &mut Vec<(f32, u32)>, key: f32, row: u32) {
    if top.len() == K {
        let worst = top[K - 1];
        if key.total_cmp(&worst.0).then(row.cmp(&worst.1)).is_ge() {
            return;
        }
        top.pop();
    }
    let position = top.partition_point(|&(k, r)| k.total_cmp(&key).then(r.cmp(&row)).is_lt());
    top.insert(position, (key, row));
}

/// Recall@K counting ties: a returned row is a hit when its distance is at most the K-th true
/// neighbour's (plus a rounding allowance) and, under a filter, the filter accepts it.
pub(crate) fn recall(
    set: &ScaleSet,
    query: usize,
    found: &[u32],
    truth: &[u32],
    accept: &dyn Fn(u32) -> bool,
) -> f64 {
    let Some(&last) = truth.last() else {
        return 1.0;
    };
    let query = set.query(query);
    let threshold = distance(Metric::Cosine, query, set.base_vector(last));
    let allowance = 1e-5 * (1.0 + threshold.abs());
    let hits = found
        .iter()
        .filter(|&&row| {
            (row as usize) < set.rows
                && accept(row)
                && distance(Metric::Cosine, query, set.base_vector(row)) <= threshold + allowance
        })
        .count();
    hits.min(truth.len()) as f64 / truth.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_unit_vectors_and_depend_only_on_their_index() {
        let sources: Vec<f32> = (0..3 * DIM).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
        let partners: Vec<u32> = (0..3 * PARTNERS)
            .map(|i| ((i / PARTNERS + 1) % 3) as u32)
            .collect();
        let (mut first, mut again, mut other) = (vec![0f32; DIM], vec![0f32; DIM], vec![0f32; DIM]);
        generate_point(&sources, &partners, 5, &mut first);
        generate_point(&sources, &partners, 5, &mut again);
        generate_point(&sources, &partners, 6, &mut other);
        assert_eq!(first, again);
        assert_ne!(first, other);
        let norm: f32 = first.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    }

    #[test]
    fn the_top_list_keeps_the_nearest_with_ties_to_lower_rows() {
        let mut top = Vec::new();
        for row in (0..30u32).rev() {
            offer(&mut top, (row % 15) as f32, row);
        }
        let rows: Vec<u32> = top.iter().map(|&(_, row)| row).collect();
        assert_eq!(rows, vec![0, 15, 1, 16, 2, 17, 3, 18, 4, 19]);
    }
}
