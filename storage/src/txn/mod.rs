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
//!
//! Layout: this module holds the transaction itself (its snapshot, its catalog, its write
//! set); `write_set` the private changes to one table and its pending rows by key,
//! `write` inserts, deletes and updates, `read` reads that merge the committed state with
//! the write set, `savepoint` the journal of changes and rolling back to a position in it,
//! and `commit` validation under the commit lock, the WAL record and applying the changes.

mod commit;
mod read;
mod savepoint;
mod write;
mod write_set;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::catalog::{Catalog, TableDef};
use crate::engine::{CatalogVersion, EngineInner};
use crate::error::{Result, StorageError};
use crate::types::Row;

pub use savepoint::Savepoint;
pub use write::BatchInsertError;

use savepoint::JournalEntry;
use write_set::TableWrites;

/// See [`Transaction::read_view`].
pub(crate) type ReadView<'t> = (
    Option<Arc<crate::table::TableStore>>,
    Option<&'t BTreeSet<u64>>,
    &'t [Option<Row>],
);

/// Set in the id of a row inserted by a transaction that has not committed yet.
pub const PENDING_ROW_BIT: u64 = 1 << 63;

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
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.engine.snapshots.release(self.snapshot);
    }
}
