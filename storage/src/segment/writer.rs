//! Writing a segment: [`write_segment`] seals a set of rows of one table into a directory.
//!
//! # Crash safety
//!
//! Everything is built in `<dir>.tmp` (a leftover one from an earlier crash is removed first):
//! each file is written and fsynced, the `meta` file last, then the tmp directory is fsynced,
//! renamed to `<dir>` and the parent fsynced. A crash at any point leaves either no `<dir>` or
//! a complete one; a `meta` file is the proof that a directory is complete. On an error the tmp
//! directory is removed, and so is `<dir>` when only the final fsync of the parent failed.
//!
//! # Layout (segment format version 1)
//!
//! All integers are little-endian. A segment of `n` rows has `ceil(n / 1024)` blocks; block `b`
//! holds rows `b * 1024 ..` and every column has the same blocks.
//!
//! ```text
//! rowids        n x u64   row ids, strictly increasing (memory-mapped)
//! lsns          n x u64   the LSN that inserted each row (memory-mapped)
//! col-<attnum>  a scalar column: its blocks back to back, each the zstd frame (level 3) of
//!               the block's values in the self-describing value encoding (types::encoding),
//!               NULLs included, one per row
//! vec-<attnum>  a vector column whose non-NULL values all have one dimension `dim`:
//!                 magic "CUSTVEC\0" | version u32 | dim u32 | rows u64 | bitmap_len u64
//!                 | null bitmap (bitmap_len = ceil(rows / 8) bytes; bit i%8 of byte i/8 set
//!                   when row i is NULL) | zero padding to a multiple of 64 bytes
//!                 | rows x dim x f32, row-major (NULL rows zero-filled)
//!               a vector column of mixed dimensions (unconstrained `vector`), or all NULL
//!               with no declared dimension, is stored as a `col-<attnum>` file instead
//! meta          magic "CUSTSEG\0" | version u32 (1) | row_count u64 | first_row_id u64
//!               | last_row_id u64 | block_rows u32 (1024) | rowids_crc u32 | lsns_crc u32
//!               | column_count u32 | column_count x column | crc u32 (CRC32C of all before)
//! column        attnum u16 | type_len varint | data type as JSON (serde) | kind u8
//!               (0 scalar blocks, 1 raw vector) | name_len varint | file name UTF-8
//!               | file_len u64 | [kind 1: dim u32 | data_offset u64 | header_crc u32 (CRC32C
//!               of the vector file before data_offset)] | block_count u32 | block_count x block
//! block         offset u64 | stored_len u32 | raw_len u32 (decompressed) | rows u32
//!               | crc u32 (CRC32C of the stored bytes) | null_count u32
//!               | min: 0u8, or 1u8 + value | max: the same (min and max by Value's Ord,
//!               ignoring NULLs; absent when every value of the block is NULL)
//! ```
//!
//! The caller owns the order of columns (increasing attnum, the live columns at seal time) and
//! the substitution of missing values: a row shorter than a column's attnum is NULL there.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::format::{
    column_file_name, encode_meta, BlockMeta, ColumnLayout, ColumnMeta, SegmentMeta, VectorHeader,
    BLOCK_ROWS, INSERT_LSNS_FILE, MAX_SEGMENT_ROWS, META_FILE, ROW_IDS_FILE, ZSTD_LEVEL,
};
use super::{SegmentColumn, SegmentInput};
use crate::error::{Result, StorageError};
use crate::files::{parent_of, remove_if_exists, Faults};
use crate::types::{encode_value, DataType, Value, MAX_VECTOR_DIMENSIONS};

/// The directory a segment is built in before it is renamed to `dir`.
pub fn tmp_dir_of(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    dir.with_file_name(name)
}

/// Writes the segment into `dir`, which must not exist. See the module doc for the layout and
/// the crash-safety contract.
pub fn write_segment(dir: &Path, input: &SegmentInput, faults: &Faults) -> Result<()> {
    validate(input)?;
    if dir.exists() {
        return Err(StorageError::io(
            dir,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "segment directory already exists",
            ),
        ));
    }
    let tmp = tmp_dir_of(dir);
    remove_if_exists(&tmp)?;
    if let Err(e) = build(&tmp, input, faults) {
        let _ = remove_if_exists(&tmp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&tmp, dir) {
        let _ = remove_if_exists(&tmp);
        return Err(StorageError::io(dir, e));
    }
    if let Err(e) = faults.fsync_dir(parent_of(dir)) {
        // The caller sees a failure and will not list the segment: do not leave it behind.
        let _ = remove_if_exists(dir);
        return Err(e);
    }
    Ok(())
}

