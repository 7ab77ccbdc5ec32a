//! Table scans: partitions that run independently (in parallel if the caller wishes) and
//! yield batches of visible rows.
//!
//! A scan of a table is one partition per segment, one per memtable, and one for the
//! transaction's own uncommitted rows. Segment partitions walk the segment block by block
//! (`BLOCK_ROWS` rows): a block whose per-column min/max rules out a [`BlockPredicate`] is
//! skipped without being decompressed. Predicates only skip blocks; rows in the blocks that
//! are read are returned whether they match or not, and the caller evaluates its WHERE clause.
//!
//! Rows come back widened to the table (one value per column, dropped columns NULL), or only
//! the requested columns, in the requested order, when [`ScanOptions::columns`] is set.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::catalog::{AttNum, TableDef};
use crate::error::Result;
use crate::memtable::Memtable;
use crate::table::SegmentSlot;
use crate::types::{Row, Value};

/// Rows per batch from memtables and pending rows (segments use their block size).
pub const MEMTABLE_BATCH_ROWS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredicateOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// `column <op> value`, used to skip segment blocks.
#[derive(Debug, Clone)]
pub struct BlockPredicate {
    pub attnum: AttNum,
    pub op: PredicateOp,
    pub value: Value,
}

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Columns to return, in this order; all columns when `None`.
    pub columns: Option<Vec<AttNum>>,
    /// Conjunctive predicates for block skipping.
    pub predicates: Vec<BlockPredicate>,
}

/// The rows of one chunk of a partition, column by column, for operators that read a few
/// columns of many rows (aggregates over a scan) without building rows.
///
/// `columns[i]` holds the values of the i-th requested column for every stored row of the
/// chunk, visible or not; `selection` lists the positions of the visible rows (ascending), or
/// is `None` when every row of the chunk is visible. Segment blocks are shared with the
/// segment's cache, not copied.
#[derive(Debug)]
pub struct ColumnChunk {
    pub columns: Vec<Arc<Vec<Value>>>,
    pub selection: Option<Vec<u32>>,
    pub len: usize,
}

impl ColumnChunk {
    /// Number of visible rows.
    pub fn visible_rows(&self) -> usize {
        self.selection.as_ref().map_or(self.len, Vec::len)
    }

    /// Calls `f` with the position of every visible row, in order.
    #[inline]
    pub fn for_each_visible(&self, mut f: impl FnMut(usize)) {
        match &self.selection {
            None => (0..self.len).for_each(f),
            Some(selection) => selection.iter().for_each(|&i| f(i as usize)),
        }
    }
}

/// Rows and their ids.
#[derive(Debug, Default)]
pub struct ScanBatch {
    pub row_ids: Vec<u64>,
    pub rows: Vec<Row>,
}

enum Source {
    Segment(Arc<SegmentSlot>),
    Memtable(Arc<Memtable>),
    Pending(Vec<(u64, Row)>),
}

/// One independent piece of a scan.
pub struct ScanPartition {
    source: Source,
    table: Arc<TableDef>,
    snapshot: u64,
    deleted: Arc<BTreeSet<u64>>,
    options: ScanOptions,
}

impl ScanPartition {
    pub(crate) fn segment(
        slot: Arc<SegmentSlot>,
        table: Arc<TableDef>,
        snapshot: u64,
        deleted: Arc<BTreeSet<u64>>,
        options: ScanOptions,
    ) -> Self {
        ScanPartition {
            source: Source::Segment(slot),
            table,
            snapshot,
            deleted,
            options,
        }
    }

    pub(crate) fn memtable(
        memtable: Arc<Memtable>,
        table: Arc<TableDef>,
        snapshot: u64,
        deleted: Arc<BTreeSet<u64>>,
        options: ScanOptions,
    ) -> Self {
        ScanPartition {
            source: Source::Memtable(memtable),
            table,
            snapshot,
            deleted,
            options,
        }
    }

    pub(crate) fn pending(
        rows: Vec<(u64, Row)>,
        table: Arc<TableDef>,
        options: ScanOptions,
    ) -> Self {
        ScanPartition {
            source: Source::Pending(rows),
            table,
            snapshot: 0,
            deleted: Arc::default(),
            options,
        }
    }

    /// Number of stored rows this partition will look at (before visibility).
    pub fn stored_rows(&self) -> usize {
        match &self.source {
            Source::Segment(slot) => slot.segment.row_count(),
            Source::Memtable(m) => m.len(),
            Source::Pending(rows) => rows.len(),
        }
    }

