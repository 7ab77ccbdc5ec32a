//! The private write set of a transaction for one table ([`TableWrites`]): the rows it
//! inserted, the committed rows it deleted, and its own rows by key in each
//! storage-maintained index ([`PendingIndex`]), which answer unique checks and index reads
//! before commit.
//!
//! Pending rows are addressed by their position in [`TableWrites::inserts`]; a position is
//! never reused within a transaction (a deleted pending row leaves `None`). The key hashes
//! here are in-memory only (never persisted): [`hash_values`] of a key equals
//! [`hash_row_key`] of a row with that key.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::catalog::{AttNum, Catalog};
use crate::engine::storage_maintains;
use crate::types::{Row, Value};

/// Positions (in [`TableWrites::inserts`]) of the pending rows under one key hash: almost
/// always one, so it is kept inline.
#[derive(Debug, Clone)]
enum Positions {
    One(u32),
    Many(BTreeSet<u32>),
}

impl Positions {
    fn add(&mut self, position: u32) {
        match self {
            Positions::One(existing) if *existing == position => {}
            Positions::One(existing) => {
                *self = Positions::Many(BTreeSet::from([*existing, position]));
            }
            Positions::Many(set) => {
                set.insert(position);
            }
        }
    }

    /// Removes `position`; returns whether none is left.
    fn remove(&mut self, position: u32) -> bool {
        match self {
            Positions::One(existing) => *existing == position,
            Positions::Many(set) => {
                set.remove(&position);
                set.is_empty()
            }
        }
    }

    /// Whether `f` holds for one of the positions (visited in increasing order).
    fn any(&self, mut f: impl FnMut(u32) -> bool) -> bool {
        match self {
            Positions::One(position) => f(*position),
            Positions::Many(set) => set.iter().any(|p| f(*p)),
        }
    }
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// A fast hasher for index keys (FxHash's step, then a finaliser so that every bit counts).
#[derive(Default)]
struct KeyHasher(u64);

impl KeyHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        // MurmurHash3's fmix64.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_i64(&mut self, value: i64) {
        self.add(value as u64);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }
}

/// The hash of a key given as values (consistent with `Value`'s equality).
fn hash_values(key: &[Value]) -> u64 {
    let mut hasher = KeyHasher::default();
    for value in key {
        value.hash(&mut hasher);
    }
    hasher.finish()
}

/// The value of column `attnum` in `row` (NULL past its end).
#[inline]
pub(super) fn column_value(row: &[Value], attnum: AttNum) -> &Value {
    const NULL: &Value = &Value::Null;
    row.get(usize::from(attnum) - 1).unwrap_or(NULL)
}

/// The hash of a row's key in an index on `columns` (equal to [`hash_values`] of that key).
pub(super) fn hash_row_key(columns: &[AttNum], row: &[Value]) -> u64 {
    let mut hasher = KeyHasher::default();
    for &attnum in columns {
        column_value(row, attnum).hash(&mut hasher);
    }
    hasher.finish()
}

/// Whether the key of `row` in an index on `columns` starts with `prefix`.
fn row_key_starts_with(columns: &[AttNum], row: &[Value], prefix: &[Value]) -> bool {
    prefix.len() <= columns.len()
        && columns
            .iter()
            .zip(prefix)
            .all(|(&attnum, value)| column_value(row, attnum) == value)
}

/// This transaction's own rows by their key in one index. Keys are not stored: a hash of the
/// key leads to the positions of the rows that may have it, whose key columns are compared.
/// A lookup by a whole key is one probe; by a key prefix or a range, a pass over this
/// transaction's rows.
///
/// A unique index also keeps a *tail*: the last rows inserted, not hashed, whose keys (none
/// NULL) increase strictly with their position. A bulk load in key order (a dump, a serial
/// key) stays in the tail: checking and adding a row costs one key comparison with the row
/// before it. A row out of order, or the delete of a row in the middle of the tail, hashes
/// the tail first. The tail's rows are all live.
pub(super) struct PendingIndex {
    oid: u32,
    pub(super) columns: Vec<AttNum>,
    unique: bool,
    by_hash: HashMap<u64, Positions, BuildHasherDefault<PassThrough>>,
    tail: std::ops::Range<u32>,
}

