//! The storage crate's one error type, with the SQLSTATE each error maps to.

use std::path::PathBuf;

use crate::types::DecodeError;

/// Everything that can go wrong in storage. Every variant carries enough for a person to act:
/// the file and offset of a corruption, the index and key of a uniqueness violation.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("I/O error on \"{path}\": {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write to \"{path}\": no space left on device")]
    DiskFull { path: PathBuf },
    #[error("corrupt data in \"{path}\" at offset {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("\"{path}\" is not a custos data directory: {reason}")]
    NotADataDirectory { path: PathBuf, reason: String },
    #[error("\"{path}\" has format version {found}; this custos reads version {supported}")]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("data directory \"{path}\" is in use by another process (lock file {lock})")]
    Locked { path: PathBuf, lock: PathBuf },
    #[error("duplicate key value violates unique constraint \"{index}\"")]
    UniqueViolation { index: String, key: String },
    #[error("could not serialize access due to concurrent update")]
    SerializationFailure,
    #[error("storage is read-only after an earlier write failure ({reason}); restart the server")]
    ReadOnly { reason: String },
    #[error("the commit was not made durable: {reason}")]
    CommitFailed { reason: String },
    #[error("table {0} does not exist")]
    NoSuchTable(u32),
    #[error("row {row_id} of table {table_id} does not exist or is not visible")]
    NoSuchRow { table_id: u32, row_id: u64 },
    #[error("index {0} does not exist")]
    NoSuchIndex(u32),
    #[error("invalid value: {0}")]
    InvalidValue(String),
    #[error("invalid catalog change: {0}")]
    InvalidCatalog(String),
    #[error("transaction is too large: {bytes} bytes of changes, at most {limit} bytes")]
    TransactionTooLarge { bytes: usize, limit: usize },
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("vector index: {0}")]
    VectorIndex(#[from] index::segment_index::IndexError),
}

impl StorageError {
    /// The PostgreSQL SQLSTATE a client sees for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            StorageError::Io { .. } => "58030",
            StorageError::DiskFull { .. } => "53100",
            StorageError::Corrupt { .. } | StorageError::Decode(_) => "XX001",
            StorageError::NotADataDirectory { .. }
            | StorageError::UnsupportedVersion { .. }
            | StorageError::Locked { .. } => "55000",
            StorageError::UniqueViolation { .. } => "23505",
            StorageError::SerializationFailure => "40001",
            StorageError::ReadOnly { .. } => "25006",
            StorageError::CommitFailed { .. } => "58030",
            StorageError::NoSuchTable(_) => "42P01",
            StorageError::NoSuchRow { .. } => "55000",
            StorageError::NoSuchIndex(_) => "42704",
            StorageError::InvalidValue(_) => "22000",
            StorageError::InvalidCatalog(_) => "42P16",
            StorageError::TransactionTooLarge { .. } => "54000",
            StorageError::VectorIndex(_) => "XX000",
        }
    }

    /// Wraps an I/O error with the path it happened on; ENOSPC becomes [`StorageError::DiskFull`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> StorageError {
        let path = path.into();
        if source.raw_os_error() == Some(libc::ENOSPC) {
            StorageError::DiskFull { path }
        } else {
            StorageError::Io { path, source }
        }
    }

    pub fn corrupt(path: impl Into<PathBuf>, offset: u64, reason: impl Into<String>) -> Self {
        StorageError::Corrupt {
            path: path.into(),
            offset,
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;
