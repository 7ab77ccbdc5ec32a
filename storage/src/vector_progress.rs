//! Vector index builds in progress, for `pg_stat_progress_create_index`.
//!
//! Every per-segment build (`CREATE INDEX` on a table with segments, a checkpoint or a
//! compaction sealing a segment, recovery rebuilding a lost file) registers itself here for
//! as long as it runs; [`builds_in_progress`] lists them. The granularity is one segment: a
//! segment's build reports its rows as the total and moves to done when it finishes.
//!
//! Which backend runs a build: the SQL layer marks the thread running a session's statement
//! (and its commit) with [`BackendGuard::enter`]; builds on other threads (the background
//! checkpoint) report pid 0.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

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
}

impl BuildGuard {
    pub(crate) fn start(table: u32, index: u32, segment: &Arc<Segment>) -> BuildGuard {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        BUILDS.lock().push(Entry {
            id,
            pid: BACKEND_PID.with(Cell::get),
            table,
            index,
            blocks: segment.block_count() as u64,
            tuples: segment.row_count() as u64,
            started: Instant::now(),
        });
        BuildGuard { id }
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
        .map(|entry| BuildProgress {
            pid: entry.pid,
            table: entry.table,
            index: entry.index,
            phase: "building index",
            blocks_total: entry.blocks,
            blocks_done: 0,
            tuples_total: entry.tuples,
            tuples_done: 0,
            elapsed_micros: entry.started.elapsed().as_micros() as u64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
