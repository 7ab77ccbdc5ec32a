//! Transactions: a snapshot to read at, and a private write set applied only at commit.
//!
//! A transaction reads the committed state as of its snapshot LSN plus its own changes. Its
//! writes stay private until [`Transaction::commit`]: inserted rows get provisional ids
//! ([`PENDING_ROW_BIT`] set) and real row ids at commit; deletes of committed rows are a set
//! of row ids; catalog changes are a private copy of the catalog. Rolling back (or dropping
//! the transaction) discards the write set: nothing reached the WAL or shared memory.
//!
//! Conflicts follow snapshot isolation with first-committer-wins: deleting or updating a row
//! that another transaction deleted after this snapshot fails with a serialization failure
//! (40001), at the statement or at commit; a unique key is checked against every committed
//! row (not only those in the snapshot) at insert and again at commit; DDL conflicts with any
//! DDL committed after the snapshot, and writes to a table conflict with a concurrent change
//! of its definition.
//!
//! Savepoints are positions in a journal of the changes; rolling back to one undoes the
//! journal entries after it.
//!
//! Bulk loads ([`Transaction::insert_batch`], what COPY uses) look the table, its indexes and
//! its committed state up once per batch, and check each row's unique keys without
//! allocating beyond the key itself. The commit-time re-check of unique keys against the
//! committed rows is skipped when no commit added index entries to the table since the
//! transaction's first check ([`crate::table::TableStore::index_generation`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::ops::Bound;
use std::sync::Arc;

use crate::btree::BTreeIndex;
use crate::catalog::{AttNum, Catalog, TableDef};
use crate::engine::{storage_maintains, CatalogVersion, CommitUndo, EngineInner};
use crate::error::{Result, StorageError};
use crate::mvcc::UNDONE_LSN;
use crate::scan::{ScanOptions, ScanPartition};
use crate::table::TableVersion;
use crate::types::{Row, Value};
use crate::wal::PayloadBuilder;

/// See [`Transaction::read_view`].
pub(crate) type ReadView<'t> = (
    Option<Arc<crate::table::TableStore>>,
    Option<&'t BTreeSet<u64>>,
    &'t [Option<Row>],
);

/// Set in the id of a row inserted by a transaction that has not committed yet.
pub const PENDING_ROW_BIT: u64 = 1 << 63;

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
fn column_value(row: &[Value], attnum: AttNum) -> &Value {
    const NULL: &Value = &Value::Null;
    row.get(usize::from(attnum) - 1).unwrap_or(NULL)
}

