//! The IVF-Flat segment index: k-means centroids (`kmeans.rs`) partition the segment's
//! non-NULL vectors into lists, stored contiguously in the file with copies of the vectors
//! (`layout.rs`), so that scanning a list reads one sequential run of the mapping.
//!
//! Search: compare the query with every centroid, scan the `probes` nearest lists, and keep
//! scanning the next nearest lists while fewer than `k` accepted rows have been found (a
//! filter therefore widens the search instead of shortening the result; after the last list
//! the result is exact). Distances are computed exactly for every scanned row.
//!
//! Lists are Voronoi cells of squared L2 for the L2 and inner-product operator classes, and
//! of the angle for cosine (spherical k-means on normalised vectors, as pgvector); lists are
//! probed in the same geometry. Rows that cannot be placed (a NaN or infinite element; for
//! cosine a zero vector) are side rows, compared exactly on every search.

mod kmeans;
mod layout;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use rayon::prelude::*;

use self::kmeans::{
    normalize, sample_indices, train, CentroidKey, Geometry, LLOYD_ITERATIONS, SAMPLE_ROWS_PER_LIST,
};
use self::layout::{check_body, write_body, BodyContents, BodyLayout};
use super::flat::{exact_top_k, QueryScorer};
use super::format::{
    body_offset, f32_section, u32_section, write_atomically, FileHeader, RowClasses, Structure,
};
use super::hnsw::check_store;
use super::progress::{self, BuildPhase, BuildProgress};
use super::top_k::{Neighbor, TopK};
use super::{IndexError, SearchParams, SegmentIndex, SegmentIndexSpec, VectorStore};
use crate::distance::{distance_with, kernels, Metric};

pub use layout::IVF_BODY_VERSION;

/// pgvector's default `lists`.
pub const DEFAULT_IVFFLAT_LISTS: usize = 100;

/// An open IVF-Flat index over one segment.
///
/// Body of an IVF-Flat index file, layout version [`IVF_BODY_VERSION`] (1), starting at the
/// body offset given by the header ([`FileHeader`], structure code 3). Little-endian; sections
/// marked ⁶⁴ start at a file offset that is a multiple of 64.
///
/// ```text
/// fixed part, 64 bytes:
///   +0  u32  body layout version = 1
///   +4  u32  C: lists (min(lists option, vectors), ≥ 1)
///   +8  u32  lists option as given (or the default 100)
///  +12  u32  V: vectors in the lists
///  +16  u32  E: side rows
///  +20  u32  training sample rows
///  +24  u32  Lloyd iterations
///  +28  u32  1 if squared norms are stored (cosine), else 0
///  +32  32 bytes reserved, zero
/// ⁶⁴centroids:    C × dim f32 (unit length for cosine)
/// list starts:   (C + 1) × u32: list c holds entries start[c]..start[c+1]; start[0] = 0,
///                start[C] = V, non-decreasing
/// entry offsets: V × u32 row offsets, in list order (ascending within a list)
/// squared norms: V × f32 Σv² of each entry from the dot kernel (cosine only, else absent)
/// side rows:     E × u32 row offsets of non-NULL rows outside the lists, ascending
/// ⁶⁴vectors:      V × dim f32, entry order, bit for bit as in the segment
/// checksum:      u32 CRC32C of the body bytes before it
/// ```
///
/// The file ends right after the checksum. Opening checks the length, the checksum, the list
/// partition and that every row offset is inside the segment and appears once.
pub struct IvfFlatIndex {
    path: PathBuf,
    spec: SegmentIndexSpec,
    store: Arc<dyn VectorStore>,
    mapping: Mmap,
    layout: BodyLayout,
    row_count: u32,
    centroid_key: CentroidKey,
}

impl std::fmt::Debug for IvfFlatIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("IvfFlatIndex")
            .field("path", &self.path)
            .field("spec", &self.spec)
            .field("row_count", &self.row_count)
            .field("lists", &self.layout.lists)
            .finish()
    }
}

fn geometry_of(metric: Metric) -> Geometry {
    if metric == Metric::Cosine {
        Geometry::Spherical
    } else {
        Geometry::Euclidean
    }
}

