//! The engine: opening a data directory (recovery), the commit path, and applying changes.
//!
//! Open: lock the directory, read the manifest, load the catalog file and the segments it
//! names (deleting any file it does not name: leftovers of an interrupted checkpoint or
//! compaction), build missing vector index files, replay the WAL after the checkpoint LSN
//! into memtables, and rebuild the B-tree indexes from the rows.
//!
//! Commit (see [`crate::Transaction::commit`]): under the commit lock, validate (write
//! conflicts, unique keys, concurrent DDL), assign the LSN and row ids, append the WAL record,
//! apply the changes to memtables, delete vectors and indexes with that LSN; release the lock;
//! wait for the group fsync. Readers see the changes only once the LSN is durable, because a
//! snapshot is the durable LSN. If the fsync fails, the committer undoes its changes (its rows
//! get [`UNDONE_LSN`], its deletes are cleared) and the client gets an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::btree::BTreeIndex;
use crate::catalog::{Catalog, IndexDef, IndexMethodDef, TableDef};
use crate::datadir::DataDir;
use crate::error::{Result, StorageError};
use crate::files::{remove_if_exists, Faults};
use crate::manifest::Manifest;
use crate::mvcc::{DeleteVector, SnapshotRegistry, UNDONE_LSN};
use crate::segment::Segment;
use crate::table::{RowLocation, SegmentSlot, TableStore, TableVersion};
use crate::types::{Row, Value};
use crate::wal::{Wal, WalOp};

/// Settings of an engine.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// A memtable past this many bytes asks the background thread for a checkpoint.
    pub memtable_limit_bytes: usize,
    /// A WAL file past this many bytes asks for a checkpoint too (deletes alone do not grow
    /// memtables, but they grow the log).
    pub wal_limit_bytes: u64,
    /// Segments with fewer rows than this are merged by compaction.
    pub compaction_small_segment_rows: usize,
    /// A segment with at least this fraction of deleted rows is rewritten by compaction.
    pub compaction_deleted_fraction: f64,
    /// Run checkpoints and compactions on a background thread.
    pub background_maintenance: bool,
    /// Largest WAL record (one transaction's changes) accepted.
    pub max_transaction_bytes: usize,
    /// Armed by tests to make writes fail.
    pub faults: Arc<Faults>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            memtable_limit_bytes: 64 << 20,
            wal_limit_bytes: 256 << 20,
            compaction_small_segment_rows: 65_536,
            compaction_deleted_fraction: 0.2,
            background_maintenance: true,
            max_transaction_bytes: crate::wal::record::MAX_RECORD_PAYLOAD,
            faults: Arc::new(Faults::default()),
        }
    }
}

/// The catalog as of a commit.
pub struct CatalogVersion {
    pub lsn: u64,
    pub catalog: Arc<Catalog>,
}

/// State guarded by the commit lock.
pub(crate) struct CommitState {
    pub next_lsn: u64,
    /// Commits applied in memory whose fsync outcome is not yet handled.
    pub in_flight: usize,
}

pub(crate) struct EngineInner {
    pub dir: DataDir,
    pub options: EngineOptions,
    pub wal: Wal,
    /// The commit lock: one writer transaction commits at a time.
    pub commit: Mutex<CommitState>,
    pub catalog: ArcSwap<CatalogVersion>,
    pub tables: ArcSwap<HashMap<u32, Arc<TableStore>>>,
    pub snapshots: SnapshotRegistry,
    /// Serialises checkpoints and compactions; holds the current manifest.
    pub maintenance: Mutex<Manifest>,
    pub shutdown: AtomicBool,
    /// The last error of a background checkpoint or compaction, if any.
    pub last_maintenance_error: Mutex<Option<String>>,
    pub wake: (Mutex<bool>, parking_lot::Condvar),
}

/// A storage engine over one data directory. Cheap to clone; shared by all sessions.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
    _background: Arc<BackgroundHandle>,
}

/// What opening found, for logs and tests.
#[derive(Debug, Clone, Default)]
pub struct RecoveryReport {
    pub checkpoint_lsn: u64,
    pub replayed_transactions: usize,
    pub torn_tail_bytes: u64,
    pub removed_garbage: Vec<PathBuf>,
    pub rebuilt_vector_indexes: usize,
}

impl Engine {
    /// Opens (or creates) the data directory at `path`.
    pub fn open(path: &Path, options: EngineOptions) -> Result<Engine> {
        Engine::open_with_report(path, options).map(|(engine, _)| engine)
    }

