//! The durable storage engine of custos.
//!
//! A data directory holds a write-ahead log, a manifest naming the live immutable segments of
//! every table, the catalog, and the segments themselves (memory-mapped column files and the
//! vector index files built for them). Committed transactions are WAL records first (group
//! commit: nothing is acknowledged before its fsync); recent rows live in per-table memtables;
//! a checkpoint seals memtables into segments and trims the log; compaction merges small
//! segments and drops deleted rows.
//!
//! Concurrency: readers take a snapshot (an LSN) and never block the writer; one writer
//! transaction commits at a time under the engine's commit lock. Threads: a dedicated WAL
//! flusher thread makes commits durable; checkpoint and compaction run on the caller's thread
//! or on the engine's background maintenance thread; vector index builds use rayon.
//!
//! Layout of this crate follows the data: [`types`] (values and their encoding), [`wal`],
//! [`memtable`], [`segment`], [`mvcc`], [`catalog`], [`table`] (one table's rows and indexes),
//! [`engine`] (open, recovery, commit), [`txn`], [`checkpoint`], [`compaction`].

pub mod audit;
pub mod btree;
pub mod catalog;
pub mod checkpoint;
pub mod compaction;
pub mod datadir;
pub mod engine;
pub mod envelope;
pub mod error;
pub mod files;
pub mod manifest;
pub mod memtable;
pub mod mvcc;
pub mod scan;
pub mod segment;
pub mod table;
pub mod txn;
pub mod types;
pub mod vector_hooks;
pub mod vector_progress;
pub mod vector_search;
pub mod wal;

pub use engine::{Engine, EngineOptions, RecoveryReport};
pub use error::{Result, StorageError};
pub use scan::{BlockPredicate, ColumnChunk, PredicateOp, ScanBatch, ScanOptions, ScanPartition};
pub use txn::{BatchInsertError, Savepoint, Transaction, PENDING_ROW_BIT};
