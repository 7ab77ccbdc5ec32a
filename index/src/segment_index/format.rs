//! The common header of every segment index file, the atomic write that puts a file in place,
//! and the helpers structure bodies share (row classification, a checksumming body writer,
//! typed views of mapped sections). The body that follows the header belongs to the index
//! structure: see [`super::FlatIndex`], [`super::HnswIndex`] and [`super::IvfFlatIndex`] for
//! their layouts.
//!
//! Readers check, in this order: the file is long enough for the fixed part, the magic, the
//! format version, the header length against the file length, the header CRC, then each field.
//! Any failure is an [`IndexError`] naming the file; nothing read from the file is trusted
//! before its checksum has been verified.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::spec::{MAX_INDEX_OPTIONS, MAX_OPTION_TEXT_BYTES};
use super::{IndexError, IndexMethod, SegmentIndexSpec, VectorStore};
use crate::distance::{kernels, Metric};

/// First bytes of every segment index file.
pub const MAGIC: [u8; 8] = *b"CUSTOSVI";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Bytes before the options: magic, version, header length, four one-byte codes, dim, rows,
/// option count.
pub const FIXED_HEADER_BYTES: usize = 36;
/// Upper bound on the header length, whatever the options (a corrupt length is caught here
/// before it is used).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Offsets are `u32`, so a segment index covers at most this many rows.
pub const MAX_INDEXED_ROWS: usize = u32::MAX as usize;

/// How the rows are organised in the body; each structure documents its own body layout,
/// which starts with that layout's version (except flat, whose layout predates the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Structure {
    /// Exact scan: [`super::FlatIndex`].
    Flat,
    /// Hierarchical navigable small-world graph: [`super::HnswIndex`].
    Hnsw,
    /// k-means inverted lists with full vectors: [`super::IvfFlatIndex`].
    IvfFlat,
}

impl Structure {
    fn code(self) -> u8 {
        match self {
            Structure::Flat => 1,
            Structure::Hnsw => 2,
            Structure::IvfFlat => 3,
        }
    }

    fn from_code(code: u8) -> Option<Structure> {
        match code {
            1 => Some(Structure::Flat),
            2 => Some(Structure::Hnsw),
            3 => Some(Structure::IvfFlat),
            _ => None,
        }
    }

    /// Short name for EXPLAIN and logs.
    pub fn name(self) -> &'static str {
        match self {
            Structure::Flat => "flat",
            Structure::Hnsw => "hnsw",
            Structure::IvfFlat => "ivfflat",
        }
    }
}

fn method_code(method: IndexMethod) -> u8 {
    match method {
        IndexMethod::Hnsw => 1,
        IndexMethod::IvfFlat => 2,
    }
}

fn method_from_code(code: u8) -> Option<IndexMethod> {
    match code {
        1 => Some(IndexMethod::Hnsw),
        2 => Some(IndexMethod::IvfFlat),
        _ => None,
    }
}

fn metric_code(metric: Metric) -> u8 {
    match metric {
        Metric::L2 => 1,
        Metric::Cosine => 2,
        Metric::InnerProduct => 3,
        Metric::L1 => 4,
    }
}

fn metric_from_code(code: u8) -> Option<Metric> {
    match code {
        1 => Some(Metric::L2),
        2 => Some(Metric::Cosine),
        3 => Some(Metric::InnerProduct),
        4 => Some(Metric::L1),
        _ => None,
    }
}

/// The header of a segment index file, format version 1. All integers are little-endian.
///
/// ```text
/// offset  size  field
///      0     8  magic "CUSTOSVI"
///      8     4  format version (u32) = 1
///     12     4  header length in bytes (u32), including the trailing CRC
///     16     1  structure of the body: 1 = flat (exact scan), 2 = hnsw, 3 = ivfflat
///     17     1  method asked for by CREATE INDEX: 1 = hnsw, 2 = ivfflat
///     18     1  metric: 1 = L2, 2 = cosine, 3 = inner product, 4 = L1
///     19     1  reserved, 0
///     20     4  dimensions (u32)
///     24     8  row count (u64): the segment's vector slots, NULL ones included
///     32     4  option count (u32)
///     36     …  options, each: name length (u32), name (UTF-8), value length (u32),
///               value (UTF-8), in the order CREATE INDEX gave them
///  len-4     4  CRC32C (Castagnoli) of header bytes [0, len - 4)
/// ```
///
/// The body starts at the header length rounded up to a multiple of 8 (zero padding).
#[derive(Debug, Clone, PartialEq)]
pub struct FileHeader {
    pub structure: Structure,
    pub spec: SegmentIndexSpec,
    pub row_count: u64,
}

