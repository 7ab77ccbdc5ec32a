//! Reading the audit log back: the frames of a file ([`scan`]), the records for the view
//! ([`read_records`]), and the chain check ([`verify`]) that reports the first broken link.

use std::path::Path;

use super::{AuditEvent, Chain, BODY_FIXED_LEN, HEADER_LEN, MAX_BODY_LEN};

/// One record as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub seq: u64,
    /// µs since 1970-01-01 UTC.
    pub ts: i64,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
    /// The event bytes as stored (what the hash covers).
    pub event_bytes: Vec<u8>,
}

impl AuditRecord {
    /// The event, or `None` when its JSON does not parse (a damaged record).
    pub fn event(&self) -> Option<AuditEvent> {
        serde_json::from_slice(&self.event_bytes).ok()
    }
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Records whose chain checked out, from the first.
    pub records: u64,
    /// The first broken link: the sequence number where the chain breaks and why.
    pub broken: Option<(u64, String)>,
}

impl Verification {
    pub fn is_ok(&self) -> bool {
        self.broken.is_none()
    }

    /// `OK: n records` or `BROKEN at record s: reason`.
    pub fn summary(&self) -> String {
        match &self.broken {
            None => format!("OK: {} records", self.records),
            Some((seq, reason)) => format!("BROKEN at record {seq}: {reason}"),
        }
    }
}

pub(crate) struct Scan {
    /// Every frame with a valid checksum, in file order (damaged ones skipped).
    pub records: Vec<AuditRecord>,
    /// Bytes up to the end of the last frame that reads (valid or skipped).
    pub valid_len: usize,
    /// The bytes after `valid_len` are one incomplete or unchecksummed record at the end: a
    /// write the process did not finish.
    pub torn_tail: bool,
}

enum Frame {
    Record(AuditRecord, usize),
    /// Fewer bytes left than the frame needs.
    Incomplete,
    /// The checksum does not match; the frame would end at this offset.
    BadChecksum(usize),
    /// A length that no record has.
    BadLength,
}

fn frame_at(bytes: &[u8], pos: usize) -> Frame {
    let rest = &bytes[pos..];
    if rest.len() < 8 {
        return Frame::Incomplete;
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    if !(BODY_FIXED_LEN..=MAX_BODY_LEN).contains(&len) {
        return Frame::BadLength;
    }
    if rest.len() < 8 + len {
        return Frame::Incomplete;
    }
    let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
    let body = &rest[8..8 + len];
    if crc32c::crc32c(body) != crc {
        return Frame::BadChecksum(pos + 8 + len);
    }
    let word = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&body[at..at + 8]);
        b
    };
    let mut prev_hash = [0u8; 32];
    prev_hash.copy_from_slice(&body[16..48]);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&body[48..80]);
    Frame::Record(
        AuditRecord {
            seq: u64::from_le_bytes(word(0)),
            ts: i64::from_le_bytes(word(8)),
            prev_hash,
            hash,
            event_bytes: body[BODY_FIXED_LEN..].to_vec(),
        },
        pos + 8 + len,
    )
}

/// Reads frames from the header on. A frame whose checksum fails is skipped (its length
/// still frames the next one) unless it is the last; an impossible length ends the scan.
pub(crate) fn scan(bytes: &[u8]) -> Scan {
    let mut records = Vec::new();
    let mut pos = HEADER_LEN.min(bytes.len());
    loop {
        if pos == bytes.len() {
            return Scan {
                records,
                valid_len: pos,
                torn_tail: false,
            };
        }
        match frame_at(bytes, pos) {
            Frame::Record(record, next) => {
                records.push(record);
                pos = next;
            }
            Frame::BadChecksum(end) if end < bytes.len() => pos = end,
            Frame::Incomplete | Frame::BadChecksum(_) => {
                return Scan {
                    records,
                    valid_len: pos,
                    torn_tail: true,
                }
            }
            Frame::BadLength => {
                return Scan {
                    records,
                    valid_len: pos,
                    torn_tail: false,
                }
            }
        }
    }
}

