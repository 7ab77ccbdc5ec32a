//! Build progress: `tuples_done` moves while one segment's HNSW graph or IVF lists are being
//! built (observed from inside the build, so no timing is involved), never goes backwards,
//! and reaches `tuples_total` (every row slot, NULLs included) when the build returns.

use std::sync::{Arc, Mutex};

use tempfile::TempDir;

use super::support::clustered;
use super::{approximate_always, spec};
use crate::segment_index::*;

/// Builds `method` over a 3,000-row segment (every 10th row NULL) and returns what the
/// observer saw: (phase, tuples_done, tuples_total) per call, and the final counters.
fn observe_build(method: IndexMethod) -> (Vec<(BuildPhase, u64, u64)>, Arc<BuildProgress>) {
    let (store, _) = clustered(31, 3_000, 8, 20, 0.2, 10, 0);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let progress = Arc::new(BuildProgress::with_observer(move |progress| {
        record.lock().expect("observer lock").push((
            progress.phase(),
            progress.tuples_done(),
            progress.tuples_total(),
        ));
    }));
    let options = BuildOptions {
        progress: Some(progress.clone()),
        ..approximate_always()
    };
    let directory = TempDir::new().expect("temporary directory");
    let path = directory.path().join("vectors.idx");
    let built = build_segment_index_with(&spec(method, Metric::L2, 8), &store, &path, &options);
    assert!(built.is_ok(), "{built:?}");
    let seen = seen.lock().expect("observer lock").clone();
    (seen, progress)
}

fn assert_progress_moves_during(method: IndexMethod, working_phase: BuildPhase) {
    let (seen, progress) = observe_build(method);
    assert_eq!(progress.tuples_total(), 3_000, "{method:?}");
    assert_eq!(progress.tuples_done(), 3_000, "{method:?}");
    let during: Vec<u64> = seen
        .iter()
        .filter(|&&(phase, done, total)| phase == working_phase && done > 0 && done < total)
        .map(|&(_, done, _)| done)
        .collect();
    // 2,700 vectors, a call every 256 rows: several intermediate observations.
    assert!(during.len() >= 5, "{method:?}: {seen:?}");
    let all_done: Vec<u64> = seen.iter().map(|&(_, done, _)| done).collect();
    assert!(
        all_done.windows(2).all(|pair| pair[0] <= pair[1]),
        "{method:?}: tuples_done went backwards: {all_done:?}"
    );
    assert!(seen.iter().all(|&(_, _, total)| total == 3_000), "{seen:?}");
}

#[test]
fn hnsw_build_reports_tuples_done_while_the_graph_is_built() {
    assert_progress_moves_during(IndexMethod::Hnsw, BuildPhase::LoadingTuples);
}

#[test]
fn ivfflat_build_reports_k_means_then_tuples_assigned() {
    assert_progress_moves_during(IndexMethod::IvfFlat, BuildPhase::AssigningTuples);
    let (seen, _) = observe_build(IndexMethod::IvfFlat);
    let phases: Vec<BuildPhase> = seen.iter().map(|&(phase, _, _)| phase).collect();
    let k_means = phases
        .iter()
        .position(|&phase| phase == BuildPhase::PerformingKMeans);
    let assigning = phases
        .iter()
        .position(|&phase| phase == BuildPhase::AssigningTuples);
    assert!(
        matches!((k_means, assigning), (Some(a), Some(b)) if a < b),
        "{phases:?}"
    );
}

#[test]
fn a_flat_build_completes_its_progress_too() {
    let (store, _) = clustered(32, 500, 8, 5, 0.2, 7, 0);
    let progress = Arc::new(BuildProgress::new());
    let options = BuildOptions {
        progress: Some(progress.clone()),
        ..BuildOptions::default()
    };
    let directory = TempDir::new().expect("temporary directory");
    let path = directory.path().join("vectors.idx");
    let built = build_segment_index_with(
        &spec(IndexMethod::Hnsw, Metric::Cosine, 8),
        &store,
        &path,
        &options,
    );
    assert!(built.is_ok(), "{built:?}");
    assert_eq!(
        (progress.tuples_done(), progress.tuples_total()),
        (500, 500)
    );
}