    pub fn open_with_report(
        path: &Path,
        options: EngineOptions,
    ) -> Result<(Engine, RecoveryReport)> {
        let faults = options.faults.clone();
        let dir = DataDir::open(path, &faults)?;
        let manifest = Manifest::load(&dir.manifest_path())?;
        let mut report = RecoveryReport {
            checkpoint_lsn: manifest.checkpoint_lsn,
            ..Default::default()
        };
        let catalog = match &manifest.catalog_file {
            Some(name) => {
                let path = dir.catalog_dir().join(name);
                Catalog::decode(&crate::files::read_file(&path)?, &path)?
            }
            None => Catalog::default(),
        };
        report.removed_garbage = remove_unreferenced_files(&dir, &manifest)?;
        let mut tables = HashMap::new();
        for table in catalog.tables.values() {
            let store = open_table_store(&dir, &manifest, table, &catalog, &mut report)?;
            tables.insert(table.oid, Arc::new(store));
        }
        let recovered = Wal::recover(&dir.wal_dir(), manifest.checkpoint_lsn, faults)?;
        report.torn_tail_bytes = recovered.torn_bytes;
        report.replayed_transactions = recovered.records.len();
        let inner = Arc::new(EngineInner {
            dir,
            options,
            wal: recovered.wal,
            commit: Mutex::new(CommitState {
                next_lsn: recovered.next_lsn,
                in_flight: 0,
            }),
            catalog: ArcSwap::from_pointee(CatalogVersion {
                lsn: manifest.checkpoint_lsn,
                catalog: Arc::new(catalog),
            }),
            tables: ArcSwap::from_pointee(tables),
            snapshots: SnapshotRegistry::default(),
            maintenance: Mutex::new(manifest),
            shutdown: AtomicBool::new(false),
            last_maintenance_error: Mutex::new(None),
            wake: (Mutex::new(false), parking_lot::Condvar::new()),
        });
        for record in &recovered.records {
            for op in &record.ops {
                inner.replay_op(record.lsn, op)?;
            }
        }
        // B-tree indexes are rebuilt from the rows, now that every row is back.
        let catalog = inner.catalog.load_full();
        for store in inner.tables.load().values() {
            if let Some(table) = catalog.catalog.tables.get(&store.oid) {
                inner.rebuild_btrees(store, table, &catalog.catalog, true)?;
            }
        }
        let background = BackgroundHandle::start(&inner);
        Ok((
            Engine {
                inner,
                _background: Arc::new(background),
            },
            report,
        ))
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.inner.catalog.load().catalog.clone()
    }

    /// The LSN up to which commits are durable (what a new snapshot sees).
    pub fn durable_lsn(&self) -> u64 {
        self.inner.wal.durable_lsn()
    }

    pub fn data_dir(&self) -> &Path {
        self.inner.dir.root()
    }

    /// Number of fsyncs the WAL made (group commit shares one among committers).
    pub fn wal_fsyncs(&self) -> u64 {
        self.inner.wal.fsync_count()
    }

    /// Begins a transaction (also used for read-only work: it never blocks writers).
    pub fn begin(&self) -> crate::txn::Transaction {
        crate::txn::Transaction::new(self.inner.clone())
    }

    /// Seals memtables into segments, persists the catalog and delete vectors, trims the WAL.
    pub fn checkpoint(&self) -> Result<crate::checkpoint::CheckpointStats> {
        crate::checkpoint::checkpoint(&self.inner)
    }

    /// Merges small segments and drops deleted rows no snapshot can see.
    pub fn compact(&self) -> Result<crate::compaction::CompactionStats> {
        crate::compaction::compact(&self.inner)
    }

    /// The last error of a background checkpoint or compaction.
    pub fn last_maintenance_error(&self) -> Option<String> {
        self.inner.last_maintenance_error.lock().clone()
    }

    /// Asks the background thread to look for a checkpoint or compaction now.
    pub fn nudge_maintenance(&self) {
        self.inner.nudge();
    }

    /// Stored row versions per table (all versions, visible or not), for tests and statistics.
    pub fn stored_rows(&self, table: u32) -> Option<usize> {
        self.inner
            .tables
            .load()
            .get(&table)
            .map(|t| t.load().stored_rows())
    }

    /// Number of sealed segments of a table.
    pub fn segment_count(&self, table: u32) -> Option<usize> {
        self.inner
            .tables
            .load()
            .get(&table)
            .map(|t| t.load().segments.len())
    }
}

