//! Segment lifecycle hooks for vector indexes.
//!
//! Whenever a segment comes into being (a checkpoint seals a memtable, compaction merges
//! segments) or a vector index is created on a table that already has segments, every vector
//! index declared on a column of the segment is built for it by `index/` and stored in the
//! segment directory as `idx-<index oid>.vec`. An index file therefore always describes
//! exactly its segment's rows: same offsets, same vectors. The file is derived data: if it is
//! missing (a crash while it was being built) or unreadable, it is built again. Builds in
//! progress are listed by [`crate::vector_progress`] (`pg_stat_progress_create_index`).

use std::path::PathBuf;
use std::sync::Arc;

use index::segment_index::{
    build_segment_index_with, open_segment_index, BuildOptions, IndexMethod, Metric, SegmentIndex,
    SegmentIndexSpec, VectorStore,
};

use crate::catalog::{IndexDef, IndexMethodDef, TableDef};
use crate::error::{Result, StorageError};
use crate::segment::Segment;
use crate::types::DataType;

/// Where the file of vector index `def` lives for `segment`.
pub fn index_path(segment: &Segment, def: &IndexDef) -> PathBuf {
    segment.dir().join(format!("idx-{}.vec", def.oid))
}

/// The spec `index/` builds from, derived from the catalog's index definition.
pub fn spec_for(table: &TableDef, def: &IndexDef) -> Result<SegmentIndexSpec> {
    let method = match def.method {
        IndexMethodDef::Hnsw => IndexMethod::Hnsw,
        IndexMethodDef::IvfFlat => IndexMethod::IvfFlat,
        IndexMethodDef::Btree => {
            return Err(StorageError::InvalidCatalog(format!(
                "index \"{}\" is not a vector index",
                def.name
            )))
        }
    };
    let metric = match def.opclasses.first() {
        Some(name) => Metric::from_operator_class(name).ok_or_else(|| {
            StorageError::InvalidCatalog(format!(
                "operator class \"{name}\" does not exist for access method \"{}\"",
                method.name()
            ))
        })?,
        None => Metric::L2,
    };
    let attnum = def.columns.first().copied().unwrap_or(0);
    let dim = match table.column(attnum).map(|c| &c.data_type) {
        Some(DataType::Vector(Some(dim))) => *dim as usize,
        Some(DataType::Vector(None)) => {
            return Err(StorageError::InvalidCatalog(
                "column does not have dimensions".into(),
            ))
        }
        _ => {
            return Err(StorageError::InvalidCatalog(format!(
                "index \"{}\" is not on a vector column",
                def.name
            )))
        }
    };
    Ok(SegmentIndexSpec {
        method,
        metric,
        dim,
        options: def.options.clone(),
    })
}

/// Opens the index file of `def` for `segment`, building it first if it is missing or
/// unreadable.
pub fn open_or_build(
    segment: &Arc<Segment>,
    table: &TableDef,
    def: &IndexDef,
) -> Result<Arc<dyn SegmentIndex>> {
    let spec = spec_for(table, def)?;
    let attnum = def.columns.first().copied().unwrap_or(0);
    let store: Arc<dyn VectorStore> = match segment.vector_store(attnum) {
        Some(store) => store,
        None => Arc::new(AllNull {
            dim: spec.dim,
            len: segment.row_count(),
        }),
    };
    let path = index_path(segment, def);
    if path.exists() {
        if let Ok(index) = open_segment_index(&path, store.clone()) {
            if *index.spec() == spec {
                return Ok(Arc::from(index));
            }
        }
    }
    let progress = crate::vector_progress::BuildGuard::start(table.oid, def.oid, segment);
    let options = BuildOptions {
        progress: Some(progress.counters()),
        ..BuildOptions::default()
    };
    build_segment_index_with(&spec, store.as_ref(), &path, &options)?;
    drop(progress);
    Ok(Arc::from(open_segment_index(&path, store)?))
}

/// The vectors of a segment sealed before its vector column existed: all NULL.
struct AllNull {
    dim: usize,
    len: usize,
}

impl VectorStore for AllNull {
    fn dim(&self) -> usize {
        self.dim
    }
    fn len(&self) -> usize {
        self.len
    }
    fn vector(&self, _offset: u32) -> Option<&[f32]> {
        None
    }
}
