//! Immutable segments: a sealed set of rows of one table, in one directory.
//!
//! A checkpoint seals a memtable with [`write_segment`]; compaction writes merged segments the
//! same way. Once written, a segment is never modified: readers [`Segment::open`] it and
//! memory-map its files, and it disappears only when compaction unlinks the whole directory.
//!
//! - [`writer`]: the crash-safe write, and the byte layout of every file (format version 1).
//! - [`format`]: the `meta` file and vector file header in memory and their encoding.
//! - [`reader`]: opening, verifying and reading a segment.
//!
//! Rows are addressed inside a segment by their offset (`u32`, the position in row-id order);
//! [`Segment::offset_of`] maps a row id to it. Scalar columns are zstd-compressed blocks of
//! [`BLOCK_ROWS`] rows with min/max/NULL-count statistics per block; vector columns whose values
//! share one dimension are raw little-endian `f32`, 64-byte aligned, served zero-copy to the
//! vector indexes of `index/` through [`Segment::vector_store`].

pub mod block_cache;
pub mod format;
pub mod reader;
pub mod writer;

#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use format::{BLOCK_ROWS, SEGMENT_FORMAT_VERSION};
pub use reader::Segment;
pub use writer::{tmp_dir_of, write_segment};

use crate::types::{DataType, Value};

/// A column stored in a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentColumn {
    pub attnum: u16,
    pub data_type: DataType,
}

/// The rows to seal into a segment.
#[derive(Debug, Clone, Copy)]
pub struct SegmentInput<'a> {
    /// The table's live columns at seal time, in increasing attnum order.
    pub columns: &'a [SegmentColumn],
    /// Strictly increasing.
    pub row_ids: &'a [u64],
    /// The LSN that inserted each row; same length as `row_ids`.
    pub insert_lsns: &'a [u64],
    /// `rows[i][attnum - 1]` is the value of column `attnum`; a row shorter than an attnum is
    /// NULL there (the caller has already substituted missing values).
    pub rows: &'a [&'a [Value]],
}

/// Statistics of one block of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockStats {
    pub rows: usize,
    pub null_count: usize,
    /// Least and greatest non-NULL value by `Value`'s order; `None` when all are NULL.
    pub min: Option<Value>,
    pub max: Option<Value>,
}

/// The raw vectors of one column of a segment, as `index/` sees them.
struct SegmentVectors {
    segment: Arc<Segment>,
    /// Position of the column in the segment's column list.
    column: usize,
    dim: usize,
}

impl index::segment_index::VectorStore for SegmentVectors {
    fn dim(&self) -> usize {
        self.dim
    }

    fn len(&self) -> usize {
        self.segment.row_count()
    }

    fn vector(&self, offset: u32) -> Option<&[f32]> {
        self.segment.vector_of_column(self.column, offset)
    }
}
