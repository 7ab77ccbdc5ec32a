//! Compaction: merge runs of adjacent small segments, and rewrite segments heavy with
//! deletes, dropping row versions that no snapshot can see any more.
//!
//! A row version is dropped when it was deleted at or before the *watermark*: the oldest
//! snapshot in use, and never past the checkpoint LSN (so that no WAL record still to be
//! replayed names a dropped row). The new segment keeps the surviving rows' ids and insert
//! LSNs; its vector indexes are built for exactly its rows. Crash safety is the checkpoint's:
//! the new segment and its delete file are garbage until the manifest names them, the
//! manifest is replaced atomically, and the old segments are deleted only after that.
//! Readers holding the old table version keep reading the old (memory-mapped) files.

use std::sync::Arc;

use crate::catalog::TableDef;
use crate::engine::EngineInner;
use crate::error::Result;
use crate::manifest::SegmentEntry;
use crate::table::{read_segment_row, SegmentSlot, TableVersion};
use crate::types::Row;

/// What a compaction did.
#[derive(Debug, Clone, Default)]
pub struct CompactionStats {
    pub merged_segments: usize,
    pub new_segments: usize,
    pub rows_written: usize,
    pub rows_dropped: usize,
    pub bytes_read: u64,
}

fn is_candidate(inner: &EngineInner, slot: &SegmentSlot, watermark: u64) -> bool {
    let rows = slot.segment.row_count();
    let deleted = slot.deletes.deleted_by(watermark);
    rows < inner.options.compaction_small_segment_rows
        || (rows > 0 && deleted as f64 / rows as f64 >= inner.options.compaction_deleted_fraction)
}

/// Runs of adjacent candidate segments worth rewriting: two or more small ones, or one
/// with droppable deletes past the threshold.
fn plan(
    inner: &EngineInner,
    version: &TableVersion,
    watermark: u64,
) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for i in 0..=version.segments.len() {
        let candidate = version
            .segments
            .get(i)
            .is_some_and(|s| is_candidate(inner, s, watermark));
        match (candidate, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let run = s..i;
                let worth = run.len() >= 2 || {
                    let slot = &version.segments[s];
                    let deleted = slot.deletes.deleted_by(watermark);
                    deleted > 0
                        && deleted as f64 / slot.segment.row_count().max(1) as f64
                            >= inner.options.compaction_deleted_fraction
                };
                if worth {
                    runs.push(run);
                }
                start = None;
            }
            _ => {}
        }
    }
    runs
}

fn watermark(inner: &EngineInner, checkpoint_lsn: u64) -> u64 {
    inner
        .snapshots
        .oldest_or(|| inner.wal.durable_lsn())
        .min(checkpoint_lsn)
}

/// Whether some table has segments worth compacting.
pub(crate) fn has_work(inner: &EngineInner) -> bool {
    let checkpoint_lsn = inner.maintenance.lock().checkpoint_lsn;
    let mark = watermark(inner, checkpoint_lsn);
    inner
        .tables
        .load()
        .values()
        .any(|t| !plan(inner, &t.load(), mark).is_empty())
}

