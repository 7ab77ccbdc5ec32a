//! The segment's metadata in memory, and its byte encoding (segment format version 1).
//!
//! The layout of every file of a segment is specified in the doc comment of
//! [`super::writer`]; this module encodes and decodes the two structured parts of it: the
//! `meta` file and the header of a raw vector file (`vec-<attnum>`).
//!
//! Decoding never trusts its input: the meta's CRC32C is checked before anything is parsed,
//! every length is bounded by the bytes that remain, and a malformed file gives
//! [`StorageError::Corrupt`] naming the file and the offset, never a panic. Whether the meta
//! agrees with the other files (sizes, checksums, block counts) is checked by the reader.

use std::path::Path;

use crate::error::{Result, StorageError};
use crate::types::{encode_value, put_varint, DataType, DecodeError, Reader, Value};

/// First bytes of a `meta` file.
pub const META_MAGIC: &[u8; 8] = b"CUSTSEG\0";
/// First bytes of a raw vector file.
pub const VECTOR_MAGIC: &[u8; 8] = b"CUSTVEC\0";
/// The segment format version this build writes and reads.
pub const SEGMENT_FORMAT_VERSION: u32 = 1;
/// Rows per column block.
pub const BLOCK_ROWS: usize = 1024;
/// zstd level of scalar column blocks: fast to write, most of the ratio of higher levels.
pub const ZSTD_LEVEL: i32 = 3;
/// Alignment of the `f32` data in a raw vector file (a cache line, and enough for AVX-512).
pub const VECTOR_DATA_ALIGN: usize = 64;
/// Most rows one segment holds: row offsets inside a segment are `u32`.
pub const MAX_SEGMENT_ROWS: usize = u32::MAX as usize;

pub const META_FILE: &str = "meta";
pub const ROW_IDS_FILE: &str = "rowids";
pub const INSERT_LSNS_FILE: &str = "lsns";

/// Length of the fixed part of a vector file header, before the null bitmap.
const VECTOR_HEADER_FIXED_LEN: usize = 32;
/// Largest block count a meta may claim (bounds allocation before the blocks are read).
const MAX_BLOCKS: usize = MAX_SEGMENT_ROWS / BLOCK_ROWS + 1;

/// The file name of a column's data.
pub fn column_file_name(attnum: u16, layout: &ColumnLayout) -> String {
    match layout {
        ColumnLayout::Blocks => format!("col-{attnum}"),
        ColumnLayout::RawVector { .. } => format!("vec-{attnum}"),
    }
}

/// Everything the `meta` file records.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentMeta {
    pub row_count: u64,
    /// First and last row id; both 0 for an empty segment.
    pub first_row_id: u64,
    pub last_row_id: u64,
    pub block_rows: u32,
    /// CRC32C of the whole `rowids` and `lsns` files.
    pub row_ids_crc: u32,
    pub insert_lsns_crc: u32,
    /// In increasing attnum order.
    pub columns: Vec<ColumnMeta>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMeta {
    pub attnum: u16,
    pub data_type: DataType,
    pub file_name: String,
    pub file_len: u64,
    pub layout: ColumnLayout,
    /// One per block of the segment, in row order.
    pub blocks: Vec<BlockMeta>,
}

/// How a column's file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnLayout {
    /// zstd-compressed blocks of encoded values.
    Blocks,
    /// Raw `f32` rows of `dim` floats from `data_offset`; `header_crc` covers the bytes before.
    RawVector {
        dim: u32,
        data_offset: u64,
        header_crc: u32,
    },
}

impl ColumnLayout {
    fn kind(&self) -> u8 {
        match self {
            ColumnLayout::Blocks => 0,
            ColumnLayout::RawVector { .. } => 1,
        }
    }
}

/// Where one block of a column lies and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockMeta {
    /// Byte offset of the block in the column file.
    pub offset: u64,
    /// Bytes the block occupies in the file (compressed for scalar blocks).
    pub stored_len: u32,
    /// Bytes after decompression (equal to `stored_len` for raw vectors).
    pub raw_len: u32,
    pub rows: u32,
    /// CRC32C of the stored bytes.
    pub crc: u32,
    pub null_count: u32,
    /// Least and greatest non-NULL value; `None` when every value is NULL.
    pub min: Option<Value>,
    pub max: Option<Value>,
}

