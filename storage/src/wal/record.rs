//! WAL file and record format (version 1), and reading a WAL file back.
//!
//! A WAL file is named after the LSN of its first record (`00000000000000000042.wal`) and is
//! laid out as:
//!
//! ```text
//! file header   magic "CUSTWAL\0" (8 bytes), version:u32 LE, reserved:u32 (0)
//! record        len:u32 LE      length of the payload
//!               crc:u32 LE      CRC32C of lsn bytes followed by the payload
//!               lsn:u64 LE      commit LSN; each record's is the previous one's plus one
//!               payload         len bytes: one committed transaction
//! payload       count:varint, count x op
//! op            1 insert   table:varint, first_row_id:varint, n:varint, n x row
//!                          (the rows get consecutive ids from first_row_id)
//!               2 delete   table:varint, n:varint, n x row_id:varint
//!               3 catalog  len:varint, the whole catalog after the transaction (its own format)
//! ```
//!
//! One record is one committed transaction, written only at commit, so a rolled-back
//! transaction never reaches the log. Reading stops at the first record that is incomplete or
//! fails its CRC: in the last file, when nothing valid follows, that is a torn tail from a
//! crash mid-write and is cut off; anywhere else it is corruption, reported with the file and
//! offset, and start-up stops.

use std::path::Path;

use crate::error::{Result, StorageError};
use crate::types::{encode_row, put_varint, Reader, Row};

pub const WAL_MAGIC: &[u8; 8] = b"CUSTWAL\0";
pub const WAL_VERSION: u32 = 1;
pub const WAL_HEADER_LEN: usize = 16;
pub const RECORD_HEADER_LEN: usize = 16;
/// Largest payload of one record: one transaction's changes.
pub const MAX_RECORD_PAYLOAD: usize = 1 << 30;

const OP_INSERT: u8 = 1;
const OP_DELETE: u8 = 2;
const OP_CATALOG: u8 = 3;

/// One change inside a committed transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum WalOp {
    Insert {
        table_id: u32,
        first_row_id: u64,
        rows: Vec<Row>,
    },
    Delete {
        table_id: u32,
        row_ids: Vec<u64>,
    },
    Catalog {
        bytes: Vec<u8>,
    },
}

/// A committed transaction as read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct WalRecord {
    pub lsn: u64,
    pub ops: Vec<WalOp>,
}

/// Room kept at the front of a [`PayloadBuilder`]'s buffer for the record header and the
/// operation count (a varint of at most 10 bytes), so that framing the record copies nothing.
const FRAME_RESERVE: usize = RECORD_HEADER_LEN + 10;

/// Builds the payload of one record without copying the rows it describes, in a buffer that
/// becomes the framed record ([`PayloadBuilder::frame`]) without being copied again.
pub struct PayloadBuilder {
    /// `FRAME_RESERVE` bytes of room, then the operations.
    ops: Vec<u8>,
    count: u64,
}

impl Default for PayloadBuilder {
    fn default() -> Self {
        PayloadBuilder {
            ops: vec![0; FRAME_RESERVE],
            count: 0,
        }
    }
}

/// One framed record (header and payload) in a buffer, starting at `start`.
pub struct FramedRecord {
    pub bytes: Vec<u8>,
    pub start: usize,
}

impl FramedRecord {
    /// The record's bytes as they go to the file.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

impl PayloadBuilder {
    pub fn insert<'a>(
        &mut self,
        table_id: u32,
        first_row_id: u64,
        rows: impl ExactSizeIterator<Item = &'a Row>,
    ) {
        self.count += 1;
        self.ops.push(OP_INSERT);
        put_varint(&mut self.ops, table_id as u64);
        put_varint(&mut self.ops, first_row_id);
        put_varint(&mut self.ops, rows.len() as u64);
        for row in rows {
            encode_row(&mut self.ops, row);
        }
    }

    /// Reserves room for about `bytes` more bytes of operations.
    pub fn reserve(&mut self, bytes: usize) {
        self.ops.reserve(bytes);
    }

    pub fn delete(&mut self, table_id: u32, row_ids: &[u64]) {
        self.count += 1;
        self.ops.push(OP_DELETE);
        put_varint(&mut self.ops, table_id as u64);
        put_varint(&mut self.ops, row_ids.len() as u64);
        for id in row_ids {
            put_varint(&mut self.ops, *id);
        }
    }

