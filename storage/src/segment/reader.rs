//! Reading a segment: [`Segment::open`] checks a segment directory and memory-maps its files;
//! the accessors serve row ids, insert LSNs, block statistics, decoded blocks, single values
//! and raw vectors.
//!
//! What `open` verifies: the meta's magic, version and CRC32C; that every file has the size the
//! meta implies; the CRC32C of `rowids` and `lsns` (and that row ids strictly increase); the
//! header (and its CRC32C) of every raw vector file. What it leaves for later: the CRC32C of each
//! column block is checked when the block is read ([`Segment::read_block`]) or by
//! [`Segment::verify_checksums`], so opening stays cheap however large the segment.
//! [`Segment::vector`] is the hot path of vector search and does not checksum: a flipped bit
//! in a float gives a wrong distance, never a crash or an out-of-bounds read.
//!
//! Assumes segment files are never written after the directory is renamed into place (the
//! writer's contract); compaction may unlink them while a `Segment` is open, which is safe.
//! Decoded scalar blocks are kept in the process-wide cache of `block_cache` (keyed by this
//! open segment's cache id), so repeated scans and point lookups do not decompress a block
//! again and again; its locks are held only to look up or insert, never while decoding.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use super::format::{
    column_file_name, decode_meta, BlockMeta, ColumnLayout, ColumnMeta, VectorHeader,
    INSERT_LSNS_FILE, MAX_SEGMENT_ROWS, META_FILE, ROW_IDS_FILE, VECTOR_DATA_ALIGN,
};
use super::BlockStats;
use crate::error::{Result, StorageError};
use crate::files::read_file;
use crate::types::{DataType, Value, MAX_VECTOR_DIMENSIONS};

#[cfg(not(target_endian = "little"))]
compile_error!(
    "segments map little-endian u64 and f32 arrays in place: big-endian hosts are not supported"
);

/// An open, immutable segment. `Send + Sync`: share it behind an `Arc`.
pub struct Segment {
    dir: PathBuf,
    row_count: usize,
    block_rows: usize,
    row_ids: MappedFile,
    insert_lsns: MappedFile,
    /// In increasing attnum order.
    columns: Vec<StoredColumn>,
    disk_bytes: u64,
    /// Identifies this open segment in the shared cache of decompressed blocks.
    cache_id: u64,
}

static NEXT_CACHE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

struct StoredColumn {
    attnum: u16,
    data_type: DataType,
    file: MappedFile,
    /// `Some` when the column is stored as raw `f32` rows.
    raw_vector: Option<RawVector>,
    blocks: Vec<BlockMeta>,
}

struct RawVector {
    dim: usize,
    data_offset: usize,
    header: VectorHeader,
}

impl Segment {
    /// Opens the segment in `dir`, verifying what the module doc lists.
    pub fn open(dir: &Path) -> Result<Segment> {
        let meta_path = dir.join(META_FILE);
        let meta_bytes = read_file(&meta_path)?;
        let meta = decode_meta(&meta_bytes, &meta_path)?;
        let row_count = usize::try_from(meta.row_count)
            .ok()
            .filter(|&n| n <= MAX_SEGMENT_ROWS)
            .ok_or_else(|| StorageError::corrupt(&meta_path, 12, "row count out of range"))?;
        let block_rows = meta.block_rows as usize;
        if block_rows == 0 {
            return Err(StorageError::corrupt(&meta_path, 36, "zero rows per block"));
        }

        let row_ids = open_u64_file(dir.join(ROW_IDS_FILE), row_count, meta.row_ids_crc)?;
        let ids = u64_slice(row_ids.bytes()).unwrap_or(&[]);
        if ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(StorageError::corrupt(
                &row_ids.path,
                0,
                "row ids are not strictly increasing",
            ));
        }
        if ids.first().copied().unwrap_or(0) != meta.first_row_id
            || ids.last().copied().unwrap_or(0) != meta.last_row_id
        {
            return Err(StorageError::corrupt(
                &row_ids.path,
                0,
                "row id range disagrees with the segment meta",
            ));
        }
        let insert_lsns =
            open_u64_file(dir.join(INSERT_LSNS_FILE), row_count, meta.insert_lsns_crc)?;

