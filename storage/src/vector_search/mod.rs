//! Nearest-neighbour search over one table at a transaction's snapshot: what the SQL layer
//! runs for `ORDER BY column <op> query LIMIT k`.
//!
//! Contract of [`Transaction::vector_search`]: it returns the `k` rows of the table nearest to
//! the query among the rows this transaction sees (committed at its snapshot, not deleted by
//! it, its own inserts included) that pass the caller's filter, nearest first (ties by row
//! id, NaN distances after the others). When fewer than `k` rows with a vector qualify, the
//! qualifying rows whose vector is NULL follow, in row-id order, as a sort with `NULLS LAST`
//! puts them; with a NULL query every qualifying row has a NULL distance. So the result has
//! exactly `min(k, qualifying rows)` rows, whatever the filter's selectivity.
//!
//! Where rows live decides how they are searched:
//! - a sealed segment with a file for the requested vector index is searched through it
//!   ([`SegmentIndex::search_with`]); visibility and the filter reach the index as its
//!   `accept(offset)` callback, so invisible, deleted and filtered-out rows never take a
//!   result slot. The index returns `min(k, accepted rows)`, approximately the nearest;
//! - segments without such a file (no index requested, or one still being built), memtables
//!   and the transaction's own rows are searched exactly: distances are computed from the
//!   raw `f32` vectors (segments in parallel chunks on rayon's pool), then the candidates
//!   are visited nearest first and the filter is asked about each until `k` pass.
//!
//! The filter is the caller's closure over a row of the table's width in which only
//! [`VectorQuery::filter_columns`] are filled in (the others are NULL). It runs on the
//! calling thread only. Its first error stops the search (every later `accept` says no) and
//! is returned.
//!
//! Distances are the ORDER BY keys of the metric's operator as `index::distance::distance`
//! computes them in `f32` (cosine distance for `<=>`, negative inner product for `<#>`...);
//! callers that need the SQL operator's `f64` value recompute it for the returned rows.
//!
//! Layout: this module holds the query, the hits, the candidate order and the search's
//! driver; `scan` searches each part of the table (a segment through its index file, the
//! other parts exactly); `qualify` decides which rows qualify (visibility, the filter) and
//! reads the returned rows.

mod qualify;
mod scan;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use index::distance::{Metric, VectorMathError};
use index::segment_index::{SearchParams, VectorStore};

use crate::catalog::{AttNum, TableDef};
use crate::error::StorageError;
use crate::memtable::Memtable;
use crate::table::SegmentSlot;
use crate::txn::Transaction;
use crate::types::{Row, Value};

/// Segment rows per parallel task of an exact scan.
const EXACT_CHUNK_ROWS: usize = 4096;

/// Segments or memtables with fewer rows than this are scanned on the calling thread.
const PARALLEL_MIN_ROWS: usize = 16_384;

/// A nearest-neighbour query over one table.
#[derive(Debug, Clone)]
pub struct VectorQuery<'a> {
    pub table: u32,
    /// The vector column searched.
    pub column: AttNum,
    /// The vector index (catalog OID) whose per-segment files to search; `None` searches
    /// exactly. It must be an index on `column` whose metric is `metric`.
    pub index: Option<u32>,
    pub metric: Metric,
    /// The query vector; `None` for a NULL query (every distance is NULL).
    pub vector: Option<&'a [f32]>,
    pub k: usize,
    pub params: SearchParams,
    /// Columns the filter reads; the row it is given has these filled in, the rest NULL.
    pub filter_columns: Vec<AttNum>,
}

/// One row of the result.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorHit {
    pub row_id: u64,
    /// The metric's distance; `None` when the row's vector (or the query) is NULL.
    pub distance: Option<f32>,
    /// The whole row, widened to the table's columns.
    pub row: Row,
}

/// The caller's row filter: whether a row qualifies, or why it could not tell.
pub type RowFilter<'f, E> = dyn Fn(&[Value]) -> Result<bool, E> + 'f;

