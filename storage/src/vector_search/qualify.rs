//! Which candidate rows qualify, and reading them: visibility at the snapshot, this
//! transaction's deletes, the caller's filter (run on the calling thread; its first error
//! stops the search), the rows without a vector that follow the nearest ones, and the rows
//! handed back, widened to the table.

use std::sync::Arc;

use index::distance::VectorMathError;

use super::{keep_nearest, nearer, Candidate, Place, Search, SegmentVectors};
use crate::error::StorageError;
use crate::table::{read_segment_row, widen, SegmentSlot};
use crate::txn::PENDING_ROW_BIT;
use crate::types::{Row, Value};

impl<E> Search<'_, E>
where
    E: From<StorageError> + From<VectorMathError>,
{
    /// The `k` nearest candidates the filter accepts, visiting them nearest first.
    pub(super) fn take_qualifying(
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
    pub(super) fn rows_without_distance(&self, need: usize) -> Result<Vec<(u64, Place)>, E> {
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
    pub(super) fn qualifies(&self, place: Place) -> bool {
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

    pub(super) fn check_failure(&self) -> Result<(), E> {
        match self.failure.borrow_mut().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Puts the filter's columns of a segment row into `row` (the others stay NULL).
    pub(super) fn fill_segment_row(
        &self,
        row: &mut Row,
        slot: u32,
        offset: u32,
    ) -> Result<(), StorageError> {
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

    pub(super) fn read_row(&self, place: Place) -> Result<Row, StorageError> {
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
    pub(super) fn missing_vector(&self) -> Option<Vec<f32>> {
        match self.def.column(self.query.column).map(|c| &c.missing_value) {
            Some(Value::Vector(v)) => Some(v.clone()),
            _ => None,
        }
    }

    pub(super) fn segment_vectors(&self, slot: &Arc<SegmentSlot>) -> SegmentVectors {
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