impl EngineInner {
    pub(crate) fn nudge(&self) {
        let (flag, condvar) = &self.wake;
        *flag.lock() = true;
        condvar.notify_one();
    }

    pub(crate) fn table(&self, oid: u32) -> Result<Arc<TableStore>> {
        self.tables
            .load()
            .get(&oid)
            .cloned()
            .ok_or(StorageError::NoSuchTable(oid))
    }

    fn replay_op(&self, lsn: u64, op: &WalOp) -> Result<()> {
        let wal_path = self.dir.wal_dir();
        match op {
            WalOp::Catalog { bytes } => {
                let catalog = Catalog::decode(bytes, &wal_path)?;
                self.install_catalog(Arc::new(catalog), lsn, false)?;
            }
            WalOp::Insert {
                table_id,
                first_row_id,
                rows,
            } => {
                let store = self.table(*table_id).map_err(|_| {
                    StorageError::corrupt(
                        &wal_path,
                        0,
                        format!("WAL record {lsn} inserts into unknown table {table_id}"),
                    )
                })?;
                let version = store.load();
                let mut next = store.next_row_id.lock();
                for (i, row) in rows.iter().enumerate() {
                    let row_id = first_row_id + i as u64;
                    if row_id < *next {
                        return Err(StorageError::corrupt(
                            &wal_path,
                            0,
                            format!("WAL record {lsn} reuses row id {row_id}"),
                        ));
                    }
                    version.active.push(row_id, lsn, row.clone());
                    *next = row_id + 1;
                }
            }
            WalOp::Delete { table_id, row_ids } => {
                let store = self.table(*table_id).map_err(|_| {
                    StorageError::corrupt(
                        &wal_path,
                        0,
                        format!("WAL record {lsn} deletes from unknown table {table_id}"),
                    )
                })?;
                let version = store.load();
                for row_id in row_ids {
                    let location = version.locate(*row_id).ok_or_else(|| {
                        StorageError::corrupt(
                            &wal_path,
                            0,
                            format!(
                                "WAL record {lsn} deletes missing row {row_id} of table {table_id}"
                            ),
                        )
                    })?;
                    location.set_delete_lsn(lsn);
                }
            }
        }
        Ok(())
    }

    /// Makes `catalog` current: creates stores for new tables, drops stores of dropped
    /// tables, builds new indexes and forgets dropped ones. `live` is false during replay
    /// (B-tree indexes are rebuilt once at the end of it).
    pub(crate) fn install_catalog(
        &self,
        catalog: Arc<Catalog>,
        lsn: u64,
        live: bool,
    ) -> Result<()> {
        let mut tables: HashMap<u32, Arc<TableStore>> = (**self.tables.load()).clone();
        tables.retain(|oid, _| catalog.tables.contains_key(oid));
        for table in catalog.tables.values() {
            tables
                .entry(table.oid)
                .or_insert_with(|| Arc::new(TableStore::new(table.oid, TableVersion::empty(), 1)));
        }
        for store in tables.values() {
            if let Some(table) = catalog.tables.get(&store.oid) {
                if live {
                    self.rebuild_btrees(store, table, &catalog, false)?;
                }
                self.ensure_vector_indexes(store, &catalog)?;
            }
        }
        self.tables.store(Arc::new(tables));
        self.catalog
            .store(Arc::new(CatalogVersion { lsn, catalog }));
        Ok(())
    }

    /// Brings a table's B-tree indexes in line with the catalog: keeps existing ones, builds
    /// new ones from every stored row version (or all of them when `from_scratch`).
    pub(crate) fn rebuild_btrees(
        &self,
        store: &TableStore,
        table: &TableDef,
        catalog: &Catalog,
        from_scratch: bool,
    ) -> Result<()> {
        let current = store.btrees.load();
        let mut next = HashMap::new();
        let mut to_build = Vec::new();
        for def in catalog.indexes_of(table.oid) {
            if !storage_maintains(def) {
                continue;
            }
            match current.get(&def.oid) {
                Some(existing) if !from_scratch => {
                    next.insert(def.oid, existing.clone());
                }
                _ => {
                    let index = Arc::new(BTreeIndex::new(def));
                    to_build.push(index.clone());
                    next.insert(def.oid, index);
                }
            }
        }
        if !to_build.is_empty() {
            let version = store.load();
            let mut entries: Vec<(Vec<Value>, Vec<u64>)> =
                to_build.iter().map(|_| (Vec::new(), Vec::new())).collect();
            for_each_stored_row(&version, table, |row_id, row| {
                for (index, (keys, row_ids)) in to_build.iter().zip(&mut entries) {
                    index.push_key_of(row, keys);
                    row_ids.push(row_id);
                }
            })?;
            for (index, (keys, row_ids)) in to_build.iter().zip(entries) {
                index.insert_many(keys, row_ids);
            }
        }
        store.btrees.store(Arc::new(next));
        store.bump_index_generation();
        Ok(())
    }