/// Where a candidate row is, in the layout the search loaded.
#[derive(Debug, Clone, Copy)]
enum Place {
    Segment { slot: u32, offset: u32 },
    Memtable { memtable: u32, position: u32 },
    Pending { position: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    distance: f32,
    row_id: u64,
    place: Place,
}

/// Nearest first, NaN after every number, ties by row id.
fn nearer(a: &Candidate, b: &Candidate) -> Ordering {
    let by_distance = match (a.distance.is_nan(), b.distance.is_nan()) {
        (false, false) => a
            .distance
            .partial_cmp(&b.distance)
            .unwrap_or(Ordering::Equal),
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
    };
    by_distance.then(a.row_id.cmp(&b.row_id))
}

/// Keeps the `keep` nearest candidates of `candidates` (all of them when there are fewer).
fn keep_nearest(candidates: &mut Vec<Candidate>, keep: usize) {
    if candidates.len() > keep {
        if keep == 0 {
            candidates.clear();
            return;
        }
        candidates.select_nth_unstable_by(keep - 1, nearer);
        candidates.truncate(keep);
    }
}

/// How to read the vectors of one segment's column.
enum SegmentVectors {
    /// Raw aligned `f32` rows (columns declared with dimensions).
    Raw(Arc<dyn VectorStore>),
    /// Stored as values (a `vector` column without dimensions).
    Values,
    /// The segment predates the column: every row has the column's missing value.
    Missing(Option<Vec<f32>>),
}

impl Transaction {
    /// The `query.k` nearest rows of `query.table` that this transaction sees and `filter`
    /// accepts; see the module documentation for the exact contract.
    pub fn vector_search<E>(
        &self,
        query: &VectorQuery,
        filter: Option<&RowFilter<'_, E>>,
    ) -> Result<Vec<VectorHit>, E>
    where
        E: From<StorageError> + From<VectorMathError>,
    {
        let catalog = self.catalog();
        let def = catalog
            .tables
            .get(&query.table)
            .ok_or(StorageError::NoSuchTable(query.table))?;
        if def.column(query.column).is_none_or(|c| c.dropped) {
            return Err(StorageError::InvalidValue(format!(
                "table {} has no column {}",
                def.name, query.column
            ))
            .into());
        }
        if query.k == 0 {
            return Ok(Vec::new());
        }
        let (store, deleted, pending) = self.read_view(query.table);
        let version = store.map(|s| s.load());
        let search = Search {
            def,
            query,
            snapshot: self.snapshot_lsn(),
            deleted,
            pending,
            segments: version
                .as_ref()
                .map(|v| v.segments.clone())
                .unwrap_or_default(),
            memtables: version
                .as_ref()
                .map(|v| v.memtables().cloned().collect())
                .unwrap_or_default(),
            filter,
            failure: RefCell::new(None),
            scratch: RefCell::new(vec![Value::Null; def.columns.len()]),
        };
        search.run()
    }
}

/// One search: the layout it reads and the filter's state.
struct Search<'s, E> {
    def: &'s TableDef,
    query: &'s VectorQuery<'s>,
    snapshot: u64,
    deleted: Option<&'s BTreeSet<u64>>,
    pending: &'s [Option<Row>],
    segments: Vec<Arc<SegmentSlot>>,
    memtables: Vec<Arc<Memtable>>,
    filter: Option<&'s RowFilter<'s, E>>,
    /// The filter's first error.
    failure: RefCell<Option<E>>,
    /// The row handed to the filter for segment rows.
    scratch: RefCell<Row>,
}

impl<E> Search<'_, E>
where
    E: From<StorageError> + From<VectorMathError>,
{
    fn run(&self) -> Result<Vec<VectorHit>, E> {
        let k = self.query.k;
        let mut nearest = match self.query.vector {
            Some(vector) => self.nearest(vector)?,
            None => Vec::new(),
        };
        let mut hits = Vec::with_capacity(nearest.len().min(k));
        nearest.sort_unstable_by(nearer);
        for candidate in nearest.into_iter().take(k) {
            hits.push(VectorHit {
                row_id: candidate.row_id,
                distance: Some(candidate.distance),
                row: self.read_row(candidate.place)?,
            });
        }
        if hits.len() < k {
            let need = k - hits.len();
            for (row_id, place) in self.rows_without_distance(need)? {
                hits.push(VectorHit {
                    row_id,
                    distance: None,
                    row: self.read_row(place)?,
                });
            }
        }
        Ok(hits)
    }

    /// Up to `k` nearest qualifying rows of every part of the table (unsorted).
    fn nearest(&self, vector: &[f32]) -> Result<Vec<Candidate>, E> {
        let k = self.query.k;
        let mut exact: Vec<Candidate> = Vec::new();
        let mut found: Vec<Candidate> = Vec::new();
        // Without a filter every visible candidate qualifies: each part keeps only its k best.
        let keep = if self.filter.is_some() { usize::MAX } else { k };
        for (slot_index, slot) in self.segments.iter().enumerate() {
            let index = self
                .query
                .index
                .and_then(|oid| slot.vector_indexes.read().get(&oid).cloned());
            match index {
                Some(index) => {
                    found.extend(self.search_index(slot_index as u32, slot, &*index, vector)?)
                }
                None => exact.extend(self.exact_segment(slot_index as u32, slot, vector, keep)?),
            }
        }
        for (memtable_index, memtable) in self.memtables.iter().enumerate() {
            exact.extend(self.exact_memtable(memtable_index as u32, memtable, vector, keep)?);
        }
        exact.extend(self.exact_pending(vector)?);
        found.extend(self.take_qualifying(exact, k)?);
        Ok(found)
    }
}
