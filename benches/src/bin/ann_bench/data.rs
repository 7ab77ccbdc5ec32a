//! The data sets of `ann_bench`, read in place from `../shared/data`: `.npy` and TEXMEX
//! `.fvecs`/`.ivecs` readers, the three loaders, exact ground truth by brute force, and the
//! `.npy` writer that hands data to the Python baselines.

use std::io::Write;
use std::path::Path;

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

/// A 2-d little-endian `.npy` array of `<f4` or `<i4` values: (rows, columns, raw values).
pub(crate) fn read_npy(path: &Path) -> BenchResult<(usize, usize, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(format!("{} is not a .npy file", path.display()).into());
    }
    let (header_length, header_start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&bytes[header_start..header_start + header_length])?;
    if !(header.contains("'<f4'") || header.contains("'<i4'"))
        || header.contains("'fortran_order': True")
    {
        return Err(format!("{}: unsupported array {header}", path.display()).into());
    }
    let shape_start = header.find("'shape': (").ok_or("no shape")? + "'shape': (".len();
    let shape_end = shape_start + header[shape_start..].find(')').ok_or("bad shape")?;
    let dims: Vec<usize> = header[shape_start..shape_end]
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let (rows, columns) = match dims.as_slice() {
        [rows, columns] => (*rows, *columns),
        [rows] => (*rows, 1),
        _ => return Err(format!("{}: shape {dims:?}", path.display()).into()),
    };
    let data = bytes[header_start + header_length..].to_vec();
    if data.len() != rows * columns * 4 {
        return Err(format!(
            "{}: {} data bytes for {rows}x{columns}",
            path.display(),
            data.len()
        )
        .into());
    }
    Ok((rows, columns, data))
}

pub(crate) fn words_as_f32(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4)
        .map(|word| f32::from_le_bytes([word[0], word[1], word[2], word[3]]))
        .collect()
}

pub(crate) fn words_as_u32(data: &[u8]) -> Vec<u32> {
    data.chunks_exact(4)
        .map(|word| u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
        .collect()
}

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

/// Writes a 2-d `.npy` file of `<f4` or `<i4` words.
pub(crate) fn write_npy(
    path: &Path,
    descr: &str,
    rows: usize,
    columns: usize,
    words: &[[u8; 4]],
) -> BenchResult<()> {
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all(b"\x93NUMPY\x01\x00")?;
    file.write_all(&(header.len() as u16).to_le_bytes())?;
    file.write_all(header.as_bytes())?;
    for word in words {
        file.write_all(word)?;
    }
    file.flush()?;
    Ok(())
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
