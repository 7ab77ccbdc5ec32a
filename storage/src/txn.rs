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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use crate::catalog::{Catalog, TableDef};
use crate::engine::{storage_maintains, CatalogVersion, CommitUndo, EngineInner};
use crate::error::{Result, StorageError};
use crate::mvcc::UNDONE_LSN;
use crate::scan::{ScanOptions, ScanPartition};
use crate::types::{Row, Value};
use crate::wal::PayloadBuilder;

/// Set in the id of a row inserted by a transaction that has not committed yet.
pub const PENDING_ROW_BIT: u64 = 1 << 63;

#[derive(Default)]
struct TableWrites {
    /// Rows inserted by this transaction; `None` once deleted again.
    inserts: Vec<Option<Row>>,
    /// Committed rows this transaction deleted.
    deletes: BTreeSet<u64>,
    /// Keys of pending rows per storage-maintained index.
    pending_keys: HashMap<u32, BTreeMap<Vec<Value>, BTreeSet<u32>>>,
}

enum JournalEntry {
    Insert { table: u32, position: u32 },
    KillPending { table: u32, position: u32, row: Row },
    Delete { table: u32, row_id: u64 },
    Catalog { previous: Option<Arc<Catalog>> },
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

    fn table_def(&self, table: u32) -> Result<TableDef> {
        self.catalog()
            .tables
            .get(&table)
            .cloned()
            .ok_or(StorageError::NoSuchTable(table))
    }

    /// Inserts a row (one value per column of the table, dropped columns NULL); returns its
    /// provisional id.
    pub fn insert(&mut self, table: u32, row: Row) -> Result<u64> {
        let def = self.table_def(table)?;
        check_row(&def, &row)?;
        let catalog = self.catalog();
        let indexes: Vec<_> = catalog
            .indexes_of(table)
            .filter(|d| storage_maintains(d))
            .cloned()
            .collect();
        for def in indexes.iter().filter(|d| d.unique) {
            let key = key_of(&def.columns, &row);
            if key.iter().any(Value::is_null) {
                continue;
            }
            if self.pending_key_exists(table, def.oid, &key)
                || self.committed_key_live(table, def.oid, &key)?
            {
                return Err(unique_violation(&def.name, &key));
            }
        }
        self.write_bytes += row.iter().map(Value::approx_size).sum::<usize>();
        let writes = self.writes.entry(table).or_default();
        let position = writes.inserts.len() as u32;
        for def in &indexes {
            writes
                .pending_keys
                .entry(def.oid)
                .or_default()
                .entry(key_of(&def.columns, &row))
                .or_default()
                .insert(position);
        }
        writes.inserts.push(Some(row));
        self.journal.push(JournalEntry::Insert { table, position });
        Ok(PENDING_ROW_BIT | position as u64)
    }

    /// Deletes a row visible to this transaction.
    pub fn delete(&mut self, table: u32, row_id: u64) -> Result<()> {
        if row_id & PENDING_ROW_BIT != 0 {
            let position = (row_id & !PENDING_ROW_BIT) as u32;
            let catalog = self.catalog();
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
            forget_pending_keys(&mut writes.pending_keys, &catalog, table, position, &row);
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
            Some(location) if location.visible_at(self.snapshot) => Ok(Some(location.read(&def)?)),
            _ => Ok(None),
        }
    }

    /// Rows whose key in index `index` starts with `prefix`: committed rows in key order,
    /// then this transaction's own rows.
    pub fn index_lookup(&self, index: u32, prefix: &[Value]) -> Result<Vec<(u64, Row)>> {
        if prefix.iter().any(Value::is_null) {
            return Ok(Vec::new());
        }
        self.index_range(
            index,
            Bound::Included(prefix.to_vec()),
            Bound::Included(prefix.to_vec()),
        )
    }