    /// The batches of this partition.
    pub fn iter(&self) -> PartitionIter<'_> {
        self.iter_chunks(0..self.chunk_count())
    }

    /// Number of independent chunks (segment blocks, memtable row ranges) this partition
    /// reads; [`ScanPartition::iter_chunks`] reads any range of them, so one partition can
    /// be scanned by several threads.
    pub fn chunk_count(&self) -> usize {
        match &self.source {
            Source::Segment(slot) => slot.segment.block_count(),
            Source::Memtable(m) => m.len().div_ceil(MEMTABLE_BATCH_ROWS),
            Source::Pending(rows) => rows.len().div_ceil(MEMTABLE_BATCH_ROWS),
        }
    }

    /// The batches of the chunks in `range` (clamped to the partition).
    pub fn iter_chunks(&self, range: std::ops::Range<usize>) -> PartitionIter<'_> {
        let count = self.chunk_count();
        PartitionIter {
            partition: self,
            next_chunk: range.start.min(count),
            end: range.end.min(count),
            skipped_blocks: 0,
        }
    }

    /// Chunk `chunk` column by column (see [`ColumnChunk`]); `None` when block statistics
    /// rule the chunk out or no row of it is visible.
    pub fn column_chunk(&self, chunk: usize) -> Result<Option<ColumnChunk>> {
        if chunk >= self.chunk_count() {
            return Ok(None);
        }
        let columns = self.columns();
        match &self.source {
            Source::Segment(slot) => self.segment_column_chunk(slot, chunk, &columns),
            Source::Memtable(_) | Source::Pending(_) => {
                let batch = match self.iter_chunks(chunk..chunk + 1).next() {
                    None => return Ok(None),
                    Some(batch) => batch?,
                };
                let len = batch.rows.len();
                let mut out: Vec<Vec<Value>> = (0..columns.len())
                    .map(|_| Vec::with_capacity(len))
                    .collect();
                for row in batch.rows {
                    for (column, value) in out.iter_mut().zip(row) {
                        column.push(value);
                    }
                }
                Ok(Some(ColumnChunk {
                    columns: out.into_iter().map(Arc::new).collect(),
                    selection: None,
                    len,
                }))
            }
        }
    }

    fn segment_column_chunk(
        &self,
        slot: &SegmentSlot,
        block: usize,
        columns: &[AttNum],
    ) -> Result<Option<ColumnChunk>> {
        let segment = &slot.segment;
        if !self.block_may_match(slot, block) {
            return Ok(None);
        }
        let start = block * segment.block_rows();
        let end = (start + segment.block_rows()).min(segment.row_count());
        let ids = segment.row_ids();
        let check_deleted = !self.deleted.is_empty();
        let mut selection = Vec::new();
        let mut all = true;
        for (offset, id) in ids.iter().enumerate().take(end).skip(start) {
            let visible = slot.visible_at(offset as u32, self.snapshot)
                && !(check_deleted && self.deleted.contains(id));
            if visible {
                if !all {
                    selection.push((offset - start) as u32);
                }
            } else if all {
                all = false;
                selection.extend(0..(offset - start) as u32);
            }
        }
        if !all && selection.is_empty() {
            return Ok(None);
        }
        let len = end - start;
        let mut out = Vec::with_capacity(columns.len());
        for attnum in columns {
            let column = self.table.column(*attnum).filter(|c| !c.dropped);
            out.push(match column {
                Some(_) if segment.has_column(*attnum) => segment.read_block(*attnum, block)?,
                Some(c) => Arc::new(vec![c.missing_value.clone(); len]),
                None => Arc::new(vec![Value::Null; len]),
            });
        }
        Ok(Some(ColumnChunk {
            columns: out,
            selection: if all { None } else { Some(selection) },
            len,
        }))
    }

    /// Whether the block statistics of `block` allow a row to satisfy every predicate.
    fn block_may_match(&self, slot: &SegmentSlot, block: usize) -> bool {
        let segment = &slot.segment;
        self.options.predicates.iter().all(|predicate| {
            !segment.has_column(predicate.attnum)
                || segment
                    .block_stats(predicate.attnum, block)
                    .is_none_or(|stats| {
                        block_may_match(stats.min.as_ref(), stats.max.as_ref(), predicate)
                    })
        })
    }

    fn columns(&self) -> Vec<AttNum> {
        match &self.options.columns {
            Some(columns) => columns.clone(),
            None => self.table.columns.iter().map(|c| c.attnum).collect(),
        }
    }

    fn project(&self, full: &[Value]) -> Row {
        match &self.options.columns {
            None => crate::table::widen(full, &self.table),
            Some(columns) => columns
                .iter()
                .map(|a| match self.table.column(*a) {
                    Some(c) if !c.dropped => full
                        .get(usize::from(*a) - 1)
                        .cloned()
                        .unwrap_or_else(|| c.missing_value.clone()),
                    _ => Value::Null,
                })
                .collect(),
        }
    }

    fn segment_block(&self, slot: &SegmentSlot, block: usize) -> Result<Option<ScanBatch>> {
        let segment = &slot.segment;
        if !self.block_may_match(slot, block) {
            return Ok(None);
        }
        let start = block * segment.block_rows();
        let end = (start + segment.block_rows()).min(segment.row_count());
        let ids = segment.row_ids();
        let visible: Vec<usize> = (start..end)
            .filter(|&o| {
                slot.visible_at(o as u32, self.snapshot) && !self.deleted.contains(&ids[o])
            })
            .collect();
        let mut batch = ScanBatch::default();
        if visible.is_empty() {
            return Ok(Some(batch));
        }
        let columns = self.columns();
        let mut column_values: Vec<Option<Arc<Vec<Value>>>> = Vec::with_capacity(columns.len());
        for attnum in &columns {
            let live = self.table.column(*attnum).is_some_and(|c| !c.dropped);
            column_values.push(if live && segment.has_column(*attnum) {
                Some(segment.read_block(*attnum, block)?)
            } else {
                None
            });
        }
        batch.row_ids.reserve(visible.len());
        batch.rows.reserve(visible.len());
        for offset in visible {
            let in_block = offset - start;
            let row: Row = columns
                .iter()
                .zip(&column_values)
                .map(|(attnum, values)| match values {
                    Some(values) => values.get(in_block).cloned().unwrap_or(Value::Null),
                    None => match self.table.column(*attnum) {
                        Some(c) if !c.dropped => c.missing_value.clone(),
                        _ => Value::Null,
                    },
                })
                .collect();
            batch.row_ids.push(ids[offset]);
            batch.rows.push(row);
        }
        Ok(Some(batch))
    }
}