/// Encodes a meta file, CRC32C included.
pub fn encode_meta(meta: &SegmentMeta) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + meta.columns.len() * 64);
    out.extend_from_slice(META_MAGIC);
    out.extend_from_slice(&SEGMENT_FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&meta.row_count.to_le_bytes());
    out.extend_from_slice(&meta.first_row_id.to_le_bytes());
    out.extend_from_slice(&meta.last_row_id.to_le_bytes());
    out.extend_from_slice(&meta.block_rows.to_le_bytes());
    out.extend_from_slice(&meta.row_ids_crc.to_le_bytes());
    out.extend_from_slice(&meta.insert_lsns_crc.to_le_bytes());
    out.extend_from_slice(&(meta.columns.len() as u32).to_le_bytes());
    for column in &meta.columns {
        out.extend_from_slice(&column.attnum.to_le_bytes());
        let type_json = serde_json::to_vec(&column.data_type).map_err(|e| {
            StorageError::InvalidValue(format!("column type cannot be recorded: {e}"))
        })?;
        put_varint(&mut out, type_json.len() as u64);
        out.extend_from_slice(&type_json);
        out.push(column.layout.kind());
        put_varint(&mut out, column.file_name.len() as u64);
        out.extend_from_slice(column.file_name.as_bytes());
        out.extend_from_slice(&column.file_len.to_le_bytes());
        if let ColumnLayout::RawVector {
            dim,
            data_offset,
            header_crc,
        } = column.layout
        {
            out.extend_from_slice(&dim.to_le_bytes());
            out.extend_from_slice(&data_offset.to_le_bytes());
            out.extend_from_slice(&header_crc.to_le_bytes());
        }
        out.extend_from_slice(&(column.blocks.len() as u32).to_le_bytes());
        for block in &column.blocks {
            out.extend_from_slice(&block.offset.to_le_bytes());
            for field in [
                block.stored_len,
                block.raw_len,
                block.rows,
                block.crc,
                block.null_count,
            ] {
                out.extend_from_slice(&field.to_le_bytes());
            }
            for bound in [&block.min, &block.max] {
                match bound {
                    None => out.push(0),
                    Some(value) => {
                        out.push(1);
                        encode_value(&mut out, value);
                    }
                }
            }
        }
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Decodes a meta file: magic, then version (an unknown one is
/// [`StorageError::UnsupportedVersion`]), then the CRC, then the body.
pub fn decode_meta(bytes: &[u8], path: &Path) -> Result<SegmentMeta> {
    const PREFIX: usize = 12;
    if bytes.len() < PREFIX + 4 {
        return Err(StorageError::corrupt(
            path,
            bytes.len() as u64,
            format!("segment meta is only {} bytes long", bytes.len()),
        ));
    }
    if &bytes[..8] != META_MAGIC {
        return Err(StorageError::corrupt(
            path,
            0,
            "not a segment meta file (bad magic)",
        ));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != SEGMENT_FORMAT_VERSION {
        return Err(StorageError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported: SEGMENT_FORMAT_VERSION,
        });
    }
    let (body, crc_bytes) = bytes.split_at(bytes.len() - 4);
    let stored_crc = u32::from_le_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
    if crc32c::crc32c(body) != stored_crc {
        return Err(StorageError::corrupt(
            path,
            body.len() as u64,
            "segment meta checksum mismatch",
        ));
    }
    let mut reader = Reader::new(&body[PREFIX..]);
    let corrupt = |e: DecodeError| {
        StorageError::corrupt(
            path,
            (PREFIX + e.offset) as u64,
            format!("segment meta: {e}"),
        )
    };
    let meta = read_meta_body(&mut reader).map_err(corrupt)?;
    if !reader.is_empty() {
        return Err(StorageError::corrupt(
            path,
            (PREFIX + reader.position()) as u64,
            "trailing bytes in segment meta",
        ));
    }
    Ok(meta)
}

fn malformed(reader: &Reader, reason: &'static str) -> DecodeError {
    DecodeError {
        offset: reader.position(),
        reason,
    }
}

fn read_meta_body(reader: &mut Reader) -> Result<SegmentMeta, DecodeError> {
    let row_count = reader.u64()?;
    let first_row_id = reader.u64()?;
    let last_row_id = reader.u64()?;
    let block_rows = reader.u32()?;
    let row_ids_crc = reader.u32()?;
    let insert_lsns_crc = reader.u32()?;
    let column_count = reader.u32()? as usize;
    if column_count > usize::from(u16::MAX) {
        return Err(malformed(reader, "more columns than attnums"));
    }
    let mut columns = Vec::with_capacity(column_count);
    for _ in 0..column_count {
        columns.push(read_column(reader)?);
    }
    Ok(SegmentMeta {
        row_count,
        first_row_id,
        last_row_id,
        block_rows,
        row_ids_crc,
        insert_lsns_crc,
        columns,
    })
}

fn read_column(reader: &mut Reader) -> Result<ColumnMeta, DecodeError> {
    let attnum = u16::from_le_bytes(reader.fixed()?);
    let type_len = reader.length(1)?;
    let data_type: DataType = serde_json::from_slice(reader.take(type_len)?)
        .map_err(|_| malformed(reader, "unreadable column type"))?;
    let kind = reader.u8()?;
    let name_len = reader.length(1)?;
    let file_name = std::str::from_utf8(reader.take(name_len)?)
        .map_err(|_| malformed(reader, "column file name is not UTF-8"))?
        .to_owned();
    let file_len = reader.u64()?;
    let layout = match kind {
        0 => ColumnLayout::Blocks,
        1 => ColumnLayout::RawVector {
            dim: reader.u32()?,
            data_offset: reader.u64()?,
            header_crc: reader.u32()?,
        },
        _ => return Err(malformed(reader, "unknown column layout")),
    };
    let block_count = reader.u32()? as usize;
    if block_count > MAX_BLOCKS {
        return Err(malformed(reader, "block count out of range"));
    }
    let mut blocks = Vec::with_capacity(block_count);
    for _ in 0..block_count {
        let offset = reader.u64()?;
        let stored_len = reader.u32()?;
        let raw_len = reader.u32()?;
        let rows = reader.u32()?;
        let crc = reader.u32()?;
        let null_count = reader.u32()?;
        let min = read_bound(reader)?;
        let max = read_bound(reader)?;
        blocks.push(BlockMeta {
            offset,
            stored_len,
            raw_len,
            rows,
            crc,
            null_count,
            min,
            max,
        });
    }
    Ok(ColumnMeta {
        attnum,
        data_type,
        file_name,
        file_len,
        layout,
        blocks,
    })
}

fn read_bound(reader: &mut Reader) -> Result<Option<Value>, DecodeError> {
    match reader.u8()? {
        0 => Ok(None),
        1 => Ok(Some(reader.read_value()?)),
        _ => Err(malformed(reader, "block bound flag is neither 0 nor 1")),
    }
}

/// The header of a raw vector file: everything before the `f32` data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorHeader {
    pub dim: u32,
    pub rows: u64,
    /// Bit `i % 8` of byte `i / 8` is set when row `i` is NULL.
    pub null_bitmap: Vec<u8>,
}

impl VectorHeader {
    /// Offset of the data: the header rounded up to [`VECTOR_DATA_ALIGN`].
    pub fn data_offset(&self) -> usize {
        (VECTOR_HEADER_FIXED_LEN + self.null_bitmap.len()).next_multiple_of(VECTOR_DATA_ALIGN)
    }

    pub fn is_null(&self, row: usize) -> bool {
        self.null_bitmap
            .get(row / 8)
            .is_some_and(|byte| byte & (1 << (row % 8)) != 0)
    }

    /// The header bytes, zero-padded to [`Self::data_offset`].
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data_offset());
        out.extend_from_slice(VECTOR_MAGIC);
        out.extend_from_slice(&SEGMENT_FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&self.dim.to_le_bytes());
        out.extend_from_slice(&self.rows.to_le_bytes());
        out.extend_from_slice(&(self.null_bitmap.len() as u64).to_le_bytes());
        debug_assert_eq!(out.len(), VECTOR_HEADER_FIXED_LEN);
        out.extend_from_slice(&self.null_bitmap);
        out.resize(self.data_offset(), 0);
        out
    }

    /// Decodes the header at the start of `bytes` (the whole file).
    pub fn decode(bytes: &[u8], path: &Path) -> Result<VectorHeader> {
        let corrupt = |e: DecodeError| {
            StorageError::corrupt(path, e.offset as u64, format!("vector file header: {e}"))
        };
        let mut reader = Reader::new(bytes);
        if reader.take(8).map_err(corrupt)? != VECTOR_MAGIC {
            return Err(StorageError::corrupt(
                path,
                0,
                "not a vector file (bad magic)",
            ));
        }
        let version = reader.u32().map_err(corrupt)?;
        if version != SEGMENT_FORMAT_VERSION {
            return Err(StorageError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: SEGMENT_FORMAT_VERSION,
            });
        }
        let dim = reader.u32().map_err(corrupt)?;
        let rows = reader.u64().map_err(corrupt)?;
        let bitmap_len = reader.u64().map_err(corrupt)?;
        if bitmap_len != rows.div_ceil(8) {
            return Err(StorageError::corrupt(
                path,
                24,
                format!("null bitmap of {bitmap_len} bytes for {rows} rows"),
            ));
        }
        let bitmap_len = usize::try_from(bitmap_len)
            .map_err(|_| StorageError::corrupt(path, 24, "null bitmap too large"))?;
        let null_bitmap = reader.take(bitmap_len).map_err(corrupt)?.to_vec();
        Ok(VectorHeader {
            dim,
            rows,
            null_bitmap,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_meta() -> SegmentMeta {
        SegmentMeta {
            row_count: 3,
            first_row_id: 10,
            last_row_id: 12,
            block_rows: BLOCK_ROWS as u32,
            row_ids_crc: 1,
            insert_lsns_crc: 2,
            columns: vec![
                ColumnMeta {
                    attnum: 1,
                    data_type: DataType::Text,
                    file_name: "col-1".into(),
                    file_len: 40,
                    layout: ColumnLayout::Blocks,
                    blocks: vec![BlockMeta {
                        offset: 0,
                        stored_len: 40,
                        raw_len: 50,
                        rows: 3,
                        crc: 7,
                        null_count: 1,
                        min: Some(Value::Text("a".into())),
                        max: Some(Value::Text("b".into())),
                    }],
                },
                ColumnMeta {
                    attnum: 3,
                    data_type: DataType::Vector(Some(2)),
                    file_name: "vec-3".into(),
                    file_len: 88,
                    layout: ColumnLayout::RawVector {
                        dim: 2,
                        data_offset: 64,
                        header_crc: 9,
                    },
                    blocks: vec![BlockMeta {
                        offset: 64,
                        stored_len: 24,
                        raw_len: 24,
                        rows: 3,
                        crc: 8,
                        null_count: 3,
                        min: None,
                        max: None,
                    }],
                },
            ],
        }
    }

    #[test]
    fn meta_round_trips() {
        let meta = sample_meta();
        let bytes = encode_meta(&meta).unwrap();
        assert_eq!(decode_meta(&bytes, Path::new("meta")).unwrap(), meta);
    }

    #[test]
    fn every_truncation_and_bit_flip_of_meta_is_an_error() {
        let bytes = encode_meta(&sample_meta()).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode_meta(&bytes[..cut], Path::new("meta")).is_err());
        }
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x10;
            assert!(decode_meta(&flipped, Path::new("meta")).is_err(), "{i}");
        }
    }

    #[test]
    fn vector_header_round_trips_and_aligns_data() {
        let header = VectorHeader {
            dim: 384,
            rows: 1000,
            null_bitmap: vec![0b101; 125],
        };
        let bytes = header.encode();
        assert_eq!(bytes.len() % VECTOR_DATA_ALIGN, 0);
        assert_eq!(bytes.len(), header.data_offset());
        assert!(header.is_null(0) && !header.is_null(1) && header.is_null(2));
        assert!(!header.is_null(5000));
        assert_eq!(
            VectorHeader::decode(&bytes, Path::new("v")).unwrap(),
            header
        );
        for cut in 0..VECTOR_HEADER_FIXED_LEN + 125 {
            assert!(VectorHeader::decode(&bytes[..cut], Path::new("v")).is_err());
        }
    }
}
