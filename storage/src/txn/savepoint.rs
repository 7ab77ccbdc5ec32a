//! Savepoints: every change of a transaction is an entry in its journal, and a savepoint is
//! a position in the journal. Rolling back to one undoes the entries after it, newest first,
//! restoring the write set (and its pending keys) and the private catalog.

use std::sync::Arc;

use super::Transaction;
use crate::catalog::Catalog;
use crate::types::Row;

pub(super) enum JournalEntry {
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

impl Transaction {
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
}