impl PendingIndex {
    fn new(oid: u32, columns: &[AttNum], unique: bool) -> PendingIndex {
        PendingIndex {
            oid,
            columns: columns.to_vec(),
            unique,
            by_hash: HashMap::default(),
            tail: 0..0,
        }
    }

    /// The order of two rows by their key in this index.
    fn key_cmp(&self, a: &[Value], b: &[Value]) -> std::cmp::Ordering {
        self.columns
            .iter()
            .map(|&c| column_value(a, c).cmp(column_value(b, c)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    }

    fn has_null_key(&self, row: &[Value]) -> bool {
        self.columns.iter().any(|&c| column_value(row, c).is_null())
    }

    fn hash_add(&mut self, hash: u64, position: u32) {
        self.by_hash
            .entry(hash)
            .and_modify(|positions| positions.add(position))
            .or_insert(Positions::One(position));
    }

    /// Hashes the rows of the tail (skipping a row being deleted); the tail is then empty.
    fn catch_up(&mut self, inserts: &[Option<Row>]) {
        let tail = std::mem::replace(&mut self.tail, 0..0);
        for position in tail {
            if let Some(Some(row)) = inserts.get(position as usize) {
                let hash = hash_row_key(&self.columns, row);
                self.hash_add(hash, position);
            }
        }
    }

    /// Adds `row` (key hash `hash`) at `position`, the next position of `inserts`.
    fn add(&mut self, hash: u64, position: u32, row: &[Value], inserts: &[Option<Row>]) {
        if !self.unique || self.has_null_key(row) {
            self.hash_add(hash, position);
            return;
        }
        if self.tail.is_empty() {
            self.tail = position..position + 1;
            return;
        }
        let follows = self.tail.end == position
            && matches!(inserts.get(position as usize - 1), Some(Some(last))
                if self.key_cmp(last, row).is_lt());
        if follows {
            self.tail.end = position + 1;
        } else {
            self.catch_up(inserts);
            self.tail = position..position + 1;
        }
    }

    /// Removes row `position` (key hash `hash`), already taken out of `inserts`.
    fn remove(&mut self, hash: u64, position: u32, inserts: &[Option<Row>]) {
        if self.tail.contains(&position) {
            if position + 1 == self.tail.end {
                self.tail.end = position;
            } else {
                self.catch_up(inserts);
            }
            return;
        }
        if let Some(positions) = self.by_hash.get_mut(&hash) {
            if positions.remove(position) {
                self.by_hash.remove(&hash);
            }
        }
    }

    /// The tail position whose row's key equals (in `Equal`) or bounds the key of `row`, by
    /// bisection: `Ok(position)` when one has the key.
    fn tail_search(
        &self,
        inserts: &[Option<Row>],
        ordering: impl Fn(&[Value]) -> std::cmp::Ordering,
    ) -> Result<u32, u32> {
        let (mut lo, mut hi) = (self.tail.start, self.tail.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let Some(Some(other)) = inserts.get(mid as usize) else {
                debug_assert!(false, "a row of the tail was deleted");
                return Err(lo);
            };
            match ordering(other) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// Whether a live pending row has the key of `row` (whose key hash is `hash`).
    pub(super) fn contains_key_of(
        &self,
        hash: u64,
        row: &[Value],
        inserts: &[Option<Row>],
    ) -> bool {
        let same_key = |other: &[Value]| self.key_cmp(other, row).is_eq();
        let hashed = self.by_hash.get(&hash).is_some_and(|positions| {
            positions
                .any(|p| matches!(inserts.get(p as usize), Some(Some(other)) if same_key(other)))
        });
        if hashed || self.tail.is_empty() {
            return hashed;
        }
        // Past the last row of the tail (a bulk load in key order): not in it.
        if let Some(Some(last)) = inserts.get(self.tail.end as usize - 1) {
            if self.key_cmp(last, row).is_lt() {
                return false;
            }
        }
        self.tail_search(inserts, |other| self.key_cmp(other, row))
            .is_ok()
    }

    /// Positions of the live pending rows whose key starts with `prefix`, in key order (then
    /// position order).
    pub(super) fn matching(&self, prefix: &[Value], inserts: &[Option<Row>]) -> Vec<u32> {
        let mut found = Vec::new();
        if prefix.len() == self.columns.len() {
            if let Some(positions) = self.by_hash.get(&hash_values(prefix)) {
                positions.any(|p| {
                    if matches!(inserts.get(p as usize), Some(Some(row))
                        if row_key_starts_with(&self.columns, row, prefix))
                    {
                        found.push(p);
                    }
                    false
                });
            }
            let by_prefix = |row: &[Value]| {
                self.columns
                    .iter()
                    .zip(prefix)
                    .map(|(&c, value)| column_value(row, c).cmp(value))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            };
            if let Ok(position) = self.tail_search(inserts, by_prefix) {
                found.push(position);
            }
            found.sort_unstable();
            return found;
        }
        self.in_key_order(inserts, |row| {
            row_key_starts_with(&self.columns, row, prefix)
        })
    }

    /// Positions of the live pending rows that `keep` accepts, in key order (then position).
    pub(super) fn in_key_order(
        &self,
        inserts: &[Option<Row>],
        keep: impl Fn(&[Value]) -> bool,
    ) -> Vec<u32> {
        let mut found: Vec<(Vec<Value>, u32)> = Vec::new();
        let mut consider = |p: u32| {
            if let Some(Some(row)) = inserts.get(p as usize) {
                if keep(row) {
                    found.push((key_of(&self.columns, row), p));
                }
            }
        };
        for positions in self.by_hash.values() {
            positions.any(|p| {
                consider(p);
                false
            });
        }
        self.tail.clone().for_each(consider);
        found.sort_unstable();
        found.into_iter().map(|(_, p)| p).collect()
    }
}

#[derive(Default)]
pub(super) struct TableWrites {
    /// Rows inserted by this transaction; `None` once deleted again.
    pub(super) inserts: Vec<Option<Row>>,
    /// Committed rows this transaction deleted.
    pub(super) deletes: BTreeSet<u64>,
    /// This transaction's rows by key, per storage-maintained index (a table has few).
    pending: Vec<PendingIndex>,
    /// The table's index generation when this transaction first checked a row's unique keys
    /// against the committed rows (generations only grow: the earliest is the smallest).
    pub(super) checked_generation: Option<u64>,
}

impl TableWrites {
    pub(super) fn index(&self, oid: u32) -> Option<&PendingIndex> {
        self.pending.iter().find(|i| i.oid == oid)
    }

    /// Adds `row`, about to be appended to `inserts` at `position`, to index `oid` (created
    /// on first use with its key `columns`).
    pub(super) fn add_key(
        &mut self,
        (oid, columns, unique): (u32, &[AttNum], bool),
        hash: u64,
        position: u32,
        row: &[Value],
    ) {
        let at = match self.pending.iter().position(|i| i.oid == oid) {
            Some(at) => at,
            None => {
                self.pending.push(PendingIndex::new(oid, columns, unique));
                self.pending.len() - 1
            }
        };
        self.pending[at].add(hash, position, row, &self.inserts);
    }

    /// Removes pending row `position` (holding `row`, already taken out of `inserts`) from
    /// the pending indexes.
    pub(super) fn forget_keys(&mut self, position: u32, row: &[Value]) {
        for index in &mut self.pending {
            let hash = hash_row_key(&index.columns, row);
            index.remove(hash, position, &self.inserts);
        }
    }

    /// Puts pending row `position` (holding `row`) back into the indexes of `table`.
    pub(super) fn remember_keys(
        &mut self,
        catalog: &Catalog,
        table: u32,
        position: u32,
        row: &[Value],
    ) {
        for def in catalog.indexes_of(table).filter(|d| storage_maintains(d)) {
            let hash = hash_row_key(&def.columns, row);
            let at = match self.pending.iter().position(|i| i.oid == def.oid) {
                Some(at) => at,
                None => {
                    let index = PendingIndex::new(def.oid, &def.columns, def.unique);
                    self.pending.push(index);
                    self.pending.len() - 1
                }
            };
            self.pending[at].hash_add(hash, position);
        }
    }
}

pub(super) fn key_of(columns: &[u16], row: &[Value]) -> Vec<Value> {
    columns
        .iter()
        .map(|a| row.get(usize::from(*a) - 1).cloned().unwrap_or(Value::Null))
        .collect()
}