        let mut columns: Vec<StoredColumn> = Vec::with_capacity(meta.columns.len());
        for column in meta.columns {
            if columns.last().is_some_and(|c| c.attnum >= column.attnum) || column.attnum == 0 {
                return Err(StorageError::corrupt(
                    &meta_path,
                    0,
                    format!("column attnum {} out of order", column.attnum),
                ));
            }
            columns.push(open_column(dir, &meta_path, column, row_count, block_rows)?);
        }
        let disk_bytes = meta_bytes.len() as u64
            + row_ids.len()
            + insert_lsns.len()
            + columns.iter().map(|c| c.file.len()).sum::<u64>();
        Ok(Segment {
            dir: dir.to_path_buf(),
            row_count,
            block_rows,
            row_ids,
            insert_lsns,
            columns,
            disk_bytes,
            cache_id: NEXT_CACHE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn row_count(&self) -> usize {
        self.row_count
    }

    /// Row ids in offset order, strictly increasing.
    pub fn row_ids(&self) -> &[u64] {
        u64_slice(self.row_ids.bytes()).unwrap_or(&[])
    }

    /// The LSN that inserted each row, in offset order.
    pub fn insert_lsns(&self) -> &[u64] {
        u64_slice(self.insert_lsns.bytes()).unwrap_or(&[])
    }

    /// The offset of `row_id` in this segment.
    pub fn offset_of(&self, row_id: u64) -> Option<u32> {
        let offset = self.row_ids().binary_search(&row_id).ok()?;
        u32::try_from(offset).ok()
    }

    /// Whether column `attnum` is stored here (a column added after the seal is not).
    pub fn has_column(&self, attnum: u16) -> bool {
        self.column(attnum).is_some()
    }

    /// The type column `attnum` had when the segment was sealed.
    pub fn column_type(&self, attnum: u16) -> Option<&DataType> {
        self.column(attnum).map(|c| &c.data_type)
    }

    pub fn block_rows(&self) -> usize {
        self.block_rows
    }

    pub fn block_count(&self) -> usize {
        self.row_count.div_ceil(self.block_rows)
    }

    /// Row count, NULL count, min and max of one block of one column.
    pub fn block_stats(&self, attnum: u16, block: usize) -> Option<BlockStats> {
        let meta = self.column(attnum)?.blocks.get(block)?;
        Some(BlockStats {
            rows: meta.rows as usize,
            null_count: meta.null_count as usize,
            min: meta.min.clone(),
            max: meta.max.clone(),
        })
    }

    /// The values of one block of one column, one per row, checksum verified.
    pub fn read_block(&self, attnum: u16, block: usize) -> Result<Arc<Vec<Value>>> {
        let column = self.column(attnum).ok_or_else(|| self.not_stored(attnum))?;
        let meta = column.blocks.get(block).ok_or_else(|| {
            StorageError::InvalidValue(format!(
                "block {block} of segment {} does not exist ({} blocks)",
                self.dir.display(),
                column.blocks.len()
            ))
        })?;
        if let Some(raw) = &column.raw_vector {
            return Ok(Arc::new(self.decode_raw_block(column, raw, block, meta)?));
        }
        if let Some(values) = super::block_cache::get_decoded(self.cache_id, attnum, block as u32) {
            return Ok(values);
        }
        let values = Arc::new(decode_scalar_block(column, block, meta)?);
        super::block_cache::insert_decoded(
            self.cache_id,
            attnum,
            block as u32,
            Arc::clone(&values),
        );
        Ok(values)
    }

    /// The value of column `attnum` in the row at `offset`.
    pub fn value(&self, offset: u32, attnum: u16) -> Result<Value> {
        let row = offset as usize;
        if row >= self.row_count {
            return Err(StorageError::InvalidValue(format!(
                "row offset {offset} past the end of segment {} ({} rows)",
                self.dir.display(),
                self.row_count
            )));
        }
        let column = self.column(attnum).ok_or_else(|| self.not_stored(attnum))?;
        if let Some(raw) = &column.raw_vector {
            return Ok(match self.raw_vector_at(column, raw, offset) {
                Some(floats) => Value::Vector(floats.to_vec()),
                None => Value::Null,
            });
        }
        let block = row / self.block_rows;
        let index = row % self.block_rows;
        let short =
            || StorageError::corrupt(&column.file.path, 0, "block shorter than its row count");
        if let Some(values) = super::block_cache::get_decoded(self.cache_id, attnum, block as u32) {
            return values.get(index).cloned().ok_or_else(short);
        }
        let raw = match super::block_cache::get(self.cache_id, attnum, block as u32) {
            Some(raw) => raw,
            None => {
                let meta = column.blocks.get(block).ok_or_else(short)?;
                let raw = Arc::new(raw_scalar_block(column, block, meta)?);
                super::block_cache::insert(self.cache_id, attnum, block as u32, Arc::clone(&raw));
                raw
            }
        };
        raw.value(index)
            .map_err(|e| {
                StorageError::corrupt(&column.file.path, 0, format!("block {block}: {e}"))
            })?
            .ok_or_else(short)
    }

    /// The raw vector of column `attnum` at `offset`; `None` when the row is NULL, the offset
    /// is out of range, or the column is not stored as raw vectors.
    pub fn vector(&self, attnum: u16, offset: u32) -> Option<&[f32]> {
        let column = self.column(attnum)?;
        self.raw_vector_at(column, column.raw_vector.as_ref()?, offset)
    }

    /// The raw vectors of column `attnum` as the index crate's [`index::segment_index::VectorStore`].
    pub fn vector_store(
        self: &Arc<Self>,
        attnum: u16,
    ) -> Option<Arc<dyn index::segment_index::VectorStore>> {
        let column = self
            .columns
            .binary_search_by_key(&attnum, |c| c.attnum)
            .ok()?;
        let dim = self.columns[column].raw_vector.as_ref()?.dim;
        Some(Arc::new(super::SegmentVectors {
            segment: Arc::clone(self),
            column,
            dim,
        }))
    }

    /// Bytes of the segment's files on disk (vector index files added later not included).
    pub fn disk_bytes(&self) -> u64 {
        self.disk_bytes
    }

    /// Reads and checks every block of every column: a scrub, and the check tests rely on.
    pub fn verify_checksums(&self) -> Result<()> {
        for column in &self.columns {
            for (block, meta) in column.blocks.iter().enumerate() {
                match &column.raw_vector {
                    Some(raw) => drop(self.decode_raw_block(column, raw, block, meta)?),
                    None => drop(decode_scalar_block(column, block, meta)?),
                }
            }
        }
        Ok(())
    }

    /// The raw vector at `offset` of the column at `column_index`, for the vector store adapter.
    pub(super) fn vector_of_column(&self, column_index: usize, offset: u32) -> Option<&[f32]> {
        let column = self.columns.get(column_index)?;
        self.raw_vector_at(column, column.raw_vector.as_ref()?, offset)
    }

    fn column(&self, attnum: u16) -> Option<&StoredColumn> {
        let index = self
            .columns
            .binary_search_by_key(&attnum, |c| c.attnum)
            .ok()?;
        self.columns.get(index)
    }

    fn not_stored(&self, attnum: u16) -> StorageError {
        StorageError::InvalidValue(format!(
            "column {attnum} is not stored in segment {}",
            self.dir.display()
        ))
    }

    fn raw_vector_at<'a>(
        &self,
        column: &'a StoredColumn,
        raw: &RawVector,
        offset: u32,
    ) -> Option<&'a [f32]> {
        let row = offset as usize;
        if row >= self.row_count || raw.header.is_null(row) {
            return None;
        }
        let floats = f32_slice(column.file.bytes().get(raw.data_offset..)?)?;
        floats.get(row * raw.dim..(row + 1) * raw.dim)
    }