/// Trains the lists for `rows` of `store` and writes the file (spec and store checked).
pub(super) fn write_ivf_index(
    spec: &SegmentIndexSpec,
    store: &dyn VectorStore,
    rows: &RowClasses,
    path: &Path,
    progress: Option<&BuildProgress>,
) -> Result<(), IndexError> {
    let dim = spec.dim;
    let requested_lists = spec
        .integer_option("lists")
        .map_or(DEFAULT_IVFFLAT_LISTS, |lists| lists as usize);
    let lists = requested_lists.min(rows.indexed.len()).max(1);
    let geometry = geometry_of(spec.metric);
    let zeros = vec![0f32; dim];
    let vector_of = |offset: u32| store.vector(offset).unwrap_or(&zeros);

    let chosen = sample_indices(rows.indexed.len(), SAMPLE_ROWS_PER_LIST * lists);
    let mut sample = vec![0f32; chosen.len() * dim];
    sample
        .par_chunks_mut(dim)
        .zip(chosen.par_iter())
        .for_each(|(slot, &index)| {
            slot.copy_from_slice(vector_of(rows.indexed[index]));
            if geometry == Geometry::Spherical {
                normalize(slot);
            }
        });
    progress::set_phase(progress, BuildPhase::PerformingKMeans);
    let centroids = train(&sample, dim, lists, geometry);
    drop(sample);

    progress::set_phase(progress, BuildPhase::AssigningTuples);
    let key = CentroidKey::new(geometry);
    let assignment: Vec<u32> = rows
        .indexed
        .par_iter()
        .map(|&offset| {
            let list = key.nearest(vector_of(offset), &centroids, dim).0 as u32;
            progress::advance(progress, 1);
            list
        })
        .collect();
    progress::set_phase(progress, BuildPhase::LoadingTuples);
    let mut list_starts = vec![0u32; lists + 1];
    for &list in &assignment {
        list_starts[list as usize + 1] += 1;
    }
    for list in 0..lists {
        list_starts[list + 1] += list_starts[list];
    }
    let mut next = list_starts.clone();
    let mut entry_offsets = vec![0u32; rows.indexed.len()];
    for (&offset, &list) in rows.indexed.iter().zip(&assignment) {
        entry_offsets[next[list as usize] as usize] = offset;
        next[list as usize] += 1;
    }
    let squared_norms: Vec<f32> = if spec.metric == Metric::Cosine {
        let dot = kernels().dot;
        entry_offsets
            .par_iter()
            .map(|&offset| {
                let vector = vector_of(offset);
                dot(vector, vector)
            })
            .collect()
    } else {
        Vec::new()
    };

    let header = FileHeader {
        structure: Structure::IvfFlat,
        spec: spec.clone(),
        row_count: store.len() as u64,
    };
    let header_bytes = header.encode()?;
    let body_start = body_offset(header_bytes.len());
    let vector_lookup = |offset: u32| store.vector(offset);
    let contents = BodyContents {
        dim,
        requested_lists,
        sample_rows: chosen.len(),
        iterations: LLOYD_ITERATIONS,
        centroids: &centroids,
        list_starts: &list_starts,
        entry_offsets: &entry_offsets,
        squared_norms: &squared_norms,
        side_offsets: &rows.side,
        vector_of: &vector_lookup,
    };
    write_atomically(path, |writer| {
        use std::io::Write;
        writer.write_all(&header_bytes)?;
        writer.write_all(&[0u8; 8][..body_start - header_bytes.len()])?;
        write_body(writer, body_start, &contents)
    })
}

impl IvfFlatIndex {
    /// Checks the body of a mapped IVF file and that `store` is the segment it was built for.
    pub(super) fn open(
        path: &Path,
        header: FileHeader,
        body_start: usize,
        mapping: Mmap,
        store: Arc<dyn VectorStore>,
    ) -> Result<IvfFlatIndex, IndexError> {
        debug_assert_eq!(header.structure, Structure::IvfFlat);
        let row_count = u32::try_from(header.row_count).map_err(|_| {
            IndexError::corrupt(path, format!("row count {} too large", header.row_count))
        })?;
        let cosine = header.spec.metric == Metric::Cosine;
        let layout = check_body(
            path,
            &mapping,
            body_start,
            header.spec.dim,
            row_count as usize,
            cosine,
        )?;
        check_store(path, &header.spec, row_count, store.as_ref())?;
        Ok(IvfFlatIndex {
            path: path.to_path_buf(),
            centroid_key: CentroidKey::new(geometry_of(header.spec.metric)),
            spec: header.spec,
            store,
            mapping,
            layout,
            row_count,
        })
    }

