//! The tamper-evident audit log: an append-only, hash-chained file in the data directory
//! (`<data>/audit/audit.log`), written beside the WAL but not in it, so that records of
//! denials and failed logins survive the rollback of the transaction they happened in.
//!
//! # File format (version 1)
//!
//! ```text
//! header (32 bytes): b"CUSTOSAUDIT1" | mode u8 (0 = SHA-256, 1 = HMAC-SHA-256) |
//!                    key id [8] (first 8 bytes of SHA-256(key), zero without a key) | zero [11]
//! record:            body_len u32 LE | crc32c(body) u32 LE | body
//! body:              seq u64 LE | ts i64 LE (µs since 1970-01-01 UTC) | prev_hash [32] |
//!                    hash [32] | event (JSON object, UTF-8, fields in a fixed order)
//! hash = H(prev_hash | seq LE | ts LE | event), H = SHA-256, or HMAC-SHA-256 with the key
//! ```
//!
//! The first record's `prev_hash` is 32 zero bytes; sequence numbers start at 1 and have no
//! gaps. The checksum detects a torn tail (a record half-written when the process died); the
//! chain detects an edited, deleted, reordered or inserted record. With a key (kept outside
//! the data directory, see `audit_key_file` in the server's configuration) a record appended
//! by someone without the key fails the chain too; without one, anyone who can write the
//! file can rewrite it entirely and recompute the chain, which is why a key is recommended.
//! A head file (`audit/head`: last seq and hash, MACed like a record) lets a reader notice
//! that records were cut from the end of the log.
//!
//! # Durability
//!
//! [`AuditLog::append`] writes the record (write(2) on an `O_APPEND` file: it survives the
//! process being killed) and returns its sequence number; [`AuditLog::sync`] makes every
//! record up to a sequence number durable with one fsync shared by every caller waiting for
//! it (group sync). The SQL layer syncs before it acknowledges a COMMIT that wrote, and after
//! every login or denial record.
//!
//! Concurrency: one mutex guards the append position and chain head (held for a write(2) of
//! one record); fsync runs outside it on a second handle of the same file, under a mutex of
//! its own, so appends continue while a sync is in flight.

mod read;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use read::{read_records, AuditRecord, Verification};

/// File magic and version.
pub const MAGIC: &[u8; 12] = b"CUSTOSAUDIT1";
pub const HEADER_LEN: usize = 32;
/// Bytes of a record before its event: seq, ts, prev hash, hash.
pub const BODY_FIXED_LEN: usize = 8 + 8 + 32 + 32;
/// The largest record body accepted (a statement text is cut well before this).
pub const MAX_BODY_LEN: usize = 4 << 20;
/// Statement texts longer than this are cut (with a marker) in the record.
pub const MAX_STATEMENT_LEN: usize = 64 << 10;

/// Everything an audit record says about one event. Serialized as JSON in this field order
/// (the order is part of the format: the hash covers the bytes as written).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditEvent {
    /// `LOGIN`, `READ`, `WRITE`, `FUNCTION`, `ROLE`, `DDL`, `MISC`, `MISC_SET`, `RAG`,
    /// `DETOKENIZE`, `AUDIT`.
    pub class: String,
    /// The command (`SELECT`, `INSERT`, `LOGIN`...).
    pub command: String,
    /// `success`, `failure` or `denied` (SQLSTATE 42501).
    pub outcome: String,
    pub session_user: String,
    pub current_user: String,
    pub database: String,
    pub client_addr: String,
    /// Statement text (login: the reason of a failure).
    pub statement: String,
    /// Parameter values as text, classified ones replaced by `<redacted>`.
    pub parameters: Vec<String>,
    /// Rows returned or affected, when known.
    pub rows: Option<u64>,
    pub duration_us: u64,
    /// `00000` for success.
    pub sqlstate: String,
    /// Objects the statement names (`public.accounts`).
    pub objects: Vec<String>,
    /// Free-form details (RAG retrievals: question, row keys, masked columns, model).
    pub payload: serde_json::Value,
}

/// The hashing mode of a log.
#[derive(Clone)]
pub(crate) enum Chain {
    Sha256,
    Hmac(Vec<u8>),
}

