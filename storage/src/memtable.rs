//! The memtable: the rows of one table committed since its last seal.
//!
//! Rows are appended by the one committing writer, in row-id order, and never move; readers
//! iterate and look them up without locks (an append-only concurrent vector). Each row carries
//! its insert LSN and its delete LSN as atomics, so deletes and the undo of a failed commit
//! are single stores. When a checkpoint seals the memtable it is frozen (a fresh one takes new
//! rows), written as a segment, and dropped once no reader holds it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::mvcc::visible;
use crate::types::{Row, Value};

/// One row version in a memtable.
pub struct MemRow {
    pub row_id: u64,
    insert_lsn: AtomicU64,
    delete_lsn: AtomicU64,
    pub values: Row,
}

impl MemRow {
    #[inline]
    pub fn insert_lsn(&self) -> u64 {
        self.insert_lsn.load(Ordering::Acquire)
    }

    #[inline]
    pub fn delete_lsn(&self) -> u64 {
        self.delete_lsn.load(Ordering::Acquire)
    }

    pub fn set_delete_lsn(&self, lsn: u64) {
        self.delete_lsn.store(lsn, Ordering::Release);
    }

    pub fn set_insert_lsn(&self, lsn: u64) {
        self.insert_lsn.store(lsn, Ordering::Release);
    }

    #[inline]
    pub fn visible_at(&self, snapshot: u64) -> bool {
        visible(self.insert_lsn(), self.delete_lsn(), snapshot)
    }
}

/// Rows of one table not yet in a segment.
#[derive(Default)]
pub struct Memtable {
    rows: boxcar::Vec<MemRow>,
    bytes: AtomicUsize,
}

impl Memtable {
    pub fn new() -> Memtable {
        Memtable::default()
    }

    /// Appends a row. Only the committing writer calls this, with increasing row ids.
    pub fn push(&self, row_id: u64, insert_lsn: u64, values: Row) -> usize {
        debug_assert!(
            self.last_row_id().is_none_or(|last| last < row_id),
            "memtable row ids must increase"
        );
        let size = 48 + values.iter().map(Value::approx_size).sum::<usize>();
        self.bytes.fetch_add(size, Ordering::Relaxed);
        self.rows.push(MemRow {
            row_id,
            insert_lsn: AtomicU64::new(insert_lsn),
            delete_lsn: AtomicU64::new(0),
            values,
        })
    }

    /// Number of rows appended so far.
    pub fn len(&self) -> usize {
        self.rows.count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, position: usize) -> Option<&MemRow> {
        self.rows.get(position)
    }

    /// Approximate memory held by the rows.
    pub fn approx_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    fn last_row_id(&self) -> Option<u64> {
        let n = self.len();
        n.checked_sub(1).and_then(|i| self.get(i)).map(|r| r.row_id)
    }

    pub fn first_row_id(&self) -> Option<u64> {
        self.get(0).map(|r| r.row_id)
    }

    /// Position of `row_id`: row ids increase with position and are usually consecutive, so
    /// the position is first guessed from the first row id (and checked), then searched.
    pub fn position_of(&self, row_id: u64) -> Option<usize> {
        let first = self.first_row_id()?;
        let guess = usize::try_from(row_id.checked_sub(first)?).ok()?;
        if self.get(guess).is_some_and(|row| row.row_id == row_id) {
            return Some(guess);
        }
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let id = self.get(mid)?.row_id;
            match id.cmp(&row_id) {
                std::cmp::Ordering::Equal => return Some(mid),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }

    pub fn find(&self, row_id: u64) -> Option<&MemRow> {
        self.position_of(row_id).and_then(|p| self.get(p))
    }

    /// Rows in position order (a row being appended concurrently may be skipped).
    pub fn iter(&self) -> impl Iterator<Item = &MemRow> {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rows_and_tracks_visibility() {
        let m = Memtable::new();
        for id in [3u64, 5, 9] {
            m.push(id, id * 10, vec![Value::Int8(id as i64)]);
        }
        assert_eq!(m.position_of(5), Some(1));
        assert_eq!(m.position_of(4), None);
        let row = m.find(9).unwrap();
        assert!(!row.visible_at(89));
        assert!(row.visible_at(90));
        row.set_delete_lsn(95);
        assert!(row.visible_at(94));
        assert!(!row.visible_at(95));
        assert!(m.approx_bytes() > 0);
    }

    #[test]
    fn readers_see_a_consistent_prefix_while_a_writer_appends() {
        let m = std::sync::Arc::new(Memtable::new());
        let writer = {
            let m = m.clone();
            std::thread::spawn(move || {
                for id in 0..20_000u64 {
                    m.push(id, 1, vec![Value::Int8(id as i64)]);
                }
            })
        };
        for _ in 0..50 {
            let ids: Vec<u64> = m.iter().map(|r| r.row_id).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]));
        }
        writer.join().unwrap();
        assert_eq!(m.len(), 20_000);
    }
}