impl FileHeader {
    /// The header bytes, CRC included (without the padding before the body).
    pub fn encode(&self) -> Result<Vec<u8>, IndexError> {
        let spec = &self.spec;
        let dim = u32::try_from(spec.dim)
            .map_err(|_| IndexError::InvalidSpec(format!("dimension {} too large", spec.dim)))?;
        let option_bytes: usize = spec
            .options
            .iter()
            .map(|(name, value)| 8 + name.len() + value.len())
            .sum();
        let header_length = FIXED_HEADER_BYTES + option_bytes + 4;
        if header_length > MAX_HEADER_BYTES {
            return Err(IndexError::InvalidSpec(format!(
                "index options take {option_bytes} bytes, more than the header allows"
            )));
        }
        let mut bytes = Vec::with_capacity(header_length);
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(header_length as u32).to_le_bytes());
        bytes.push(self.structure.code());
        bytes.push(method_code(spec.method));
        bytes.push(metric_code(spec.metric));
        bytes.push(0);
        bytes.extend_from_slice(&dim.to_le_bytes());
        bytes.extend_from_slice(&self.row_count.to_le_bytes());
        bytes.extend_from_slice(&(spec.options.len() as u32).to_le_bytes());
        for (name, value) in &spec.options {
            for text in [name, value] {
                bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
                bytes.extend_from_slice(text.as_bytes());
            }
        }
        let crc = crc32c::crc32c(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        debug_assert_eq!(bytes.len(), header_length);
        Ok(bytes)
    }