impl Chain {
    fn new(key: Option<&[u8]>) -> Chain {
        match key {
            Some(key) => Chain::Hmac(key.to_vec()),
            None => Chain::Sha256,
        }
    }

    fn mode(&self) -> u8 {
        match self {
            Chain::Sha256 => 0,
            Chain::Hmac(_) => 1,
        }
    }

    fn key_id(&self) -> [u8; 8] {
        let mut id = [0u8; 8];
        if let Chain::Hmac(key) = self {
            id.copy_from_slice(&Sha256::digest(key)[..8]);
        }
        id
    }

    /// The hash of a record.
    pub(crate) fn hash(&self, prev: &[u8; 32], seq: u64, ts: i64, event: &[u8]) -> [u8; 32] {
        match self {
            Chain::Sha256 => {
                let mut h = Sha256::new();
                h.update(prev);
                h.update(seq.to_le_bytes());
                h.update(ts.to_le_bytes());
                h.update(event);
                h.finalize().into()
            }
            Chain::Hmac(key) => {
                let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
                    unreachable!("HMAC takes keys of any length")
                };
                mac.update(prev);
                mac.update(&seq.to_le_bytes());
                mac.update(&ts.to_le_bytes());
                mac.update(event);
                mac.finalize().into_bytes().into()
            }
        }
    }

    fn header(&self) -> [u8; HEADER_LEN] {
        let mut header = [0u8; HEADER_LEN];
        header[..12].copy_from_slice(MAGIC);
        header[12] = self.mode();
        header[13..21].copy_from_slice(&self.key_id());
        header
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // Records of read-only transactions wait for the next sync; closing is one.
        let _ = self.sync_all();
    }
}

/// An I/O or format error of the audit log, as text for the SQL layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditError(pub String);

impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AuditError {}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> AuditError {
    AuditError(format!(
        "could not {what} audit file \"{}\": {error}",
        path.display()
    ))
}

struct Head {
    file: File,
    next_seq: u64,
    last_hash: [u8; 32],
}

/// The audit log of one data directory.
pub struct AuditLog {
    path: PathBuf,
    head_path: PathBuf,
    chain: Chain,
    head: Mutex<Head>,
    /// A second handle of the log file, for fsync outside the append lock.
    sync_file: Mutex<File>,
    /// Every record up to this sequence number is on disk.
    synced_seq: AtomicU64,
    /// fsyncs done since open (for the tests and the benchmarks).
    fsyncs: AtomicU64,
    /// What opening found (a torn tail cut, a head file that was ahead of the log).
    open_notes: Vec<String>,
    /// Opening found the log cut: (records found, records the head file recorded).
    tail_cut: Option<(u64, u64)>,
}

