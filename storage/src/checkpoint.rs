//! Checkpoints: seal memtables into segments, persist delete vectors and the catalog, write a
//! new manifest, trim the WAL. And the background thread that runs checkpoints and
//! compactions.
//!
//! Steps, each crash-safe:
//! 1. Under the commit lock: freeze every non-empty memtable (a new one takes new commits),
//!    note the checkpoint LSN (the last LSN handed out), rotate the WAL once all of it is
//!    durable. Nothing is written yet; a crash here loses nothing.
//! 2. Write one new segment per table from its frozen memtables (rows up to the checkpoint
//!    LSN), with its vector index files; write delete-vector files (deletes up to the
//!    checkpoint LSN) for segments that gained deletes; write the catalog file. None of these
//!    is named by the manifest yet: after a crash they are garbage, deleted at start-up.
//! 3. Replace the manifest atomically. From here on, recovery starts from the new segments and
//!    replays the WAL after the checkpoint LSN.
//! 4. Under the commit lock: install the new segments in place of the frozen memtables,
//!    carrying over deletes committed since the freeze.
//! 5. Delete WAL files and other files the manifest no longer names.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::catalog::{IndexMethodDef, TableDef};
use crate::engine::EngineInner;
use crate::error::{Result, StorageError};
use crate::files::remove_if_exists;
use crate::manifest::{SegmentEntry, TableManifest};
use crate::memtable::{MemRow, Memtable};
use crate::mvcc::{DeleteVector, UNDONE_LSN};
use crate::segment::{write_segment, Segment, SegmentColumn, SegmentInput};
use crate::table::{widen, SegmentSlot, TableVersion};
use crate::types::Row;

/// What a checkpoint did.
#[derive(Debug, Clone, Default)]
pub struct CheckpointStats {
    pub checkpoint_lsn: u64,
    pub sealed_rows: usize,
    pub new_segments: usize,
    pub delete_files: usize,
    pub trimmed_wal_files: usize,
}