    /// Parses and verifies the header at the start of `file_bytes`. Returns the header and the
    /// offset where the body starts.
    pub fn decode(path: &Path, file_bytes: &[u8]) -> Result<(FileHeader, usize), IndexError> {
        let corrupt = |reason: String| IndexError::corrupt(path, reason);
        if file_bytes.len() >= MAGIC.len() && file_bytes[..MAGIC.len()] != MAGIC {
            return Err(corrupt("bad magic: not a custos vector index file".into()));
        }
        if file_bytes.len() < 16 {
            return Err(corrupt(format!(
                "truncated: {} bytes, shorter than the fixed header",
                file_bytes.len()
            )));
        }
        let mut reader = ByteReader::new(path, file_bytes, 8);
        let version = reader.u32()?;
        if version != FORMAT_VERSION {
            return Err(IndexError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let header_length = reader.u32()? as usize;
        if !(FIXED_HEADER_BYTES + 4..=MAX_HEADER_BYTES).contains(&header_length) {
            return Err(corrupt(format!(
                "header length {header_length} out of range"
            )));
        }
        if header_length > file_bytes.len() {
            return Err(corrupt(format!(
                "truncated: header needs {header_length} bytes, file has {}",
                file_bytes.len()
            )));
        }
        let (covered, stored_crc) = file_bytes[..header_length].split_at(header_length - 4);
        let stored_crc =
            u32::from_le_bytes([stored_crc[0], stored_crc[1], stored_crc[2], stored_crc[3]]);
        let computed_crc = crc32c::crc32c(covered);
        if stored_crc != computed_crc {
            return Err(corrupt(format!(
                "header checksum mismatch (stored {stored_crc:#010x}, computed {computed_crc:#010x})"
            )));
        }

        let mut reader = ByteReader::new(path, covered, 16);
        let structure_code = reader.u8()?;
        let structure = Structure::from_code(structure_code)
            .ok_or_else(|| corrupt(format!("unknown index structure code {structure_code}")))?;
        let method_code = reader.u8()?;
        let method = method_from_code(method_code)
            .ok_or_else(|| corrupt(format!("unknown index method code {method_code}")))?;
        let metric_code = reader.u8()?;
        let metric = metric_from_code(metric_code)
            .ok_or_else(|| corrupt(format!("unknown metric code {metric_code}")))?;
        let _reserved = reader.u8()?;
        let dim = reader.u32()? as usize;
        let row_count = reader.u64()?;
        if row_count > MAX_INDEXED_ROWS as u64 {
            return Err(corrupt(format!(
                "row count {row_count} exceeds {MAX_INDEXED_ROWS}"
            )));
        }
        let option_count = reader.u32()? as usize;
        if option_count > MAX_INDEX_OPTIONS {
            return Err(corrupt(format!(
                "{option_count} options, at most {MAX_INDEX_OPTIONS}"
            )));
        }
        let mut options = Vec::with_capacity(option_count);
        for _ in 0..option_count {
            let name = reader.text()?;
            let value = reader.text()?;
            options.push((name, value));
        }
        if reader.position != covered.len() {
            return Err(corrupt(format!(
                "{} unexplained bytes at the end of the header",
                covered.len() - reader.position
            )));
        }
        let spec = SegmentIndexSpec {
            method,
            metric,
            dim,
            options,
        };
        spec.validate().map_err(|error| {
            corrupt(format!("recorded index specification is invalid: {error}"))
        })?;
        let header = FileHeader {
            structure,
            spec,
            row_count,
        };
        Ok((header, body_offset(header_length)))
    }
}

/// Where the body starts for a header of `header_length` bytes.
pub fn body_offset(header_length: usize) -> usize {
    header_length.next_multiple_of(8)
}

/// Bounds-checked little-endian reads; running past the end is a "truncated" error.
pub(super) struct ByteReader<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    position: usize,
}

impl<'a> ByteReader<'a> {
    pub(super) fn new(path: &'a Path, bytes: &'a [u8], position: usize) -> ByteReader<'a> {
        ByteReader {
            path,
            bytes,
            position,
        }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], IndexError> {
        let end = self.position.checked_add(N);
        let Some(slice) = end.and_then(|end| self.bytes.get(self.position..end)) else {
            return Err(IndexError::corrupt(
                self.path,
                format!(
                    "truncated: field at byte {} runs past the end",
                    self.position
                ),
            ));
        };
        let mut array = [0u8; N];
        array.copy_from_slice(slice);
        self.position += N;
        Ok(array)
    }

    fn u8(&mut self) -> Result<u8, IndexError> {
        Ok(self.take::<1>()?[0])
    }

    pub(super) fn u32(&mut self) -> Result<u32, IndexError> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    pub(super) fn u64(&mut self) -> Result<u64, IndexError> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    fn text(&mut self) -> Result<String, IndexError> {
        let length = self.u32()? as usize;
        if length > MAX_OPTION_TEXT_BYTES {
            return Err(IndexError::corrupt(
                self.path,
                format!("option text of {length} bytes, at most {MAX_OPTION_TEXT_BYTES}"),
            ));
        }
        let end = self.position + length;
        let Some(slice) = self.bytes.get(self.position..end) else {
            return Err(IndexError::corrupt(
                self.path,
                "truncated header: option text",
            ));
        };
        let text = std::str::from_utf8(slice)
            .map_err(|_| IndexError::corrupt(self.path, "option text is not UTF-8"))?;
        self.position = end;
        Ok(text.to_owned())
    }
}

/// `path` with `.tmp` appended to its file name: where a file is written before the rename.
pub fn temporary_path(path: &Path) -> Result<PathBuf, IndexError> {
    let Some(file_name) = path.file_name() else {
        return Err(IndexError::io(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "index path has no file name"),
        ));
    };
    let mut temporary_name = file_name.to_os_string();
    temporary_name.push(".tmp");
    Ok(path.with_file_name(temporary_name))
}