impl AuditLog {
    /// The log's path inside a data directory.
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join("audit").join("audit.log")
    }

    /// Opens (creating it if needed) the audit log of `data_dir`. `key` selects HMAC chaining;
    /// a log created with a key cannot be opened without the same key, nor the reverse. A
    /// torn record at the end (the process died while writing it) is cut off and noted.
    pub fn open(data_dir: &Path, key: Option<&[u8]>) -> Result<AuditLog, AuditError> {
        let dir = data_dir.join("audit");
        std::fs::create_dir_all(&dir).map_err(|e| io_error("create directory of", &dir, e))?;
        let path = Self::path_in(data_dir);
        let head_path = dir.join("head");
        let chain = Chain::new(key);
        let mut notes = Vec::new();
        let exists = path.exists();
        if !exists {
            let mut file = File::create(&path).map_err(|e| io_error("create", &path, e))?;
            file.write_all(&chain.header())
                .and_then(|_| file.sync_all())
                .map_err(|e| io_error("write", &path, e))?;
            sync_dir(&dir);
        }
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| io_error("read", &path, e))?;
        check_header(&bytes, &chain)?;
        let scan = read::scan(&bytes);
        if scan.valid_len < bytes.len() {
            // Only a torn tail (an incomplete or unchecksummed last record) is cut; other
            // damage is left for custos_audit_verify() to report, and appends continue the
            // chain from the last record that reads.
            if scan.torn_tail {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| io_error("open", &path, e))?;
                file.set_len(scan.valid_len as u64)
                    .and_then(|_| file.sync_all())
                    .map_err(|e| io_error("truncate", &path, e))?;
                notes.push(format!(
                    "cut a torn record of {} bytes at the end of the log",
                    bytes.len() - scan.valid_len
                ));
            }
        }
        let (next_seq, last_hash) = match scan.records.last() {
            Some(last) => (last.seq + 1, last.hash),
            None => (1, [0u8; 32]),
        };
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| io_error("open", &path, e))?;
        let sync_file = file.try_clone().map_err(|e| io_error("open", &path, e))?;
        let log = AuditLog {
            path,
            head_path,
            chain,
            head: Mutex::new(Head {
                file,
                next_seq,
                last_hash,
            }),
            sync_file: Mutex::new(sync_file),
            synced_seq: AtomicU64::new(next_seq - 1),
            fsyncs: AtomicU64::new(0),
            open_notes: notes,
            tail_cut: None,
        };
        let mut log = log;
        if let Some((seq, _)) = read::read_head(&log.head_path, &log.chain) {
            if seq >= next_seq {
                // The head file remembers records the log no longer has: they were cut from
                // the end. Verification reports it for as long as this server runs, and a
                // record in the chain keeps the evidence after that.
                let found = next_seq - 1;
                log.tail_cut = Some((found, seq));
                let note = format!(
                    "the log ended at record {found} at startup but the head file recorded {seq} (tail cut)"
                );
                log.open_notes.push(note.clone());
                let seq = log.append(&AuditEvent {
                    class: "AUDIT".into(),
                    command: "TAIL CUT".into(),
                    outcome: "failure".into(),
                    statement: note,
                    sqlstate: "XX001".into(),
                    ..Default::default()
                })?;
                log.sync(seq)?;
                return Ok(log);
            }
        }
        log.write_head(next_seq - 1, &last_hash);
        Ok(log)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether records are chained with a key (HMAC-SHA-256).
    pub fn keyed(&self) -> bool {
        matches!(self.chain, Chain::Hmac(_))
    }

    /// What opening the log found and repaired.
    pub fn open_notes(&self) -> &[String] {
        &self.open_notes
    }

    /// The sequence number the next record will get.
    pub fn next_seq(&self) -> u64 {
        self.head.lock().next_seq
    }

    /// fsyncs done since open.
    pub fn fsync_count(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    /// Appends one record (written, not yet fsynced); returns its sequence number.
    pub fn append(&self, event: &AuditEvent) -> Result<u64, AuditError> {
        let encoded = if event.statement.len() > MAX_STATEMENT_LEN {
            let mut event = event.clone();
            let mut cut = MAX_STATEMENT_LEN;
            while !event.statement.is_char_boundary(cut) {
                cut -= 1;
            }
            event.statement.truncate(cut);
            event.statement.push_str("...<truncated>");
            serde_json::to_vec(&event)
        } else {
            serde_json::to_vec(event)
        };
        let json =
            encoded.map_err(|e| AuditError(format!("could not encode audit record: {e}")))?;
        let ts = now_unix_micros();
        let mut head = self.head.lock();
        let seq = head.next_seq;
        let hash = self.chain.hash(&head.last_hash, seq, ts, &json);
        let frame = encode_record(seq, ts, &head.last_hash, &hash, &json)?;
        head.file
            .write_all(&frame)
            .map_err(|e| io_error("write", &self.path, e))?;
        head.next_seq = seq + 1;
        head.last_hash = hash;
        Ok(seq)
    }

    /// Makes every record up to `seq` durable. Callers waiting at the same time share one
    /// fsync.
    pub fn sync(&self, seq: u64) -> Result<(), AuditError> {
        if self.synced_seq.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let file = self.sync_file.lock();
        if self.synced_seq.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let (written, last_hash) = {
            let head = self.head.lock();
            (head.next_seq - 1, head.last_hash)
        };
        file.sync_data()
            .map_err(|e| io_error("fsync", &self.path, e))?;
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        self.synced_seq.store(written, Ordering::Release);
        self.write_head(written, &last_hash);
        Ok(())
    }

    /// Makes every record written so far durable.
    pub fn sync_all(&self) -> Result<(), AuditError> {
        let last = self.next_seq() - 1;
        self.sync(last)
    }

    /// Records the chain head in the head file (written, not fsynced: it is a hint that
    /// lets verification notice a cut tail, not the record of truth).
    fn write_head(&self, seq: u64, hash: &[u8; 32]) {
        let bytes = read::encode_head(seq, hash, &self.chain);
        let tmp = self.head_path.with_extension("tmp");
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(&tmp, &self.head_path);
        }
    }

    /// Reads and checks the whole log as it is on disk now (see [`verify`]).
    pub fn verify(&self) -> Result<Verification, AuditError> {
        let bytes = std::fs::read(&self.path).map_err(|e| io_error("read", &self.path, e))?;
        let written = self.next_seq() - 1;
        let head = read::read_head(&self.head_path, &self.chain);
        let mut verification = read::verify(&bytes, &self.chain, written, head);
        if let (None, Some((found, recorded))) = (&verification.broken, self.tail_cut) {
            verification.broken = Some((
                found + 1,
                format!(
                    "the log ended at record {found} at startup but the head file recorded {recorded} (tail cut)"
                ),
            ));
        }
        Ok(verification)
    }

    /// Checks the log of a data directory that no server has open (offline verification).
    pub fn verify_file(data_dir: &Path, key: Option<&[u8]>) -> Result<Verification, AuditError> {
        let path = Self::path_in(data_dir);
        let bytes = std::fs::read(&path).map_err(|e| io_error("read", &path, e))?;
        let chain = Chain::new(key);
        let head = read::read_head(&data_dir.join("audit").join("head"), &chain);
        Ok(read::verify(&bytes, &chain, 0, head))
    }

    /// Every record that reads back with a valid checksum, in file order (the view).
    pub fn records(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let bytes = std::fs::read(&self.path).map_err(|e| io_error("read", &self.path, e))?;
        Ok(read_records(&bytes))
    }
}