/// Runs one checkpoint.
pub(crate) fn checkpoint(inner: &EngineInner) -> Result<CheckpointStats> {
    let mut manifest_guard = inner.maintenance.lock();
    let faults = inner.options.faults.clone();

    // 1. Freeze.
    let (checkpoint_lsn, catalog, next_row_ids, frozen_by_table) = {
        let commit = inner.commit.lock();
        if let Some(reason) = inner.wal.failure() {
            return Err(StorageError::ReadOnly { reason });
        }
        let checkpoint_lsn = commit.next_lsn - 1;
        let catalog = inner.catalog.load_full();
        let mut next_row_ids = HashMap::new();
        let mut frozen_by_table = HashMap::new();
        for store in inner.tables.load().values() {
            let version = store.load();
            let mut frozen = version.frozen.clone();
            if !version.active.is_empty() {
                frozen.push(version.active.clone());
                store.version.store(Arc::new(TableVersion {
                    segments: version.segments.clone(),
                    frozen: frozen.clone(),
                    active: Arc::new(Memtable::new()),
                }));
            }
            next_row_ids.insert(store.oid, *store.next_row_id.lock());
            frozen_by_table.insert(store.oid, frozen);
        }
        inner.wal.rotate()?;
        (checkpoint_lsn, catalog, next_row_ids, frozen_by_table)
    };

    // 2. Write segments, delete vectors, catalog.
    let mut manifest = manifest_guard.clone();
    let mut stats = CheckpointStats {
        checkpoint_lsn,
        ..Default::default()
    };
    let tables = inner.tables.load_full();
    let mut new_slots: HashMap<u32, Arc<SegmentSlot>> = HashMap::new();
    let mut new_delete_files: Vec<(Arc<SegmentSlot>, String, usize)> = Vec::new();
    let mut table_entries = std::collections::BTreeMap::new();
    for (oid, def) in &catalog.catalog.tables {
        let Some(store) = tables.get(oid) else {
            continue;
        };
        let table_dir = inner.dir.table_dir(*oid);
        std::fs::create_dir_all(&table_dir).map_err(|e| StorageError::io(&table_dir, e))?;
        let version = store.load();
        let mut entry = TableManifest {
            next_row_id: next_row_ids.get(oid).copied().unwrap_or(1),
            segments: Vec::new(),
        };
        for slot in &version.segments {
            let persisted = slot.delete_file.read().clone();
            let delete_file = if slot.deletes.deleted_by(checkpoint_lsn) != persisted.1 {
                // Recorded in the slot only once the manifest naming it is durable.
                let written = write_delete_file(slot, &table_dir, checkpoint_lsn, &faults)?;
                if let Some((name, count)) = &written {
                    new_delete_files.push((slot.clone(), name.clone(), *count));
                    stats.delete_files += 1;
                }
                written.map(|(name, _)| name)
            } else {
                persisted.0
            };
            entry.segments.push(SegmentEntry {
                name: slot.name.clone(),
                delete_file,
            });
        }
        let frozen = frozen_by_table.get(oid).map(Vec::as_slice).unwrap_or(&[]);
        let rows: Vec<&MemRow> = frozen
            .iter()
            .flat_map(|m| m.iter())
            .filter(|r| r.insert_lsn() != UNDONE_LSN && r.insert_lsn() <= checkpoint_lsn)
            .collect();
        if !rows.is_empty() {
            let name = format!("seg-{}", manifest.next_segment);
            manifest.next_segment += 1;
            // Never hand the name out again, even if this checkpoint fails.
            manifest_guard.next_segment = manifest.next_segment;
            let slot = seal_rows(
                inner,
                def,
                &table_dir,
                &name,
                &rows,
                checkpoint_lsn,
                &catalog.catalog,
            )?;
            let delete_file = write_delete_file(&slot, &table_dir, checkpoint_lsn, &faults)?;
            if delete_file.is_some() {
                stats.delete_files += 1;
            }
            *slot.delete_file.write() =
                delete_file.clone().map_or((None, 0), |(n, c)| (Some(n), c));
            let delete_file = delete_file.map(|(name, _)| name);
            entry.segments.push(SegmentEntry { name, delete_file });
            stats.sealed_rows += rows.len();
            stats.new_segments += 1;
            new_slots.insert(*oid, slot);
        }
        faults.fsync_dir(&table_dir)?;
        table_entries.insert(*oid, entry);
    }
    let catalog_name = format!("{checkpoint_lsn:020}.cat");
    faults.write_atomically(
        &inner.dir.catalog_dir().join(&catalog_name),
        &catalog.catalog.encode(),
    )?;

    // 3. The manifest.
    manifest.checkpoint_lsn = checkpoint_lsn;
    manifest.catalog_file = Some(catalog_name);
    manifest.tables = table_entries;
    manifest.store(&inner.dir.manifest_path(), &faults)?;

    // 4. Install.
    {
        let _commit = inner.commit.lock();
        for (slot, name, count) in new_delete_files {
            *slot.delete_file.write() = (Some(name), count);
        }
        for (oid, frozen) in &frozen_by_table {
            let Some(store) = inner.tables.load().get(oid).cloned() else {
                continue;
            };
            let current = store.load();
            let mut segments = current.segments.clone();
            if let Some(slot) = new_slots.get(oid) {
                // Deletes committed after the freeze went to the frozen rows: carry them over.
                for (offset, row_id) in slot.segment.row_ids().iter().enumerate() {
                    if let Some(row) = frozen.iter().find_map(|m| m.find(*row_id)) {
                        slot.deletes.set(offset as u32, row.delete_lsn());
                    }
                }
                segments.push(slot.clone());
            }
            let remaining: Vec<_> = current
                .frozen
                .iter()
                .filter(|m| !frozen.iter().any(|f| Arc::ptr_eq(f, m)))
                .cloned()
                .collect();
            store.version.store(Arc::new(TableVersion {
                segments,
                frozen: remaining,
                active: current.active.clone(),
            }));
        }
        *manifest_guard = manifest.clone();
    }

    // 5. Clean up.
    stats.trimmed_wal_files = inner.wal.trim(checkpoint_lsn)?;
    crate::engine::remove_unreferenced_files(&inner.dir, &manifest)?;
    Ok(stats)
}

/// Writes the delete-vector file of `slot` holding its deletes up to `checkpoint_lsn`, if
/// it has any; returns the file's name and the number of deletes in it.
pub(crate) fn write_delete_file(
    slot: &SegmentSlot,
    table_dir: &std::path::Path,
    checkpoint_lsn: u64,
    faults: &crate::files::Faults,
) -> Result<Option<(String, usize)>> {
    let count = slot.deletes.deleted_by(checkpoint_lsn);
    if count == 0 {
        return Ok(None);
    }
    let name = format!("{}.{checkpoint_lsn}.dv", slot.name);
    let path = table_dir.join(&name);
    remove_if_exists(&path)?;
    slot.deletes.store_upto(&path, checkpoint_lsn, faults)?;
    Ok(Some((name, count)))
}

