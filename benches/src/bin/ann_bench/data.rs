//! The data sets of `ann_bench`, read in place from `../shared/data`: `.npy` and TEXMEX
//! `.fvecs`/`.ivecs` readers, the three loaders, exact ground truth by brute force, and the
//! `.npy` writer that hands data to the Python baselines.

use std::path::Path;

pub(crate) use custos_benches::npy::{read_npy, words_as_f32, words_as_u32, write_npy};

use index::distance::distance;
use index::segment_index::Metric;
use rayon::prelude::*;

use crate::{BenchResult, Settings, K};

/// Base vectors, queries and the exact nearest ids of each query (best first).
pub(crate) struct Dataset {
    pub(crate) name: &'static str,
    pub(crate) metric: Metric,
    pub(crate) dim: usize,
    pub(crate) base: Vec<f32>,
    pub(crate) queries: Vec<f32>,
    pub(crate) truth: Vec<Vec<u32>>,
}

impl Dataset {
    pub(crate) fn base_rows(&self) -> usize {
        self.base.len() / self.dim
    }

    pub(crate) fn query(&self, index: usize) -> &[f32] {
        &self.queries[index * self.dim..(index + 1) * self.dim]
    }

    pub(crate) fn query_count(&self) -> usize {
        self.queries.len() / self.dim
    }
}

// ---------------------------------------------------------------------------------------
// Data files

/// Reads one data set as the settings ask.
pub(crate) type DatasetLoader = fn(&Settings) -> BenchResult<Dataset>;

/// TEXMEX `.fvecs` / `.ivecs`: per row an `i32` dimension then that many 4-byte values; at
/// most `limit` rows. Returns (dimension, raw values).
pub(crate) fn read_vecs(path: &Path, limit: usize) -> BenchResult<(usize, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let dim = u32::from_le_bytes(bytes.get(..4).ok_or("empty vecs file")?.try_into()?) as usize;
    let row_bytes = 4 + 4 * dim;
    let rows = (bytes.len() / row_bytes).min(limit);
    let mut values = Vec::with_capacity(rows * 4 * dim);
    for row in bytes.chunks_exact(row_bytes).take(rows) {
        values.extend_from_slice(&row[4..]);
    }
    Ok((dim, values))
}

pub(crate) fn load_scifact(settings: &Settings) -> BenchResult<Dataset> {
    let dir = settings.data_dir.join("beir/scifact");
    let (rows, dim, corpus) = read_npy(&dir.join("corpus_emb.npy"))?;
    let (query_rows, _, queries) = read_npy(&dir.join("query_emb.npy"))?;
    let (_, truth_columns, truth) = read_npy(&dir.join("gt_top100.npy"))?;
    let query_count = if settings.quick { 100 } else { query_rows };
    let truth = words_as_u32(&truth);
    debug_assert_eq!(rows * dim, corpus.len() / 4);
    Ok(Dataset {
        name: "scifact",
        metric: Metric::Cosine,
        dim,
        base: words_as_f32(&corpus),
        queries: words_as_f32(&queries)[..query_count * dim].to_vec(),
        truth: truth
            .chunks_exact(truth_columns)
            .take(query_count)
            .map(|row| row[..K].to_vec())
            .collect(),
    })
}

pub(crate) fn load_tickets(settings: &Settings) -> BenchResult<Dataset> {
    let path = settings
        .data_dir
        .join("customer_support_tickets.desc_emb.npy");
    let (rows, dim, values) = read_npy(&path)?;
    let values = words_as_f32(&values);
    let rows = if settings.quick {
        rows.min(2_100)
    } else {
        rows
    };
    let (mut base, mut queries) = (Vec::new(), Vec::new());
    for row in 0..rows {
        let vector = &values[row * dim..(row + 1) * dim];
        if row % 17 == 0 {
            queries.extend_from_slice(vector);
        } else {
            base.extend_from_slice(vector);
        }
    }
    let mut dataset = Dataset {
        name: "tickets",
        metric: Metric::Cosine,
        dim,
        base,
        queries,
        truth: Vec::new(),
    };
    dataset.truth = exact_truth(&dataset, &|_| true);
    Ok(dataset)
}

pub(crate) fn load_glove(settings: &Settings) -> BenchResult<Dataset> {
    let dir = settings.data_dir.join("ann");
    let (base_rows, truth_file, query_count) = if settings.quick {
        (10_000, "glove50_gt_cos_top100_n10000.ivecs", 200)
    } else {
        (390_000, "glove50_gt_cos_top100_n390000.ivecs", 1_000)
    };
    let (dim, base) = read_vecs(&dir.join("glove50_base.fvecs"), base_rows)?;
    let (_, queries) = read_vecs(&dir.join("glove50_query.fvecs"), query_count)?;
    let (truth_columns, truth) = read_vecs(&dir.join(truth_file), query_count)?;
    Ok(Dataset {
        name: "glove",
        metric: Metric::Cosine,
        dim,
        base: words_as_f32(&base),
        queries: words_as_f32(&queries),
        truth: words_as_u32(&truth)
            .chunks_exact(truth_columns)
            .map(|row| row[..K].to_vec())
            .collect(),
    })
}

/// The exact top-K accepted base rows of every query, by brute force (ties to lower ids).
pub(crate) fn exact_truth(
    dataset: &Dataset,
    accept: &(dyn Fn(u32) -> bool + Sync),
) -> Vec<Vec<u32>> {
    (0..dataset.query_count())
        .into_par_iter()
        .map(|query| {
            let query = dataset.query(query);
            let mut scored: Vec<(f32, u32)> = dataset
                .base
                .chunks_exact(dataset.dim)
                .enumerate()
                .filter(|&(row, _)| accept(row as u32))
                .map(|(row, vector)| (distance(dataset.metric, query, vector), row as u32))
                .collect();
            let keep = K.min(scored.len());
            if keep > 0 && keep < scored.len() {
                scored.select_nth_unstable_by(keep - 1, |a, b| {
                    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
                });
            }
            scored.truncate(keep);
            scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            scored.into_iter().map(|(_, row)| row).collect()
        })
        .collect()
}
