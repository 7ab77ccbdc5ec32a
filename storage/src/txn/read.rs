//! Reads as a transaction sees them: the committed rows visible at its snapshot, minus the
//! committed rows it deleted, plus its own pending rows (ids with [`PENDING_ROW_BIT`] set).
//! Index reads return the committed rows in key order, then the pending ones.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

use super::write_set::key_of;
use super::{ReadView, Transaction, PENDING_ROW_BIT};
use crate::error::{Result, StorageError};
use crate::scan::{ScanOptions, ScanPartition};
use crate::types::{Row, Value};

impl Transaction {
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