    /// Builds, for every segment, the files of vector indexes that it lacks.
    fn ensure_vector_indexes(&self, store: &TableStore, catalog: &Catalog) -> Result<usize> {
        let version = store.load();
        let mut built = 0;
        for def in catalog.indexes_of(store.oid) {
            if def.method == IndexMethodDef::Btree {
                continue;
            }
            let Some(table) = catalog.tables.get(&store.oid) else {
                continue;
            };
            for slot in &version.segments {
                if slot.vector_indexes.read().contains_key(&def.oid) {
                    continue;
                }
                let index = crate::vector_hooks::open_or_build(&slot.segment, table, def)?;
                slot.vector_indexes.write().insert(def.oid, index);
                built += 1;
            }
        }
        Ok(built)
    }

    /// Undoes the in-memory effects of a commit whose WAL write failed.
    pub(crate) fn undo_commit(&self, undo: &CommitUndo) {
        let tables = self.tables.load();
        for (table_id, row_ids) in &undo.inserted {
            let Some(store) = tables.get(table_id) else {
                continue;
            };
            let version = store.load();
            let btrees = store.btrees.load();
            for row_id in row_ids {
                if let Some(RowLocation::Memtable(row)) = version.locate(*row_id) {
                    row.set_insert_lsn(UNDONE_LSN);
                    for index in btrees.values() {
                        index.remove(index.key_of(&row.values), *row_id);
                    }
                }
            }
        }
        for (table_id, row_ids) in &undo.deleted {
            let Some(store) = tables.get(table_id) else {
                continue;
            };
            let version = store.load();
            for row_id in row_ids {
                if let Some(location) = version.locate(*row_id) {
                    if location.delete_lsn() == undo.lsn {
                        location.set_delete_lsn(0);
                    }
                }
            }
        }
        if let Some(previous) = &undo.previous_catalog {
            let current = self.catalog.load();
            if previous.lsn < current.lsn {
                let _ = self.install_catalog(previous.catalog.clone(), previous.lsn, true);
            }
        }
    }
}

/// What a commit changed in memory, to undo it if its WAL write fails.
pub(crate) struct CommitUndo {
    pub lsn: u64,
    pub inserted: Vec<(u32, Vec<u64>)>,
    pub deleted: Vec<(u32, Vec<u64>)>,
    pub previous_catalog: Option<Arc<CatalogVersion>>,
}

/// Whether storage maintains this index (B-tree over plain columns).
pub(crate) fn storage_maintains(def: &IndexDef) -> bool {
    def.method == IndexMethodDef::Btree && def.expressions.is_empty() && !def.columns.is_empty()
}

/// Calls `f` for every stored row version (not undone) of a table, widened to its columns.
pub(crate) fn for_each_stored_row(
    version: &TableVersion,
    table: &TableDef,
    mut f: impl FnMut(u64, &Row),
) -> Result<()> {
    for slot in &version.segments {
        let ids = slot.segment.row_ids();
        for (offset, row_id) in ids.iter().enumerate() {
            let row = crate::table::read_segment_row(&slot.segment, offset as u32, table)?;
            f(*row_id, &row);
        }
    }
    for memtable in version.memtables() {
        for row in memtable.iter() {
            if row.insert_lsn() != UNDONE_LSN {
                f(row.row_id, &crate::table::widen(&row.values, table));
            }
        }
    }
    Ok(())
}

/// Calls `f` for every row version that is committed and not deleted (the latest state).
pub(crate) fn for_each_live_row(
    version: &TableVersion,
    table: &TableDef,
    mut f: impl FnMut(u64, &Row),
) -> Result<()> {
    for slot in &version.segments {
        for (offset, row_id) in slot.segment.row_ids().iter().enumerate() {
            if slot.deletes.get(offset as u32) == 0 {
                let row = crate::table::read_segment_row(&slot.segment, offset as u32, table)?;
                f(*row_id, &row);
            }
        }
    }
    for memtable in version.memtables() {
        for row in memtable.iter() {
            if row.insert_lsn() != UNDONE_LSN && row.delete_lsn() == 0 {
                f(row.row_id, &crate::table::widen(&row.values, table));
            }
        }
    }
    Ok(())
}

