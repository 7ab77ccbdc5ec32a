//! The flat (exact-scan) segment index, built for segments too small for a graph or lists,
//! and the exact scan ([`exact_top_k`]) that HNSW and IVF fall back to for very selective
//! filters.
//!
//! Search compares the query with every accepted, non-NULL vector of the segment using the
//! process's selected kernels, and keeps the best `k` in a bounded heap ([`TopK`]). Its
//! distances are bit-for-bit those of [`crate::distance::distance`] (for cosine, the stored
//! squared norms come from the same `dot` kernel that `cosine_parts` agrees with), so an index
//! scan and a sequential scan order rows identically. Rows whose distance is NaN (cosine with
//! a zero vector) sort last but still count towards `k`, as in `ORDER BY`.
//!
//! Threads: segments of fewer than [`PARALLEL_SCAN_MIN_ROWS`] rows are scanned on the
//! calling thread, calling `accept` inline. Larger ones first evaluate `accept` for every row
//! on the calling thread (the predicate is not `Sync`), then scan chunks of
//! [`SCAN_CHUNK_ROWS`] on the current rayon pool and merge the per-chunk heaps.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use rayon::prelude::*;

use super::format::{body_offset, write_atomically, FileHeader, Structure};
use super::top_k::{Neighbor, TopK};
use super::{IndexError, SearchParams, SegmentIndex, SegmentIndexSpec, VectorStore};
use crate::distance::{self, kernels, CosineParts, Kernels, Metric};

/// Segments with at least this many rows are scanned in parallel.
pub const PARALLEL_SCAN_MIN_ROWS: usize = 50_000;
/// Rows per parallel scan task.
pub const SCAN_CHUNK_ROWS: usize = 16_384;

/// An open flat index over one segment's vectors.
///
/// Body of a flat index file, format version 1, starting at the body offset given by the
/// header ([`FileHeader`]); little-endian:
///
/// ```text
/// offset      size           field
///      0      4 × rows       squared norm Σ v[i]² of each row as f32, NaN for NULL rows;
///                            present only when the metric is cosine (0 bytes otherwise)
///    end      4              CRC32C of the body bytes before it
/// ```
///
/// The file ends right after the body CRC; a longer or shorter file is corrupt.
pub struct FlatIndex {
    path: PathBuf,
    spec: SegmentIndexSpec,
    store: Arc<dyn VectorStore>,
    mapping: Mmap,
    /// Byte range of the stored squared norms inside `mapping` (empty unless cosine).
    squared_norms: Range<usize>,
    row_count: u32,
}

impl std::fmt::Debug for FlatIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FlatIndex")
            .field("path", &self.path)
            .field("spec", &self.spec)
            .field("row_count", &self.row_count)
            .finish()
    }
}

/// Writes a flat index file for every vector of `store` (spec and store already checked).
pub(super) fn write_flat_index(
    spec: &SegmentIndexSpec,
    store: &dyn VectorStore,
    path: &Path,
) -> Result<(), IndexError> {
    let row_count = store.len();
    let header = FileHeader {
        structure: Structure::Flat,
        spec: spec.clone(),
        row_count: row_count as u64,
    };
    let header_bytes = header.encode()?;
    let padding = body_offset(header_bytes.len()) - header_bytes.len();
    let squared_norms = squared_norms_for_body(spec, store)?;
    write_atomically(path, |writer| {
        use std::io::Write;
        writer.write_all(&header_bytes)?;
        writer.write_all(&[0u8; 8][..padding])?;
        let mut body_crc = 0u32;
        for norms in squared_norms.chunks(4096) {
            let bytes: Vec<u8> = norms.iter().flat_map(|norm| norm.to_le_bytes()).collect();
            body_crc = crc32c::crc32c_append(body_crc, &bytes);
            writer.write_all(&bytes)?;
        }
        writer.write_all(&body_crc.to_le_bytes())
    })
}