    pub fn catalog(&mut self, bytes: &[u8]) {
        self.count += 1;
        self.ops.push(OP_CATALOG);
        put_varint(&mut self.ops, bytes.len() as u64);
        self.ops.extend_from_slice(bytes);
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of operations so far (the payload less its count).
    pub fn len(&self) -> usize {
        self.ops.len() - FRAME_RESERVE
    }

    /// The finished payload.
    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() + 10);
        put_varint(&mut out, self.count);
        out.extend_from_slice(&self.ops[FRAME_RESERVE..]);
        out
    }

    /// The finished record of commit `lsn`, framed in place: the count and the header are
    /// written into the room left in front of the operations.
    pub fn frame(self, lsn: u64) -> FramedRecord {
        let mut ops = self.ops;
        let mut count = Vec::with_capacity(10);
        put_varint(&mut count, self.count);
        let payload_start = FRAME_RESERVE - count.len();
        ops[payload_start..FRAME_RESERVE].copy_from_slice(&count);
        let start = payload_start - RECORD_HEADER_LEN;
        let payload = &ops[payload_start..];
        let mut crc = crc32c::crc32c(&lsn.to_le_bytes());
        crc = crc32c::crc32c_append(crc, payload);
        let mut header = [0u8; RECORD_HEADER_LEN];
        header[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        header[4..8].copy_from_slice(&crc.to_le_bytes());
        header[8..].copy_from_slice(&lsn.to_le_bytes());
        ops[start..payload_start].copy_from_slice(&header);
        FramedRecord { bytes: ops, start }
    }
}

/// Appends one framed record to `out`.
pub fn frame_record(out: &mut Vec<u8>, lsn: u64, payload: &[u8]) {
    let mut crc = crc32c::crc32c(&lsn.to_le_bytes());
    crc = crc32c::crc32c_append(crc, payload);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend_from_slice(payload);
}

pub fn file_header() -> [u8; WAL_HEADER_LEN] {
    let mut header = [0u8; WAL_HEADER_LEN];
    header[..8].copy_from_slice(WAL_MAGIC);
    header[8..12].copy_from_slice(&WAL_VERSION.to_le_bytes());
    header
}

/// Decodes a payload into its operations.
pub fn decode_payload(payload: &[u8]) -> Result<Vec<WalOp>, crate::types::DecodeError> {
    let mut reader = Reader::new(payload);
    let count = reader.length(1)?;
    let mut ops = Vec::with_capacity(count);
    for _ in 0..count {
        let kind = reader.u8()?;
        let op = match kind {
            OP_INSERT => {
                let table_id = table_id(&mut reader)?;
                let first_row_id = reader.varint()?;
                let n = reader.length(1)?;
                let mut rows = Vec::with_capacity(n);
                for _ in 0..n {
                    rows.push(reader.read_row()?);
                }
                WalOp::Insert {
                    table_id,
                    first_row_id,
                    rows,
                }
            }
            OP_DELETE => {
                let table_id = table_id(&mut reader)?;
                let n = reader.length(1)?;
                let mut row_ids = Vec::with_capacity(n);
                for _ in 0..n {
                    row_ids.push(reader.varint()?);
                }
                WalOp::Delete { table_id, row_ids }
            }
            OP_CATALOG => {
                let n = reader.length(1)?;
                WalOp::Catalog {
                    bytes: reader.take(n)?.to_vec(),
                }
            }
            _ => {
                return Err(crate::types::DecodeError {
                    offset: reader.position(),
                    reason: "unknown WAL operation",
                })
            }
        };
        ops.push(op);
    }
    if !reader.is_empty() {
        return Err(crate::types::DecodeError {
            offset: reader.position(),
            reason: "trailing bytes after WAL operations",
        });
    }
    Ok(ops)
}

fn table_id(reader: &mut Reader<'_>) -> Result<u32, crate::types::DecodeError> {
    let position = reader.position();
    u32::try_from(reader.varint()?).map_err(|_| crate::types::DecodeError {
        offset: position,
        reason: "table id out of range",
    })
}

/// What reading one WAL file found.
#[derive(Debug)]
pub struct WalFileContents {
    pub records: Vec<WalRecord>,
    /// Offset just past the last valid record: where appending may resume.
    pub valid_len: u64,
    /// Whether a torn tail was found past `valid_len` (to be cut off).
    pub torn_tail: bool,
}

