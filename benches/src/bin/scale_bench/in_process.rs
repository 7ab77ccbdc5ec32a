//! custos's HNSW over the scale set in-process (the index crate alone): build on a rayon pool
//! of `--threads`, then recall@10 and queries/s per ef_search, single-threaded, and filtered
//! searches at the default ef_search; and the same set handed to hnswlib through
//! `benches/python/ann_baselines.py`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use custos_benches::npy::{write_npy, write_npy_f32};
use custos_benches::process_cpu_seconds;
use custos_benches::wire::process::run_bounded;
use index::distance::distance;
use index::segment_index::{
    build_segment_index_with, open_segment_index, BuildOptions, IndexMethod, Metric, SearchParams,
    SegmentIndex, SegmentIndexSpec,
};

use crate::scale_set::{permille_of, recall, ScaleSet, DIM, K};
use crate::{BenchResult, Settings, EF_CONSTRUCTION, M};

/// One point of a recall / speed curve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub ef: usize,
    pub recall: f64,
    pub qps: f64,
}

/// What custos did in-process.
#[derive(Debug, Default)]
pub(crate) struct InProcess {
    pub build_seconds: f64,
    pub build_cpu_seconds: f64,
    pub index_bytes: u64,
    pub curve: Vec<Point>,
    /// (permille, recall, q/s, searches that returned the wrong number of rows)
    pub filtered: Vec<(u32, f64, f64, usize)>,
}

/// What hnswlib did, or why it did not.
#[derive(Debug, Default)]
pub(crate) struct Baseline {
    pub build_seconds: Option<f64>,
    pub build_cpu_seconds: Option<f64>,
    pub curve: Vec<Point>,
    pub error: Option<String>,
}

/// CPU time consumed so far by the calling thread, in seconds.
fn thread_cpu_seconds() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the pointer it is given.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0 {
        return f64::NAN;
    }
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

fn hnsw_spec() -> SegmentIndexSpec {
    SegmentIndexSpec {
        method: IndexMethod::Hnsw,
        metric: Metric::Cosine,
        dim: DIM,
        options: vec![
            ("m".into(), M.to_string()),
            ("ef_construction".into(), EF_CONSTRUCTION.to_string()),
        ],
    }
}

/// Runs every query `repeats` times; (mean recall, best q/s by thread CPU time, wrong counts).
fn measure(
    index: &dyn SegmentIndex,
    set: &ScaleSet,
    truth: &[Vec<u32>],
    params: SearchParams,
    repeats: usize,
    accept: &dyn Fn(u32) -> bool,
) -> (f64, f64, usize) {
    let queries = set.query_count();
    let mut best_seconds = f64::INFINITY;
    let mut results = Vec::with_capacity(queries);
    for _ in 0..repeats.max(1) {
        results.clear();
        let start = thread_cpu_seconds();
        for query in 0..queries {
            results.push(index.search_with(set.query(query), K, params, accept));
        }
        best_seconds = best_seconds.min(thread_cpu_seconds() - start);
    }
    let wrong_counts = results
        .iter()
        .zip(truth)
        .filter(|(found, expected)| found.len() != expected.len())
        .count();
    let recall_sum: f64 = results
        .iter()
        .zip(truth)
        .enumerate()
        .map(|(query, (found, expected))| {
            let rows: Vec<u32> = found.iter().map(|&(row, _)| row).collect();
            recall(set, query, &rows, expected, accept)
        })
        .sum();
    (
        recall_sum / queries as f64,
        queries as f64 / best_seconds,
        wrong_counts,
    )
}

/// Builds custos's HNSW over the base and measures it.
pub(crate) fn run_custos(
    set: &ScaleSet,
    truths: &[Vec<Vec<u32>>],
    filters_permille: &[u32],
    settings: &Settings,
    scratch: &Path,
) -> BenchResult<InProcess> {
    let store = &set.base;
    let path = scratch.join("scale.hnsw");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .build()?;
    let options = BuildOptions {
        min_rows_for_approximate: 0,
        ..BuildOptions::default()
    };
    let started = Instant::now();
    let cpu_started = process_cpu_seconds();
    pool.install(|| build_segment_index_with(&hnsw_spec(), store.as_ref(), &path, &options))?;
    let mut report = InProcess {
        build_seconds: started.elapsed().as_secs_f64(),
        build_cpu_seconds: process_cpu_seconds() - cpu_started,
        index_bytes: std::fs::metadata(&path)?.len(),
        ..InProcess::default()
    };
    eprintln!(
        "  custos: HNSW built in {:.1} s ({:.1} s of CPU), file {:.0} MiB",
        report.build_seconds,
        report.build_cpu_seconds,
        report.index_bytes as f64 / (1 << 20) as f64
    );
    let index = open_segment_index(&path, store.clone())?;
    for &ef in &settings.ef_values {
        let params = SearchParams {
            ef_search: ef,
            ..SearchParams::default()
        };
        measure(index.as_ref(), set, &truths[0], params, 1, &|_| true); // warm-up
        let (recall, qps, _) = measure(
            index.as_ref(),
            set,
            &truths[0],
            params,
            settings.repeats,
            &|_| true,
        );
        eprintln!("  custos: ef_search {ef}: recall@10 {recall:.4}, {qps:.0} q/s");
        report.curve.push(Point { ef, recall, qps });
    }
    for (slot, &permille) in filters_permille.iter().enumerate() {
        let accept = move |row: u32| permille_of(row) < permille;
        let (recall, qps, wrong) = measure(
            index.as_ref(),
            set,
            &truths[slot + 1],
            SearchParams::default(),
            settings.repeats,
            &accept,
        );
        eprintln!(
            "  custos: filtered {:.1} %: recall@10 {recall:.4}, {qps:.0} q/s, {wrong} wrong counts",
            f64::from(permille) / 10.0
        );
        report.filtered.push((permille, recall, qps, wrong));
    }
    drop(index);
    let _ = std::fs::remove_file(&path);
    Ok(report)
}

