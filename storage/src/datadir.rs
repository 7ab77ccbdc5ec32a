//! The data directory: its identity file, its lock, and where everything lives in it.
//!
//! ```text
//! DIR/CUSTOS_VERSION     "custos data directory\nformat <n>\n": marks a custos directory
//! DIR/LOCK               held with flock(LOCK_EX) by the one process that has it open
//! DIR/MANIFEST           live segments, checkpoint LSN, catalog file (see `manifest`)
//! DIR/wal/               write-ahead log files
//! DIR/catalog/           catalog files written by checkpoints
//! DIR/tables/<oid>/      segments (`seg-<n>/`) and delete-vector files of one table
//! ```
//!
//! A directory that is empty or absent is initialised; one with other content and no
//! identity file is refused, as is one of another format version.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{Result, StorageError};
use crate::files::Faults;

pub const DATA_DIR_FORMAT: u32 = 1;
const IDENTITY_FILE: &str = "CUSTOS_VERSION";
const LOCK_FILE: &str = "LOCK";

/// An open, locked data directory. The lock is released when this is dropped.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Opens `root`, creating and initialising it when absent or empty.
    pub fn open(root: &Path, faults: &Faults) -> Result<DataDir> {
        fs::create_dir_all(root).map_err(|e| StorageError::io(root, e))?;
        let identity = root.join(IDENTITY_FILE);
        let is_empty = fs::read_dir(root)
            .map_err(|e| StorageError::io(root, e))?
            .next()
            .is_none();
        if is_empty {
            faults.write_atomically(
                &identity,
                format!("custos data directory\nformat {DATA_DIR_FORMAT}\n").as_bytes(),
            )?;
        } else {
            check_identity(root, &identity)?;
        }
        let lock = lock_directory(root)?;
        for sub in ["wal", "catalog", "tables"] {
            let path = root.join(sub);
            fs::create_dir_all(&path).map_err(|e| StorageError::io(&path, e))?;
        }
        faults.fsync_dir(root)?;
        Ok(DataDir {
            root: root.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn wal_dir(&self) -> PathBuf {
        self.root.join("wal")
    }

    pub fn catalog_dir(&self) -> PathBuf {
        self.root.join("catalog")
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.root.join("MANIFEST")
    }

    pub fn tables_dir(&self) -> PathBuf {
        self.root.join("tables")
    }

    pub fn table_dir(&self, table: u32) -> PathBuf {
        self.tables_dir().join(table.to_string())
    }
}

fn check_identity(root: &Path, identity: &Path) -> Result<()> {
    let text = match fs::read_to_string(identity) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StorageError::NotADataDirectory {
                path: root.to_path_buf(),
                reason: format!("it is not empty and has no {IDENTITY_FILE} file"),
            })
        }
        Err(e) => return Err(StorageError::io(identity, e)),
    };
    let mut lines = text.lines();
    if lines.next() != Some("custos data directory") {
        return Err(StorageError::NotADataDirectory {
            path: root.to_path_buf(),
            reason: format!("{IDENTITY_FILE} does not name a custos directory"),
        });
    }
    let version = lines
        .next()
        .and_then(|l| l.strip_prefix("format "))
        .and_then(|v| v.trim().parse::<u32>().ok())
        .ok_or_else(|| StorageError::NotADataDirectory {
            path: root.to_path_buf(),
            reason: format!("{IDENTITY_FILE} has no format line"),
        })?;
    if version != DATA_DIR_FORMAT {
        return Err(StorageError::UnsupportedVersion {
            path: root.to_path_buf(),
            found: version,
            supported: DATA_DIR_FORMAT,
        });
    }
    Ok(())
}

fn lock_directory(root: &Path) -> Result<File> {
    let path = root.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| StorageError::io(&path, e))?;
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(StorageError::Locked {
                path: root.to_path_buf(),
                lock: path,
            });
        }
        return Err(StorageError::io(&path, err));
    }
    file.set_len(0).map_err(|e| StorageError::io(&path, e))?;
    let _ = writeln!(file, "{}", std::process::id());
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let faults = Faults::default();
        drop(DataDir::open(&root, &faults).unwrap());
        let again = DataDir::open(&root, &faults).unwrap();
        assert!(again.wal_dir().is_dir());
    }

    #[test]
    fn a_second_opener_is_refused_while_locked() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Faults::default();
        let first = DataDir::open(dir.path(), &faults).unwrap();
        assert!(matches!(
            DataDir::open(dir.path(), &faults),
            Err(StorageError::Locked { .. })
        ));
        drop(first);
        DataDir::open(dir.path(), &faults).unwrap();
    }

    #[test]
    fn foreign_and_future_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let faults = Faults::default();
        fs::write(dir.path().join("something.txt"), "hello").unwrap();
        assert!(matches!(
            DataDir::open(dir.path(), &faults),
            Err(StorageError::NotADataDirectory { .. })
        ));
        fs::write(
            dir.path().join(IDENTITY_FILE),
            "custos data directory\nformat 99\n",
        )
        .unwrap();
        assert!(matches!(
            DataDir::open(dir.path(), &faults),
            Err(StorageError::UnsupportedVersion { found: 99, .. })
        ));
    }
}