    /// Number of lists.
    pub fn lists(&self) -> usize {
        self.layout.lists
    }

    fn u32s(&self, range: &std::ops::Range<usize>) -> &[u32] {
        // Sections were checked (aligned, in range) when the file was opened.
        u32_section(&self.mapping, range.clone()).unwrap_or_default()
    }

    fn f32s(&self, range: &std::ops::Range<usize>) -> &[f32] {
        f32_section(&self.mapping, range.clone()).unwrap_or_default()
    }

    /// List ids ordered by their centroid's nearness to `query`.
    fn probe_order(&self, query: &[f32]) -> Vec<u32> {
        let dim = self.spec.dim;
        let mut keyed: Vec<(u32, u32)> = self
            .f32s(&self.layout.centroids)
            .chunks_exact(dim)
            .enumerate()
            .map(|(list, centroid)| {
                let key = self.centroid_key.key(query, centroid);
                (
                    if key.is_nan() { f32::INFINITY } else { key }.to_bits(),
                    list as u32,
                )
            })
            .collect();
        // Keys are compared as floats; the list id breaks ties.
        keyed.sort_unstable_by(|left, right| {
            f32::from_bits(left.0)
                .total_cmp(&f32::from_bits(right.0))
                .then(left.1.cmp(&right.1))
        });
        keyed.into_iter().map(|(_, list)| list).collect()
    }
}

impl SegmentIndex for IvfFlatIndex {
    fn spec(&self) -> &SegmentIndexSpec {
        &self.spec
    }

    fn structure(&self) -> Structure {
        Structure::IvfFlat
    }

    fn search_with(
        &self,
        query: &[f32],
        k: usize,
        params: SearchParams,
        accept: &dyn Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        let dim = self.spec.dim;
        if k == 0 || query.len() != dim {
            return Vec::new();
        }
        let metric = self.spec.metric;
        if !query.iter().all(|value| value.is_finite()) {
            // Centroid order means nothing for such a query; ORDER BY's order is a scan's.
            let top = exact_top_k(self.store.as_ref(), metric, query, &[], k, accept);
            return into_rows(top);
        }
        let probes = params.probes.clamp(1, self.layout.lists);
        let starts = self.u32s(&self.layout.list_starts);
        let offsets = self.u32s(&self.layout.entry_offsets);
        let vectors = self.f32s(&self.layout.vectors);
        let norm_bytes = &self.mapping[self.layout.squared_norms.clone()];
        let scorer = QueryScorer::new(kernels(), metric, query, norm_bytes);
        let side_offsets = self.u32s(&self.layout.side_offsets);
        let mut top = TopK::new(k, self.layout.entries + side_offsets.len());
        for (rank, list) in self.probe_order(query).into_iter().enumerate() {
            // The probes nearest lists, then more until k accepted rows are found.
            if rank >= probes && top.len() >= k {
                break;
            }
            let entries = starts[list as usize] as usize..starts[list as usize + 1] as usize;
            for entry in entries {
                let offset = offsets[entry];
                if !accept(offset) {
                    continue;
                }
                let vector = &vectors[entry * dim..(entry + 1) * dim];
                top.offer(Neighbor {
                    distance: scorer.distance(entry as u32, vector),
                    offset,
                });
            }
        }
        let family = kernels();
        for &offset in side_offsets {
            if !accept(offset) {
                continue;
            }
            if let Some(vector) = self.store.vector(offset) {
                top.offer(Neighbor {
                    distance: distance_with(family, metric, query, vector),
                    offset,
                });
            }
        }
        into_rows(top)
    }
}

fn into_rows(top: TopK) -> Vec<(u32, f32)> {
    top.into_sorted()
        .into_iter()
        .map(|neighbor| (neighbor.offset, neighbor.distance))
        .collect()
}