/// Reads and checks every record of one WAL file. `expected_first_lsn` is the LSN the file's
/// name promises; `is_last` says whether a bad record may be a torn tail.
pub fn read_wal_file(
    path: &Path,
    expected_first_lsn: u64,
    is_last: bool,
) -> Result<WalFileContents> {
    let bytes = crate::files::read_file(path)?;
    if bytes.len() < WAL_HEADER_LEN {
        if is_last {
            // Crashed while creating the file: nothing in it was ever acknowledged.
            return Ok(WalFileContents {
                records: Vec::new(),
                valid_len: 0,
                torn_tail: true,
            });
        }
        return Err(StorageError::corrupt(
            path,
            0,
            "WAL file shorter than its header",
        ));
    }
    if &bytes[..8] != WAL_MAGIC {
        return Err(StorageError::corrupt(
            path,
            0,
            "not a custos WAL file (bad magic)",
        ));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != WAL_VERSION {
        return Err(StorageError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported: WAL_VERSION,
        });
    }
    let mut records = Vec::new();
    let mut offset = WAL_HEADER_LEN;
    let mut next_lsn = expected_first_lsn;
    while offset < bytes.len() {
        match check_record(&bytes, offset).and_then(|(lsn, payload, end)| {
            if lsn == next_lsn {
                Ok((lsn, payload, end))
            } else {
                Err("LSN out of sequence")
            }
        }) {
            Ok((lsn, payload, end)) => {
                let ops = decode_payload(payload).map_err(|e| {
                    StorageError::corrupt(path, offset as u64, format!("record {lsn}: {e}"))
                })?;
                records.push(WalRecord { lsn, ops });
                next_lsn = lsn + 1;
                offset = end;
            }
            Err(reason) => {
                let followed_by_valid = next_record_after(&bytes, offset, next_lsn);
                if is_last && !followed_by_valid {
                    return Ok(WalFileContents {
                        records,
                        valid_len: offset as u64,
                        torn_tail: true,
                    });
                }
                return Err(StorageError::corrupt(
                    path,
                    offset as u64,
                    format!("bad WAL record (expected LSN {next_lsn}): {reason}"),
                ));
            }
        }
    }
    Ok(WalFileContents {
        records,
        valid_len: offset as u64,
        torn_tail: false,
    })
}

/// Checks the framing and CRC of the record at `offset`: returns its LSN, payload and end.
fn check_record(bytes: &[u8], offset: usize) -> Result<(u64, &[u8], usize), &'static str> {
    let header = bytes
        .get(offset..offset + RECORD_HEADER_LEN)
        .ok_or("incomplete record header")?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let lsn_bytes: [u8; 8] = header[8..16].try_into().map_err(|_| "bad header")?;
    let lsn = u64::from_le_bytes(lsn_bytes);
    if len > MAX_RECORD_PAYLOAD {
        return Err("record length out of range");
    }
    let start = offset + RECORD_HEADER_LEN;
    let payload = bytes
        .get(start..start + len)
        .ok_or("incomplete record payload")?;
    let actual = crc32c::crc32c_append(crc32c::crc32c(&lsn_bytes), payload);
    if actual != crc {
        return Err("CRC mismatch");
    }
    Ok((lsn, payload, start + len))
}

