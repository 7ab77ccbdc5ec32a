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

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use index::distance::{distance, Metric, VectorMathError};
use index::segment_index::{SearchParams, SegmentIndex, VectorStore};
use rayon::prelude::*;

use crate::catalog::{AttNum, TableDef};
use crate::error::StorageError;
use crate::memtable::Memtable;
use crate::table::{read_segment_row, widen, SegmentSlot};
use crate::txn::{Transaction, PENDING_ROW_BIT};
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

    /// Searches one segment through its index file, visibility and filter as `accept`.
    fn search_index(
        &self,
        slot_index: u32,
        slot: &SegmentSlot,
        index: &dyn SegmentIndex,
        vector: &[f32],
    ) -> Result<Vec<Candidate>, E> {
        let expected = index.spec().dim;
        if expected != vector.len() {
            return Err(VectorMathError::DimensionMismatch {
                left: expected,
                right: vector.len(),
            }
            .into());
        }
        let ids = slot.segment.row_ids();
        let accept = |offset: u32| -> bool {
            if !slot.visible_at(offset, self.snapshot) {
                return false;
            }
            let Some(&row_id) = ids.get(offset as usize) else {
                return false;
            };
            if self.deleted.is_some_and(|d| d.contains(&row_id)) {
                return false;
            }
            self.qualifies(Place::Segment {
                slot: slot_index,
                offset,
            })
        };
        // A segment cannot return more rows than it has (LIMIT may be huge).
        let k = self.query.k.min(slot.segment.row_count());
        let hits = index.search_with(vector, k, self.query.params, &accept);
        self.check_failure()?;
        Ok(hits
            .into_iter()
            .filter_map(|(offset, distance)| {
                Some(Candidate {
                    distance,
                    row_id: *ids.get(offset as usize)?,
                    place: Place::Segment {
                        slot: slot_index,
                        offset,
                    },
                })
            })
            .collect())
    }

    /// Distances of every visible, non-NULL row of a segment (the `keep` nearest of each
    /// chunk), computed in parallel for large segments.
    fn exact_segment(
        &self,
        slot_index: u32,
        slot: &Arc<SegmentSlot>,
        vector: &[f32],
        keep: usize,
    ) -> Result<Vec<Candidate>, E> {
        let rows = slot.segment.row_count();
        let source = self.segment_vectors(slot);
        let metric = self.query.metric;
        let (snapshot, deleted) = (self.snapshot, self.deleted);
        let ids = slot.segment.row_ids();
        let column = self.query.column;
        let scan = |range: std::ops::Range<usize>| -> Result<Vec<Candidate>, StorageOrMath> {
            let mut out = Vec::new();
            for offset in range {
                let offset32 = offset as u32;
                if !slot.visible_at(offset32, snapshot) {
                    continue;
                }
                let row_id = ids[offset];
                if deleted.is_some_and(|d| d.contains(&row_id)) {
                    continue;
                }
                let d = match &source {
                    SegmentVectors::Raw(store) => match store.vector(offset32) {
                        Some(v) => checked_distance(metric, v, vector)?,
                        None => continue,
                    },
                    SegmentVectors::Values => match slot.segment.value(offset32, column)? {
                        Value::Vector(v) => checked_distance(metric, &v, vector)?,
                        _ => continue,
                    },
                    SegmentVectors::Missing(Some(v)) => checked_distance(metric, v, vector)?,
                    SegmentVectors::Missing(None) => break,
                };
                out.push(Candidate {
                    distance: d,
                    row_id,
                    place: Place::Segment {
                        slot: slot_index,
                        offset: offset32,
                    },
                });
                if out.len() >= keep.saturating_mul(2).max(1024) {
                    keep_nearest(&mut out, keep);
                }
            }
            keep_nearest(&mut out, keep);
            Ok(out)
        };
        let result = if rows >= PARALLEL_MIN_ROWS && matches!(source, SegmentVectors::Raw(_)) {
            let chunks: Vec<std::ops::Range<usize>> = (0..rows)
                .step_by(EXACT_CHUNK_ROWS)
                .map(|start| start..(start + EXACT_CHUNK_ROWS).min(rows))
                .collect();
            chunks
                .into_par_iter()
                .map(scan)
                .collect::<Result<Vec<_>, _>>()
                .map(|parts| parts.into_iter().flatten().collect())
        } else {
            scan(0..rows)
        };
        result.map_err(StorageOrMath::into_error)
    }

    /// Distances of every visible, non-NULL row of a memtable.
    fn exact_memtable(
        &self,
        memtable_index: u32,
        memtable: &Memtable,
        vector: &[f32],
        keep: usize,
    ) -> Result<Vec<Candidate>, E> {
        let rows = memtable.len();
        let metric = self.query.metric;
        let column = usize::from(self.query.column) - 1;
        let missing = self.missing_vector();
        let (snapshot, deleted) = (self.snapshot, self.deleted);
        let scan = |range: std::ops::Range<usize>| -> Result<Vec<Candidate>, StorageOrMath> {
            let mut out = Vec::new();
            for position in range {
                let Some(row) = memtable.get(position) else {
                    continue;
                };
                if !row.visible_at(snapshot) || deleted.is_some_and(|d| d.contains(&row.row_id)) {
                    continue;
                }
                let stored = match row.values.get(column) {
                    Some(Value::Vector(v)) => v.as_slice(),
                    Some(_) => continue,
                    None => match &missing {
                        Some(v) => v.as_slice(),
                        None => continue,
                    },
                };
                out.push(Candidate {
                    distance: checked_distance(metric, stored, vector)?,
                    row_id: row.row_id,
                    place: Place::Memtable {
                        memtable: memtable_index,
                        position: position as u32,
                    },
                });
                if out.len() >= keep.saturating_mul(2).max(1024) {
                    keep_nearest(&mut out, keep);
                }
            }
            keep_nearest(&mut out, keep);
            Ok(out)
        };
        let result = if rows >= PARALLEL_MIN_ROWS {
            let chunks: Vec<std::ops::Range<usize>> = (0..rows)
                .step_by(EXACT_CHUNK_ROWS)
                .map(|start| start..(start + EXACT_CHUNK_ROWS).min(rows))
                .collect();
            chunks
                .into_par_iter()
                .map(scan)
                .collect::<Result<Vec<_>, _>>()
                .map(|parts| parts.into_iter().flatten().collect())
        } else {
            scan(0..rows)
        };
        result.map_err(StorageOrMath::into_error)
    }

    /// Distances of this transaction's own non-NULL rows.
    fn exact_pending(&self, vector: &[f32]) -> Result<Vec<Candidate>, E> {
        let column = usize::from(self.query.column) - 1;
        let mut out = Vec::new();
        for (position, row) in self.pending.iter().enumerate() {
            let Some(row) = row else {
                continue;
            };
            let Some(Value::Vector(stored)) = row.get(column) else {
                continue;
            };
            out.push(Candidate {
                distance: checked_distance(self.query.metric, stored, vector)
                    .map_err(StorageOrMath::into_error::<E>)?,
                row_id: PENDING_ROW_BIT | position as u64,
                place: Place::Pending {
                    position: position as u32,
                },
            });
        }
        Ok(out)
    }

    /// The `k` nearest candidates the filter accepts, visiting them nearest first.
    fn take_qualifying(
        &self,
        mut candidates: Vec<Candidate>,
        k: usize,
    ) -> Result<Vec<Candidate>, E> {
        if self.filter.is_none() {
            keep_nearest(&mut candidates, k);
            return Ok(candidates);
        }
        let mut out = Vec::with_capacity(k.min(candidates.len()));
        let mut rest: &mut [Candidate] = &mut candidates;
        let mut batch = k.saturating_mul(4).max(64);
        while out.len() < k && !rest.is_empty() {
            let n = batch.min(rest.len());
            if n < rest.len() {
                rest.select_nth_unstable_by(n - 1, nearer);
            }
            let (head, tail) = rest.split_at_mut(n);
            head.sort_unstable_by(nearer);
            for candidate in head.iter() {
                if self.qualifies(candidate.place) {
                    out.push(*candidate);
                    if out.len() == k {
                        break;
                    }
                }
                self.check_failure()?;
            }
            rest = tail;
            batch = batch.saturating_mul(2);
        }
        Ok(out)
    }

    /// Up to `need` qualifying rows without a distance (NULL vector, or every row for a NULL
    /// query), in row-id order.
    fn rows_without_distance(&self, need: usize) -> Result<Vec<(u64, Place)>, E> {
        let any_row = self.query.vector.is_none();
        let column = usize::from(self.query.column) - 1;
        let missing_is_null = self.missing_vector().is_none();
        let mut out = Vec::new();
        for (slot_index, slot) in self.segments.iter().enumerate() {
            let source = self.segment_vectors(slot);
            let ids = slot.segment.row_ids();
            for (offset, &row_id) in ids.iter().enumerate() {
                if out.len() == need {
                    return Ok(out);
                }
                let offset = offset as u32;
                if !slot.visible_at(offset, self.snapshot)
                    || self.deleted.is_some_and(|d| d.contains(&row_id))
                {
                    continue;
                }
                let is_null = match &source {
                    SegmentVectors::Raw(store) => store.vector(offset).is_none(),
                    SegmentVectors::Values => {
                        slot.segment.value(offset, self.query.column)?.is_null()
                    }
                    SegmentVectors::Missing(v) => v.is_none(),
                };
                let place = Place::Segment {
                    slot: slot_index as u32,
                    offset,
                };
                if (any_row || is_null) && self.qualifies(place) {
                    out.push((row_id, place));
                }
                self.check_failure()?;
            }
        }
        for (memtable_index, memtable) in self.memtables.iter().enumerate() {
            for position in 0..memtable.len() {
                if out.len() == need {
                    return Ok(out);
                }
                let Some(row) = memtable.get(position) else {
                    continue;
                };
                if !row.visible_at(self.snapshot)
                    || self.deleted.is_some_and(|d| d.contains(&row.row_id))
                {
                    continue;
                }
                let is_null = match row.values.get(column) {
                    Some(value) => value.is_null(),
                    None => missing_is_null,
                };
                let place = Place::Memtable {
                    memtable: memtable_index as u32,
                    position: position as u32,
                };
                if (any_row || is_null) && self.qualifies(place) {
                    out.push((row.row_id, place));
                }
                self.check_failure()?;
            }
        }
        for (position, row) in self.pending.iter().enumerate() {
            if out.len() == need {
                return Ok(out);
            }
            let Some(row) = row else {
                continue;
            };
            let is_null = row.get(column).is_none_or(Value::is_null);
            let place = Place::Pending {
                position: position as u32,
            };
            if (any_row || is_null) && self.qualifies(place) {
                out.push((PENDING_ROW_BIT | position as u64, place));
            }
            self.check_failure()?;
        }
        Ok(out)
    }

    /// Whether the filter accepts the row at `place` (true without a filter). Visibility is
    /// the caller's business. After an error every row is refused.
    fn qualifies(&self, place: Place) -> bool {
        let Some(filter) = self.filter else {
            return true;
        };
        if self.failure.borrow().is_some() {
            return false;
        }
        let verdict = match place {
            Place::Segment { slot, offset } => {
                let Ok(mut scratch) = self.scratch.try_borrow_mut() else {
                    return false;
                };
                match self.fill_segment_row(&mut scratch, slot, offset) {
                    Ok(()) => filter(&scratch),
                    Err(error) => Err(error.into()),
                }
            }
            Place::Memtable { memtable, position } => {
                match self.memtables[memtable as usize].get(position as usize) {
                    Some(row) if row.values.len() >= self.def.columns.len() => filter(&row.values),
                    Some(row) => filter(&widen(&row.values, self.def)),
                    None => Ok(false),
                }
            }
            Place::Pending { position } => match &self.pending[position as usize] {
                Some(row) if row.len() >= self.def.columns.len() => filter(row),
                Some(row) => filter(&widen(row, self.def)),
                None => Ok(false),
            },
        };
        match verdict {
            Ok(accepted) => accepted,
            Err(error) => {
                *self.failure.borrow_mut() = Some(error);
                false
            }
        }
    }

    fn check_failure(&self) -> Result<(), E> {
        match self.failure.borrow_mut().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Puts the filter's columns of a segment row into `row` (the others stay NULL).
    fn fill_segment_row(&self, row: &mut Row, slot: u32, offset: u32) -> Result<(), StorageError> {
        let segment = &self.segments[slot as usize].segment;
        for &attnum in &self.query.filter_columns {
            let Some(column) = self.def.column(attnum) else {
                continue;
            };
            let value = if column.dropped {
                Value::Null
            } else if segment.has_column(attnum) {
                segment.value(offset, attnum)?
            } else {
                column.missing_value.clone()
            };
            if let Some(cell) = row.get_mut(usize::from(attnum) - 1) {
                *cell = value;
            }
        }
        Ok(())
    }

    fn read_row(&self, place: Place) -> Result<Row, StorageError> {
        match place {
            Place::Segment { slot, offset } => {
                read_segment_row(&self.segments[slot as usize].segment, offset, self.def)
            }
            Place::Memtable { memtable, position } => self.memtables[memtable as usize]
                .get(position as usize)
                .map(|row| widen(&row.values, self.def))
                .ok_or_else(|| StorageError::InvalidValue("memtable row vanished".into())),
            Place::Pending { position } => self.pending[position as usize]
                .as_ref()
                .map(|row| widen(row, self.def))
                .ok_or_else(|| StorageError::InvalidValue("pending row vanished".into())),
        }
    }

    /// The vector rows without the column get (a column added after they were written).
    fn missing_vector(&self) -> Option<Vec<f32>> {
        match self.def.column(self.query.column).map(|c| &c.missing_value) {
            Some(Value::Vector(v)) => Some(v.clone()),
            _ => None,
        }
    }

    fn segment_vectors(&self, slot: &Arc<SegmentSlot>) -> SegmentVectors {
        let attnum = self.query.column;
        if !slot.segment.has_column(attnum) {
            return SegmentVectors::Missing(self.missing_vector());
        }
        match slot.segment.vector_store(attnum) {
            Some(store) => SegmentVectors::Raw(store),
            None => SegmentVectors::Values,
        }
    }
}

