//! Multi-version concurrency control: snapshots, visibility, delete vectors.
//!
//! Every commit has an LSN. A row carries the LSN that inserted it; a delete records the
//! deleting LSN in the delete vector of the segment (or memtable) holding the row. A reader's
//! snapshot is the LSN up to which commits are durable when it starts: it sees a row iff
//! `insert_lsn <= snapshot` and the row is not deleted at or before the snapshot. Updates are a
//! delete plus an insert. A row whose committing transaction failed to become durable gets
//! [`UNDONE_LSN`] as its insert LSN and is never visible.
//!
//! The [`SnapshotRegistry`] knows the oldest snapshot still in use, below which compaction may
//! physically drop deleted rows.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::error::{Result, StorageError};
use crate::files::Faults;

/// Insert LSN of a row whose transaction was undone: visible to nobody.
pub const UNDONE_LSN: u64 = u64::MAX;

/// Whether a row inserted at `insert_lsn` and deleted at `delete_lsn` (0 = not deleted) is
/// visible at `snapshot`.
#[inline]
pub fn visible(insert_lsn: u64, delete_lsn: u64, snapshot: u64) -> bool {
    insert_lsn <= snapshot && (delete_lsn == 0 || delete_lsn > snapshot)
}

/// The deleting LSN of each row of a segment, 0 for live rows. Written by the one committing
/// writer, read by everyone without locks.
pub struct DeleteVector {
    lsns: Box<[AtomicU64]>,
}

impl DeleteVector {
    pub fn new(rows: usize) -> DeleteVector {
        DeleteVector {
            lsns: (0..rows).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    #[inline]
    pub fn get(&self, offset: u32) -> u64 {
        self.lsns
            .get(offset as usize)
            .map_or(0, |l| l.load(Ordering::Acquire))
    }

    #[inline]
    pub fn set(&self, offset: u32, lsn: u64) {
        if let Some(slot) = self.lsns.get(offset as usize) {
            slot.store(lsn, Ordering::Release);
        }
    }

    pub fn len(&self) -> usize {
        self.lsns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lsns.is_empty()
    }

    /// Number of rows deleted at or before `lsn`.
    pub fn deleted_by(&self, lsn: u64) -> usize {
        self.lsns
            .iter()
            .filter(|l| {
                let d = l.load(Ordering::Acquire);
                d != 0 && d <= lsn
            })
            .count()
    }

    /// Delete-vector file, format version 1:
    ///
    /// ```text
    /// magic "CUSTDV\0\0", version:u32 LE, rows:u32 LE (segment row count), count:u32 LE,
    /// count x (offset:u32 LE, delete_lsn:u64 LE), crc:u32 LE (CRC32C of all preceding bytes)
    /// ```
    ///
    /// Only deletes at or before `upto_lsn` are written: later ones are still in the WAL.
    pub fn encode_upto(&self, upto_lsn: u64) -> Vec<u8> {
        let entries: Vec<(u32, u64)> = self
            .lsns
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let d = l.load(Ordering::Acquire);
                (d != 0 && d <= upto_lsn).then_some((i as u32, d))
            })
            .collect();
        let mut out = Vec::with_capacity(24 + entries.len() * 12);
        out.extend_from_slice(DV_MAGIC);
        out.extend_from_slice(&DV_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.lsns.len() as u32).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for (offset, lsn) in entries {
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&lsn.to_le_bytes());
        }
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Whether any row is deleted at or before `upto_lsn`.
    pub fn any_upto(&self, upto_lsn: u64) -> bool {
        self.lsns.iter().any(|l| {
            let d = l.load(Ordering::Acquire);
            d != 0 && d <= upto_lsn
        })
    }