    fn decode_raw_block(
        &self,
        column: &StoredColumn,
        raw: &RawVector,
        block: usize,
        meta: &BlockMeta,
    ) -> Result<Vec<Value>> {
        let stored = verified_block_bytes(column, block, meta)?;
        let first_row = block * self.block_rows;
        Ok(stored
            .chunks_exact(raw.dim * 4)
            .enumerate()
            .map(|(i, row)| {
                if raw.header.is_null(first_row + i) {
                    Value::Null
                } else {
                    Value::Vector(
                        row.chunks_exact(4)
                            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                            .collect(),
                    )
                }
            })
            .collect())
    }
}

/// The stored bytes of a block, after checking them against the block's CRC32C.
fn verified_block_bytes<'a>(
    column: &'a StoredColumn,
    block: usize,
    meta: &BlockMeta,
) -> Result<&'a [u8]> {
    let path = &column.file.path;
    let stored = usize::try_from(meta.offset)
        .ok()
        .and_then(|start| Some(start..start.checked_add(meta.stored_len as usize)?))
        .and_then(|range| column.file.bytes().get(range))
        .ok_or_else(|| StorageError::corrupt(path, meta.offset, "block past the end of file"))?;
    if crc32c::crc32c(stored) != meta.crc {
        return Err(StorageError::corrupt(
            path,
            meta.offset,
            format!(
                "checksum mismatch in block {block} of column {}",
                column.attnum
            ),
        ));
    }
    Ok(stored)
}