fn open_table_store(
    dir: &DataDir,
    manifest: &Manifest,
    table: &TableDef,
    catalog: &Catalog,
    report: &mut RecoveryReport,
) -> Result<TableStore> {
    let table_dir = dir.table_dir(table.oid);
    let mut version = TableVersion::empty();
    let mut next_row_id = 1;
    if let Some(entry) = manifest.tables.get(&table.oid) {
        next_row_id = entry.next_row_id.max(1);
        for segment_entry in &entry.segments {
            let segment = Arc::new(Segment::open(&table_dir.join(&segment_entry.name))?);
            let deletes = match &segment_entry.delete_file {
                Some(name) => DeleteVector::load(&table_dir.join(name), segment.row_count())?,
                None => DeleteVector::new(segment.row_count()),
            };
            let persisted = deletes.deleted_by(u64::MAX);
            version.segments.push(Arc::new(SegmentSlot {
                name: segment_entry.name.clone(),
                segment,
                deletes,
                vector_indexes: Default::default(),
                delete_file: parking_lot::RwLock::new((
                    segment_entry.delete_file.clone(),
                    persisted,
                )),
            }));
        }
    }
    let store = TableStore::new(table.oid, version, next_row_id);
    for def in catalog.indexes_of(table.oid) {
        if def.method == IndexMethodDef::Btree {
            continue;
        }
        for slot in &store.load().segments {
            let existed = crate::vector_hooks::index_path(&slot.segment, def).exists();
            let index = crate::vector_hooks::open_or_build(&slot.segment, table, def)?;
            if !existed {
                report.rebuilt_vector_indexes += 1;
            }
            slot.vector_indexes.write().insert(def.oid, index);
        }
    }
    Ok(store)
}

/// Deletes every file under `tables/` and `catalog/` that the manifest does not name.
pub(crate) fn remove_unreferenced_files(
    dir: &DataDir,
    manifest: &Manifest,
) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let catalog_dir = dir.catalog_dir();
    for entry in read_dir_names(&catalog_dir)? {
        if manifest.catalog_file.as_deref() != Some(entry.as_str()) {
            let path = catalog_dir.join(&entry);
            remove_if_exists(&path)?;
            removed.push(path);
        }
    }
    let tables_dir = dir.tables_dir();
    for table_name in read_dir_names(&tables_dir)? {
        let table_path = tables_dir.join(&table_name);
        let entry = table_name
            .parse::<u32>()
            .ok()
            .and_then(|oid| manifest.tables.get(&oid));
        let Some(entry) = entry else {
            remove_if_exists(&table_path)?;
            removed.push(table_path);
            continue;
        };
        for name in read_dir_names(&table_path)? {
            let referenced = entry
                .segments
                .iter()
                .any(|s| s.name == name || s.delete_file.as_deref() == Some(name.as_str()));
            if !referenced {
                let path = table_path.join(&name);
                remove_if_exists(&path)?;
                removed.push(path);
            }
        }
    }
    Ok(removed)
}

pub(crate) fn read_dir_names(path: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    match std::fs::read_dir(path) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(|e| StorageError::io(path, e))?;
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(StorageError::io(path, e)),
    }
    names.sort();
    Ok(names)
}

/// The background maintenance thread: checkpoints when a memtable grows past its limit,
/// compacts when small or deletion-heavy segments pile up.
struct BackgroundHandle {
    inner: std::sync::Weak<EngineInner>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl BackgroundHandle {
    fn start(inner: &Arc<EngineInner>) -> BackgroundHandle {
        let thread = if inner.options.background_maintenance {
            let weak = Arc::downgrade(inner);
            std::thread::Builder::new()
                .name("custos-maintenance".into())
                .spawn(move || crate::checkpoint::background_loop(weak))
                .ok()
        } else {
            None
        };
        BackgroundHandle {
            inner: Arc::downgrade(inner),
            thread: Mutex::new(thread),
        }
    }
}

impl Drop for BackgroundHandle {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.shutdown.store(true, Ordering::SeqCst);
            inner.nudge();
        }
        if let Some(thread) = self.thread.lock().take() {
            let _ = thread.join();
        }
    }
}
