//! The common header of every segment index file, and the atomic write that puts a file in
//! place. The body that follows the header belongs to the index structure (see
//! [`super::flat::FlatIndex`] for the flat body).
//!
//! Readers check, in this order: the file is long enough for the fixed part, the magic, the
//! format version, the header length against the file length, the header CRC, then each field.
//! Any failure is an [`IndexError`] naming the file; nothing read from the file is trusted
//! before its checksum has been verified.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::spec::{MAX_INDEX_OPTIONS, MAX_OPTION_TEXT_BYTES};
use super::{IndexError, IndexMethod, SegmentIndexSpec};
use crate::distance::Metric;

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

/// How the rows are organised in the body. Only the exact-scan layout exists so far; HNSW
/// and IVF bodies will get their own codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    Flat,
}

impl Structure {
    fn code(self) -> u8 {
        match self {
            Structure::Flat => 1,
        }
    }

    fn from_code(code: u8) -> Option<Structure> {
        match code {
            1 => Some(Structure::Flat),
            _ => None,
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
///     16     1  structure of the body: 1 = flat (exact scan)
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
struct ByteReader<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    position: usize,
}

impl<'a> ByteReader<'a> {
    fn new(path: &'a Path, bytes: &'a [u8], position: usize) -> ByteReader<'a> {
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
                    "truncated header: field at byte {} runs past its end",
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

    fn u32(&mut self) -> Result<u32, IndexError> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    fn u64(&mut self) -> Result<u64, IndexError> {
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