/// Whether a valid record with a later LSN can be found after a bad one at `offset`, which
/// tells corruption (acknowledged data follows) from a torn tail (nothing does).
fn next_record_after(bytes: &[u8], offset: usize, bad_lsn: u64) -> bool {
    // If the bad record's own length is plausible, look right after it first.
    if let Some(header) = bytes.get(offset..offset + RECORD_HEADER_LEN) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let next = offset + RECORD_HEADER_LEN + len;
        if len <= MAX_RECORD_PAYLOAD && next < bytes.len() {
            if let Ok((lsn, _, _)) = check_record(bytes, next) {
                return lsn >= bad_lsn;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Value;
    use std::fs;

    fn payload(i: i64) -> Vec<u8> {
        let mut b = PayloadBuilder::default();
        let rows = [vec![Value::Int8(i), Value::Text(format!("row {i}"))]];
        b.insert(7, i as u64, rows.iter());
        b.delete(7, &[1, 2, 3]);
        b.catalog(b"{}");
        b.finish()
    }

    fn write_log(path: &Path, first_lsn: u64, n: u64) -> Vec<usize> {
        let mut bytes = file_header().to_vec();
        let mut offsets = Vec::new();
        for lsn in first_lsn..first_lsn + n {
            offsets.push(bytes.len());
            frame_record(&mut bytes, lsn, &payload(lsn as i64));
        }
        fs::write(path, &bytes).unwrap();
        offsets
    }

    #[test]
    fn framing_in_place_gives_the_same_bytes_as_framing_a_copy() {
        for rows in [0usize, 1, 200] {
            let build = || {
                let mut b = PayloadBuilder::default();
                let rows: Vec<Vec<Value>> = (0..rows)
                    .map(|i| vec![Value::Int4(i as i32), Value::Text("x".repeat(i))])
                    .collect();
                b.insert(3, 1, rows.iter());
                for i in 0..rows.len() * 2 {
                    b.delete(4, &[i as u64]);
                }
                b
            };
            let mut expected = Vec::new();
            frame_record(&mut expected, 42, &build().finish());
            let framed = build().frame(42);
            assert_eq!(framed.as_slice(), &expected[..]);
            assert_eq!(check_record(framed.as_slice(), 0).unwrap().0, 42);
        }
    }

    #[test]
    fn records_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.wal");
        write_log(&path, 5, 3);
        let contents = read_wal_file(&path, 5, true).unwrap();
        assert!(!contents.torn_tail);
        assert_eq!(contents.records.len(), 3);
        assert_eq!(contents.records[2].lsn, 7);
        assert_eq!(
            contents.records[0].ops[0],
            WalOp::Insert {
                table_id: 7,
                first_row_id: 5,
                rows: vec![vec![Value::Int8(5), Value::Text("row 5".into())]]
            }
        );
        assert_eq!(
            contents.records[0].ops[2],
            WalOp::Catalog {
                bytes: b"{}".to_vec()
            }
        );
    }

    #[test]
    fn torn_tail_is_cut_at_every_truncation_point() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.wal");
        let offsets = write_log(&path, 1, 3);
        let full = fs::read(&path).unwrap();
        let last = offsets[2];
        for cut in last + 1..full.len() {
            fs::write(&path, &full[..cut]).unwrap();
            let contents = read_wal_file(&path, 1, true).unwrap();
            assert_eq!(contents.records.len(), 2, "cut at {cut}");
            assert!(contents.torn_tail);
            assert_eq!(contents.valid_len, last as u64);
        }
    }

    #[test]
    fn corruption_before_the_tail_names_file_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.wal");
        let offsets = write_log(&path, 1, 3);
        let mut bytes = fs::read(&path).unwrap();
        bytes[offsets[1] + RECORD_HEADER_LEN + 3] ^= 0x40; // flip a payload bit of record 2
        fs::write(&path, &bytes).unwrap();
        let err = read_wal_file(&path, 1, true).unwrap_err();
        match err {
            StorageError::Corrupt {
                path: p, offset, ..
            } => {
                assert_eq!(p, path);
                assert_eq!(offset, offsets[1] as u64);
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn a_bad_record_in_an_older_file_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.wal");
        write_log(&path, 1, 2);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(matches!(
            read_wal_file(&path, 1, false),
            Err(StorageError::Corrupt { .. })
        ));
    }

    #[test]
    fn wrong_magic_and_version_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.wal");
        let mut header = file_header();
        header[8] = 9;
        fs::write(&path, header).unwrap();
        assert!(matches!(
            read_wal_file(&path, 1, true),
            Err(StorageError::UnsupportedVersion { found: 9, .. })
        ));
        fs::write(&path, b"NOTAWAL!........").unwrap();
        assert!(matches!(
            read_wal_file(&path, 1, true),
            Err(StorageError::Corrupt { .. })
        ));
    }

    #[test]
    fn lsn_gap_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.wal");
        let mut bytes = file_header().to_vec();
        frame_record(&mut bytes, 1, &payload(1));
        frame_record(&mut bytes, 3, &payload(3));
        frame_record(&mut bytes, 4, &payload(4));
        fs::write(&path, &bytes).unwrap();
        assert!(read_wal_file(&path, 1, true).is_err());
    }
}
