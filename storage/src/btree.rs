//! B-tree indexes (primary key, UNIQUE, secondary equality and range), kept in memory.
//!
//! An index holds one entry per stored row version: `(key, row_id)`, ordered by key then row
//! id, in a lock-free skip list, so readers never block the committing writer that adds
//! entries. Visibility is decided by the row, not the entry: a lookup returns candidate row
//! ids that the caller checks against its snapshot. Entries go away only when compaction drops
//! the row version physically, or when a failed commit is undone.
//!
//! Indexes are not persisted: they are rebuilt from the rows when the engine opens (after the
//! WAL replay), which makes them consistent with MVCC and crash-safe by construction.
//!
//! Key order is [`Value`]'s order; NULL sorts last. A key with a NULL never conflicts in a
//! unique index (PostgreSQL's default NULLS DISTINCT), `=` lookups never match NULL, and range
//! scans stop before NULL keys.

use std::cmp::Ordering;
use std::ops::Bound;

use crossbeam_skiplist::SkipSet;

use crate::catalog::{AttNum, IndexDef};
use crate::types::Value;

#[derive(Debug, Clone)]
pub struct IndexEntry {
    pub key: Vec<Value>,
    pub row_id: u64,
}

impl PartialEq for IndexEntry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for IndexEntry {}
impl PartialOrd for IndexEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for IndexEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .cmp(&other.key)
            .then(self.row_id.cmp(&other.row_id))
    }
}

/// One B-tree index of a table.
pub struct BTreeIndex {
    pub oid: u32,
    pub name: String,
    pub columns: Vec<AttNum>,
    pub unique: bool,
    entries: SkipSet<IndexEntry>,
}

impl BTreeIndex {
    pub fn new(def: &IndexDef) -> BTreeIndex {
        BTreeIndex {
            oid: def.oid,
            name: def.name.clone(),
            columns: def.columns.clone(),
            unique: def.unique,
            entries: SkipSet::new(),
        }
    }

    /// The key of `row` (a row widened to the table's width).
    pub fn key_of(&self, row: &[Value]) -> Vec<Value> {
        self.columns
            .iter()
            .map(|a| row.get(usize::from(*a) - 1).cloned().unwrap_or(Value::Null))
            .collect()
    }

    pub fn insert(&self, key: Vec<Value>, row_id: u64) {
        self.entries.insert(IndexEntry { key, row_id });
    }

    pub fn remove(&self, key: Vec<Value>, row_id: u64) {
        self.entries.remove(&IndexEntry { key, row_id });
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Row ids of every version whose key starts with `prefix` (no NULL in `prefix`).
    pub fn lookup(&self, prefix: &[Value]) -> Vec<u64> {
        if prefix.iter().any(Value::is_null) {
            return Vec::new();
        }
        self.range(
            Bound::Included(prefix.to_vec()),
            Bound::Included(prefix.to_vec()),
        )
    }

    /// Row ids of every version whose key prefix lies within the bounds (bounds are key
    /// prefixes; NULL keys are never returned).
    pub fn range(&self, lower: Bound<Vec<Value>>, upper: Bound<Vec<Value>>) -> Vec<u64> {
        let width = self.columns.len();
        let pad_high = |mut prefix: Vec<Value>| {
            // NULL is the greatest value: a prefix padded with NULLs and the largest row id
            // is above every entry that starts with the prefix.
            prefix.resize(width.max(prefix.len()), Value::Null);
            prefix
        };
        let low = match lower {
            Bound::Included(p) => Bound::Included(IndexEntry { key: p, row_id: 0 }),
            Bound::Excluded(p) => Bound::Excluded(IndexEntry {
                key: pad_high(p),
                row_id: u64::MAX,
            }),
            Bound::Unbounded => Bound::Unbounded,
        };
        let high = match upper {
            Bound::Included(p) => Bound::Included(IndexEntry {
                key: pad_high(p),
                row_id: u64::MAX,
            }),
            Bound::Excluded(p) => Bound::Excluded(IndexEntry { key: p, row_id: 0 }),
            // Stop before the first NULL in the leading column.
            Bound::Unbounded => Bound::Excluded(IndexEntry {
                key: vec![Value::Null],
                row_id: 0,
            }),
        };
        if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) =
            (&low, &high)
        {
            if l > h {
                return Vec::new();
            }
        }
        self.entries
            .range((low, high))
            .filter(|e| !e.key.first().is_some_and(Value::is_null))
            .map(|e| e.row_id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(columns: Vec<AttNum>) -> BTreeIndex {
        BTreeIndex::new(&IndexDef {
            oid: 1,
            name: "i".into(),
            columns,
            ..Default::default()
        })
    }

    fn ints(v: &[i64]) -> Vec<Value> {
        v.iter().map(|x| Value::Int8(*x)).collect()
    }

    #[test]
    fn equality_and_ranges_on_a_composite_key() {
        let idx = index(vec![1, 2]);
        let mut id = 0;
        for a in 0..5 {
            for b in 0..3 {
                idx.insert(ints(&[a, b]), id);
                id += 1;
            }
        }
        idx.insert(vec![Value::Int8(2), Value::Null], 100);
        idx.insert(vec![Value::Null, Value::Int8(1)], 101);
        assert_eq!(idx.lookup(&ints(&[2])), vec![6, 7, 8, 100]);
        assert_eq!(idx.lookup(&ints(&[2, 1])), vec![7]);
        assert!(idx.lookup(&[Value::Null]).is_empty());
        let between = idx.range(Bound::Excluded(ints(&[1])), Bound::Excluded(ints(&[3])));
        assert_eq!(between, vec![6, 7, 8, 100]);
        let above = idx.range(Bound::Included(ints(&[4])), Bound::Unbounded);
        assert_eq!(above, vec![12, 13, 14]);
        let below = idx.range(Bound::Unbounded, Bound::Excluded(ints(&[1])));
        assert_eq!(below, vec![0, 1, 2]);
        assert!(idx
            .range(Bound::Included(ints(&[3])), Bound::Included(ints(&[1])))
            .is_empty());
        idx.remove(ints(&[2, 1]), 7);
        assert_eq!(idx.lookup(&ints(&[2, 1])), Vec::<u64>::new());
    }
}
