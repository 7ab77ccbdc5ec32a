//! The write-ahead log: its record format ([`record`]) and the log itself ([`log`]).

pub mod log;
pub mod record;

pub use log::{RecoveredWal, Wal};
pub use record::{FramedRecord, PayloadBuilder, WalOp, WalRecord};
