//! Per-segment vector indexes: what the storage engine calls when it seals or compacts a
//! segment, and what the executor searches.
//!
//! Contract with the storage engine:
//! - A segment's vectors are exposed through [`VectorStore`]: row offsets `0..len()`, each a
//!   `dim()`-dimensional vector or NULL. The store is immutable for the life of the index.
//! - [`build_segment_index`] writes one self-describing file per index and segment,
//!   atomically (`path.tmp`, fsync, rename, fsync directory). The file records the spec,
//!   including the method and options `CREATE INDEX` asked for.
//! - [`open_segment_index`] memory-maps that file and checks it (magic, version, checksums,
//!   length) and that the store is the segment it was built for. Index files are never
//!   modified in place: the mapping assumes nobody writes to the file while it is open.
//! - [`SegmentIndex::search`] returns exactly `min(k, accepted non-NULL rows)` rows, nearest
//!   first, whatever the filter: a filter never makes a search return fewer rows than exist.
//!   Visibility (MVCC, deletes) and predicates (WHERE, RLS) reach the index only as `accept`.
//!
//! Structures ([`Structure`], recorded in the file header): [`FlatIndex`] (exact scan),
//! [`HnswIndex`] (a hierarchical navigable small-world graph) and [`IvfFlatIndex`] (k-means
//! lists). `CREATE INDEX ... USING hnsw` builds an HNSW graph and `USING ivfflat` IVF lists,
//! except for segments with fewer than [`BuildOptions::min_rows_for_approximate`] non-NULL
//! vectors, which are stored flat: scanning a few hundred vectors is as fast as walking a graph
//! and exact. Flat files written before HNSW and IVF existed stay readable.
//!
//! Search parameters ([`SearchParams`]): `hnsw.ef_search` and `ivfflat.probes`, as pgvector's
//! settings; the SQL layer passes the session's values to [`SegmentIndex::search_with`].
//!
//! Filters: HNSW first estimates how many rows `accept` lets through (by calling it on a
//! sample); when few qualify it scans the accepted rows exactly, otherwise it searches the
//! graph with the filter applied inside the traversal, its candidate list widened to
//! `ef_search / s` for an accepted fraction `s` (capped), until that many accepted nodes are found,
//! and falls back to an exact scan if the graph yields fewer than `k` or the search exceeds
//! its budget (`filter_plan.rs` has the cost model). IVF scans the `probes` nearest lists and
//! then further lists until `k` accepted rows are found; after the last list it is exact.
//!
//! Threads: building and large exact scans use the current rayon pool (the global one unless
//! the caller installs another); graph and list searches run on the calling thread. Nothing
//! here spawns threads. Searches keep per-thread scratch buffers (visited marks, heaps) in a
//! thread-local, so a search allocates almost nothing after a thread's first.

mod error;
mod filter_plan;
mod flat;
mod format;
mod hnsw;
mod ivf;
mod memory_store;
mod progress;
mod random;
mod spec;
#[cfg(test)]
mod tests;
mod top_k;

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

pub use crate::distance::Metric;
pub use error::IndexError;
pub use flat::{FlatIndex, PARALLEL_SCAN_MIN_ROWS, SCAN_CHUNK_ROWS};
pub use format::{FileHeader, Structure, FORMAT_VERSION, MAGIC, MAX_INDEXED_ROWS};
pub use hnsw::{HnswIndex, HNSW_BODY_VERSION};
pub use ivf::{IvfFlatIndex, DEFAULT_IVFFLAT_LISTS, IVF_BODY_VERSION};
pub use memory_store::InMemoryVectorStore;
pub use progress::{BuildPhase, BuildProgress, PROGRESS_STEP};
pub use spec::{
    IndexMethod, SegmentIndexSpec, DEFAULT_HNSW_EF_CONSTRUCTION, DEFAULT_HNSW_M, MAX_INDEX_OPTIONS,
    MAX_OPTION_TEXT_BYTES,
};

/// pgvector's default `hnsw.ef_search`.
pub const DEFAULT_EF_SEARCH: usize = 40;
/// pgvector's default `ivfflat.probes`.
pub const DEFAULT_PROBES: usize = 1;
/// Largest `hnsw.ef_search` pgvector accepts; larger values are clamped to it.
pub const MAX_EF_SEARCH: usize = 1000;
/// Segments with fewer non-NULL vectors than this are stored flat by default.
pub const MIN_ROWS_FOR_APPROXIMATE_INDEX: usize = 1000;

