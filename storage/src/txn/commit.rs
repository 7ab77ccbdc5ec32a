//! The end of a transaction: rolling back (dropping the write set) or committing. A commit
//! validates under the engine's commit lock (first-committer-wins, unique keys, concurrent
//! DDL), appends one WAL record, applies the write set to shared memory, then waits for the
//! record to be durable outside the lock; if that fails the applied changes are undone.

use std::collections::BTreeSet;

use super::write::{committed_key_live, unique_violation};
use super::write_set::key_of;
use super::Transaction;
use crate::catalog::Catalog;
use crate::engine::{storage_maintains, CommitUndo};
use crate::error::{Result, StorageError};
use crate::types::{Row, Value};
use crate::wal::PayloadBuilder;

impl Transaction {
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
