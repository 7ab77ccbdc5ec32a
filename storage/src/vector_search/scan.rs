//! Searching each part of the table for the query's nearest rows: a sealed segment with a
//! file for the requested vector index through that file (visibility and the filter as its
//! `accept` callback), and every other part exactly: segments without such a file (in
//! parallel chunks on rayon's pool when large), memtables, and the transaction's own rows.

use std::sync::Arc;

use index::distance::{distance, Metric, VectorMathError};
use index::segment_index::SegmentIndex;
use rayon::prelude::*;

use super::{
    keep_nearest, Candidate, Place, Search, SegmentVectors, EXACT_CHUNK_ROWS, PARALLEL_MIN_ROWS,
};
use crate::error::StorageError;
use crate::memtable::Memtable;
use crate::table::SegmentSlot;
use crate::txn::PENDING_ROW_BIT;
use crate::types::Value;

impl<E> Search<'_, E>
where
    E: From<StorageError> + From<VectorMathError>,
{
    /// Searches one segment through its index file, visibility and filter as `accept`.
    pub(super) fn search_index(
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
    pub(super) fn exact_segment(
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
    pub(super) fn exact_memtable(
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
    pub(super) fn exact_pending(&self, vector: &[f32]) -> Result<Vec<Candidate>, E> {
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
