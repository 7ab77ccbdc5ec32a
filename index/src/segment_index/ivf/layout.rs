//! The body of an IVF-Flat index file: writing it and checking it when it is mapped. The byte
//! layout is specified on [`super::IvfFlatIndex`].

use std::io::{self, Write};
use std::ops::Range;
use std::path::Path;

use crate::segment_index::format::{
    check_file_length, u32_section, verify_body_checksum, BodyWriter, ByteReader,
};
use crate::segment_index::IndexError;

/// The IVF body layout this build writes and reads.
pub const IVF_BODY_VERSION: u32 = 1;
/// Bytes of the fixed part of the body.
const FIXED_BODY_BYTES: usize = 64;
/// The centroid and vector sections start at multiples of this.
const SECTION_ALIGNMENT: usize = 64;
/// Most lists an index may have (pgvector's bound on `lists`).
pub(super) const MAX_LISTS: usize = 32_768;

/// Everything [`write_body`] needs besides the writer.
pub(super) struct BodyContents<'a> {
    pub dim: usize,
    pub requested_lists: usize,
    pub sample_rows: usize,
    pub iterations: usize,
    /// `lists × dim` values.
    pub centroids: &'a [f32],
    /// `lists + 1` entry positions.
    pub list_starts: &'a [u32],
    /// Row offset of each entry, in list order.
    pub entry_offsets: &'a [u32],
    /// Squared norm of each entry (cosine), or empty.
    pub squared_norms: &'a [f32],
    pub side_offsets: &'a [u32],
    /// The vector of an entry, by row offset.
    pub vector_of: &'a (dyn Fn(u32) -> Option<&'a [f32]> + Sync),
}

/// Writes the body (after the header and its padding, at file offset `body_start`).
pub(super) fn write_body(
    writer: &mut impl Write,
    body_start: usize,
    contents: &BodyContents<'_>,
) -> io::Result<()> {
    let lists = contents.list_starts.len() - 1;
    let mut body = BodyWriter::new(writer, body_start);
    for field in [
        IVF_BODY_VERSION,
        lists as u32,
        contents.requested_lists as u32,
        contents.entry_offsets.len() as u32,
        contents.side_offsets.len() as u32,
        contents.sample_rows as u32,
        contents.iterations as u32,
        u32::from(!contents.squared_norms.is_empty()),
    ] {
        body.u32(field)?;
    }
    body.bytes(&[0; FIXED_BODY_BYTES - 32])?;
    body.pad_to(SECTION_ALIGNMENT)?;
    body.f32s(contents.centroids)?;
    body.u32s(contents.list_starts)?;
    body.u32s(contents.entry_offsets)?;
    body.f32s(contents.squared_norms)?;
    body.u32s(contents.side_offsets)?;
    body.pad_to(SECTION_ALIGNMENT)?;
    let zeros = vec![0f32; contents.dim];
    for &offset in contents.entry_offsets {
        let vector = (contents.vector_of)(offset).unwrap_or(&zeros);
        body.f32s(vector)?;
    }
    body.finish()
}

/// Where the sections of a checked body lie in the mapping.
#[derive(Debug, Clone)]
pub(super) struct BodyLayout {
    pub lists: usize,
    pub entries: usize,
    pub centroids: Range<usize>,
    pub list_starts: Range<usize>,
    pub entry_offsets: Range<usize>,
    /// Empty unless the metric is cosine.
    pub squared_norms: Range<usize>,
    pub side_offsets: Range<usize>,
    pub vectors: Range<usize>,
}

/// Reads and checks the body of a mapped IVF file of `row_count` rows of `dim` dimensions.
pub(super) fn check_body(
    path: &Path,
    bytes: &[u8],
    body_start: usize,
    dim: usize,
    row_count: usize,
    cosine: bool,
) -> Result<BodyLayout, IndexError> {
    let corrupt = |reason: String| IndexError::corrupt(path, reason);
    let mut reader = ByteReader::new(path, bytes, body_start);
    let version = reader.u32()?;
    if version != IVF_BODY_VERSION {
        return Err(IndexError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported: IVF_BODY_VERSION,
        });
    }
    let mut field = || reader.u32().map(|value| value as usize);
    let (lists, requested_lists, entries, side_count) = (field()?, field()?, field()?, field()?);
    let (_sample_rows, _iterations, has_norms) = (field()?, field()?, field()?);
    if lists == 0 || lists > MAX_LISTS || lists > entries || requested_lists > MAX_LISTS {
        return Err(corrupt(format!(
            "IVF index of {lists} lists over {entries} vectors"
        )));
    }
    if entries > row_count || side_count > row_count - entries || has_norms != usize::from(cosine) {
        return Err(corrupt(format!(
            "IVF index of {entries} vectors and {side_count} side rows over {row_count} rows"
        )));
    }
    let centroids_at = (body_start + FIXED_BODY_BYTES).next_multiple_of(SECTION_ALIGNMENT);
    let centroids = centroids_at..centroids_at + 4 * lists * dim;
    let list_starts = centroids.end..centroids.end + 4 * (lists + 1);
    let entry_offsets = list_starts.end..list_starts.end + 4 * entries;
    let norms_length = if cosine { 4 * entries } else { 0 };
    let squared_norms = entry_offsets.end..entry_offsets.end + norms_length;
    let side_offsets = squared_norms.end..squared_norms.end + 4 * side_count;
    let vectors_at = side_offsets.end.next_multiple_of(SECTION_ALIGNMENT);
    let vectors = vectors_at..vectors_at + 4 * entries * dim;
    check_file_length(path, bytes.len(), vectors.end + 4, "this IVF index")?;
    verify_body_checksum(path, bytes, body_start, vectors.end)?;
    let layout = BodyLayout {
        lists,
        entries,
        centroids,
        list_starts,
        entry_offsets,
        squared_norms,
        side_offsets,
        vectors,
    };
    check_lists(path, bytes, row_count, &layout)?;
    Ok(layout)
}

/// Checks that list starts rise from 0 to the entry count and that every row offset is in
/// the segment and appears once.
fn check_lists(
    path: &Path,
    bytes: &[u8],
    row_count: usize,
    layout: &BodyLayout,
) -> Result<(), IndexError> {
    let corrupt = |reason: String| IndexError::corrupt(path, reason);
    let misaligned = || corrupt("section not aligned in memory".into());
    let starts = u32_section(bytes, layout.list_starts.clone()).ok_or_else(misaligned)?;
    let rising = starts.windows(2).all(|pair| pair[0] <= pair[1]);
    if starts.first() != Some(&0) || starts.last() != Some(&(layout.entries as u32)) || !rising {
        return Err(corrupt(
            "IVF list starts are not a partition of the entries".into(),
        ));
    }
    let entries = u32_section(bytes, layout.entry_offsets.clone()).ok_or_else(misaligned)?;
    let side = u32_section(bytes, layout.side_offsets.clone()).ok_or_else(misaligned)?;
    let mut seen = vec![0u64; row_count.div_ceil(64)];
    for &offset in entries.iter().chain(side) {
        let word = seen
            .get_mut(offset as usize / 64)
            .ok_or_else(|| corrupt(format!("row offset {offset} past {row_count} rows")))?;
        let bit = 1u64 << (offset % 64);
        if *word & bit != 0 {
            return Err(corrupt(format!("row offset {offset} appears twice")));
        }
        *word |= bit;
    }
    Ok(())
}