fn check_header(bytes: &[u8], chain: &Chain) -> Result<(), AuditError> {
    if bytes.len() < HEADER_LEN || &bytes[..12] != MAGIC {
        return Err(AuditError(
            "the audit log has no valid header (not a custos audit log, or damaged)".into(),
        ));
    }
    match (bytes[12], chain) {
        (0, Chain::Sha256) => Ok(()),
        (1, Chain::Hmac(_)) if bytes[13..21] == chain.key_id() => Ok(()),
        (1, Chain::Hmac(_)) => Err(AuditError(
            "the audit log was written with a different audit key".into(),
        )),
        (1, Chain::Sha256) => Err(AuditError(
            "the audit log is keyed (HMAC-SHA-256) but no audit key is configured".into(),
        )),
        (0, Chain::Hmac(_)) => Err(AuditError(
            "the audit log was written without a key but an audit key is configured".into(),
        )),
        (mode, _) => Err(AuditError(format!("unknown audit log mode {mode}"))),
    }
}

/// Frames one record.
pub(crate) fn encode_record(
    seq: u64,
    ts: i64,
    prev: &[u8; 32],
    hash: &[u8; 32],
    event: &[u8],
) -> Result<Vec<u8>, AuditError> {
    let body_len = BODY_FIXED_LEN + event.len();
    if body_len > MAX_BODY_LEN {
        return Err(AuditError(format!(
            "audit record of {body_len} bytes exceeds the limit of {MAX_BODY_LEN}"
        )));
    }
    let mut frame = Vec::with_capacity(8 + body_len);
    frame.extend_from_slice(&(body_len as u32).to_le_bytes());
    frame.extend_from_slice(&[0u8; 4]);
    frame.extend_from_slice(&seq.to_le_bytes());
    frame.extend_from_slice(&ts.to_le_bytes());
    frame.extend_from_slice(prev);
    frame.extend_from_slice(hash);
    frame.extend_from_slice(event);
    let crc = crc32c::crc32c(&frame[8..]);
    frame[4..8].copy_from_slice(&crc.to_le_bytes());
    Ok(frame)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Microseconds since 1970-01-01 UTC.
pub fn now_unix_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}
