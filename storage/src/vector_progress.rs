//! Vector index builds in progress, for `pg_stat_progress_create_index`.
//!
//! Every per-segment build (`CREATE INDEX` on a table with segments, a checkpoint or a
//! compaction sealing a segment, recovery rebuilding a lost file) registers itself here for
//! as long as it runs; [`builds_in_progress`] lists them. Each registration carries the
//! index crate's [`BuildProgress`] counters, which the build advances as it inserts vectors
//! (every vector of an HNSW graph, every vector assigned to an IVF list), so `tuples_done`
//! and the phase move while one segment's structure is being built; `blocks_done` is the
//! same fraction of the segment's blocks.
//!
//! Which backend runs a build: the SQL layer marks the thread running a session's statement
//! (and its commit) with [`BackendGuard::enter`]; builds on other threads (the background
//! checkpoint) report pid 0.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use index::segment_index::BuildProgress as IndexBuildProgress;
use parking_lot::Mutex;

use crate::segment::Segment;

/// One build in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildProgress {
    /// The backend (session process id) that runs it; 0 for background work.
    pub pid: i32,
    pub table: u32,
    pub index: u32,
    /// PostgreSQL's phase name.
    pub phase: &'static str,
    pub blocks_total: u64,
    pub blocks_done: u64,
    pub tuples_total: u64,
    pub tuples_done: u64,
    /// Microseconds since the build started.
    pub elapsed_micros: u64,
}

struct Entry {
    id: u64,
    pid: i32,
    table: u32,
    index: u32,
    blocks: u64,
    tuples: u64,
    started: Instant,
    counters: Arc<IndexBuildProgress>,
}

static BUILDS: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static BACKEND_PID: Cell<i32> = const { Cell::new(0) };
}

/// Marks the current thread as running session `pid` until dropped.
pub struct BackendGuard {
    previous: i32,
}

impl BackendGuard {
    pub fn enter(pid: i32) -> BackendGuard {
        BackendGuard {
            previous: BACKEND_PID.with(|p| p.replace(pid)),
        }
    }
}

impl Drop for BackendGuard {
    fn drop(&mut self) {
        BACKEND_PID.with(|p| p.set(self.previous));
    }
}

/// A registered build; dropping it (build finished or failed) unregisters it.
pub(crate) struct BuildGuard {
    id: u64,
    counters: Arc<IndexBuildProgress>,
}

impl BuildGuard {
    pub(crate) fn start(table: u32, index: u32, segment: &Arc<Segment>) -> BuildGuard {
        BuildGuard::register(
            table,
            index,
            segment.block_count() as u64,
            segment.row_count() as u64,
            Arc::new(IndexBuildProgress::new()),
        )
    }

    fn register(
        table: u32,
        index: u32,
        blocks: u64,
        tuples: u64,
        counters: Arc<IndexBuildProgress>,
    ) -> BuildGuard {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        BUILDS.lock().push(Entry {
            id,
            pid: BACKEND_PID.with(Cell::get),
            table,
            index,
            blocks,
            tuples,
            started: Instant::now(),
            counters: counters.clone(),
        });
        BuildGuard { id, counters }
    }

    /// The counters to hand to the index build.
    pub(crate) fn counters(&self) -> Arc<IndexBuildProgress> {
        self.counters.clone()
    }
}

impl Drop for BuildGuard {
    fn drop(&mut self) {
        BUILDS.lock().retain(|entry| entry.id != self.id);
    }
}

/// The builds running now, oldest first.
pub fn builds_in_progress() -> Vec<BuildProgress> {
    BUILDS
        .lock()
        .iter()
        .map(|entry| {
            let tuples_done = entry.counters.tuples_done().min(entry.tuples);
            let blocks_done = if entry.tuples == 0 {
                0
            } else {
                (u128::from(entry.blocks) * u128::from(tuples_done) / u128::from(entry.tuples))
                    as u64
            };
            BuildProgress {
                pid: entry.pid,
                table: entry.table,
                index: entry.index,
                phase: entry.counters.phase().name(),
                blocks_total: entry.blocks,
                blocks_done,
                tuples_total: entry.tuples,
                tuples_done,
                elapsed_micros: entry.started.elapsed().as_micros() as u64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use index::segment_index::{
        build_segment_index_with, BuildOptions, InMemoryVectorStore, IndexMethod, Metric,
        SegmentIndexSpec,
    };

    use super::*;

    /// The view's row of build `index` (the list is process-wide; other tests may add rows).
    fn row_of(index: u32) -> Option<BuildProgress> {
        builds_in_progress()
            .into_iter()
            .find(|build| build.index == index)
    }

    #[test]
    fn tuples_done_moves_while_one_segments_graph_is_built() {
        const INDEX_OID: u32 = 0x7e57_0001;
        let dim = 4;
        let rows: Vec<Option<Vec<f32>>> = (0..2_000u32)
            .map(|row| {
                Some(
                    (0..dim)
                        .map(|d| ((row * 31 + d * 17) % 97) as f32)
                        .collect(),
                )
            })
            .collect();
        let store = InMemoryVectorStore::from_rows(dim as usize, rows).expect("store");
        // The observer runs inside the build and reads the view, as a concurrent
        // `SELECT * FROM pg_stat_progress_create_index` would.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let counters = Arc::new(IndexBuildProgress::with_observer(move |_| {
            if let Some(row) = row_of(INDEX_OID) {
                record
                    .lock()
                    .push((row.phase, row.tuples_done, row.blocks_done));
            }
        }));
        let guard = BuildGuard::register(1, INDEX_OID, 10, 2_000, counters);
        let options = BuildOptions {
            min_rows_for_approximate: 0,
            progress: Some(guard.counters()),
        };
        let spec = SegmentIndexSpec {
            method: IndexMethod::Hnsw,
            metric: Metric::L2,
            dim: dim as usize,
            options: Vec::new(),
        };
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("idx.vec");
        build_segment_index_with(&spec, &store, &path, &options).expect("build");
        let seen = seen.lock().clone();
        assert!(
            seen.iter()
                .any(|&(phase, done, blocks)| phase == "loading tuples"
                    && done > 0
                    && done < 2_000
                    && blocks < 10),
            "{seen:?}"
        );
        assert!(
            seen.windows(2).all(|pair| pair[0].1 <= pair[1].1),
            "{seen:?}"
        );
        let finished = row_of(INDEX_OID).expect("still registered until the guard drops");
        assert_eq!((finished.tuples_done, finished.blocks_done), (2_000, 10));
        drop(guard);
        assert!(row_of(INDEX_OID).is_none());
    }

    #[test]
    fn backend_guard_restores_the_previous_pid() {
        let outer = BackendGuard::enter(41);
        {
            let _inner = BackendGuard::enter(42);
            assert_eq!(BACKEND_PID.with(Cell::get), 42);
        }
        assert_eq!(BACKEND_PID.with(Cell::get), 41);
        drop(outer);
        assert_eq!(BACKEND_PID.with(Cell::get), 0);
    }
}
