//! One table's rows: its segments, frozen and active memtables, and its B-tree indexes.
//!
//! A [`TableStore`] publishes its layout as an immutable [`TableVersion`] behind an
//! `ArcSwap`: readers load the current version (one atomic load) and keep it for as long as
//! they read, so a checkpoint or compaction that installs a new layout never disturbs them.
//! Only the committing writer (under the engine's commit lock) installs versions, appends to
//! the active memtable, sets delete LSNs and adds index entries.
//!
//! Row ids only grow: segments cover disjoint, increasing row-id ranges, frozen memtables come
//! after them and the active memtable last, so a row is found by its id with binary searches.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::RwLock;

use crate::btree::BTreeIndex;
use crate::catalog::{AttNum, TableDef};
use crate::error::{Result, StorageError};
use crate::memtable::{MemRow, Memtable};
use crate::mvcc::{visible, DeleteVector};
use crate::segment::Segment;
use crate::types::{Row, Value};

/// A sealed segment of a table with its delete vector and its vector indexes.
pub struct SegmentSlot {
    /// Directory name under the table's directory.
    pub name: String,
    pub segment: Arc<Segment>,
    pub deletes: DeleteVector,
    /// Vector indexes built for this segment, by index OID.
    pub vector_indexes: RwLock<HashMap<u32, Arc<dyn index::segment_index::SegmentIndex>>>,
    /// Delete-vector file currently naming this segment's deletes, and how many it holds.
    pub delete_file: RwLock<(Option<String>, usize)>,
}

impl SegmentSlot {
    pub fn first_row_id(&self) -> u64 {
        self.segment.row_ids().first().copied().unwrap_or(u64::MAX)
    }

    pub fn last_row_id(&self) -> u64 {
        self.segment.row_ids().last().copied().unwrap_or(0)
    }

    #[inline]
    pub fn insert_lsn(&self, offset: u32) -> u64 {
        self.segment
            .insert_lsns()
            .get(offset as usize)
            .copied()
            .unwrap_or(u64::MAX)
    }

    #[inline]
    pub fn visible_at(&self, offset: u32, snapshot: u64) -> bool {
        visible(self.insert_lsn(offset), self.deletes.get(offset), snapshot)
    }
}

/// The layout of a table at one moment.
pub struct TableVersion {
    pub segments: Vec<Arc<SegmentSlot>>,
    /// Memtables being sealed by a checkpoint, oldest first.
    pub frozen: Vec<Arc<Memtable>>,
    pub active: Arc<Memtable>,
}

/// Where a row lives.
pub enum RowLocation<'a> {
    Memtable(&'a MemRow),
    Segment(&'a Arc<SegmentSlot>, u32),
}

impl TableVersion {
    pub fn empty() -> TableVersion {
        TableVersion {
            segments: Vec::new(),
            frozen: Vec::new(),
            active: Arc::new(Memtable::new()),
        }
    }

    pub fn memtables(&self) -> impl Iterator<Item = &Arc<Memtable>> {
        self.frozen.iter().chain(std::iter::once(&self.active))
    }

    /// Finds the row with id `row_id`, whatever its visibility.
    pub fn locate(&self, row_id: u64) -> Option<RowLocation<'_>> {
        for memtable in self.memtables() {
            match memtable.first_row_id() {
                Some(first) if row_id >= first => {
                    if let Some(row) = memtable.find(row_id) {
                        return Some(RowLocation::Memtable(row));
                    }
                }
                _ => {}
            }
        }
        let index = self
            .segments
            .partition_point(|slot| slot.last_row_id() < row_id);
        let slot = self.segments.get(index)?;
        let offset = segment_offset(slot.segment.row_ids(), row_id)?;
        Some(RowLocation::Segment(slot, offset))
    }

    /// Total rows stored (all versions), for statistics.
    pub fn stored_rows(&self) -> usize {
        self.segments
            .iter()
            .map(|s| s.segment.row_count())
            .sum::<usize>()
            + self.memtables().map(|m| m.len()).sum::<usize>()
    }
}

/// The offset of `row_id` in a segment's row ids (increasing). Row ids are handed out
/// consecutively, so a segment that lost no rows to compaction holds a dense range and the
/// offset is a subtraction (checked); otherwise, a binary search.
#[inline]
fn segment_offset(row_ids: &[u64], row_id: u64) -> Option<u32> {
    let first = *row_ids.first()?;
    let guess = row_id.checked_sub(first)? as usize;
    let offset = if row_ids.get(guess) == Some(&row_id) {
        guess
    } else {
        row_ids.binary_search(&row_id).ok()?
    };
    u32::try_from(offset).ok()
}

