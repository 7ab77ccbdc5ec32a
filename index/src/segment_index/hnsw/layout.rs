//! The body of an HNSW index file: writing it and checking it when it is mapped. The byte
//! layout is specified on [`super::HnswIndex`].

use std::io::{self, Write};
use std::ops::Range;
use std::path::Path;

use super::build::{BuiltGraph, NodeOrder, MAX_LEVEL};
use super::reorder::Renumbering;
use crate::segment_index::format::{
    check_file_length, f32_section, u32_section, verify_body_checksum, BodyWriter, ByteReader,
};
use crate::segment_index::IndexError;

/// The HNSW body layout this build writes and reads.
pub const HNSW_BODY_VERSION: u32 = 1;
/// Bytes of the fixed part of the body.
pub(super) const FIXED_BODY_BYTES: usize = 64;
/// Words of a layer-0 record between the vector and the neighbour ids: count, scale, row
/// offset, reserved.
pub(super) const RECORD_FIELDS: usize = 4;
/// Sections that are read as whole cache lines start at multiples of this.
const SECTION_ALIGNMENT: usize = 64;

/// Bytes per layer-0 record for `dim` dimensions and `m0` links: the vector, four fields and
/// the links, rounded up to whole cache lines.
pub(super) fn record_stride(dim: usize, m0: usize) -> usize {
    (4 * (dim + RECORD_FIELDS + m0)).next_multiple_of(SECTION_ALIGNMENT)
}

/// Everything [`write_body`] needs besides the writer.
pub(super) struct BodyContents<'a> {
    pub m: usize,
    pub ef_construction: usize,
    pub dim: usize,
    pub order: &'a NodeOrder,
    /// Vectors in node order.
    pub vectors: &'a [f32],
    /// `1/‖v‖` per node (cosine), or empty (written as 1).
    pub scales: &'a [f32],
    pub graph: &'a BuiltGraph,
    /// The numbering the file uses (node `old` of the build is written as `new_of[old]`).
    pub renumbering: &'a Renumbering,
    /// Non-NULL rows kept out of the graph.
    pub side_offsets: &'a [u32],
}

/// Writes the body (after the header and its padding, at file offset `body_start`).
pub(super) fn write_body(
    writer: &mut impl Write,
    body_start: usize,
    contents: &BodyContents<'_>,
) -> io::Result<()> {
    let BodyContents {
        m,
        ef_construction,
        dim,
        order,
        vectors,
        scales,
        graph,
        renumbering,
        side_offsets,
    } = *contents;
    let renumber = |old: &u32| renumbering.new_of[*old as usize];
    let m0 = 2 * m;
    let node_count = order.offsets.len();
    let stride = record_stride(dim, m0);
    let mut body = BodyWriter::new(writer, body_start);
    for field in [
        HNSW_BODY_VERSION,
        m as u32,
        m0 as u32,
        ef_construction as u32,
        node_count as u32,
        order.top_level() as u32,
        0, // entry point
        stride as u32,
        side_offsets.len() as u32,
    ] {
        body.u32(field)?;
    }
    body.bytes(&[0; FIXED_BODY_BYTES - 36])?;
    body.u32s(&order.level_counts)?;
    body.u32s(side_offsets)?;
    body.pad_to(SECTION_ALIGNMENT)?;
    let mut record = vec![0u8; stride];
    let links_words = graph.layer0.words_per_node();
    for &node in &renumbering.old_of {
        let node = node as usize;
        record.fill(0);
        let vector = &vectors[node * dim..(node + 1) * dim];
        for (slot, value) in vector.iter().enumerate() {
            record[4 * slot..4 * slot + 4].copy_from_slice(&value.to_le_bytes());
        }
        let links = &graph.layer0.links[node * links_words..(node + 1) * links_words];
        let scale = scales.get(node).copied().unwrap_or(1.0);
        let fields = [
            links[0].to_le_bytes(),
            scale.to_le_bytes(),
            order.offsets[node].to_le_bytes(),
            [0; 4],
        ];
        let mut at = 4 * dim;
        for field in &fields {
            record[at..at + 4].copy_from_slice(field);
            at += 4;
        }
        for id in &links[1..1 + links[0] as usize] {
            record[at..at + 4].copy_from_slice(&renumber(id).to_le_bytes());
            at += 4;
        }
        body.bytes(&record)?;
    }
    for layer in &graph.upper {
        let words = layer.words_per_node();
        let nodes_on_level = layer.links.len() / words;
        let mut renumbered = vec![0u32; layer.links.len()];
        for (new, record) in renumbered.chunks_exact_mut(words).enumerate() {
            let old = renumbering.old_of[new] as usize;
            debug_assert!(old < nodes_on_level);
            let links = &layer.links[old * words..(old + 1) * words];
            record[0] = links[0];
            for (slot, id) in record[1..].iter_mut().zip(&links[1..1 + links[0] as usize]) {
                *slot = renumber(id);
            }
        }
        body.u32s(&renumbered)?;
    }
    body.finish()
}

/// Where the sections of a checked body lie in the mapping, and its fixed fields.
#[derive(Debug, Clone)]
pub(super) struct BodyLayout {
    pub m: usize,
    pub m0: usize,
    pub ef_construction: usize,
    pub node_count: usize,
    pub top_level: usize,
    pub stride: usize,
    pub level_counts: Vec<u32>,
    pub side_offsets: Range<usize>,
    pub layer0: Range<usize>,
    /// Index `l - 1` for level `l`.
    pub upper: Vec<Range<usize>>,
}