/// Refuses input that only a caller's bug produces, before anything touches the disk.
fn validate(input: &SegmentInput) -> Result<()> {
    let invalid = |reason: String| Err(StorageError::InvalidValue(reason));
    let n = input.row_ids.len();
    if input.insert_lsns.len() != n || input.rows.len() != n {
        return invalid(format!(
            "segment input has {n} row ids, {} insert LSNs and {} rows",
            input.insert_lsns.len(),
            input.rows.len()
        ));
    }
    if n > MAX_SEGMENT_ROWS {
        return invalid(format!("segment of {n} rows; at most {MAX_SEGMENT_ROWS}"));
    }
    if let Some(pair) = input.row_ids.windows(2).find(|w| w[0] >= w[1]) {
        return invalid(format!(
            "segment row ids not strictly increasing: {} then {}",
            pair[0], pair[1]
        ));
    }
    let mut previous = 0u16;
    for column in input.columns {
        if column.attnum <= previous {
            return invalid(format!(
                "segment columns not in increasing attnum order at attnum {}",
                column.attnum
            ));
        }
        previous = column.attnum;
        for (row, row_id) in input.rows.iter().zip(input.row_ids) {
            let value = value_at(row, column.attnum);
            if !column.data_type.accepts(value) {
                return invalid(format!(
                    "row {row_id}, column {}: a {:?} value in a {} column",
                    column.attnum,
                    value,
                    column.data_type.sql_name()
                ));
            }
        }
    }
    Ok(())
}

/// The value of column `attnum` in `row`; NULL past the end of a short row.
fn value_at(row: &[Value], attnum: u16) -> &Value {
    const NULL: &Value = &Value::Null;
    usize::from(attnum)
        .checked_sub(1)
        .and_then(|i| row.get(i))
        .unwrap_or(NULL)
}

fn build(tmp: &Path, input: &SegmentInput, faults: &Faults) -> Result<()> {
    faults.check_write(tmp)?;
    fs::create_dir(tmp).map_err(|e| StorageError::io(tmp, e))?;
    let row_ids_crc = write_u64s(&tmp.join(ROW_IDS_FILE), input.row_ids, faults)?;
    let insert_lsns_crc = write_u64s(&tmp.join(INSERT_LSNS_FILE), input.insert_lsns, faults)?;
    let mut columns = Vec::with_capacity(input.columns.len());
    for column in input.columns {
        let meta = match raw_vector_dim(column, input) {
            Some(dim) => write_vector_column(tmp, column, dim, input, faults)?,
            None => write_scalar_column(tmp, column, input, faults)?,
        };
        columns.push(meta);
    }
    let meta = SegmentMeta {
        row_count: input.row_ids.len() as u64,
        first_row_id: input.row_ids.first().copied().unwrap_or(0),
        last_row_id: input.row_ids.last().copied().unwrap_or(0),
        block_rows: BLOCK_ROWS as u32,
        row_ids_crc,
        insert_lsns_crc,
        columns,
    };
    faults.write_new_file(&tmp.join(META_FILE), &encode_meta(&meta)?)?;
    faults.fsync_dir(tmp)
}

/// Writes a raw `u64` array and returns its CRC32C.
fn write_u64s(path: &Path, values: &[u64], faults: &Faults) -> Result<u32> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    faults.write_new_file(path, &bytes)?;
    Ok(crc32c::crc32c(&bytes))
}

/// The dimension to store a vector column raw with, or `None` when it must fall back to
/// scalar blocks (mixed dimensions, or no dimension known at all).
fn raw_vector_dim(column: &SegmentColumn, input: &SegmentInput) -> Option<usize> {
    let DataType::Vector(declared) = column.data_type else {
        return None;
    };
    let mut dim = declared.map(|d| d as usize);
    for row in input.rows {
        match value_at(row, column.attnum) {
            Value::Null => {}
            Value::Vector(v) => match dim {
                None => dim = Some(v.len()),
                Some(d) if d == v.len() => {}
                Some(_) => return None,
            },
            _ => return None,
        }
    }
    dim.filter(|&d| d >= 1 && d <= MAX_VECTOR_DIMENSIONS as usize)
}

/// Rows of the block starting at `first` in a segment of `n` rows.
fn block_range(first: usize, n: usize) -> std::ops::Range<usize> {
    first..(first + BLOCK_ROWS).min(n)
}

/// Null count, min and max of one block's values.
fn block_bounds<'v>(
    values: impl Iterator<Item = &'v Value>,
) -> (u32, Option<Value>, Option<Value>) {
    let mut nulls = 0u32;
    let mut min: Option<&Value> = None;
    let mut max: Option<&Value> = None;
    for value in values {
        if value.is_null() {
            nulls += 1;
            continue;
        }
        if min.is_none_or(|m| value < m) {
            min = Some(value);
        }
        if max.is_none_or(|m| value > m) {
            max = Some(value);
        }
    }
    (nulls, min.cloned(), max.cloned())
}

fn length_u32(len: usize, path: &Path, what: &str) -> Result<u32> {
    u32::try_from(len).map_err(|_| {
        StorageError::InvalidValue(format!(
            "{what} of {len} bytes in {} exceeds the segment format's 4 GiB block limit",
            path.display()
        ))
    })
}