impl RowLocation<'_> {
    pub fn insert_lsn(&self) -> u64 {
        match self {
            RowLocation::Memtable(row) => row.insert_lsn(),
            RowLocation::Segment(slot, offset) => slot.insert_lsn(*offset),
        }
    }

    pub fn delete_lsn(&self) -> u64 {
        match self {
            RowLocation::Memtable(row) => row.delete_lsn(),
            RowLocation::Segment(slot, offset) => slot.deletes.get(*offset),
        }
    }

    pub fn set_delete_lsn(&self, lsn: u64) {
        match self {
            RowLocation::Memtable(row) => row.set_delete_lsn(lsn),
            RowLocation::Segment(slot, offset) => slot.deletes.set(*offset, lsn),
        }
    }

    pub fn visible_at(&self, snapshot: u64) -> bool {
        visible(self.insert_lsn(), self.delete_lsn(), snapshot)
    }

    /// The row's values as stored, widened to the table's columns.
    pub fn read(&self, table: &TableDef) -> Result<Row> {
        match self {
            RowLocation::Memtable(row) => Ok(widen(&row.values, table)),
            RowLocation::Segment(slot, offset) => read_segment_row(&slot.segment, *offset, table),
        }
    }

    /// One column's value.
    pub fn value(&self, table: &TableDef, attnum: AttNum) -> Result<Value> {
        let column = table
            .column(attnum)
            .ok_or_else(|| StorageError::InvalidValue(format!("no column {attnum}")))?;
        match self {
            RowLocation::Memtable(row) => Ok(row
                .values
                .get(usize::from(attnum) - 1)
                .cloned()
                .unwrap_or_else(|| column.missing_value.clone())),
            RowLocation::Segment(slot, offset) => {
                if slot.segment.has_column(attnum) {
                    slot.segment.value(*offset, attnum)
                } else {
                    Ok(column.missing_value.clone())
                }
            }
        }
    }
}

/// A stored row widened to the table's width: values a row lacks (added later) come from the
/// column's missing value; dropped columns read as NULL.
pub fn widen(values: &[Value], table: &TableDef) -> Row {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            if column.dropped {
                Value::Null
            } else {
                values
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| column.missing_value.clone())
            }
        })
        .collect()
}

pub(crate) fn read_segment_row(segment: &Segment, offset: u32, table: &TableDef) -> Result<Row> {
    let mut row = Vec::with_capacity(table.columns.len());
    for column in &table.columns {
        let value = if column.dropped {
            Value::Null
        } else if segment.has_column(column.attnum) {
            segment.value(offset, column.attnum)?
        } else {
            column.missing_value.clone()
        };
        row.push(value);
    }
    Ok(row)
}

/// The storage of one table.
pub struct TableStore {
    pub oid: u32,
    pub version: ArcSwap<TableVersion>,
    /// B-tree indexes maintained by storage (plain-column keys), by index OID.
    pub btrees: ArcSwap<HashMap<u32, Arc<BTreeIndex>>>,
    /// Next row id to hand out; only the committing writer changes it.
    pub next_row_id: parking_lot::Mutex<u64>,
    /// Grows (under the commit lock) after every change that may add B-tree entries: a
    /// commit that inserted rows (bumped once its entries and rows are in place) or a rebuild
    /// of the indexes. A transaction that checked its unique keys against the committed rows
    /// at generation `g` need not check them again at commit if the generation is still `g`.
    pub index_generation: AtomicU64,
}

impl TableStore {
    pub fn new(oid: u32, version: TableVersion, next_row_id: u64) -> TableStore {
        TableStore {
            oid,
            version: ArcSwap::from_pointee(version),
            btrees: ArcSwap::from_pointee(HashMap::new()),
            next_row_id: parking_lot::Mutex::new(next_row_id),
            index_generation: AtomicU64::new(0),
        }
    }

    pub fn load(&self) -> Arc<TableVersion> {
        self.version.load_full()
    }

    /// The current [`TableStore::index_generation`].
    pub fn index_generation(&self) -> u64 {
        self.index_generation.load(Ordering::Acquire)
    }

    /// Called after B-tree entries were added (under the commit lock).
    pub(crate) fn bump_index_generation(&self) {
        self.index_generation.fetch_add(1, Ordering::AcqRel);
    }
}