/// Every record with a valid checksum, in file order (damaged ones left out).
pub fn read_records(bytes: &[u8]) -> Vec<AuditRecord> {
    scan(bytes).records
}

/// Walks the chain of a log file's bytes. `written` is the number of records the running
/// server has appended (0 when unknown) and `head` the chain head from the head file: a
/// log that ends before either was cut.
pub(crate) fn verify(
    bytes: &[u8],
    chain: &Chain,
    written: u64,
    head: Option<(u64, [u8; 32])>,
) -> Verification {
    let broken = |records: u64, seq: u64, reason: String| Verification {
        records,
        broken: Some((seq, reason)),
    };
    let mut expected = 1u64;
    let mut prev = [0u8; 32];
    let mut pos = HEADER_LEN;
    if bytes.len() < HEADER_LEN || &bytes[..12] != super::MAGIC {
        return broken(0, 1, "the file header is missing or damaged".into());
    }
    if bytes[12] != chain.mode() || bytes[13..21] != chain.key_id() {
        return broken(0, 1, "the file header names another key or mode".into());
    }
    while pos < bytes.len() {
        let count = expected - 1;
        match frame_at(bytes, pos) {
            Frame::Incomplete => {
                return broken(count, expected, "record is incomplete (tail cut)".into())
            }
            Frame::BadLength => return broken(count, expected, "record length is invalid".into()),
            Frame::BadChecksum(_) => {
                return broken(
                    count,
                    expected,
                    "checksum mismatch (record edited or damaged)".into(),
                )
            }
            Frame::Record(record, next) => {
                if record.seq != expected {
                    return broken(
                        count,
                        expected,
                        format!(
                            "found record {} where record {expected} was expected (records deleted, reordered or inserted)",
                            record.seq
                        ),
                    );
                }
                if record.prev_hash != prev {
                    return broken(
                        count,
                        expected,
                        "previous-hash link does not match the record before it".into(),
                    );
                }
                let hash = chain.hash(&prev, record.seq, record.ts, &record.event_bytes);
                if hash != record.hash {
                    let why = if matches!(chain, Chain::Hmac(_)) {
                        "hash mismatch (record edited, or written without the audit key)"
                    } else {
                        "hash mismatch (record edited)"
                    };
                    return broken(count, expected, why.into());
                }
                prev = record.hash;
                expected += 1;
                pos = next;
            }
        }
    }
    let count = expected - 1;
    if written > count {
        return broken(
            count,
            count + 1,
            format!("the log ends at record {count} but {written} records were written (tail cut)"),
        );
    }
    if let Some((head_seq, head_hash)) = head {
        if head_seq > count {
            return broken(
                count,
                count + 1,
                format!(
                    "the log ends at record {count} but the head file records {head_seq} (tail cut)"
                ),
            );
        }
        if head_seq == count && head_seq > 0 && head_hash != prev {
            return broken(
                count,
                count,
                "the last record does not match the head file (tail replaced)".into(),
            );
        }
    }
    Verification {
        records: count,
        broken: None,
    }
}

const HEAD_TAG: &[u8] = b"custos-audit-head";

/// The head file: seq u64 LE | hash [32] | mac [32] (the chain's hash over the two).
pub(crate) fn encode_head(seq: u64, hash: &[u8; 32], chain: &Chain) -> Vec<u8> {
    let mac = chain.hash(hash, seq, 0, HEAD_TAG);
    let mut out = Vec::with_capacity(72);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(hash);
    out.extend_from_slice(&mac);
    out
}

/// The head file's seq and hash, when it exists and its MAC checks out.
pub(crate) fn read_head(path: &Path, chain: &Chain) -> Option<(u64, [u8; 32])> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() != 72 {
        return None;
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&bytes[..8]);
    let seq = u64::from_le_bytes(seq);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&bytes[8..40]);
    let mac = chain.hash(&hash, seq, 0, HEAD_TAG);
    (mac[..] == bytes[40..72]).then_some((seq, hash))
}