/// Writes a file so that `path` holds either its old contents or all of the new ones, even
/// across a crash: write `path.tmp`, fsync it, rename it over `path`, fsync the directory.
/// On failure the temporary file is removed (best effort) and `path` is untouched.
pub fn write_atomically(
    path: &Path,
    write_contents: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<(), IndexError> {
    let temporary = temporary_path(path)?;
    let result = write_and_sync(&temporary, write_contents)
        .and_then(|()| fs::rename(&temporary, path).map_err(|error| IndexError::io(path, error)))
        .and_then(|()| sync_parent_directory(path));
    if result.is_err() {
        // The temporary file is garbage either way; a failure to remove it changes nothing.
        let _ = fs::remove_file(&temporary);
    }
    result
}

fn write_and_sync(
    temporary: &Path,
    write_contents: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<(), IndexError> {
    let io_error = |error| IndexError::io(temporary, error);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(temporary)
        .map_err(io_error)?;
    let mut writer = BufWriter::with_capacity(1 << 20, &file);
    write_contents(&mut writer).map_err(io_error)?;
    writer.flush().map_err(io_error)?;
    drop(writer);
    file.sync_all().map_err(io_error)
}

fn sync_parent_directory(path: &Path) -> Result<(), IndexError> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)
        .and_then(|handle| handle.sync_all())
        .map_err(|error| IndexError::io(directory, error))
}

/// The non-NULL rows of a segment, split by whether an approximate structure can hold them.
#[derive(Debug, Clone, Default)]
pub(super) struct RowClasses {
    /// Offsets of vectors the graph or lists hold, ascending.
    pub indexed: Vec<u32>,
    /// Offsets of non-NULL vectors kept out of the structure and always scanned exactly,
    /// ascending: vectors with a NaN or infinite element, and for cosine vectors whose
    /// squared norm is zero or not finite (their distance to anything is NaN).
    pub side: Vec<u32>,
}

/// Rows per classification task.
const CLASSIFY_CHUNK_ROWS: usize = 16_384;

/// Splits the rows of `store` into [`RowClasses`], checking every vector's dimension.
pub(super) fn classify_rows(
    spec: &SegmentIndexSpec,
    store: &dyn VectorStore,
) -> Result<RowClasses, IndexError> {
    let row_count = store.len();
    let dot = kernels().dot;
    let chunk_count = row_count.div_ceil(CLASSIFY_CHUNK_ROWS);
    let chunks: Vec<RowClasses> = (0..chunk_count)
        .into_par_iter()
        .map(|chunk| {
            let start = chunk * CLASSIFY_CHUNK_ROWS;
            let end = (start + CLASSIFY_CHUNK_ROWS).min(row_count);
            let mut classes = RowClasses::default();
            for offset in start as u32..end as u32 {
                let Some(vector) = store.vector(offset) else {
                    continue;
                };
                if vector.len() != spec.dim {
                    return Err(IndexError::DimensionMismatch {
                        expected: spec.dim,
                        actual: vector.len(),
                    });
                }
                let finite = vector.iter().all(|value| value.is_finite());
                let usable = finite
                    && (spec.metric != Metric::Cosine || {
                        let squared_norm = dot(vector, vector);
                        squared_norm > 0.0 && squared_norm.is_finite()
                    });
                if usable {
                    classes.indexed.push(offset);
                } else {
                    classes.side.push(offset);
                }
            }
            Ok(classes)
        })
        .collect::<Result<_, IndexError>>()?;
    let mut all = RowClasses::default();
    for chunk in chunks {
        all.indexed.extend_from_slice(&chunk.indexed);
        all.side.extend_from_slice(&chunk.side);
    }
    Ok(all)
}

/// Writes a structure's body: tracks the absolute file position (for alignment) and the
/// CRC32C of every byte written, which [`BodyWriter::finish`] appends.
pub(super) struct BodyWriter<'w, W: Write> {
    inner: &'w mut W,
    position: usize,
    crc: u32,
    buffer: Vec<u8>,
}

impl<'w, W: Write> BodyWriter<'w, W> {
    /// A writer whose first byte lands at file offset `position`.
    pub(super) fn new(inner: &'w mut W, position: usize) -> BodyWriter<'w, W> {
        BodyWriter {
            inner,
            position,
            crc: 0,
            buffer: Vec::with_capacity(1 << 16),
        }
    }

    pub(super) fn bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.crc = crc32c::crc32c_append(self.crc, bytes);
        self.position += bytes.len();
        self.inner.write_all(bytes)
    }

    pub(super) fn u32(&mut self, value: u32) -> io::Result<()> {
        self.bytes(&value.to_le_bytes())
    }