fn write_scalar_column(
    tmp: &Path,
    column: &SegmentColumn,
    input: &SegmentInput,
    faults: &Faults,
) -> Result<ColumnMeta> {
    let layout = ColumnLayout::Blocks;
    let file_name = column_file_name(column.attnum, &layout);
    let path = tmp.join(&file_name);
    let mut file = NewFile::create(path, faults)?;
    let mut compressor =
        zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(|e| StorageError::io(&file.path, e))?;
    let n = input.rows.len();
    let mut blocks = Vec::with_capacity(n.div_ceil(BLOCK_ROWS));
    let mut encoded = Vec::new();
    for first in (0..n).step_by(BLOCK_ROWS) {
        let rows = &input.rows[block_range(first, n)];
        let values = || rows.iter().map(|row| value_at(row, column.attnum));
        encoded.clear();
        values().for_each(|v| encode_value(&mut encoded, v));
        let compressed = compressor
            .compress(&encoded)
            .map_err(|e| StorageError::io(&file.path, e))?;
        let (null_count, min, max) = block_bounds(values());
        blocks.push(BlockMeta {
            offset: file.len,
            stored_len: length_u32(compressed.len(), &file.path, "a compressed block")?,
            raw_len: length_u32(encoded.len(), &file.path, "a block")?,
            rows: rows.len() as u32,
            crc: crc32c::crc32c(&compressed),
            null_count,
            min,
            max,
        });
        file.write(&compressed, faults)?;
    }
    let file_len = file.finish(faults)?;
    Ok(ColumnMeta {
        attnum: column.attnum,
        data_type: column.data_type.clone(),
        file_name,
        file_len,
        layout,
        blocks,
    })
}

fn write_vector_column(
    tmp: &Path,
    column: &SegmentColumn,
    dim: usize,
    input: &SegmentInput,
    faults: &Faults,
) -> Result<ColumnMeta> {
    let n = input.rows.len();
    let mut header = VectorHeader {
        dim: dim as u32,
        rows: n as u64,
        null_bitmap: vec![0; n.div_ceil(8)],
    };
    for (i, row) in input.rows.iter().enumerate() {
        if value_at(row, column.attnum).is_null() {
            header.null_bitmap[i / 8] |= 1 << (i % 8);
        }
    }
    let header_bytes = header.encode();
    let layout = ColumnLayout::RawVector {
        dim: dim as u32,
        data_offset: header_bytes.len() as u64,
        header_crc: crc32c::crc32c(&header_bytes),
    };
    let file_name = column_file_name(column.attnum, &layout);
    let mut file = NewFile::create(tmp.join(&file_name), faults)?;
    file.write(&header_bytes, faults)?;
    let mut blocks = Vec::with_capacity(n.div_ceil(BLOCK_ROWS));
    let mut raw = Vec::with_capacity(BLOCK_ROWS.min(n) * dim * 4);
    for first in (0..n).step_by(BLOCK_ROWS) {
        let rows = &input.rows[block_range(first, n)];
        let values = || rows.iter().map(|row| value_at(row, column.attnum));
        raw.clear();
        for value in values() {
            match value {
                Value::Vector(v) => {
                    debug_assert_eq!(v.len(), dim);
                    v.iter()
                        .for_each(|x| raw.extend_from_slice(&x.to_le_bytes()));
                }
                _ => raw.resize(raw.len() + dim * 4, 0),
            }
        }
        let (null_count, min, max) = block_bounds(values());
        let len = length_u32(raw.len(), &file.path, "a vector block")?;
        blocks.push(BlockMeta {
            offset: file.len,
            stored_len: len,
            raw_len: len,
            rows: rows.len() as u32,
            crc: crc32c::crc32c(&raw),
            null_count,
            min,
            max,
        });
        file.write(&raw, faults)?;
    }
    let file_len = file.finish(faults)?;
    Ok(ColumnMeta {
        attnum: column.attnum,
        data_type: column.data_type.clone(),
        file_name,
        file_len,
        layout,
        blocks,
    })
}

/// A file being written in pieces: created new, every write checked against the armed
/// faults, fsynced by [`NewFile::finish`].
struct NewFile {
    path: PathBuf,
    out: BufWriter<File>,
    len: u64,
}

impl NewFile {
    fn create(path: PathBuf, faults: &Faults) -> Result<NewFile> {
        faults.check_write(&path)?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        Ok(NewFile {
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            len: 0,
        })
    }

    fn write(&mut self, bytes: &[u8], faults: &Faults) -> Result<()> {
        faults.check_write(&self.path)?;
        self.out
            .write_all(bytes)
            .map_err(|e| StorageError::io(&self.path, e))?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Flushes and fsyncs; returns the file's length.
    fn finish(self, faults: &Faults) -> Result<u64> {
        let NewFile { path, out, len } = self;
        let file = out
            .into_inner()
            .map_err(|e| StorageError::io(&path, e.into_error()))?;
        faults.fsync(&file, &path)?;
        Ok(len)
    }
}