/// Checks every stored vector's dimension and, for cosine, computes its squared norm.
fn squared_norms_for_body(
    spec: &SegmentIndexSpec,
    store: &dyn VectorStore,
) -> Result<Vec<f32>, IndexError> {
    let dot = kernels().dot;
    let row_count = store.len() as u32;
    let squared_norm = |offset: u32| -> Result<f32, IndexError> {
        match store.vector(offset) {
            None => Ok(f32::NAN),
            Some(vector) if vector.len() != spec.dim => Err(IndexError::DimensionMismatch {
                expected: spec.dim,
                actual: vector.len(),
            }),
            Some(vector) => Ok(dot(vector, vector)),
        }
    };
    if spec.metric == Metric::Cosine {
        (0..row_count).into_par_iter().map(squared_norm).collect()
    } else {
        (0..row_count)
            .into_par_iter()
            .try_for_each(|offset| squared_norm(offset).map(drop))?;
        Ok(Vec::new())
    }
}

impl FlatIndex {
    /// Checks the body of a mapped flat index file and that `store` is the segment it was
    /// built for.
    pub(super) fn open(
        path: &Path,
        header: FileHeader,
        body_start: usize,
        mapping: Mmap,
        store: Arc<dyn VectorStore>,
    ) -> Result<FlatIndex, IndexError> {
        debug_assert_eq!(header.structure, Structure::Flat);
        let corrupt = |reason: String| IndexError::corrupt(path, reason);
        let row_count = u32::try_from(header.row_count)
            .map_err(|_| corrupt(format!("row count {} too large", header.row_count)))?;
        let norms_length = if header.spec.metric == Metric::Cosine {
            4 * row_count as usize
        } else {
            0
        };
        let expected_length = body_start + norms_length + 4;
        if mapping.len() != expected_length {
            let problem = if mapping.len() < expected_length {
                "truncated"
            } else {
                "trailing bytes"
            };
            return Err(corrupt(format!(
                "{problem}: {} bytes, a flat index of {row_count} rows has {expected_length}",
                mapping.len()
            )));
        }
        let squared_norms = body_start..body_start + norms_length;
        let stored_crc = read_u32_le(&mapping, squared_norms.end).unwrap_or_default();
        let computed_crc = crc32c::crc32c(&mapping[squared_norms.clone()]);
        if stored_crc != computed_crc {
            return Err(corrupt(format!(
                "body checksum mismatch (stored {stored_crc:#010x}, computed {computed_crc:#010x})"
            )));
        }
        let mismatch = |reason: String| IndexError::StoreMismatch {
            path: path.to_path_buf(),
            reason,
        };
        if store.dim() != header.spec.dim {
            return Err(mismatch(format!(
                "index has {} dimensions, segment vectors have {}",
                header.spec.dim,
                store.dim()
            )));
        }
        if store.len() != row_count as usize {
            return Err(mismatch(format!(
                "index covers {row_count} rows, segment has {}",
                store.len()
            )));
        }
        Ok(FlatIndex {
            path: path.to_path_buf(),
            spec: header.spec,
            store,
            mapping,
            squared_norms,
            row_count,
        })
    }
}

impl SegmentIndex for FlatIndex {
    fn spec(&self) -> &SegmentIndexSpec {
        &self.spec
    }

    fn structure(&self) -> Structure {
        Structure::Flat
    }

    fn search_with(
        &self,
        query: &[f32],
        k: usize,
        _params: SearchParams,
        accept: &dyn Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        if k == 0 || query.len() != self.spec.dim {
            return Vec::new();
        }
        let squared_norms = &self.mapping[self.squared_norms.clone()];
        exact_top_k(
            self.store.as_ref(),
            self.spec.metric,
            query,
            squared_norms,
            k,
            accept,
        )
        .into_sorted()
        .into_iter()
        .map(|neighbor| (neighbor.offset, neighbor.distance))
        .collect()
    }
}

/// The exact top `k` accepted non-NULL rows of `store` for `query`: every row is compared.
///
/// `squared_norms` holds the rows' little-endian `f32` squared norms for cosine (the flat
/// body), or is empty, in which case they are computed; either way the distances equal
/// [`crate::distance::distance`]. Segments of at least [`PARALLEL_SCAN_MIN_ROWS`] rows are
/// scanned in parallel after `accept` has been evaluated for every row on this thread.
pub(super) fn exact_top_k(
    store: &dyn VectorStore,
    metric: Metric,
    query: &[f32],
    squared_norms: &[u8],
    k: usize,
    accept: &dyn Fn(u32) -> bool,
) -> TopK {
    let scorer = QueryScorer::new(kernels(), metric, query, squared_norms);
    let row_count = store.len() as u32;
    if (row_count as usize) < PARALLEL_SCAN_MIN_ROWS {
        return scan(store, &scorer, 0..row_count, k, accept);
    }
    let accepted = AcceptedRows::evaluate(row_count, accept);
    let chunk_count = (row_count as usize).div_ceil(SCAN_CHUNK_ROWS);
    (0..chunk_count)
        .into_par_iter()
        .map(|chunk| {
            let start = (chunk * SCAN_CHUNK_ROWS) as u32;
            let end = start.saturating_add(SCAN_CHUNK_ROWS as u32).min(row_count);
            scan(store, &scorer, start..end, k, |offset| {
                accepted.contains(offset)
            })
        })
        .reduce(|| TopK::new(k, 0), TopK::merge)
}