/// Whether a block whose non-NULL values lie in `[min, max]` may hold a row satisfying
/// `predicate`. Comparisons across type families are never used to skip.
fn block_may_match(min: Option<&Value>, max: Option<&Value>, predicate: &BlockPredicate) -> bool {
    let (Some(min), Some(max)) = (min, max) else {
        return false; // all NULL: no comparison is true
    };
    if predicate.value.is_null() {
        return false;
    }
    if !same_family(min, &predicate.value) {
        return true;
    }
    let v = &predicate.value;
    match predicate.op {
        PredicateOp::Eq => min <= v && v <= max,
        PredicateOp::Lt => min < v,
        PredicateOp::Le => min <= v,
        PredicateOp::Gt => max > v,
        PredicateOp::Ge => max >= v,
    }
}

fn same_family(a: &Value, b: &Value) -> bool {
    use Value::*;
    matches!(
        (a, b),
        (Int2(_) | Int4(_) | Int8(_), Int2(_) | Int4(_) | Int8(_))
            | (Float4(_) | Float8(_), Float4(_) | Float8(_))
    ) || std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Iterator over the batches of a partition.
pub struct PartitionIter<'a> {
    partition: &'a ScanPartition,
    next_chunk: usize,
    end: usize,
    skipped_blocks: usize,
}

impl PartitionIter<'_> {
    /// Segment blocks skipped so far thanks to min/max.
    pub fn skipped_blocks(&self) -> usize {
        self.skipped_blocks
    }
}

impl Iterator for PartitionIter<'_> {
    type Item = Result<ScanBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let p = self.partition;
        while self.next_chunk < self.end {
            let chunk = self.next_chunk;
            self.next_chunk += 1;
            let batch = match &p.source {
                Source::Segment(slot) => match p.segment_block(slot, chunk) {
                    Ok(Some(batch)) => batch,
                    Ok(None) => {
                        self.skipped_blocks += 1;
                        continue;
                    }
                    Err(e) => return Some(Err(e)),
                },
                Source::Memtable(memtable) => {
                    let start = chunk * MEMTABLE_BATCH_ROWS;
                    let end = (start + MEMTABLE_BATCH_ROWS).min(memtable.len());
                    let mut batch = ScanBatch::default();
                    for position in start..end {
                        let Some(row) = memtable.get(position) else {
                            continue;
                        };
                        if row.visible_at(p.snapshot) && !p.deleted.contains(&row.row_id) {
                            batch.row_ids.push(row.row_id);
                            batch.rows.push(p.project(&row.values));
                        }
                    }
                    batch
                }
                Source::Pending(rows) => {
                    let start = chunk * MEMTABLE_BATCH_ROWS;
                    let end = (start + MEMTABLE_BATCH_ROWS).min(rows.len());
                    let mut batch = ScanBatch::default();
                    for (id, row) in &rows[start..end] {
                        batch.row_ids.push(*id);
                        batch.rows.push(p.project(row));
                    }
                    batch
                }
            };
            if !batch.row_ids.is_empty() {
                return Some(Ok(batch));
            }
        }
        None
    }
}