/// The baseline script, compiled into the binary so that it runs from any directory.
const PYTHON_SCRIPT: &str = include_str!("../../../python/ann_baselines.py");

/// Runs hnswlib on the same set (same M, ef_construction, build threads; single-threaded
/// queries), killed after `timeout`. The base goes to `cache_dir` as `.npy`.
pub(crate) fn run_hnswlib(
    set: &ScaleSet,
    truth: &[Vec<u32>],
    settings: &Settings,
    cache_dir: &Path,
    timeout: Duration,
) -> Baseline {
    let mut baseline = Baseline::default();
    let outcome = (|| -> BenchResult<String> {
        std::fs::create_dir_all(cache_dir)?;
        let script = cache_dir.join("ann_baselines.py");
        std::fs::write(&script, PYTHON_SCRIPT)?;
        let base = cache_dir.join(format!(
            "scale-v{}-{}x{DIM}-base.npy",
            crate::scale_set::GENERATOR_VERSION,
            set.rows
        ));
        let expected_bytes = (128 + set.base.values().len() * 4) as u64;
        if std::fs::metadata(&base).map(|meta| meta.len()).ok() != Some(expected_bytes) {
            write_npy_f32(&base, set.rows, DIM, set.base.values())?;
        }
        let queries = cache_dir.join("scale-queries.npy");
        write_npy_f32(&queries, set.query_count(), DIM, &set.queries)?;
        let truth_path = cache_dir.join("scale-truth.npy");
        let truth_words: Vec<[u8; 4]> = truth
            .iter()
            .flat_map(|row| {
                (0..K).map(move |column| row.get(column).copied().unwrap_or(u32::MAX).to_le_bytes())
            })
            .collect();
        write_npy(&truth_path, "<i4", truth.len(), K, &truth_words)?;
        let thresholds: Vec<f32> = truth
            .iter()
            .enumerate()
            .map(|(query, row)| {
                let last = row.last().copied().unwrap_or(0);
                distance(Metric::Cosine, set.query(query), set.base_vector(last))
            })
            .collect();
        let thresholds_path = cache_dir.join("scale-thresholds.npy");
        write_npy_f32(&thresholds_path, truth.len(), 1, &thresholds)?;
        let ef_list: Vec<String> = settings.ef_values.iter().map(usize::to_string).collect();
        let output = run_bounded(
            Command::new("python3")
                .arg(&script)
                .args(["--base".as_ref(), base.as_os_str()])
                .args(["--queries".as_ref(), queries.as_os_str()])
                .args(["--truth".as_ref(), truth_path.as_os_str()])
                .args(["--thresholds".as_ref(), thresholds_path.as_os_str()])
                .args(["--metric", "cosine", "--k", &K.to_string()])
                .args(["--m", &M.to_string()])
                .args(["--ef-construction", &EF_CONSTRUCTION.to_string()])
                .args(["--ef-search", &ef_list.join(",")])
                .args(["--build-threads", &settings.threads.to_string()])
                .args(["--repeats", &settings.repeats.to_string()])
                .args(["--engines", "hnswlib"]),
            timeout,
        )?;
        for file in [queries, truth_path, thresholds_path, script] {
            let _ = std::fs::remove_file(file);
        }
        if output.status.is_none() {
            return Err(format!(
                "stopped after {:.0} s (the run's time budget); output so far: {}",
                output.elapsed.as_secs_f64(),
                output.stdout.trim()
            )
            .into());
        }
        if !output.success() {
            return Err(output.describe_failure().into());
        }
        Ok(output.stdout)
    })();
    let stdout = match outcome {
        Ok(stdout) => stdout,
        Err(error) => {
            baseline.error = Some(error.to_string());
            return baseline;
        }
    };
    for line in stdout.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["RESULT", "hnswlib", "build", seconds, cpu] => {
                baseline.build_seconds = seconds.parse().ok();
                baseline.build_cpu_seconds = cpu.parse().ok();
                eprintln!("  hnswlib: built in {seconds} s");
            }
            ["RESULT", "hnswlib", "ef", ef, "recall", recall, "qps", qps] => {
                if let (Ok(ef), Ok(recall), Ok(qps)) = (ef.parse(), recall.parse(), qps.parse()) {
                    eprintln!("  hnswlib: ef_search {ef}: recall@10 {recall:.4}, {qps:.0} q/s");
                    baseline.curve.push(Point { ef, recall, qps });
                }
            }
            ["ERROR", "hnswlib", ..] => baseline.error = Some(fields[2..].join(" ")),
            _ => {}
        }
    }
    if baseline.curve.is_empty() && baseline.error.is_none() {
        baseline.error = Some("hnswlib printed no results".into());
    }
    baseline
}