/// Compacts every table once.
pub(crate) fn compact(inner: &EngineInner) -> Result<CompactionStats> {
    let mut manifest_guard = inner.maintenance.lock();
    let mut stats = CompactionStats::default();
    let catalog = inner.catalog.load_full();
    let faults = inner.options.faults.clone();
    let mark = watermark(inner, manifest_guard.checkpoint_lsn);
    let checkpoint_lsn = manifest_guard.checkpoint_lsn;
    for (oid, def) in &catalog.catalog.tables {
        let Some(store) = inner.tables.load().get(oid).cloned() else {
            continue;
        };
        // Only tables the manifest knows have segments on disk.
        if !manifest_guard.tables.contains_key(oid) {
            continue;
        }
        let version = store.load();
        let runs = plan(inner, &version, mark);
        if runs.is_empty() {
            continue;
        }
        let table_dir = inner.dir.table_dir(*oid);
        let mut manifest = manifest_guard.clone();
        let mut replacements = Vec::new();
        for run in runs.iter().rev() {
            let old: Vec<Arc<SegmentSlot>> = version.segments[run.clone()].to_vec();
            let merged = merge_run(def, &old, mark, &mut stats)?;
            let entry_slot = if merged.row_ids.is_empty() {
                None
            } else {
                let name = format!("seg-{}", manifest.next_segment);
                manifest.next_segment += 1;
                // Never hand the name out again, even if this checkpoint fails.
                manifest_guard.next_segment = manifest.next_segment;
                let slot = crate::checkpoint::write_slot(
                    inner,
                    def,
                    &table_dir,
                    &name,
                    &merged.row_ids,
                    &merged.lsns,
                    &merged.rows,
                    &catalog.catalog,
                )?;
                for (offset, d) in merged.deletes.iter().enumerate() {
                    if *d != 0 && *d <= checkpoint_lsn {
                        slot.deletes.set(offset as u32, *d);
                    }
                }
                let delete_file = crate::checkpoint::write_delete_file(
                    &slot,
                    &table_dir,
                    checkpoint_lsn,
                    &faults,
                )?;
                *slot.delete_file.write() =
                    delete_file.clone().map_or((None, 0), |(n, c)| (Some(n), c));
                let delete_file = delete_file.map(|(name, _)| name);
                faults.fsync_dir(&table_dir)?;
                Some((SegmentEntry { name, delete_file }, slot))
            };
            let entry = manifest.tables.entry(*oid).or_default();
            let old_names: Vec<&str> = old.iter().map(|s| s.name.as_str()).collect();
            let position = entry
                .segments
                .iter()
                .position(|s| old_names.contains(&s.name.as_str()))
                .unwrap_or(entry.segments.len());
            entry
                .segments
                .retain(|s| !old_names.contains(&s.name.as_str()));
            let slot = entry_slot.map(|(segment_entry, slot)| {
                entry
                    .segments
                    .insert(position.min(entry.segments.len()), segment_entry);
                stats.new_segments += 1;
                slot
            });
            stats.merged_segments += old.len();
            stats.rows_written += merged.row_ids.len();
            replacements.push((run.clone(), old, slot, merged.dropped));
        }
        manifest.store(&inner.dir.manifest_path(), &faults)?;

        // Install: carry over deletes made since, drop index entries of dropped rows.
        {
            let _commit = inner.commit.lock();
            let current = store.load();
            let mut segments = current.segments.clone();
            let btrees = store.btrees.load();
            for (_, old, slot, dropped) in &replacements {
                if let Some(slot) = slot {
                    for (offset, row_id) in slot.segment.row_ids().iter().enumerate() {
                        let source = old
                            .iter()
                            .find(|s| s.first_row_id() <= *row_id && *row_id <= s.last_row_id());
                        if let Some(source) = source {
                            if let Some(old_offset) = source.segment.offset_of(*row_id) {
                                slot.deletes
                                    .set(offset as u32, source.deletes.get(old_offset));
                            }
                        }
                    }
                }
                for (row_id, row) in dropped {
                    for index in btrees.values() {
                        index.remove(index.key_of(row), *row_id);
                    }
                }
                let first = segments
                    .iter()
                    .position(|s| old.iter().any(|o| Arc::ptr_eq(o, s)));
                segments.retain(|s| !old.iter().any(|o| Arc::ptr_eq(o, s)));
                if let Some(slot) = slot {
                    let at = first.unwrap_or(segments.len()).min(segments.len());
                    segments.insert(at, slot.clone());
                }
            }
            store.version.store(Arc::new(TableVersion {
                segments,
                frozen: current.frozen.clone(),
                active: current.active.clone(),
            }));
            *manifest_guard = manifest.clone();
        }
        crate::engine::remove_unreferenced_files(&inner.dir, &manifest)?;
    }
    Ok(stats)
}

struct Merged {
    row_ids: Vec<u64>,
    lsns: Vec<u64>,
    rows: Vec<Row>,
    deletes: Vec<u64>,
    dropped: Vec<(u64, Row)>,
}

fn merge_run(
    def: &TableDef,
    run: &[Arc<SegmentSlot>],
    mark: u64,
    stats: &mut CompactionStats,
) -> Result<Merged> {
    let mut merged = Merged {
        row_ids: Vec::new(),
        lsns: Vec::new(),
        rows: Vec::new(),
        deletes: Vec::new(),
        dropped: Vec::new(),
    };
    for slot in run {
        stats.bytes_read += slot.segment.disk_bytes();
        let ids = slot.segment.row_ids();
        let lsns = slot.segment.insert_lsns();
        for (offset, row_id) in ids.iter().enumerate() {
            let deleted = slot.deletes.get(offset as u32);
            let row = read_segment_row(&slot.segment, offset as u32, def)?;
            if deleted != 0 && deleted <= mark {
                stats.rows_dropped += 1;
                merged.dropped.push((*row_id, row));
                continue;
            }
            merged.row_ids.push(*row_id);
            merged.lsns.push(lsns[offset]);
            merged.rows.push(row);
            merged.deletes.push(deleted);
        }
    }
    Ok(merged)
}