/// The top `k` accepted rows of `rows`, scanned on this thread.
fn scan(
    store: &dyn VectorStore,
    scorer: &QueryScorer<'_>,
    rows: Range<u32>,
    k: usize,
    accept: impl Fn(u32) -> bool,
) -> TopK {
    let mut top = TopK::new(k, rows.len());
    for offset in rows {
        let Some(vector) = store.vector(offset) else {
            continue;
        };
        if accept(offset) {
            top.offer(Neighbor {
                distance: scorer.distance(offset, vector),
                offset,
            });
        }
    }
    top
}

fn read_u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    let field = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([field[0], field[1], field[2], field[3]]))
}

/// One query's distance computation against stored rows, with per-query work done once.
pub(super) struct QueryScorer<'a> {
    kernels: &'static Kernels,
    metric: Metric,
    query: &'a [f32],
    /// `Σ query[i]²` from the `dot` kernel (cosine only).
    query_squared_norm: f32,
    /// Little-endian `f32` squared norms of the rows (cosine only; empty otherwise).
    stored_squared_norms: &'a [u8],
}

impl<'a> QueryScorer<'a> {
    pub(super) fn new(
        kernels: &'static Kernels,
        metric: Metric,
        query: &'a [f32],
        stored_squared_norms: &'a [u8],
    ) -> QueryScorer<'a> {
        let query_squared_norm = if metric == Metric::Cosine {
            (kernels.dot)(query, query)
        } else {
            0.0
        };
        QueryScorer {
            kernels,
            metric,
            query,
            query_squared_norm,
            stored_squared_norms,
        }
    }

    /// The ORDER BY key of `vector`, equal to `distance(metric, query, vector)`; `position`
    /// indexes the stored squared norms (the row offset for a flat body, the entry for IVF).
    #[inline]
    pub(super) fn distance(&self, position: u32, vector: &[f32]) -> f32 {
        let kernels = self.kernels;
        if vector.len() != self.query.len() {
            // Only a store that breaks its `dim()` promise gets here; such a row sorts last.
            return f32::NAN;
        }
        let key = match self.metric {
            Metric::L2 => distance::finish_l2((kernels.l2_squared)(self.query, vector)),
            Metric::InnerProduct => {
                distance::finish_negative_inner_product((kernels.dot)(self.query, vector))
            }
            Metric::L1 => f64::from((kernels.l1)(self.query, vector)),
            Metric::Cosine => {
                let parts = match read_u32_le(self.stored_squared_norms, position as usize * 4) {
                    Some(stored) => CosineParts {
                        dot: (kernels.dot)(self.query, vector),
                        left_squared_norm: self.query_squared_norm,
                        right_squared_norm: f32::from_bits(stored),
                    },
                    // No stored norm: one fused pass, bit-for-bit the three dot products.
                    None => (kernels.cosine_parts)(self.query, vector),
                };
                distance::finish_cosine(parts)
            }
        };
        key as f32
    }
}

/// The rows a predicate accepted, evaluated once so that worker threads need not call it.
struct AcceptedRows {
    words: Vec<u64>,
}

impl AcceptedRows {
    fn evaluate(row_count: u32, accept: &dyn Fn(u32) -> bool) -> AcceptedRows {
        let mut words = vec![0u64; (row_count as usize).div_ceil(64)];
        for offset in 0..row_count {
            if accept(offset) {
                words[offset as usize / 64] |= 1 << (offset % 64);
            }
        }
        AcceptedRows { words }
    }

    #[inline]
    fn contains(&self, offset: u32) -> bool {
        self.words
            .get(offset as usize / 64)
            .is_some_and(|word| word & (1 << (offset % 64)) != 0)
    }
}