/// The decompressed bytes of a scalar block, indexed by row, checksum verified.
fn raw_scalar_block(
    column: &StoredColumn,
    block: usize,
    meta: &BlockMeta,
) -> Result<super::block_cache::RawBlock> {
    let path = &column.file.path;
    let corrupt = |reason: String| StorageError::corrupt(path, meta.offset, reason);
    let stored = verified_block_bytes(column, block, meta)?;
    let raw_len = meta.raw_len as usize;
    let raw = super::block_cache::decompress(stored, raw_len)
        .map_err(|e| corrupt(format!("block {block} does not decompress: {e}")))?;
    if raw.len() != raw_len {
        return Err(corrupt(format!(
            "block {block} decompresses to {} bytes, expected {raw_len}",
            raw.len()
        )));
    }
    super::block_cache::RawBlock::new(raw, meta.rows as usize)
        .map_err(|e| corrupt(format!("block {block}: {e}")))
}

fn decode_scalar_block(
    column: &StoredColumn,
    block: usize,
    meta: &BlockMeta,
) -> Result<Vec<Value>> {
    let path = &column.file.path;
    let stored = verified_block_bytes(column, block, meta)?;
    let raw_len = meta.raw_len as usize;
    let raw = super::block_cache::decompress(stored, raw_len).map_err(|e| {
        StorageError::corrupt(
            path,
            meta.offset,
            format!("block {block} does not decompress: {e}"),
        )
    })?;
    if raw.len() != raw_len {
        return Err(StorageError::corrupt(
            path,
            meta.offset,
            format!(
                "block {block} decompresses to {} bytes, expected {raw_len}",
                raw.len()
            ),
        ));
    }
    super::block_cache::decode_values(&raw, meta.rows as usize).map_err(|e| {
        StorageError::corrupt(
            &column.file.path,
            meta.offset,
            format!("block {block}: {e}"),
        )
    })
}

/// Opens a column file and checks it against its meta entry.
fn open_column(
    dir: &Path,
    meta_path: &Path,
    meta: ColumnMeta,
    row_count: usize,
    block_rows: usize,
) -> Result<StoredColumn> {
    let attnum = meta.attnum;
    let bad_meta = |reason: String| StorageError::corrupt(meta_path, 0, reason);
    let expected_name = column_file_name(attnum, &meta.layout);
    if meta.file_name != expected_name {
        return Err(bad_meta(format!(
            "column {attnum} names file {:?}, expected {expected_name:?}",
            meta.file_name
        )));
    }
    let file = MappedFile::open(dir.join(&meta.file_name))?;
    let path = file.path.clone();
    let file_len = file.len();
    if file_len != meta.file_len {
        return Err(StorageError::corrupt(
            &path,
            file_len,
            format!(
                "file is {file_len} bytes, the segment meta says {}",
                meta.file_len
            ),
        ));
    }
    if meta.blocks.len() != row_count.div_ceil(block_rows) {
        return Err(bad_meta(format!(
            "column {attnum} has {} blocks for {row_count} rows",
            meta.blocks.len()
        )));
    }
    for (b, block) in meta.blocks.iter().enumerate() {
        let expected_rows = block_rows.min(row_count - b * block_rows);
        let end = block.offset.checked_add(u64::from(block.stored_len));
        if block.rows as usize != expected_rows
            || block.null_count > block.rows
            || end.is_none_or(|end| end > file_len)
        {
            return Err(bad_meta(format!(
                "column {attnum} block {b} is out of shape"
            )));
        }
    }
    let raw_vector = match meta.layout {
        ColumnLayout::Blocks => None,
        ColumnLayout::RawVector {
            dim,
            data_offset,
            header_crc,
        } => Some(open_raw_vector(
            &file,
            &meta.blocks,
            dim,
            data_offset,
            header_crc,
            row_count,
        )?),
    };
    Ok(StoredColumn {
        attnum,
        data_type: meta.data_type,
        file,
        raw_vector,
        blocks: meta.blocks,
    })
}

