//! Durable file operations, and the fault injection that tests use to make them fail.
//!
//! Every write that must survive a crash goes through here: `write_atomically` (write a
//! temporary file, fsync it, rename it over the target, fsync the directory) and
//! [`Faults::check_write`] / [`Faults::fsync`] around raw appends. [`Faults`] lets a test make
//! the next fsyncs fail or make the disk "full"; in production it is never armed and costs
//! one relaxed atomic load per call.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::error::{Result, StorageError};

/// Failures a test can arm. Shared by every writer of one engine.
#[derive(Debug, Default)]
pub struct Faults {
    failing_fsyncs: AtomicU32,
    disk_full: AtomicBool,
}

impl Faults {
    /// Makes the next `count` fsyncs fail with EIO.
    pub fn fail_next_fsyncs(&self, count: u32) {
        self.failing_fsyncs.store(count, Ordering::SeqCst);
    }

    /// While set, every write fails with ENOSPC.
    pub fn set_disk_full(&self, full: bool) {
        self.disk_full.store(full, Ordering::SeqCst);
    }

    /// Fails with ENOSPC when the disk is "full".
    pub fn check_write(&self, path: &Path) -> Result<()> {
        if self.disk_full.load(Ordering::Relaxed) {
            return Err(StorageError::io(
                path,
                std::io::Error::from_raw_os_error(libc::ENOSPC),
            ));
        }
        Ok(())
    }

    /// `fdatasync` of `file`, unless a failure is armed.
    pub fn fsync(&self, file: &File, path: &Path) -> Result<()> {
        let armed = self
            .failing_fsyncs
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if armed {
            return Err(StorageError::io(
                path,
                std::io::Error::from_raw_os_error(libc::EIO),
            ));
        }
        file.sync_data().map_err(|e| StorageError::io(path, e))
    }

    /// Writes `bytes` to `path` so that after a crash the file is either the old one or the
    /// new one: temporary file, fsync, rename, fsync of the directory.
    pub fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let tmp = path.with_extension("tmp");
        self.check_write(&tmp)?;
        let mut file = File::create(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
        file.write_all(bytes)
            .map_err(|e| StorageError::io(&tmp, e))?;
        self.fsync(&file, &tmp)?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| StorageError::io(path, e))?;
        self.fsync_dir(parent_of(path))
    }

    /// Makes the entries of `dir` (creations, renames, removals) durable.
    pub fn fsync_dir(&self, dir: &Path) -> Result<()> {
        let handle = File::open(dir).map_err(|e| StorageError::io(dir, e))?;
        self.fsync(&handle, dir)
    }

    /// Writes a new file (which must not exist) and fsyncs it; the caller fsyncs the directory.
    pub fn write_new_file(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.check_write(path)?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| StorageError::io(path, e))?;
        file.write_all(bytes)
            .map_err(|e| StorageError::io(path, e))?;
        self.fsync(&file, path)
    }
}

pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| StorageError::io(path, e))
}

/// Removes a file or directory tree if it exists.
pub(crate) fn remove_if_exists(path: &Path) -> Result<()> {
    let result = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StorageError::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armed_fsync_fails_then_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Faults::default();
        faults.fail_next_fsyncs(1);
        let path = dir.path().join("f");
        let err = faults.write_atomically(&path, b"x").unwrap_err();
        assert!(matches!(err, StorageError::Io { .. }), "{err}");
        faults.write_atomically(&path, b"y").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"y");
    }

    #[test]
    fn disk_full_is_reported_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Faults::default();
        faults.set_disk_full(true);
        let err = faults
            .write_atomically(&dir.path().join("f"), b"x")
            .unwrap_err();
        assert!(matches!(err, StorageError::DiskFull { .. }));
        assert_eq!(err.sqlstate(), "53100");
    }
}