    /// Rows whose key prefix lies within the bounds (NULL keys excluded).
    pub fn index_range(
        &self,
        index: u32,
        lower: Bound<Vec<Value>>,
        upper: Bound<Vec<Value>>,
    ) -> Result<Vec<(u64, Row)>> {
        let catalog = self.catalog();
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
            if let Some(keys) = writes.pending_keys.get(&index) {
                let width = def.columns.len();
                for (key, positions) in keys.iter() {
                    if key.first().is_some_and(Value::is_null)
                        || !prefix_within(key, width, &lower, &upper)
                    {
                        continue;
                    }
                    for position in positions {
                        if let Some(Some(row)) = writes.inserts.get(*position as usize) {
                            out.push((PENDING_ROW_BIT | *position as u64, row.clone()));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Independent pieces of a scan of `table` (segments, memtables, own rows) that may run
    /// in parallel; each yields the rows visible to this transaction.
    pub fn scan_partitions(&self, table: u32, options: &ScanOptions) -> Result<Vec<ScanPartition>> {
        let def = Arc::new(self.table_def(table)?);
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
                JournalEntry::Insert { table, position } => {
                    let catalog = self.catalog();
                    if let Some(writes) = self.writes.get_mut(&table) {
                        if let Some(Some(row)) = writes.inserts.get(position as usize) {
                            let row = row.clone();
                            forget_pending_keys(
                                &mut writes.pending_keys,
                                &catalog,
                                table,
                                position,
                                &row,
                            );
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
                        for def in catalog.indexes_of(table).filter(|d| storage_maintains(d)) {
                            writes
                                .pending_keys
                                .entry(def.oid)
                                .or_default()
                                .entry(key_of(&def.columns, &row))
                                .or_default()
                                .insert(position);
                        }
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

    fn pending_key_exists(&self, table: u32, index: u32, key: &[Value]) -> bool {
        self.writes
            .get(&table)
            .and_then(|w| w.pending_keys.get(&index))
            .and_then(|keys| keys.get(key))
            .is_some_and(|positions| !positions.is_empty())
    }

    /// Whether a committed row (in or after this snapshot, not deleted by anyone, including
    /// this transaction) has `key` in unique index `index`.
    fn committed_key_live(&self, table: u32, index: u32, key: &[Value]) -> Result<bool> {
        let Ok(store) = self.engine.table(table) else {
            return Ok(false);
        };
        let btrees = store.btrees.load();
        let Some(btree) = btrees.get(&index) else {
            return Ok(false);
        };
        let version = store.load();
        let mine = self.writes.get(&table).map(|w| &w.deletes);
        for row_id in btree.lookup(key) {
            if mine.is_some_and(|d| d.contains(&row_id)) {
                continue;
            }
            if let Some(location) = version.locate(row_id) {
                if location.insert_lsn() != UNDONE_LSN && location.delete_lsn() == 0 {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

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
            engine.wal.append(lsn, &payload.finish())?;
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
            for def in catalog
                .indexes_of(*table)
                .filter(|d| d.unique && storage_maintains(d))
            {
                // Own rows among themselves too: an index created in this transaction after
                // rows were inserted has no pending keys for them.
                let mut own_keys = std::collections::HashSet::new();
                for row in writes.inserts.iter().flatten() {
                    let key = key_of(&def.columns, row);
                    if key.iter().any(Value::is_null) {
                        continue;
                    }
                    if self.committed_key_live(*table, def.oid, &key)? || own_keys.contains(&key) {
                        return Err(unique_violation(&def.name, &key));
                    }
                    own_keys.insert(key);
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
            let rows = std::mem::take(&mut writes.inserts);
            for (i, row) in rows.into_iter().flatten().enumerate() {
                let row_id = first + i as u64;
                for index in btrees.values() {
                    index.insert(index.key_of(&row), row_id);
                }
                version.active.push(row_id, lsn, row);
            }
            *next = first + count;
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

/// Removes pending row `position` from the pending keys of the table's indexes.
fn forget_pending_keys(
    pending_keys: &mut HashMap<u32, BTreeMap<Vec<Value>, BTreeSet<u32>>>,
    catalog: &Catalog,
    table: u32,
    position: u32,
    row: &[Value],
) {
    for def in catalog.indexes_of(table).filter(|d| storage_maintains(d)) {
        let Some(keys) = pending_keys.get_mut(&def.oid) else {
            continue;
        };
        let key = key_of(&def.columns, row);
        if let Some(positions) = keys.get_mut(&key) {
            positions.remove(&position);
            if positions.is_empty() {
                keys.remove(&key);
            }
        }
    }
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
fn prefix_within(
    key: &[Value],
    width: usize,
    lower: &Bound<Vec<Value>>,
    upper: &Bound<Vec<Value>>,
) -> bool {
    let _ = width;
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