    /// Loads a delete-vector file for a segment of `rows` rows.
    pub fn load(path: &Path, rows: usize) -> Result<DeleteVector> {
        let bytes = crate::files::read_file(path)?;
        let corrupt =
            |offset: usize, reason: &str| StorageError::corrupt(path, offset as u64, reason);
        if bytes.len() < 24 || &bytes[..8] != DV_MAGIC {
            return Err(corrupt(0, "not a custos delete-vector file"));
        }
        let word = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let version = word(8);
        if version != DV_VERSION {
            return Err(StorageError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: DV_VERSION,
            });
        }
        if word(12) as usize != rows {
            return Err(corrupt(
                12,
                "delete vector is for a segment of another size",
            ));
        }
        let count = word(16) as usize;
        let body_end = 20 + count * 12;
        if bytes.len() != body_end + 4 {
            return Err(corrupt(
                16,
                "delete-vector length does not match its entry count",
            ));
        }
        if crc32c::crc32c(&bytes[..body_end]) != word(body_end) {
            return Err(corrupt(body_end, "delete-vector CRC mismatch"));
        }
        let dv = DeleteVector::new(rows);
        for i in 0..count {
            let at = 20 + i * 12;
            let offset = word(at);
            let mut lsn = [0u8; 8];
            lsn.copy_from_slice(&bytes[at + 4..at + 12]);
            if offset as usize >= rows {
                return Err(corrupt(at, "delete-vector entry beyond the segment"));
            }
            dv.set(offset, u64::from_le_bytes(lsn));
        }
        Ok(dv)
    }

    pub fn store_upto(&self, path: &Path, upto_lsn: u64, faults: &Faults) -> Result<()> {
        faults.write_new_file(path, &self.encode_upto(upto_lsn))
    }
}

const DV_MAGIC: &[u8; 8] = b"CUSTDV\0\0";
const DV_VERSION: u32 = 1;

/// Snapshots in use, so that compaction keeps every row version some reader may still see.
#[derive(Default)]
pub struct SnapshotRegistry {
    active: Mutex<BTreeMap<u64, usize>>,
}

impl SnapshotRegistry {
    /// Registers a snapshot at the LSN `choose` returns, atomically with respect to
    /// [`SnapshotRegistry::oldest_or`].
    pub fn register(&self, choose: impl FnOnce() -> u64) -> u64 {
        let mut active = self.active.lock();
        let lsn = choose();
        *active.entry(lsn).or_insert(0) += 1;
        lsn
    }

    pub fn release(&self, lsn: u64) {
        let mut active = self.active.lock();
        if let Some(count) = active.get_mut(&lsn) {
            *count -= 1;
            if *count == 0 {
                active.remove(&lsn);
            }
        }
    }

    /// The oldest snapshot in use, or `current()` when none is.
    pub fn oldest_or(&self, current: impl FnOnce() -> u64) -> u64 {
        let active = self.active.lock();
        let now = current();
        active
            .keys()
            .next()
            .copied()
            .map_or(now, |oldest| oldest.min(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_rules() {
        assert!(visible(5, 0, 5));
        assert!(!visible(6, 0, 5));
        assert!(visible(5, 7, 6));
        assert!(!visible(5, 6, 6));
        assert!(!visible(UNDONE_LSN, 0, u64::MAX - 1));
    }

    #[test]
    fn delete_vector_file_round_trips_and_keeps_only_checkpointed_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.dv");
        let dv = DeleteVector::new(10);
        dv.set(2, 5);
        dv.set(7, 9);
        dv.store_upto(&path, 6, &Faults::default()).unwrap();
        let back = DeleteVector::load(&path, 10).unwrap();
        assert_eq!(back.get(2), 5);
        assert_eq!(back.get(7), 0);
        assert!(DeleteVector::load(&path, 11).is_err());
        let bytes = std::fs::read(&path).unwrap();
        for cut in 0..bytes.len() {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert!(DeleteVector::load(&path, 10).is_err());
        }
        let mut flipped = bytes.clone();
        flipped[22] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert!(DeleteVector::load(&path, 10).is_err());
    }

    #[test]
    fn registry_tracks_the_oldest_snapshot() {
        let registry = SnapshotRegistry::default();
        assert_eq!(registry.oldest_or(|| 10), 10);
        let a = registry.register(|| 3);
        let b = registry.register(|| 8);
        assert_eq!(registry.oldest_or(|| 10), 3);
        registry.release(a);
        assert_eq!(registry.oldest_or(|| 10), 8);
        registry.release(b);
        assert_eq!(registry.oldest_or(|| 10), 10);
    }
}
