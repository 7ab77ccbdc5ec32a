//! The manifest: which segments are live, up to which LSN they (with the catalog file) hold
//! the data, and which WAL records must be replayed on top.
//!
//! Format version 1:
//!
//! ```text
//! magic "CUSTMAN\0" (8 bytes), version:u32 LE, crc:u32 LE (CRC32C of body), len:u64 LE
//! body: JSON of `Manifest`
//! ```
//!
//! The manifest is replaced atomically (temporary file, fsync, rename, fsync of the
//! directory), only after every file it names is durable. Files a manifest does not name are
//! garbage from an interrupted checkpoint or compaction and are deleted at start-up, never read.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};
use crate::files::Faults;

pub const MANIFEST_MAGIC: &[u8; 8] = b"CUSTMAN\0";
pub const MANIFEST_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Manifest {
    /// Every commit up to this LSN is in the segments, delete files and catalog file below.
    pub checkpoint_lsn: u64,
    /// Catalog file (in `catalog/`) as of `checkpoint_lsn`; none before the first checkpoint.
    pub catalog_file: Option<String>,
    /// Next segment number to hand out (segment names are never reused).
    pub next_segment: u64,
    pub tables: BTreeMap<u32, TableManifest>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableManifest {
    /// Next row id to hand out in this table, as of `checkpoint_lsn`.
    pub next_row_id: u64,
    /// Live segments, in row-id order (their row-id ranges do not overlap).
    pub segments: Vec<SegmentEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SegmentEntry {
    /// Directory name under `tables/<oid>/`.
    pub name: String,
    /// Delete-vector file under `tables/<oid>/`, if any row of the segment is deleted.
    pub delete_file: Option<String>,
}

const KIND: crate::envelope::Kind = crate::envelope::Kind {
    name: "manifest",
    magic: MANIFEST_MAGIC,
    version: MANIFEST_VERSION,
};

impl Manifest {
    pub fn encode(&self) -> Vec<u8> {
        crate::envelope::encode(&KIND, self)
    }

    pub fn decode(bytes: &[u8], path: &Path) -> Result<Manifest> {
        crate::envelope::decode(&KIND, bytes, path)
    }

    /// Reads the manifest at `path`; a missing file is the empty manifest of a new directory.
    pub fn load(path: &Path) -> Result<Manifest> {
        match std::fs::read(path) {
            Ok(bytes) => Manifest::decode(&bytes, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
            Err(e) => Err(StorageError::io(path, e)),
        }
    }

    pub fn store(&self, path: &Path, faults: &Faults) -> Result<()> {
        faults.write_atomically(path, &self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let mut m = Manifest {
            checkpoint_lsn: 42,
            catalog_file: Some("00000000000000000042.cat".into()),
            next_segment: 3,
            ..Default::default()
        };
        m.tables.insert(
            16385,
            TableManifest {
                next_row_id: 1000,
                segments: vec![SegmentEntry {
                    name: "seg-1".into(),
                    delete_file: Some("seg-1.42.dv".into()),
                }],
            },
        );
        m
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("MANIFEST");
        assert_eq!(Manifest::load(&path).unwrap(), Manifest::default());
        sample().store(&path, &Faults::default()).unwrap();
        assert_eq!(Manifest::load(&path).unwrap(), sample());
    }

    #[test]
    fn corruption_truncation_and_versions_are_refused() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(Manifest::decode(&bytes[..cut], Path::new("M")).is_err());
        }
        let mut flipped = bytes.clone();
        flipped[30] ^= 4;
        assert!(Manifest::decode(&flipped, Path::new("M")).is_err());
        let mut future = bytes;
        future[8] = 7;
        assert!(matches!(
            Manifest::decode(&future, Path::new("M")),
            Err(StorageError::UnsupportedVersion { found: 7, .. })
        ));
    }
}