/// Writes `rows` (in row-id order) as segment `name` of table `def`, builds its vector
/// indexes, and returns its slot with deletes up to `checkpoint_lsn` set.
fn seal_rows(
    inner: &EngineInner,
    def: &TableDef,
    table_dir: &std::path::Path,
    name: &str,
    rows: &[&MemRow],
    checkpoint_lsn: u64,
    catalog: &crate::catalog::Catalog,
) -> Result<Arc<SegmentSlot>> {
    let widened: Vec<Row> = rows.iter().map(|r| widen(&r.values, def)).collect();
    let row_ids: Vec<u64> = rows.iter().map(|r| r.row_id).collect();
    let lsns: Vec<u64> = rows.iter().map(|r| r.insert_lsn()).collect();
    let deletes: Vec<u64> = rows
        .iter()
        .map(|r| {
            let d = r.delete_lsn();
            if d <= checkpoint_lsn {
                d
            } else {
                0
            }
        })
        .collect();
    let slot = write_slot(
        inner, def, table_dir, name, &row_ids, &lsns, &widened, catalog,
    )?;
    for (offset, d) in deletes.into_iter().enumerate() {
        if d != 0 {
            slot.deletes.set(offset as u32, d);
        }
    }
    Ok(slot)
}

/// Writes a segment from full-width rows and opens it with its vector indexes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_slot(
    inner: &EngineInner,
    def: &TableDef,
    table_dir: &std::path::Path,
    name: &str,
    row_ids: &[u64],
    lsns: &[u64],
    rows: &[Row],
    catalog: &crate::catalog::Catalog,
) -> Result<Arc<SegmentSlot>> {
    let columns: Vec<SegmentColumn> = def
        .live_columns()
        .map(|c| SegmentColumn {
            attnum: c.attnum,
            data_type: c.data_type.clone(),
        })
        .collect();
    let row_refs: Vec<&[crate::types::Value]> = rows.iter().map(|r| r.as_slice()).collect();
    let dir = table_dir.join(name);
    remove_if_exists(&dir)?;
    remove_if_exists(&crate::segment::tmp_dir_of(&dir))?;
    write_segment(
        &dir,
        &SegmentInput {
            columns: &columns,
            row_ids,
            insert_lsns: lsns,
            rows: &row_refs,
        },
        &inner.options.faults,
    )?;
    let segment = Arc::new(Segment::open(&dir)?);
    let slot = Arc::new(SegmentSlot {
        name: name.to_string(),
        deletes: DeleteVector::new(segment.row_count()),
        segment,
        vector_indexes: Default::default(),
        delete_file: Default::default(),
    });
    for index in catalog.indexes_of(def.oid) {
        if index.method == IndexMethodDef::Btree {
            continue;
        }
        let built = crate::vector_hooks::open_or_build(&slot.segment, def, index)?;
        slot.vector_indexes.write().insert(index.oid, built);
    }
    Ok(slot)
}

/// The background maintenance thread: checkpoint when a memtable is past its limit, then
/// compact if there is something worth compacting.
pub(crate) fn background_loop(weak: Weak<EngineInner>) {
    loop {
        let Some(inner) = weak.upgrade() else { return };
        {
            let (flag, condvar) = &inner.wake;
            let mut woken = flag.lock();
            if !*woken && !inner.shutdown.load(Ordering::SeqCst) {
                condvar.wait_for(&mut woken, Duration::from_millis(500));
            }
            *woken = false;
        }
        if inner.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let limit = inner.options.memtable_limit_bytes;
        let over_limit = inner
            .tables
            .load()
            .values()
            .any(|t| t.load().active.approx_bytes() > limit)
            || inner.wal.active_file_bytes() > inner.options.wal_limit_bytes;
        if over_limit {
            if let Err(error) = checkpoint(&inner) {
                *inner.last_maintenance_error.lock() = Some(error.to_string());
                continue;
            }
        }
        if crate::compaction::has_work(&inner) {
            if let Err(error) = crate::compaction::compact(&inner) {
                *inner.last_maintenance_error.lock() = Some(error.to_string());
            }
        }
    }
}