/// Reads and checks the body of a mapped HNSW file of `row_count` rows of `dim` dimensions:
/// lengths, checksum, then every field and link, so that searches can trust the mapping.
pub(super) fn check_body(
    path: &Path,
    bytes: &[u8],
    body_start: usize,
    dim: usize,
    row_count: usize,
) -> Result<BodyLayout, IndexError> {
    let corrupt = |reason: String| IndexError::corrupt(path, reason);
    let mut reader = ByteReader::new(path, bytes, body_start);
    let version = reader.u32()?;
    if version != HNSW_BODY_VERSION {
        return Err(IndexError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported: HNSW_BODY_VERSION,
        });
    }
    let mut field = || reader.u32().map(|value| value as usize);
    let (m, m0, ef_construction, node_count) = (field()?, field()?, field()?, field()?);
    let (top_level, entry_point, stride, side_count) = (field()?, field()?, field()?, field()?);
    if !(2..=100).contains(&m) || m0 != 2 * m {
        return Err(corrupt(format!("HNSW links per node m = {m}, m0 = {m0}")));
    }
    if node_count == 0 || node_count > row_count || side_count > row_count - node_count {
        return Err(corrupt(format!(
            "HNSW graph of {node_count} nodes and {side_count} side rows over {row_count} rows"
        )));
    }
    if top_level > MAX_LEVEL || entry_point != 0 || stride != record_stride(dim, m0) {
        return Err(corrupt(format!(
            "HNSW top level {top_level}, entry point {entry_point}, record stride {stride}"
        )));
    }
    let level_counts_at = body_start + FIXED_BODY_BYTES;
    let side_at = level_counts_at + 4 * top_level;
    let layer0_at = (side_at + 4 * side_count).next_multiple_of(SECTION_ALIGNMENT);
    let layer0 = layer0_at..layer0_at + node_count * stride;
    // The level counts are needed for the upper layers' sizes; read them bounds-checked.
    let level_counts: Vec<u32> = (0..top_level)
        .map(|level| {
            bytes
                .get(level_counts_at + 4 * level..level_counts_at + 4 * level + 4)
                .map(|word| u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
                .ok_or_else(|| corrupt(format!("truncated: {} bytes", bytes.len())))
        })
        .collect::<Result<_, _>>()?;
    let mut upper = Vec::with_capacity(top_level);
    let mut at = layer0.end;
    let mut previous = node_count as u32;
    for &count in &level_counts {
        if count == 0 || count > previous {
            return Err(corrupt(format!("HNSW level counts {level_counts:?}")));
        }
        previous = count;
        let length = count as usize * 4 * (1 + m);
        upper.push(at..at + length);
        at += length;
    }
    check_file_length(path, bytes.len(), at + 4, "this HNSW index")?;
    verify_body_checksum(path, bytes, body_start, at)?;
    let layout = BodyLayout {
        m,
        m0,
        ef_construction,
        node_count,
        top_level,
        stride,
        level_counts,
        side_offsets: side_at..side_at + 4 * side_count,
        layer0,
        upper,
    };
    check_links(path, bytes, dim, row_count, &layout)?;
    Ok(layout)
}

/// Checks every count, link, scale and row offset: links stay inside their level, row offsets
/// inside the segment and distinct (graph and side rows together).
fn check_links(
    path: &Path,
    bytes: &[u8],
    dim: usize,
    row_count: usize,
    layout: &BodyLayout,
) -> Result<(), IndexError> {
    let corrupt = |reason: String| IndexError::corrupt(path, reason);
    let misaligned = || corrupt("section not aligned in memory".into());
    let words = u32_section(bytes, layout.layer0.clone()).ok_or_else(misaligned)?;
    let floats = f32_section(bytes, layout.layer0.clone()).ok_or_else(misaligned)?;
    let side = u32_section(bytes, layout.side_offsets.clone()).ok_or_else(misaligned)?;
    let mut seen = vec![0u64; row_count.div_ceil(64)];
    let mut claim = |offset: u32| -> Result<(), IndexError> {
        let word = seen
            .get_mut(offset as usize / 64)
            .ok_or_else(|| corrupt(format!("row offset {offset} past {row_count} rows")))?;
        let bit = 1u64 << (offset % 64);
        if *word & bit != 0 {
            return Err(corrupt(format!("row offset {offset} appears twice")));
        }
        *word |= bit;
        Ok(())
    };
    let stride_words = layout.stride / 4;
    for node in 0..layout.node_count {
        let base = node * stride_words + dim;
        let count = words[base] as usize;
        let scale = floats[base + 1];
        if count > layout.m0 || !scale.is_finite() {
            return Err(corrupt(format!(
                "HNSW node {node}: {count} links, scale {scale}"
            )));
        }
        claim(words[base + 2])?;
        let links = &words[base + RECORD_FIELDS..base + RECORD_FIELDS + count];
        if let Some(bad) = links.iter().find(|&&id| id as usize >= layout.node_count) {
            return Err(corrupt(format!("HNSW node {node} links to node {bad}")));
        }
    }
    for &offset in side {
        claim(offset)?;
    }
    for (index, range) in layout.upper.iter().enumerate() {
        let level_words = u32_section(bytes, range.clone()).ok_or_else(misaligned)?;
        let nodes_on_level = layout.level_counts[index];
        for (node, record) in level_words.chunks_exact(1 + layout.m).enumerate() {
            let count = record[0] as usize;
            if count > layout.m || record[1..=count].iter().any(|&id| id >= nodes_on_level) {
                return Err(corrupt(format!(
                    "HNSW node {node} on level {} has bad links",
                    index + 1
                )));
            }
        }
    }
    Ok(())
}
