//! The error type of segment index building, opening and searching.
//!
//! Every error about a file names the file. The storage crate wraps these into its own error;
//! none of them is a user error except `InvalidSpec` and `DimensionMismatch`, which the SQL
//! layer maps to `22023 invalid_parameter_value` and `22000 data_exception`.

use std::path::PathBuf;

/// What can go wrong when building, opening or searching a segment index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Reading, writing, syncing or renaming `path` failed.
    #[error("I/O error on vector index file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file exists but its bytes are not a valid index: bad magic, bad checksum,
    /// truncated, trailing bytes, or a field out of range.
    #[error("vector index file {} is corrupt: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    /// The file was written by a format version this build cannot read.
    #[error(
        "vector index file {} has format version {found}, this build reads version {supported}",
        path.display()
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// The requested index cannot be built: bad dimension, option or metric/method pairing.
    #[error("invalid vector index specification: {0}")]
    InvalidSpec(String),
    /// The index file and the vectors it is opened over disagree (wrong segment).
    #[error("vector index file {} does not match its segment: {reason}", path.display())]
    StoreMismatch { path: PathBuf, reason: String },
    /// A vector (query or stored) has the wrong number of dimensions.
    #[error("vector has {actual} dimensions, the index has {expected}")]
    DimensionMismatch { expected: usize, actual: usize },
}

impl IndexError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> IndexError {
        IndexError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> IndexError {
        IndexError::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