/// An error of the parallel part of a search, converted to the caller's type afterwards.
enum StorageOrMath {
    Storage(StorageError),
    Math(VectorMathError),
}

impl From<StorageError> for StorageOrMath {
    fn from(error: StorageError) -> StorageOrMath {
        StorageOrMath::Storage(error)
    }
}

impl StorageOrMath {
    fn into_error<E: From<StorageError> + From<VectorMathError>>(self) -> E {
        match self {
            StorageOrMath::Storage(error) => error.into(),
            StorageOrMath::Math(error) => error.into(),
        }
    }
}

/// The metric's distance between a stored vector and the query, refusing different
/// dimensions as the SQL operator does (`different vector dimensions 3 and 2`).
#[inline]
fn checked_distance(metric: Metric, stored: &[f32], query: &[f32]) -> Result<f32, StorageOrMath> {
    if stored.len() != query.len() {
        return Err(StorageOrMath::Math(VectorMathError::DimensionMismatch {
            left: stored.len(),
            right: query.len(),
        }));
    }
    Ok(distance(metric, stored, query))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use index::distance::Metric;
    use index::segment_index::SearchParams;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::catalog::{IndexDef, IndexMethodDef};
    use crate::types::DataType;
    use crate::{Engine, EngineOptions};

    const DIM: usize = 8;

    struct Fixture {
        _dir: tempfile::TempDir,
        engine: Engine,
        table: u32,
        index: u32,
    }

    /// `items(id int8, cat int8, embedding vector(8))` with an HNSW cosine index.
    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(
            dir.path(),
            EngineOptions {
                background_maintenance: false,
                ..Default::default()
            },
        )
        .expect("engine opens");
        let mut txn = engine.begin();
        let catalog = txn.catalog_mut();
        let schema = catalog.ensure_schema("public", 10);
        let table = catalog.create_table(
            schema,
            "items",
            10,
            &[
                ("id", DataType::Int8, true),
                ("cat", DataType::Int8, false),
                ("embedding", DataType::Vector(Some(DIM as u32)), false),
            ],
            &["id"],
        );
        let index = catalog.allocate_oid();
        catalog.indexes.insert(
            index,
            IndexDef {
                oid: index,
                name: "items_embedding".into(),
                schema,
                table,
                method: IndexMethodDef::Hnsw,
                columns: vec![3],
                opclasses: vec!["vector_cosine_ops".into()],
                ..Default::default()
            },
        );
        txn.commit().expect("create table");
        Fixture {
            _dir: dir,
            engine,
            table,
            index,
        }
    }

    fn random_vector(rng: &mut impl Rng) -> Vec<f32> {
        (0..DIM).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
    }

    fn insert(f: &Fixture, ids: std::ops::Range<i64>, rng: &mut impl Rng) {
        let mut txn = f.engine.begin();
        for id in ids {
            let embedding = if id % 97 == 13 {
                Value::Null
            } else {
                Value::Vector(random_vector(rng))
            };
            txn.insert(
                f.table,
                vec![Value::Int8(id), Value::Int8(id % 1000), embedding],
            )
            .expect("insert");
        }
        txn.commit().expect("commit");
    }

    fn query<'a>(
        f: &Fixture,
        vector: Option<&'a [f32]>,
        k: usize,
        indexed: bool,
    ) -> VectorQuery<'a> {
        VectorQuery {
            table: f.table,
            column: 3,
            index: indexed.then_some(f.index),
            metric: Metric::Cosine,
            vector,
            k,
            params: SearchParams {
                ef_search: 64,
                probes: 1,
            },
            filter_columns: vec![2],
        }
    }

    /// Errors as their messages.
    #[derive(Debug, PartialEq)]
    struct TestError(String);

    impl From<StorageError> for TestError {
        fn from(e: StorageError) -> TestError {
            TestError(e.to_string())
        }
    }

    impl From<VectorMathError> for TestError {
        fn from(e: VectorMathError) -> TestError {
            TestError(e.to_string())
        }
    }

    impl From<String> for TestError {
        fn from(e: String) -> TestError {
            TestError(e)
        }
    }

    fn cat_below(limit: i64) -> impl Fn(&[Value]) -> Result<bool, TestError> {
        move |row: &[Value]| match row.get(1) {
            Some(Value::Int8(cat)) => Ok(*cat < limit),
            other => Err(TestError(format!("cat is {other:?}"))),
        }
    }

    /// The exact answer, from a full scan.
    fn exact(txn: &Transaction, table: u32, vector: &[f32], k: usize, limit: i64) -> Vec<u64> {
        let mut rows: Vec<(f32, u64)> = txn
            .scan_all(table)
            .expect("scan")
            .into_iter()
            .filter_map(|(id, row)| match (&row[1], &row[2]) {
                (Value::Int8(cat), Value::Vector(v)) if *cat < limit => {
                    Some((distance(Metric::Cosine, v, vector), id))
                }
                _ => None,
            })
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        rows.into_iter().take(k).map(|(_, id)| id).collect()
    }

    #[test]
    fn filtered_search_returns_min_k_qualifying_rows_from_segments_memtables_and_own_rows() {
        let f = fixture();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        insert(&f, 0..3000, &mut rng);
        f.engine.checkpoint().expect("checkpoint");
        insert(&f, 3000..3600, &mut rng);
        // Deletes in the segment and the memtable.
        let mut txn = f.engine.begin();
        for (id, row) in txn.scan_all(f.table).expect("scan") {
            if matches!(row[0], Value::Int8(n) if n % 5 == 0) {
                txn.delete(f.table, id).expect("delete");
            }
        }
        txn.commit().expect("deletes commit");
        let mut txn = f.engine.begin();
        txn.insert(
            f.table,
            vec![
                Value::Int8(10_001),
                Value::Int8(0),
                Value::Vector(vec![1.0; DIM]),
            ],
        )
        .expect("own row");
        let probe = vec![1.0f32; DIM];
        // Own row is the nearest of all (distance 0).
        let filter = cat_below(1000);
        let hits: Vec<VectorHit> = txn
            .vector_search::<TestError>(&query(&f, Some(&probe), 5, true), Some(&filter))
            .expect("search");
        assert_eq!(hits.len(), 5);
        assert_eq!(hits[0].row_id, PENDING_ROW_BIT);
        let mut recall_sum = 0.0;
        let mut queries = 0.0;
        for limit in [1000, 100, 10, 1] {
            for _ in 0..10 {
                let vector = random_vector(&mut rng);
                let filter = cat_below(limit);
                let hits: Vec<VectorHit> = txn
                    .vector_search::<TestError>(&query(&f, Some(&vector), 10, true), Some(&filter))
                    .expect("search");
                let truth = exact(&txn, f.table, &vector, 10, limit);
                let exact_hits: Vec<VectorHit> = txn
                    .vector_search::<TestError>(&query(&f, Some(&vector), 10, false), Some(&filter))
                    .expect("exact search");
                let exact_ids: Vec<u64> = exact_hits.iter().map(|h| h.row_id).collect();
                assert_eq!(exact_ids, truth, "exact search at cat < {limit}");
                let qualifying = txn
                    .scan_all(f.table)
                    .expect("scan")
                    .iter()
                    .filter(|(_, row)| matches!(row[1], Value::Int8(cat) if cat < limit))
                    .count();
                assert_eq!(hits.len(), qualifying.min(10), "cat < {limit}");
                let found: HashSet<u64> = hits.iter().map(|h| h.row_id).collect();
                let distances: Vec<Option<f32>> = hits.iter().map(|h| h.distance).collect();
                assert!(distances.windows(2).all(|w| match (w[0], w[1]) {
                    (Some(a), Some(b)) => a <= b,
                    (Some(_), None) | (None, None) => true,
                    (None, Some(_)) => false,
                }));
                for hit in &hits {
                    assert!(matches!(hit.row[1], Value::Int8(cat) if cat < limit));
                    assert!(!matches!(hit.row[0], Value::Int8(n) if n % 5 == 0));
                }
                recall_sum += truth.iter().filter(|id| found.contains(id)).count() as f64
                    / truth.len().max(1) as f64;
                queries += 1.0;
            }
        }
        assert!(
            recall_sum / queries >= 0.9,
            "recall {}",
            recall_sum / queries
        );
    }

    #[test]
    fn null_vectors_follow_when_fewer_rows_with_a_vector_qualify() {
        let f = fixture();
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        insert(&f, 0..200, &mut rng);
        let txn = f.engine.begin();
        let probe = random_vector(&mut rng);
        // cat < 14: ids 0..14; id 13 has a NULL vector.
        let filter = cat_below(14);
        let hits: Vec<VectorHit> = txn
            .vector_search::<TestError>(&query(&f, Some(&probe), 50, true), Some(&filter))
            .expect("search");
        assert_eq!(hits.len(), 14);
        assert_eq!(hits[13].distance, None);
        assert_eq!(hits[13].row[0], Value::Int8(13));
        // A NULL query: every qualifying row, none with a distance.
        let hits: Vec<VectorHit> = txn
            .vector_search::<TestError>(&query(&f, None, 50, true), Some(&filter))
            .expect("search");
        assert_eq!(hits.len(), 14);
        assert!(hits.iter().all(|h| h.distance.is_none()));
    }

    #[test]
    fn filter_errors_and_dimension_mismatches_are_reported() {
        let f = fixture();
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        insert(&f, 0..1500, &mut rng);
        f.engine.checkpoint().expect("checkpoint");
        insert(&f, 1500..1600, &mut rng);
        let txn = f.engine.begin();
        let probe = random_vector(&mut rng);
        let failing =
            |_: &[Value]| -> Result<bool, TestError> { Err(TestError("division by zero".into())) };
        for indexed in [true, false] {
            let error = txn
                .vector_search::<TestError>(&query(&f, Some(&probe), 5, indexed), Some(&failing))
                .expect_err("the filter's error");
            assert_eq!(error, TestError("division by zero".into()));
        }
        let short = [1.0f32, 2.0];
        for indexed in [true, false] {
            let error = txn
                .vector_search::<TestError>(&query(&f, Some(&short), 5, indexed), None)
                .expect_err("dimension mismatch");
            assert_eq!(
                error,
                TestError("different vector dimensions 8 and 2".into())
            );
        }
    }
}
