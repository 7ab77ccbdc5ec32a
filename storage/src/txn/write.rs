//! Inserts, deletes and updates: each checks the row against the table definition and its
//! unique keys against the committed rows and this transaction's own, then records the change
//! in the write set and the journal. Nothing reaches shared state before commit.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::write_set::{column_value, hash_row_key};
use super::{JournalEntry, Transaction, PENDING_ROW_BIT};
use crate::btree::BTreeIndex;
use crate::catalog::{AttNum, Catalog, TableDef};
use crate::engine::storage_maintains;
use crate::error::{Result, StorageError};
use crate::mvcc::UNDONE_LSN;
use crate::table::TableVersion;
use crate::types::{Row, Value};

/// Space reused from one inserted row to the next.
#[derive(Default)]
struct InsertScratch {
    /// A unique key, for the committed-rows check and the error message.
    keys: Vec<Value>,
    /// The row's key hash in each index of the target.
    hashes: Vec<u64>,
}

/// A storage-maintained index of the table being inserted into.
pub(super) struct TargetIndex {
    pub(super) oid: u32,
    pub(super) columns: Vec<AttNum>,
    pub(super) unique: bool,
    /// The committed entries, for a unique index that has any.
    committed: Option<Arc<BTreeIndex>>,
}

/// What inserting rows into one table needs, looked up once per row or batch.
pub(super) struct InsertTarget {
    catalog: Arc<Catalog>,
    table: u32,
    pub(super) indexes: Vec<TargetIndex>,
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

impl Transaction {
    /// Looks up what inserting into `table` needs: its indexes and its committed state.
    pub(super) fn insert_target(&self, table: u32) -> Result<InsertTarget> {
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
}

/// Whether a committed row (in or after the snapshot, not deleted by anyone, including this
/// transaction) has `key` in the unique index `index`.
pub(super) fn committed_key_live(
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

pub(super) fn unique_violation(index: &str, key: &[Value]) -> StorageError {
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