/// The hash of a row's key in an index on `columns` (equal to [`hash_values`] of that key).
fn hash_row_key(columns: &[AttNum], row: &[Value]) -> u64 {
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
struct PendingIndex {
    oid: u32,
    columns: Vec<AttNum>,
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
    fn contains_key_of(&self, hash: u64, row: &[Value], inserts: &[Option<Row>]) -> bool {
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
    fn matching(&self, prefix: &[Value], inserts: &[Option<Row>]) -> Vec<u32> {
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
    fn in_key_order(&self, inserts: &[Option<Row>], keep: impl Fn(&[Value]) -> bool) -> Vec<u32> {
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
struct TableWrites {
    /// Rows inserted by this transaction; `None` once deleted again.
    inserts: Vec<Option<Row>>,
    /// Committed rows this transaction deleted.
    deletes: BTreeSet<u64>,
    /// This transaction's rows by key, per storage-maintained index (a table has few).
    pending: Vec<PendingIndex>,
    /// The table's index generation when this transaction first checked a row's unique keys
    /// against the committed rows (generations only grow: the earliest is the smallest).
    checked_generation: Option<u64>,
}

impl TableWrites {
    fn index(&self, oid: u32) -> Option<&PendingIndex> {
        self.pending.iter().find(|i| i.oid == oid)
    }

    /// Adds `row`, about to be appended to `inserts` at `position`, to index `oid` (created
    /// on first use with its key `columns`).
    fn add_key(
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
    fn forget_keys(&mut self, position: u32, row: &[Value]) {
        for index in &mut self.pending {
            let hash = hash_row_key(&index.columns, row);
            index.remove(hash, position, &self.inserts);
        }
    }

    /// Puts pending row `position` (holding `row`) back into the indexes of `table`.
    fn remember_keys(&mut self, catalog: &Catalog, table: u32, position: u32, row: &[Value]) {
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

/// Space reused from one inserted row to the next.
#[derive(Default)]
struct InsertScratch {
    /// A unique key, for the committed-rows check and the error message.
    keys: Vec<Value>,
    /// The row's key hash in each index of the target.
    hashes: Vec<u64>,
}

/// A storage-maintained index of the table being inserted into.
struct TargetIndex {
    oid: u32,
    columns: Vec<AttNum>,
    unique: bool,
    /// The committed entries, for a unique index that has any.
    committed: Option<Arc<BTreeIndex>>,
}

/// What inserting rows into one table needs, looked up once per row or batch.
struct InsertTarget {
    catalog: Arc<Catalog>,
    table: u32,
    indexes: Vec<TargetIndex>,
    /// The table's committed rows (to tell whether an index entry's row is live).
    version: Option<Arc<TableVersion>>,
    /// The index generation read before `indexes` and `version` were loaded.
    generation: Option<u64>,
}

impl InsertTarget {
    fn def(&self) -> Result<&TableDef> {
        self.catalog
            .tables
            .get(&self.table)
            .ok_or(StorageError::NoSuchTable(self.table))
    }
}

/// A row of [`Transaction::insert_batch`] that could not be inserted: where it was in the
/// batch, the row itself (for the error message) and why.
#[derive(Debug)]
pub struct BatchInsertError {
    pub position: usize,
    pub row: Row,
    pub error: StorageError,
}

enum JournalEntry {
    /// `count` rows appended at `position` onwards.
    Insert {
        table: u32,
        position: u32,
        count: u32,
    },
    KillPending {
        table: u32,
        position: u32,
        row: Row,
    },
    Delete {
        table: u32,
        row_id: u64,
    },
    Catalog {
        previous: Option<Arc<Catalog>>,
    },
}

/// A position to roll back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Savepoint(usize);

pub struct Transaction {
    engine: Arc<EngineInner>,
    snapshot: u64,
    base_catalog: Arc<CatalogVersion>,
    catalog: Option<Arc<Catalog>>,
    writes: BTreeMap<u32, TableWrites>,
    journal: Vec<JournalEntry>,
    write_bytes: usize,
}

impl Transaction {
    pub(crate) fn new(engine: Arc<EngineInner>) -> Transaction {
        let snapshot = engine.snapshots.register(|| engine.wal.durable_lsn());
        let base_catalog = engine.catalog.load_full();
        Transaction {
            engine,
            snapshot,
            base_catalog,
            catalog: None,
            writes: BTreeMap::new(),
            journal: Vec::new(),
            write_bytes: 0,
        }
    }

    /// The LSN this transaction reads at.
    pub fn snapshot_lsn(&self) -> u64 {
        self.snapshot
    }

    /// The catalog as this transaction sees it (its own DDL included).
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .clone()
            .unwrap_or_else(|| self.base_catalog.catalog.clone())
    }

    /// The catalog to change; the change commits or rolls back with the transaction.
    pub fn catalog_mut(&mut self) -> &mut Catalog {
        let current = self.catalog();
        self.journal.push(JournalEntry::Catalog {
            previous: self.catalog.clone(),
        });
        let catalog = self.catalog.insert(current);
        Arc::make_mut(catalog)
    }

    pub fn has_writes(&self) -> bool {
        !self.journal.is_empty()
    }

    /// The catalog as this transaction sees it, borrowed (no reference count to touch: a
    /// cached plan is checked against it on every execution).
    pub fn catalog_ref(&self) -> &Catalog {
        self.catalog
            .as_deref()
            .unwrap_or(&self.base_catalog.catalog)
    }

    fn table_def(&self, table: u32) -> Result<&TableDef> {
        self.catalog_ref()
            .tables
            .get(&table)
            .ok_or(StorageError::NoSuchTable(table))
    }

    /// Looks up what inserting into `table` needs: its indexes and its committed state.
    fn insert_target(&self, table: u32) -> Result<InsertTarget> {
        let catalog = self.catalog();
        if !catalog.tables.contains_key(&table) {
            return Err(StorageError::NoSuchTable(table));
        }
        let store = self.engine.table(table).ok();
        // The generation first: entries added after it was read make it move.
        let generation = store.as_ref().map(|s| s.index_generation());
        let btrees = store.as_ref().map(|s| s.btrees.load_full());
        let version = store.as_ref().map(|s| s.load());
        let indexes = catalog
            .indexes_of(table)
            .filter(|d| storage_maintains(d))
            .map(|d| TargetIndex {
                oid: d.oid,
                columns: d.columns.clone(),
                unique: d.unique,
                committed: btrees
                    .as_ref()
                    .filter(|_| d.unique)
                    .and_then(|b| b.get(&d.oid))
                    .filter(|b| !b.is_empty())
                    .cloned(),
            })
            .collect();
        Ok(InsertTarget {
            catalog,
            table,
            indexes,
            version,
            generation,
        })
    }

    /// Inserts a row (one value per column of the table, dropped columns NULL); returns its
    /// provisional id.
    pub fn insert(&mut self, table: u32, row: Row) -> Result<u64> {
        let target = self.insert_target(table)?;
        let position = self
            .insert_into(&target, row, &mut InsertScratch::default())
            .map_err(|(error, _)| error)?;
        self.journal.push(JournalEntry::Insert {
            table,
            position,
            count: 1,
        });
        Ok(PENDING_ROW_BIT | position as u64)
    }

    /// Inserts rows in order, as [`Transaction::insert`] one by one would, with the table's
    /// indexes and committed state looked up once. On an error the rows before the failing
    /// one stay inserted (a savepoint taken before the call undoes them), the failing row is
    /// handed back with its position, and the rows after it are dropped.
    pub fn insert_batch(
        &mut self,
        table: u32,
        rows: Vec<Row>,
    ) -> std::result::Result<(), BatchInsertError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut rows = rows.into_iter().enumerate();
        let target = match self.insert_target(table) {
            Ok(target) => target,
            Err(error) => {
                let (position, row) = rows.next().expect("a row");
                return Err(BatchInsertError {
                    position,
                    row,
                    error,
                });
            }
        };
        let mut scratch = InsertScratch::default();
        let mut first = None;
        let mut count = 0u32;
        let mut failure = None;
        for (position, row) in rows {
            match self.insert_into(&target, row, &mut scratch) {
                Ok(at) => {
                    first.get_or_insert(at);
                    count += 1;
                }
                Err((error, row)) => {
                    failure = Some(BatchInsertError {
                        position,
                        row,
                        error,
                    });
                    break;
                }
            }
        }
        if let Some(position) = first {
            self.journal.push(JournalEntry::Insert {
                table,
                position,
                count,
            });
        }
        match failure {
            None => Ok(()),
            Some(failure) => Err(failure),
        }
    }

    /// Checks one row and appends it to the write set (the caller journals it); returns its
    /// position.
    fn insert_into(
        &mut self,
        target: &InsertTarget,
        row: Row,
        scratch: &mut InsertScratch,
    ) -> std::result::Result<u32, (StorageError, Row)> {
        let def = match target.def() {
            Ok(def) => def,
            Err(error) => return Err((error, row)),
        };
        if let Err(error) = check_row(def, &row) {
            return Err((error, row));
        }
        let writes = self.writes.entry(target.table).or_default();
        scratch.hashes.clear();
        for index in &target.indexes {
            let hash = hash_row_key(&index.columns, &row);
            scratch.hashes.push(hash);
            if !index.unique
                || index
                    .columns
                    .iter()
                    .any(|&a| column_value(&row, a).is_null())
            {
                continue;
            }
            let pending = writes
                .index(index.oid)
                .is_some_and(|pending| pending.contains_key_of(hash, &row, &writes.inserts));
            let keys = &mut scratch.keys;
            keys.clear();
            let committed = index.committed.is_some() && {
                keys.extend(index.columns.iter().map(|&a| column_value(&row, a).clone()));
                committed_key_live(index, target, &writes.deletes, keys)
            };
            if pending || committed {
                keys.clear();
                keys.extend(index.columns.iter().map(|&a| column_value(&row, a).clone()));
                let name = target
                    .catalog
                    .indexes
                    .get(&index.oid)
                    .map_or("", |d| d.name.as_str());
                return Err((unique_violation(name, keys), row));
            }
        }
        if let Some(generation) = target.generation {
            writes.checked_generation = Some(
                writes
                    .checked_generation
                    .map_or(generation, |g| g.min(generation)),
            );
        }
        let position = writes.inserts.len() as u32;
        for (index, &hash) in target.indexes.iter().zip(&scratch.hashes) {
            writes.add_key(
                (index.oid, &index.columns, index.unique),
                hash,
                position,
                &row,
            );
        }
        self.write_bytes += row.iter().map(Value::approx_size).sum::<usize>();
        writes.inserts.push(Some(row));
        Ok(position)
    }

    /// Deletes a row visible to this transaction.
    pub fn delete(&mut self, table: u32, row_id: u64) -> Result<()> {
        if row_id & PENDING_ROW_BIT != 0 {
            let position = (row_id & !PENDING_ROW_BIT) as u32;
            let writes = self.writes.get_mut(&table).ok_or(StorageError::NoSuchRow {
                table_id: table,
                row_id,
            })?;
            let row = writes
                .inserts
                .get_mut(position as usize)
                .and_then(Option::take)
                .ok_or(StorageError::NoSuchRow {
                    table_id: table,
                    row_id,
                })?;
            writes.forget_keys(position, &row);
            self.journal.push(JournalEntry::KillPending {
                table,
                position,
                row,
            });
            return Ok(());
        }
        let store = self.engine.table(table)?;
        let version = store.load();
        let location = version.locate(row_id).ok_or(StorageError::NoSuchRow {
            table_id: table,
            row_id,
        })?;
        let already_mine = self
            .writes
            .get(&table)
            .is_some_and(|w| w.deletes.contains(&row_id));
        if !location.visible_at(self.snapshot) || already_mine {
            return Err(StorageError::NoSuchRow {
                table_id: table,
                row_id,
            });
        }
        if location.delete_lsn() != 0 {
            return Err(StorageError::SerializationFailure);
        }
        self.writes.entry(table).or_default().deletes.insert(row_id);
        self.journal.push(JournalEntry::Delete { table, row_id });
        Ok(())
    }

    /// Replaces a row: a delete and an insert. Returns the new row's provisional id.
    pub fn update(&mut self, table: u32, row_id: u64, row: Row) -> Result<u64> {
        let savepoint = self.savepoint();
        self.delete(table, row_id)?;
        match self.insert(table, row) {
            Ok(id) => Ok(id),
            Err(e) => {
                self.rollback_to(savepoint);
                Err(e)
            }
        }
    }

    /// The row with id `row_id` as this transaction sees it, widened to the table.
    pub fn get(&self, table: u32, row_id: u64) -> Result<Option<Row>> {
        let def = self.table_def(table)?;
        if row_id & PENDING_ROW_BIT != 0 {
            let position = (row_id & !PENDING_ROW_BIT) as usize;
            return Ok(self
                .writes
                .get(&table)
                .and_then(|w| w.inserts.get(position))
                .and_then(|r| r.clone()));
        }
        if self
            .writes
            .get(&table)
            .is_some_and(|w| w.deletes.contains(&row_id))
        {
            return Ok(None);
        }
        let Ok(store) = self.engine.table(table) else {
            return Ok(None);
        };
        let version = store.load();
        match version.locate(row_id) {
            Some(location) if location.visible_at(self.snapshot) => Ok(Some(location.read(def)?)),
            _ => Ok(None),
        }
    }

    /// Rows whose key in index `index` starts with `prefix`: committed rows in key order,
    /// then this transaction's own rows.
    pub fn index_lookup(&self, index: u32, prefix: &[Value]) -> Result<Vec<(u64, Row)>> {
        if prefix.is_empty() {
            return self.index_range(index, Bound::Unbounded, Bound::Unbounded);
        }
        if prefix.iter().any(Value::is_null) {
            return Ok(Vec::new());
        }
        let catalog = self.catalog_ref();
        let def = catalog
            .indexes
            .get(&index)
            .ok_or(StorageError::NoSuchIndex(index))?;
        let table = catalog
            .tables
            .get(&def.table)
            .ok_or(StorageError::NoSuchTable(def.table))?;
        let mut out = Vec::new();
        let deleted = self.writes.get(&def.table).map(|w| &w.deletes);
        if let Some(store) = self.engine.tables.load().get(&def.table) {
            let btrees = store.btrees.load();
            if let Some(btree) = btrees.get(&index) {
                let version = store.version.load();
                let mut key = prefix.to_vec();
                let mut failure = None;
                btree.visit_prefix(&mut key, |row_id| {
                    if deleted.is_some_and(|d| d.contains(&row_id)) {
                        return false;
                    }
                    if let Some(location) = version.locate(row_id) {
                        if location.visible_at(self.snapshot) {
                            match location.read(table) {
                                Ok(row) => out.push((row_id, row)),
                                Err(error) => {
                                    failure = Some(error);
                                    return true;
                                }
                            }
                        }
                    }
                    false
                });
                if let Some(error) = failure {
                    return Err(error);
                }
            }
        }
        if let Some(writes) = self.writes.get(&def.table) {
            if let Some(pending) = writes.index(index) {
                for position in pending.matching(prefix, &writes.inserts) {
                    if let Some(Some(row)) = writes.inserts.get(position as usize) {
                        out.push((PENDING_ROW_BIT | position as u64, row.clone()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Rows whose key prefix lies within the bounds (NULL keys excluded).
    pub fn index_range(
        &self,
        index: u32,
        lower: Bound<Vec<Value>>,
        upper: Bound<Vec<Value>>,
    ) -> Result<Vec<(u64, Row)>> {
        let catalog = self.catalog_ref();
        let def = catalog
            .indexes
            .get(&index)
            .ok_or(StorageError::NoSuchIndex(index))?;
        let table = catalog
            .tables
            .get(&def.table)
            .ok_or(StorageError::NoSuchTable(def.table))?;
        let mut out = Vec::new();
        if let Ok(store) = self.engine.table(def.table) {
            let version = store.load();
            let btrees = store.btrees.load();
            let deleted = self.writes.get(&def.table).map(|w| &w.deletes);
            if let Some(btree) = btrees.get(&index) {
                for row_id in btree.range(lower.clone(), upper.clone()) {
                    if deleted.is_some_and(|d| d.contains(&row_id)) {
                        continue;
                    }
                    if let Some(location) = version.locate(row_id) {
                        if location.visible_at(self.snapshot) {
                            out.push((row_id, location.read(table)?));
                        }
                    }
                }
            }
        }
        if let Some(writes) = self.writes.get(&def.table) {
            if let Some(pending) = writes.index(index) {
                let within = |row: &[Value]| {
                    let key = key_of(&pending.columns, row);
                    !key.first().is_some_and(Value::is_null) && prefix_within(&key, &lower, &upper)
                };
                for position in pending.in_key_order(&writes.inserts, within) {
                    if let Some(Some(row)) = writes.inserts.get(position as usize) {
                        out.push((PENDING_ROW_BIT | position as u64, row.clone()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// What readers outside this module (vector search) need of `table`: the committed
    /// layout (`None` before the table has a store), the committed rows this transaction
    /// deleted, and its own inserted rows (`None` where deleted again; position = pending id).
    pub(crate) fn read_view(&self, table: u32) -> ReadView<'_> {
        let writes = self.writes.get(&table);
        (
            self.engine.table(table).ok(),
            writes.map(|w| &w.deletes).filter(|d| !d.is_empty()),
            writes.map_or(&[][..], |w| w.inserts.as_slice()),
        )
    }

    /// Independent pieces of a scan of `table` (segments, memtables, own rows) that may run
    /// in parallel; each yields the rows visible to this transaction.
    pub fn scan_partitions(&self, table: u32, options: &ScanOptions) -> Result<Vec<ScanPartition>> {
        let def = Arc::new(self.table_def(table)?.clone());
        let deleted: Arc<BTreeSet<u64>> = Arc::new(
            self.writes
                .get(&table)
                .map(|w| w.deletes.clone())
                .unwrap_or_default(),
        );
        let mut parts = Vec::new();
        if let Ok(store) = self.engine.table(table) {
            let version = store.load();
            for slot in &version.segments {
                parts.push(ScanPartition::segment(
                    slot.clone(),
                    def.clone(),
                    self.snapshot,
                    deleted.clone(),
                    options.clone(),
                ));
            }
            for memtable in version.memtables() {
                parts.push(ScanPartition::memtable(
                    memtable.clone(),
                    def.clone(),
                    self.snapshot,
                    deleted.clone(),
                    options.clone(),
                ));
            }
        }
        if let Some(writes) = self.writes.get(&table) {
            let rows: Vec<(u64, Row)> = writes
                .inserts
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.as_ref().map(|r| (PENDING_ROW_BIT | i as u64, r.clone())))
                .collect();
            if !rows.is_empty() {
                parts.push(ScanPartition::pending(rows, def, options.clone()));
            }
        }
        Ok(parts)
    }

    /// Every visible row of `table`, in one vector (convenience for small tables and tests).
    pub fn scan_all(&self, table: u32) -> Result<Vec<(u64, Row)>> {
        let mut out = Vec::new();
        for part in self.scan_partitions(table, &ScanOptions::default())? {
            for batch in part.iter() {
                let batch = batch?;
                out.extend(batch.row_ids.into_iter().zip(batch.rows));
            }
        }
        Ok(out)
    }

    pub fn savepoint(&self) -> Savepoint {
        Savepoint(self.journal.len())
    }

    /// Undoes every change made after `savepoint`.
    pub fn rollback_to(&mut self, savepoint: Savepoint) {
        while self.journal.len() > savepoint.0 {
            let Some(entry) = self.journal.pop() else {
                break;
            };
            match entry {
                JournalEntry::Insert {
                    table,
                    position,
                    count,
                } => {
                    if let Some(writes) = self.writes.get_mut(&table) {
                        for at in (position..position + count).rev() {
                            if let Some(Some(row)) =
                                writes.inserts.get_mut(at as usize).map(Option::take)
                            {
                                writes.forget_keys(at, &row);
                            }
                        }
                        writes.inserts.truncate(position as usize);
                    }
                }
                JournalEntry::KillPending {
                    table,
                    position,
                    row,
                } => {
                    let catalog = self.catalog();
                    if let Some(writes) = self.writes.get_mut(&table) {
                        writes.remember_keys(&catalog, table, position, &row);
                        if let Some(slot) = writes.inserts.get_mut(position as usize) {
                            *slot = Some(row);
                        }
                    }
                }
                JournalEntry::Delete { table, row_id } => {
                    if let Some(writes) = self.writes.get_mut(&table) {
                        writes.deletes.remove(&row_id);
                    }
                }
                JournalEntry::Catalog { previous } => self.catalog = previous,
            }
        }
    }

    /// Discards every change.
    pub fn rollback(self) {}

    /// Makes the changes durable and visible; returns the commit LSN (the snapshot LSN for a
    /// transaction that changed nothing).
    pub fn commit(mut self) -> Result<u64> {
        if self.journal.is_empty() {
            return Ok(self.snapshot);
        }
        if self.write_bytes > self.engine.options.max_transaction_bytes {
            return Err(StorageError::TransactionTooLarge {
                bytes: self.write_bytes,
                limit: self.engine.options.max_transaction_bytes,
            });
        }
        let engine = self.engine.clone();
        let (lsn, undo) = {
            let mut commit = engine.commit.lock();
            if let Some(reason) = engine.wal.failure() {
                return Err(StorageError::ReadOnly { reason });
            }
            self.validate()?;
            let lsn = commit.next_lsn;
            let final_catalog = self.catalog();
            // Row ids, per table that still exists at the end of the transaction.
            let tables = engine.tables.load();
            let mut payload = PayloadBuilder::default();
            // Encoded rows take about a third of their size in memory.
            payload.reserve(self.write_bytes / 3);
            if let Some(catalog) = &self.catalog {
                payload.catalog(&catalog.encode());
            }
            let mut assigned = Vec::new();
            for (table, writes) in &self.writes {
                if !final_catalog.tables.contains_key(table) {
                    continue;
                }
                let rows: Vec<&Row> = writes.inserts.iter().flatten().collect();
                if !rows.is_empty() {
                    let first = match tables.get(table) {
                        Some(store) => *store.next_row_id.lock(),
                        None => 1,
                    };
                    payload.insert(*table, first, rows.iter().copied());
                    assigned.push((*table, first, rows.len() as u64));
                }
                if !writes.deletes.is_empty() {
                    let ids: Vec<u64> = writes.deletes.iter().copied().collect();
                    payload.delete(*table, &ids);
                }
            }
            if payload.len() > engine.options.max_transaction_bytes {
                return Err(StorageError::TransactionTooLarge {
                    bytes: payload.len(),
                    limit: engine.options.max_transaction_bytes,
                });
            }
            engine.wal.append_framed(lsn, payload.frame(lsn))?;
            commit.next_lsn += 1;
            let undo = self.apply(lsn, &assigned)?;
            commit.in_flight += 1;
            (lsn, undo)
        };
        let outcome = engine.wal.wait_durable(lsn);
        let mut commit = engine.commit.lock();
        commit.in_flight -= 1;
        if outcome.is_err() {
            engine.undo_commit(&undo);
        }
        // The last commit of a failed batch to leave (whatever its own outcome) re-opens the
        // log: every failed transaction has been undone by then.
        if commit.in_flight == 0
            && engine.wal.failure().is_some()
            && engine.wal.reset_after_failure().is_ok()
        {
            commit.next_lsn = engine.wal.durable_lsn() + 1;
        }
        drop(commit);
        outcome?;
        if engine
            .tables
            .load()
            .values()
            .any(|t| t.load().active.approx_bytes() > engine.options.memtable_limit_bytes)
        {
            engine.nudge();
        }
        Ok(lsn)
    }

    /// Checks, under the commit lock, that this transaction may still commit.
    fn validate(&self) -> Result<()> {
        let current = self.engine.catalog.load();
        if current.lsn != self.base_catalog.lsn {
            if self.catalog.is_some() {
                return Err(StorageError::SerializationFailure);
            }
            for table in self.writes.keys() {
                if current.catalog.tables.get(table) != self.base_catalog.catalog.tables.get(table)
                {
                    return Err(StorageError::SerializationFailure);
                }
            }
        }
        let tables = self.engine.tables.load();
        let catalog = self.catalog();
        if self.catalog.is_some() {
            self.check_new_unique_indexes(&catalog)?;
        }
        for (table, writes) in &self.writes {
            let Some(store) = tables.get(table) else {
                continue;
            };
            let version = store.load();
            for row_id in &writes.deletes {
                match version.locate(*row_id) {
                    Some(location) if location.delete_lsn() == 0 => {}
                    _ => return Err(StorageError::SerializationFailure),
                }
            }
            // Every row was checked against the committed rows when it was inserted; only
            // entries added since (or a change of the indexes by this transaction) call for
            // checking again.
            if self.catalog.is_none() && writes.checked_generation == Some(store.index_generation())
            {
                continue;
            }
            let target = self.insert_target(*table)?;
            for index in target.indexes.iter().filter(|i| i.unique) {
                // Own rows among themselves too: an index created in this transaction after
                // rows were inserted has no pending keys for them.
                let mut own_keys = BTreeSet::new();
                for row in writes.inserts.iter().flatten() {
                    let mut key = key_of(&index.columns, row);
                    if key.iter().any(Value::is_null) {
                        continue;
                    }
                    if committed_key_live(index, &target, &writes.deletes, &mut key)
                        || (self.catalog.is_some() && !own_keys.insert(key.clone()))
                    {
                        let name = catalog
                            .indexes
                            .get(&index.oid)
                            .map_or("", |d| d.name.as_str());
                        return Err(unique_violation(name, &key));
                    }
                }
            }
        }
        Ok(())
    }

    /// A unique index created by this transaction must hold for the rows already committed.
    fn check_new_unique_indexes(&self, catalog: &Catalog) -> Result<()> {
        let tables = self.engine.tables.load();
        for def in catalog
            .indexes
            .values()
            .filter(|d| d.unique && storage_maintains(d))
        {
            let Some(store) = tables.get(&def.table) else {
                continue;
            };
            if store.btrees.load().contains_key(&def.oid) {
                continue;
            }
            let Some(table) = catalog.tables.get(&def.table) else {
                continue;
            };
            let version = store.load();
            let mine = self.writes.get(&def.table).map(|w| &w.deletes);
            let mut seen = std::collections::HashSet::new();
            let mut duplicate = None;
            crate::engine::for_each_live_row(&version, table, |row_id, row| {
                if duplicate.is_some() || mine.is_some_and(|d| d.contains(&row_id)) {
                    return;
                }
                let key = key_of(&def.columns, row);
                if !key.iter().any(Value::is_null) && !seen.insert(key.clone()) {
                    duplicate = Some(key);
                }
            })?;
            if let Some(key) = duplicate {
                return Err(unique_violation(&def.name, &key));
            }
        }
        Ok(())
    }

    /// Applies the write set with `lsn` (under the commit lock, after the WAL append).
    fn apply(&mut self, lsn: u64, assigned: &[(u32, u64, u64)]) -> Result<CommitUndo> {
        let engine = self.engine.clone();
        let mut undo = CommitUndo {
            lsn,
            inserted: Vec::new(),
            deleted: Vec::new(),
            previous_catalog: None,
        };
        if let Some(catalog) = self.catalog.take() {
            undo.previous_catalog = Some(engine.catalog.load_full());
            engine.install_catalog(catalog, lsn, true)?;
        }
        let catalog = engine.catalog.load_full();
        let tables = engine.tables.load();
        for &(table, first, count) in assigned {
            let (Some(store), true) = (
                tables.get(&table),
                catalog.catalog.tables.contains_key(&table),
            ) else {
                continue;
            };
            let Some(writes) = self.writes.get_mut(&table) else {
                continue;
            };
            let version = store.load();
            let btrees = store.btrees.load();
            let mut next = store.next_row_id.lock();
            debug_assert_eq!(*next, first);
            let rows: Vec<Row> = std::mem::take(&mut writes.inserts)
                .into_iter()
                .flatten()
                .collect();
            debug_assert_eq!(rows.len() as u64, count);
            for index in btrees.values() {
                let mut keys = Vec::with_capacity(rows.len() * index.columns.len());
                for row in &rows {
                    index.push_key_of(row, &mut keys);
                }
                index.insert_many(keys, (first..first + count).collect());
            }
            for (i, row) in rows.into_iter().enumerate() {
                version.active.push(first + i as u64, lsn, row);
            }
            *next = first + count;
            // After the entries and the rows: see `TableStore::index_generation`.
            store.bump_index_generation();
            undo.inserted
                .push((table, (first..first + count).collect()));
        }
        for (table, writes) in &self.writes {
            if writes.deletes.is_empty() {
                continue;
            }
            let Some(store) = tables.get(table) else {
                continue;
            };
            let version = store.load();
            for row_id in &writes.deletes {
                if let Some(location) = version.locate(*row_id) {
                    location.set_delete_lsn(lsn);
                }
            }
            undo.deleted
                .push((*table, writes.deletes.iter().copied().collect()));
        }
        Ok(undo)
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.engine.snapshots.release(self.snapshot);
    }
}

fn key_of(columns: &[u16], row: &[Value]) -> Vec<Value> {
    columns
        .iter()
        .map(|a| row.get(usize::from(*a) - 1).cloned().unwrap_or(Value::Null))
        .collect()
}

/// Whether a committed row (in or after the snapshot, not deleted by anyone, including this
/// transaction) has `key` in the unique index `index`.
fn committed_key_live(
    index: &TargetIndex,
    target: &InsertTarget,
    mine: &BTreeSet<u64>,
    key: &mut Vec<Value>,
) -> bool {
    let (Some(btree), Some(version)) = (&index.committed, &target.version) else {
        return false;
    };
    btree.visit_prefix(key, |row_id| {
        !mine.contains(&row_id)
            && version
                .locate(row_id)
                .is_some_and(|l| l.insert_lsn() != UNDONE_LSN && l.delete_lsn() == 0)
    })
}

fn unique_violation(index: &str, key: &[Value]) -> StorageError {
    StorageError::UniqueViolation {
        index: index.to_string(),
        key: format!("{key:?}"),
    }
}

fn check_row(def: &TableDef, row: &[Value]) -> Result<()> {
    if row.len() != def.columns.len() {
        return Err(StorageError::InvalidValue(format!(
            "table \"{}\" has {} columns, the row has {} values",
            def.name,
            def.columns.len(),
            row.len()
        )));
    }
    for (column, value) in def.columns.iter().zip(row) {
        if column.dropped && !value.is_null() {
            return Err(StorageError::InvalidValue(format!(
                "value for dropped column {}",
                column.attnum
            )));
        }
        if !column.data_type.accepts(value) {
            return Err(StorageError::InvalidValue(format!(
                "column \"{}\" is of type {}, the value is {:?}",
                column.name,
                column.data_type.sql_name(),
                value
            )));
        }
    }
    Ok(())
}

/// Whether `key` (an index key of `width` columns) lies within prefix bounds.
fn prefix_within(key: &[Value], lower: &Bound<Vec<Value>>, upper: &Bound<Vec<Value>>) -> bool {
    let cmp_prefix = |bound: &Vec<Value>| {
        let n = bound.len().min(key.len());
        key[..n].cmp(&bound[..n])
    };
    let above = match lower {
        Bound::Included(b) => cmp_prefix(b) != std::cmp::Ordering::Less,
        Bound::Excluded(b) => cmp_prefix(b) == std::cmp::Ordering::Greater,
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(b) => cmp_prefix(b) != std::cmp::Ordering::Greater,
        Bound::Excluded(b) => cmp_prefix(b) == std::cmp::Ordering::Less,
        Bound::Unbounded => true,
    };
    above && below
}
