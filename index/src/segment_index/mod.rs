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
//! Structures: today every index is a [`FlatIndex`] (exact scan) whichever [`IndexMethod`] was
//! asked for; HNSW and IVF bodies will be added as new structure codes in the same file
//! header ([`FileHeader`]), and files written now stay readable.
//!
//! Threads: building and large searches use the current rayon pool (the global one unless
//! the caller installs another); nothing here spawns threads or takes locks.

mod error;
mod flat;
mod format;
mod memory_store;
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
pub use memory_store::InMemoryVectorStore;
pub use spec::{
    IndexMethod, SegmentIndexSpec, DEFAULT_HNSW_EF_CONSTRUCTION, DEFAULT_HNSW_M, MAX_INDEX_OPTIONS,
    MAX_OPTION_TEXT_BYTES,
};

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

    /// The k nearest vectors to `query` among offsets for which `accept(offset)` is true,
    /// nearest first, as (offset, distance).
    /// Must return min(k, number of accepted non-NULL vectors) results: a filter must never
    /// make it return fewer.
    ///
    /// Distances are the ORDER BY keys of the spec's metric ([`crate::distance::distance`]);
    /// ties are broken by offset and NaN distances come last. A query whose length is not
    /// `spec().dim` yields no rows; use [`SegmentIndex::try_search`] to get an error instead.
    fn search(&self, query: &[f32], k: usize, accept: &dyn Fn(u32) -> bool) -> Vec<(u32, f32)>;

    /// [`SegmentIndex::search`] that rejects a query of the wrong dimension.
    fn try_search(
        &self,
        query: &[f32],
        k: usize,
        accept: &dyn Fn(u32) -> bool,
    ) -> Result<Vec<(u32, f32)>, IndexError> {
        let expected = self.spec().dim;
        if query.len() != expected {
            return Err(IndexError::DimensionMismatch {
                expected,
                actual: query.len(),
            });
        }
        Ok(self.search(query, k, accept))
    }
}

/// Build the index for all vectors of `store` and write it to `path` atomically (write
/// `path.tmp`, fsync, rename, fsync dir).
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
    flat::write_flat_index(spec, store, path)
}

/// Open (memory-map) an index file written by build_segment_index, searching over `store`.
///
/// Errors name `path`: [`IndexError::Io`] if it cannot be read, [`IndexError::Corrupt`] for a
/// bad magic, checksum or length, [`IndexError::UnsupportedVersion`] for a newer format, and
/// [`IndexError::StoreMismatch`] when `store` is not the segment the index was built from.
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
    }
}