    pub(super) fn u32s(&mut self, values: &[u32]) -> io::Result<()> {
        self.words(values.iter().map(|value| value.to_le_bytes()))
    }

    pub(super) fn f32s(&mut self, values: &[f32]) -> io::Result<()> {
        self.words(values.iter().map(|value| value.to_le_bytes()))
    }

    fn words(&mut self, words: impl Iterator<Item = [u8; 4]>) -> io::Result<()> {
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        let mut result = Ok(());
        for word in words {
            buffer.extend_from_slice(&word);
            if buffer.len() >= 1 << 16 {
                result = self.bytes(&buffer);
                buffer.clear();
                if result.is_err() {
                    break;
                }
            }
        }
        if result.is_ok() && !buffer.is_empty() {
            result = self.bytes(&buffer);
        }
        self.buffer = buffer;
        result
    }

    /// Zero bytes up to the next multiple of `alignment` (a power of two).
    pub(super) fn pad_to(&mut self, alignment: usize) -> io::Result<()> {
        const ZEROS: [u8; 64] = [0; 64];
        debug_assert!(alignment.is_power_of_two() && alignment <= ZEROS.len());
        let padding = self.position.next_multiple_of(alignment) - self.position;
        self.bytes(&ZEROS[..padding])
    }

    /// Appends the CRC32C of everything written through this writer.
    pub(super) fn finish(self) -> io::Result<()> {
        let crc = self.crc;
        self.inner.write_all(&crc.to_le_bytes())
    }
}

/// Checks the CRC32C stored at `crc_at` (little-endian `u32`) against the bytes of
/// `body_start..crc_at`. The caller has checked that the file is `crc_at + 4` bytes long.
pub(super) fn verify_body_checksum(
    path: &Path,
    file_bytes: &[u8],
    body_start: usize,
    crc_at: usize,
) -> Result<(), IndexError> {
    let Some(stored) = file_bytes.get(crc_at..crc_at + 4) else {
        return Err(IndexError::corrupt(path, "truncated: no body checksum"));
    };
    let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
    let computed = crc32c::crc32c(&file_bytes[body_start..crc_at]);
    if stored != computed {
        return Err(IndexError::corrupt(
            path,
            format!("body checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"),
        ));
    }
    Ok(())
}

/// Checks that the file is exactly `expected` bytes long, with the flat index's wording.
pub(super) fn check_file_length(
    path: &Path,
    actual: usize,
    expected: usize,
    what: &str,
) -> Result<(), IndexError> {
    if actual == expected {
        return Ok(());
    }
    let problem = if actual < expected {
        "truncated"
    } else {
        "trailing bytes"
    };
    Err(IndexError::corrupt(
        path,
        format!("{problem}: {actual} bytes, {what} has {expected}"),
    ))
}

/// A section of `bytes` as little-endian `u32` words, or `None` if it is not 4-byte aligned
/// in memory, not a whole number of words, out of range, or the host is big-endian.
pub(super) fn u32_section(bytes: &[u8], range: Range<usize>) -> Option<&[u32]> {
    let section = words_of(bytes, range)?;
    // SAFETY: `words_of` checked that the section is 4-byte aligned and a whole number of
    // 4-byte words; every bit pattern is a valid `u32`, and the host is little-endian, so the
    // words read as the little-endian values the writer stored.
    Some(unsafe { std::slice::from_raw_parts(section.as_ptr().cast::<u32>(), section.len() / 4) })
}

/// [`u32_section`] for `f32` values.
pub(super) fn f32_section(bytes: &[u8], range: Range<usize>) -> Option<&[f32]> {
    let section = words_of(bytes, range)?;
    // SAFETY: as in `u32_section`; every bit pattern is a valid `f32`.
    Some(unsafe { std::slice::from_raw_parts(section.as_ptr().cast::<f32>(), section.len() / 4) })
}

fn words_of(bytes: &[u8], range: Range<usize>) -> Option<&[u8]> {
    if cfg!(target_endian = "big") {
        return None;
    }
    let section = bytes.get(range)?;
    let aligned = section.as_ptr().align_offset(4) == 0 && section.len() % 4 == 0;
    aligned.then_some(section)
}