/// Per-query search settings: pgvector's `hnsw.ef_search` and `ivfflat.probes`.
///
/// `ef_search` is the size of the HNSW candidate list (the effective value is
/// `max(ef_search, k)`, clamped to `1..=MAX_EF_SEARCH` before that); `probes` is how many IVF
/// lists are scanned (clamped to `1..=lists`). Structures ignore the setting that is not
/// theirs. Neither limits how many rows a filtered search returns: that is always
/// `min(k, accepted non-NULL rows)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchParams {
    pub ef_search: usize,
    pub probes: usize,
}

impl Default for SearchParams {
    fn default() -> SearchParams {
        SearchParams {
            ef_search: DEFAULT_EF_SEARCH,
            probes: DEFAULT_PROBES,
        }
    }
}

/// How [`build_segment_index_with`] builds; [`build_segment_index`] uses the default.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Segments with fewer non-NULL vectors than this get a flat (exact-scan) file whatever
    /// the method; 0 always builds the structure the method names.
    pub min_rows_for_approximate: usize,
    /// Counters the build advances as it goes (see [`BuildProgress`]); none by default.
    pub progress: Option<Arc<BuildProgress>>,
}

impl Default for BuildOptions {
    fn default() -> BuildOptions {
        BuildOptions {
            min_rows_for_approximate: MIN_ROWS_FOR_APPROXIMATE_INDEX,
            progress: None,
        }
    }
}

/// Read access to a segment's vectors: row offset -> vector (None for a NULL vector).
///
/// Implementations return vectors of exactly `dim()` elements for offsets below `len()`, and
/// `None` for NULL rows and for offsets at or past `len()`.
pub trait VectorStore: Send + Sync {
    /// Dimensions of every non-NULL vector.
    fn dim(&self) -> usize;
    /// Number of row slots, NULL rows included.
    fn len(&self) -> usize;
    /// The vector at `offset`, or `None` when it is NULL or out of range.
    fn vector(&self, offset: u32) -> Option<&[f32]>;
    /// Whether the store has no rows at all.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A searchable index over one segment.
pub trait SegmentIndex: Send + Sync {
    /// What the index was built for, as recorded in its file.
    fn spec(&self) -> &SegmentIndexSpec;

    /// How the rows are organised (flat, HNSW graph, IVF lists), for EXPLAIN and tests.
    fn structure(&self) -> Structure;

    /// The k nearest vectors to `query` among offsets for which `accept(offset)` is true,
    /// nearest first, as (offset, distance), searched with `params`.
    ///
    /// Returns exactly min(k, number of accepted non-NULL vectors) results, whatever the
    /// filter's selectivity and the parameters: a filter never makes it return fewer. The
    /// rows are the exact k nearest for a flat index and approximately so (recall below 1)
    /// for HNSW and IVF, as in pgvector.
    ///
    /// Distances are the ORDER BY keys of the spec's metric ([`crate::distance::distance`],
    /// bit for bit); results are sorted by them, ties broken by offset, NaN distances last. A
    /// query whose length is not `spec().dim` yields no rows; use
    /// [`SegmentIndex::try_search_with`] to get an error instead.
    ///
    /// `accept` may be called more than once for an offset, in any order, on the calling
    /// thread only.
    fn search_with(
        &self,
        query: &[f32],
        k: usize,
        params: SearchParams,
        accept: &dyn Fn(u32) -> bool,
    ) -> Vec<(u32, f32)>;

    /// [`SegmentIndex::search_with`] with the default [`SearchParams`] (pgvector's defaults).
    fn search(&self, query: &[f32], k: usize, accept: &dyn Fn(u32) -> bool) -> Vec<(u32, f32)> {
        self.search_with(query, k, SearchParams::default(), accept)
    }

    /// [`SegmentIndex::search_with`] that rejects a query of the wrong dimension.
    fn try_search_with(
        &self,
        query: &[f32],
        k: usize,
        params: SearchParams,
        accept: &dyn Fn(u32) -> bool,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        let expected = self.spec().dim;
        if query.len() != expected {
            return Err(IndexError::DimensionMismatch {
                expected,
                actual: query.len(),
            });
        }
        Ok(self.search_with(query, k, params, accept))
    }