/// Checks a raw vector file's header and geometry against the meta.
fn open_raw_vector(
    file: &MappedFile,
    blocks: &[BlockMeta],
    dim: u32,
    data_offset: u64,
    header_crc: u32,
    row_count: usize,
) -> Result<RawVector> {
    let path = &file.path;
    let bad = |offset: u64, reason: &str| StorageError::corrupt(path, offset, reason.to_owned());
    if dim == 0
        || dim > MAX_VECTOR_DIMENSIONS
        || !data_offset.is_multiple_of(VECTOR_DATA_ALIGN as u64)
    {
        return Err(bad(0, "vector geometry in the segment meta is invalid"));
    }
    let dim = dim as usize;
    let header_bytes = usize::try_from(data_offset)
        .ok()
        .and_then(|end| file.bytes().get(..end))
        .ok_or_else(|| bad(file.len(), "file shorter than its header"))?;
    if crc32c::crc32c(header_bytes) != header_crc {
        return Err(bad(0, "vector file header checksum mismatch"));
    }
    let header = VectorHeader::decode(header_bytes, path)?;
    let row_bytes = (dim * 4) as u64;
    let expected_len = (row_count as u64)
        .checked_mul(row_bytes)
        .and_then(|data| data.checked_add(data_offset));
    if header.dim as usize != dim
        || header.rows != row_count as u64
        || header.data_offset() as u64 != data_offset
        || expected_len != Some(file.len())
    {
        return Err(bad(0, "vector file header disagrees with the segment meta"));
    }
    let mut first_row = 0u64;
    for block in blocks {
        let rows = u64::from(block.rows);
        if block.offset != data_offset + first_row * row_bytes
            || u64::from(block.stored_len) != rows * row_bytes
            || block.raw_len != block.stored_len
        {
            return Err(bad(
                block.offset,
                "vector block geometry disagrees with the segment meta",
            ));
        }
        first_row += rows;
    }
    Ok(RawVector {
        dim,
        data_offset: data_offset as usize,
        header,
    })
}

/// Maps a raw `u64` file of `rows` values and checks its length and CRC32C.
fn open_u64_file(path: PathBuf, rows: usize, crc: u32) -> Result<MappedFile> {
    let file = MappedFile::open(path)?;
    let expected = rows as u64 * 8;
    if file.len() != expected {
        return Err(StorageError::corrupt(
            &file.path,
            file.len(),
            format!("file is {} bytes, {rows} rows need {expected}", file.len()),
        ));
    }
    if crc32c::crc32c(file.bytes()) != crc {
        return Err(StorageError::corrupt(&file.path, 0, "checksum mismatch"));
    }
    if u64_slice(file.bytes()).is_none() {
        return Err(StorageError::corrupt(
            &file.path,
            0,
            "mapping is not 8-byte aligned",
        ));
    }
    Ok(file)
}

/// A read-only memory map of a whole file (none for an empty file, which cannot be mapped).
struct MappedFile {
    path: PathBuf,
    map: Option<Mmap>,
}

impl MappedFile {
    fn open(path: PathBuf) -> Result<MappedFile> {
        let file = File::open(&path).map_err(|e| StorageError::io(&path, e))?;
        let len = file
            .metadata()
            .map_err(|e| StorageError::io(&path, e))?
            .len();
        if len == 0 {
            return Ok(MappedFile { path, map: None });
        }
        // SAFETY: segment files are immutable once the segment directory is renamed into
        // place: no process writes or truncates them afterwards (compaction only unlinks
        // them, which leaves the mapping valid). Every read through the map is bounds-checked.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| StorageError::io(&path, e))?;
        Ok(MappedFile {
            path,
            map: Some(map),
        })
    }

    fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    fn len(&self) -> u64 {
        self.bytes().len() as u64
    }
}

/// `bytes` as `u64`s when it is 8-byte aligned and a whole number of them.
fn u64_slice(bytes: &[u8]) -> Option<&[u64]> {
    // SAFETY: every bit pattern is a valid `u64`; `align_to` yields a middle part that is
    // aligned and inside `bytes`, used only when it covers all of `bytes`.
    let (head, body, tail) = unsafe { bytes.align_to::<u64>() };
    (head.is_empty() && tail.is_empty()).then_some(body)
}

/// `bytes` as `f32`s when it is 4-byte aligned and a whole number of them.
fn f32_slice(bytes: &[u8]) -> Option<&[f32]> {
    // SAFETY: every bit pattern is a valid `f32`; as in `u64_slice`.
    let (head, body, tail) = unsafe { bytes.align_to::<f32>() };
    (head.is_empty() && tail.is_empty()).then_some(body)
}
