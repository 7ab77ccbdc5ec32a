//! Progress of one index build, for whoever watches it (`pg_stat_progress_create_index` in
//! the storage engine, tests through an observer).
//!
//! A build given a [`BuildProgress`] (through [`super::BuildOptions::progress`]) sets
//! `tuples_total` to the segment's row slots when it starts and advances `tuples_done` as it
//! goes: NULL rows and rows that cannot be indexed at once (they need no work), then one per
//! vector as HNSW plans its insertion or IVF assigns it to a list, so `tuples_done` moves
//! while one segment's graph is being built. It equals `tuples_total` when the build returns
//! successfully. Counters are relaxed atomics: a reader sees a recent value, never a torn one,
//! and `tuples_done` never decreases.
//!
//! The observer, if any, is called on the building thread (a rayon worker) every time
//! `tuples_done` crosses a multiple of [`PROGRESS_STEP`], and at every phase change. It must
//! be quick and must not start another build.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// The observer is called each time `tuples_done` passes a multiple of this.
pub const PROGRESS_STEP: u64 = 256;

/// What a build is doing, with pgvector's phase names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildPhase {
    /// Reading the segment's vectors.
    Initializing,
    /// IVF: training the centroids on a sample.
    PerformingKMeans,
    /// IVF: assigning every vector to its nearest list.
    AssigningTuples,
    /// HNSW: inserting vectors into the graph; both: writing the file.
    LoadingTuples,
}

impl BuildPhase {
    /// The phase as `pg_stat_progress_create_index.phase` shows it (pgvector's wording).
    pub fn name(self) -> &'static str {
        match self {
            BuildPhase::Initializing => "initializing",
            BuildPhase::PerformingKMeans => "performing k-means",
            BuildPhase::AssigningTuples => "assigning tuples",
            BuildPhase::LoadingTuples => "loading tuples",
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(code: u8) -> BuildPhase {
        match code {
            1 => BuildPhase::PerformingKMeans,
            2 => BuildPhase::AssigningTuples,
            3 => BuildPhase::LoadingTuples,
            _ => BuildPhase::Initializing,
        }
    }
}

type Observer = Box<dyn Fn(&BuildProgress) + Send + Sync>;

/// Counters of one build (see the module documentation).
#[derive(Default)]
pub struct BuildProgress {
    phase: AtomicU8,
    tuples_total: AtomicU64,
    tuples_done: AtomicU64,
    observer: Option<Observer>,
}

impl std::fmt::Debug for BuildProgress {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("BuildProgress")
            .field("phase", &self.phase())
            .field("tuples_total", &self.tuples_total())
            .field("tuples_done", &self.tuples_done())
            .finish()
    }
}

impl BuildProgress {
    /// Counters at zero, no observer.
    pub fn new() -> BuildProgress {
        BuildProgress::default()
    }

    /// Counters at zero; `observer` is called as the module documentation says.
    pub fn with_observer(
        observer: impl Fn(&BuildProgress) + Send + Sync + 'static,
    ) -> BuildProgress {
        BuildProgress {
            observer: Some(Box::new(observer)),
            ..BuildProgress::default()
        }
    }

    pub fn phase(&self) -> BuildPhase {
        BuildPhase::from_code(self.phase.load(Ordering::Relaxed))
    }

    /// Row slots of the segment being built (0 before the build starts).
    pub fn tuples_total(&self) -> u64 {
        self.tuples_total.load(Ordering::Relaxed)
    }

    /// Rows processed so far.
    pub fn tuples_done(&self) -> u64 {
        self.tuples_done.load(Ordering::Relaxed)
    }

    /// A build starts over `total` row slots.
    pub(crate) fn start(&self, total: u64) {
        self.tuples_total.store(total, Ordering::Relaxed);
        self.tuples_done.store(0, Ordering::Relaxed);
        self.set_phase(BuildPhase::Initializing);
    }

    pub(crate) fn set_phase(&self, phase: BuildPhase) {
        let previous = self.phase.swap(phase.code(), Ordering::Relaxed);
        if previous != phase.code() {
            if let Some(observer) = &self.observer {
                observer(self);
            }
        }
    }

    /// `rows` more rows are done.
    #[inline]
    pub(crate) fn advance(&self, rows: u64) {
        if rows == 0 {
            return;
        }
        let before = self.tuples_done.fetch_add(rows, Ordering::Relaxed);
        if let Some(observer) = &self.observer {
            if before / PROGRESS_STEP != (before + rows) / PROGRESS_STEP {
                observer(self);
            }
        }
    }

    /// The build finished: every row is done.
    pub(crate) fn finish(&self) {
        let total = self.tuples_total();
        let done = self.tuples_done();
        if done < total {
            self.advance(total - done);
        }
    }
}

/// Advances `progress`, if there is one, by `rows`.
#[inline]
pub(crate) fn advance(progress: Option<&BuildProgress>, rows: u64) {
    if let Some(progress) = progress {
        progress.advance(rows);
    }
}

/// Sets the phase of `progress`, if there is one.
pub(crate) fn set_phase(progress: Option<&BuildProgress>, phase: BuildPhase) {
    if let Some(progress) = progress {
        progress.set_phase(phase);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn the_observer_sees_every_step_crossing_and_phase_change() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let progress = BuildProgress::with_observer(move |progress| {
            record
                .lock()
                .unwrap()
                .push((progress.phase(), progress.tuples_done()));
        });
        progress.start(1000);
        progress.set_phase(BuildPhase::LoadingTuples);
        for _ in 0..600 {
            progress.advance(1);
        }
        progress.finish();
        assert_eq!(progress.tuples_done(), 1000);
        let seen = seen.lock().unwrap();
        let done: Vec<u64> = seen.iter().map(|&(_, done)| done).collect();
        assert_eq!(done, vec![0, 256, 512, 1000]);
        assert_eq!(seen[0].0, BuildPhase::LoadingTuples);
        assert_eq!(BuildPhase::AssigningTuples.name(), "assigning tuples");
    }
}