    /// [`SegmentIndex::search`] that rejects a query of the wrong dimension.
    fn try_search(
        &self,
        query: &[f32],
        k: usize,
        accept: &dyn Fn(u32) -> bool,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        self.try_search_with(query, k, SearchParams::default(), accept)
    }
}

/// Build the index for all vectors of `store` and write it to `path` atomically (write
/// `path.tmp`, fsync, rename, fsync dir), with the default [`BuildOptions`].
///
/// Fails with [`IndexError::InvalidSpec`] before touching the disk if the spec is invalid
/// (see [`SegmentIndexSpec::validate`]), if the store's dimension differs from the spec's, or
/// if it has more than [`MAX_INDEXED_ROWS`] rows; with [`IndexError::DimensionMismatch`] if a
/// stored vector has the wrong length. An existing file at `path` is replaced only on success.
pub fn build_segment_index(
    spec: &SegmentIndexSpec,
    store: &dyn VectorStore,
    path: &Path,
) -> Result<(), IndexError> {
    build_segment_index_with(spec, store, path, &BuildOptions::default())
}

/// [`build_segment_index`] with explicit [`BuildOptions`].
///
/// The structure follows the method: HNSW for `hnsw`, IVF lists for `ivfflat`, flat when the
/// segment has fewer than `options.min_rows_for_approximate` non-NULL vectors. Building runs
/// on the current rayon pool; the result does not depend on the number of threads.
pub fn build_segment_index_with(
    spec: &SegmentIndexSpec,
    store: &dyn VectorStore,
    path: &Path,
    options: &BuildOptions,
) -> Result<(), IndexError> {
    spec.validate()?;
    if store.dim() != spec.dim {
        return Err(IndexError::InvalidSpec(format!(
            "the index is for {}-dimensional vectors, the segment holds {}-dimensional ones",
            spec.dim,
            store.dim()
        )));
    }
    if store.len() > MAX_INDEXED_ROWS {
        return Err(IndexError::InvalidSpec(format!(
            "a segment index covers at most {MAX_INDEXED_ROWS} rows, the segment has {}",
            store.len()
        )));
    }
    let progress = options.progress.as_deref();
    if let Some(progress) = progress {
        progress.start(store.len() as u64);
    }
    let rows = format::classify_rows(spec, store)?;
    let written =
        if rows.indexed.is_empty() || rows.indexed.len() < options.min_rows_for_approximate {
            progress::set_phase(progress, BuildPhase::LoadingTuples);
            flat::write_flat_index(spec, store, path)
        } else {
            // NULL rows and side rows need no work.
            progress::advance(progress, (store.len() - rows.indexed.len()) as u64);
            match spec.method {
                IndexMethod::Hnsw => hnsw::write_hnsw_index(spec, store, &rows, path, progress),
                IndexMethod::IvfFlat => ivf::write_ivf_index(spec, store, &rows, path, progress),
            }
        };
    if written.is_ok() {
        if let Some(progress) = progress {
            progress.finish();
        }
    }
    written
}

/// Open (memory-map) an index file written by build_segment_index, searching over `store`.
///
/// Errors name `path`: [`IndexError::Io`] if it cannot be read, [`IndexError::Corrupt`] for a
/// bad magic, checksum, length or structure, [`IndexError::UnsupportedVersion`] for a newer
/// format, and [`IndexError::StoreMismatch`] when `store` is not the segment the index was
/// built from.
pub fn open_segment_index(
    path: &Path,
    store: Arc<dyn VectorStore>,
) -> Result<Box<dyn SegmentIndex>, IndexError> {
    let file = File::open(path).map_err(|error| IndexError::io(path, error))?;
    // SAFETY: index files are written once (to a temporary name, then renamed) and never
    // modified afterwards; custos only deletes them after the segment is dropped, which
    // unlinks the name but keeps the mapped pages valid. Outside writers are not supported.
    let mapping = unsafe { Mmap::map(&file) }.map_err(|error| IndexError::io(path, error))?;
    let (header, body_start) = FileHeader::decode(path, &mapping)?;
    match header.structure {
        Structure::Flat => Ok(Box::new(FlatIndex::open(
            path, header, body_start, mapping, store,
        )?)),
        Structure::Hnsw => Ok(Box::new(HnswIndex::open(
            path, header, body_start, mapping, store,
        )?)),
        Structure::IvfFlat => Ok(Box::new(IvfFlatIndex::open(
            path, header, body_start, mapping, store,
        )?)),
    }
}
