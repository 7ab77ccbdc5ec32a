//! `ann_bench`: custos's HNSW and IVF-Flat segment indexes in-process, against hnswlib and
//! faiss on the same data in the same run, printed as Markdown tables with ratios.
//!
//! Queries/s are per second of the querying thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`;
//! Python's `time.thread_time()` for the baselines), not of wall time: the machines these run
//! on are shared, and wall time would mostly measure the neighbours. Both sides are measured
//! the same way, so the ratios hold.
//!
//! Recall@10 counts ties: a returned row is a hit when its distance is at most the 10th true
//! neighbour's (ann-benchmarks' convention), so that engines are not marked down for choosing
//! another of several rows at the same distance (the tickets hold exact duplicates).
//!
//! Data sets (read in place from `../shared/data`, see its README):
//! - **scifact**: BEIR SciFact, 5,183 documents × 384 (all-MiniLM-L6-v2, int8 model),
//!   300 test queries, exact cosine top-100 from `gt_top100.npy`;
//! - **tickets**: 8,469 support-ticket descriptions × 384; every 17th row is a query and is
//!   left out of the base (7,970 base rows, 499 queries); exact cosine top-10 computed here;
//! - **glove**: GloVe 6B 50-d, 390,000 base vectors, the first 1,000 queries, exact cosine
//!   top-100 from `glove50_gt_cos_top100_n390000.ivecs`.
//!
//! For each: the HNSW build time (m = 16, ef_construction = 64, on a rayon pool of
//! `--threads`, default 2; wall clock and process CPU time), then recall@10 and queries/s with
//! one thread (queries one at a time, best of three passes) for ef_search in
//! {10, 20, 40, 80, 120, 200, 400}; hnswlib and faiss (`benches/python/ann_baselines.py`,
//! written to a temporary directory and run with `python3`) with the same M,
//! ef_construction, build threads and single-threaded queries; the ratios custos / hnswlib
//! of queries/s at the best configuration reaching recall@10 ≥ 0.95 and of build time; filtered searches at 50 %, 10 %, 1 % and 0.1 % selectivity with the
//! default ef_search (recall against the exact filtered top-10, and a check that every query
//! got min(10, accepted rows) rows); and IVF-Flat (lists = √rows) for probes 1..32.
//!
//! Usage: `ann_bench [--quick] [--data-dir DIR] [--threads N] [--only scifact,tickets,glove]
//! [--no-python] [--build-only]`. `--quick` runs a small version in seconds (2,000 ticket
//! rows, 10,000 GloVe rows, 100–200 queries, one pass); `--build-only` times the HNSW builds
//! alone. Progress goes to stderr, tables to stdout; the exit status is 1 if a filtered search
//! returned the wrong number of rows.
//!
//! Files: `data.rs` (data sets, ground truth), `baselines.rs` (the Python side),
//! `report.rs` (the tables); this file measures.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use custos_benches::process_cpu_seconds;
use index::distance::distance;
use index::segment_index::{
    build_segment_index_with, open_segment_index, BuildOptions, InMemoryVectorStore, IndexMethod,
    SearchParams, SegmentIndex, SegmentIndexSpec,
};

use self::baselines::run_python;
use self::data::{exact_truth, load_glove, load_scifact, load_tickets, Dataset, DatasetLoader};
use self::report::{print_report, DatasetReport, EngineCurve, Point};

mod baselines;
mod data;
mod report;

type BenchResult<T> = Result<T, Box<dyn Error>>;

/// ef_search values of the recall / speed curve.
const EF_VALUES: [usize; 7] = [10, 20, 40, 80, 120, 200, 400];
/// IVF probes of the IVF curve.
const PROBE_VALUES: [usize; 6] = [1, 2, 4, 8, 16, 32];
/// Filter selectivities, in thousandths of the rows.
const SELECTIVITY_PERMILLE: [u32; 4] = [500, 100, 10, 1];
const K: usize = 10;
const M: usize = 16;
const EF_CONSTRUCTION: usize = 64;
/// The recall level at which speeds are compared.
const TARGET_RECALL: f64 = 0.95;

#[derive(Debug, Clone)]
struct Settings {
    quick: bool,
    data_dir: PathBuf,
    threads: usize,
    only: Option<Vec<String>>,
    python: bool,
    repeats: usize,
    build_only: bool,
}

impl Settings {
    fn from_args() -> BenchResult<Settings> {
        let mut settings = Settings {
            quick: false,
            data_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
            threads: 2,
            only: None,
            python: true,
            repeats: 3,
            build_only: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| format!("{name} needs a value").into())
                    as BenchResult<String>
            };
            match arg.as_str() {
                "--quick" => settings.quick = true,
                "--no-python" => settings.python = false,
                "--build-only" => settings.build_only = true,
                "--data-dir" => settings.data_dir = PathBuf::from(value("--data-dir")?),
                "--threads" => settings.threads = value("--threads")?.parse()?,
                "--only" => {
                    settings.only = Some(value("--only")?.split(',').map(str::to_string).collect())
                }
                "--help" | "-h" => {
                    println!(
                        "usage: ann_bench [--quick] [--data-dir DIR] [--threads N] \
                         [--only scifact,tickets,glove] [--no-python] [--build-only]"
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other}").into()),
            }
        }
        if settings.quick {
            settings.repeats = 1;
        }
        Ok(settings)
    }

    fn wants(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|names| names.iter().any(|wanted| wanted == name))
    }
}

/// Recall@K counting ties: a returned row is a hit when its distance to the query is at most
/// the last true neighbour's (plus a rounding allowance), so that among rows at equal distance
/// any choice counts (the tickets base holds exact duplicates, up to 25 copies). Rows the
/// filter rejects never count.
fn recall(
    dataset: &Dataset,
    query: usize,
    found: &[(u32, f32)],
    truth: &[u32],
    accept: &dyn Fn(u32) -> bool,
) -> f64 {
    let Some(&last) = truth.last() else {
        return 1.0;
    };
    let query = dataset.query(query);
    let base_vector =
        |row: u32| &dataset.base[row as usize * dataset.dim..(row as usize + 1) * dataset.dim];
    let threshold = distance(dataset.metric, query, base_vector(last));
    let allowance = 1e-5 * (1.0 + threshold.abs());
    let hits = found
        .iter()
        .filter(|&&(row, _)| {
            accept(row)
                && distance(dataset.metric, query, base_vector(row)) <= threshold + allowance
        })
        .count();
    hits.min(truth.len()) as f64 / truth.len() as f64
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

/// Runs every query `repeats` times with `params` on this thread; (mean recall, best qps by
/// the thread's CPU time, number of results of the wrong length).
fn measure(
    index: &dyn SegmentIndex,
    dataset: &Dataset,
    truth: &[Vec<u32>],
    params: SearchParams,
    repeats: usize,
    accept: &dyn Fn(u32) -> bool,
) -> (f64, f64, usize) {
    let queries = dataset.query_count();
    let mut best_seconds = f64::INFINITY;
    let mut results = Vec::with_capacity(queries);
    for _ in 0..repeats {
        results.clear();
        let start = thread_cpu_seconds();
        for query in 0..queries {
            results.push(index.search_with(dataset.query(query), K, params, accept));
        }
        best_seconds = best_seconds.min(thread_cpu_seconds() - start);
    }
    let short_results = results
        .iter()
        .zip(truth)
        .filter(|(found, expected)| found.len() != expected.len())
        .count();
    let recall_sum: f64 = results
        .iter()
        .zip(truth)
        .enumerate()
        .map(|(query, (found, expected))| recall(dataset, query, found, expected, accept))
        .sum();
    (
        recall_sum / queries as f64,
        queries as f64 / best_seconds,
        short_results,
    )
}

fn build(
    dataset: &Dataset,
    store: &InMemoryVectorStore,
    spec: &SegmentIndexSpec,
    path: &Path,
    threads: usize,
) -> BenchResult<(f64, f64)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let options = BuildOptions {
        min_rows_for_approximate: 0,
        ..BuildOptions::default()
    };
    let start = Instant::now();
    let cpu_start = process_cpu_seconds();
    pool.install(|| build_segment_index_with(spec, store, path, &options))?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = process_cpu_seconds() - cpu_start;
    eprintln!(
        "  {} {}: built in {seconds:.2} s ({cpu_seconds:.2} s of CPU)",
        dataset.name,
        spec.method.name(),
    );
    Ok((seconds, cpu_seconds))
}

/// Builds the HNSW index of `dataset` once and returns the time.
fn build_only(dataset: &Dataset, settings: &Settings, scratch: &Path) -> BenchResult<f64> {
    let store = InMemoryVectorStore::from_rows(
        dataset.dim,
        dataset.base.chunks_exact(dataset.dim).map(Some),
    )?;
    let spec = hnsw_spec(dataset);
    let path = scratch.join(format!("{}.hnsw", dataset.name));
    let (seconds, _) = build(dataset, &store, &spec, &path, settings.threads)?;
    let _ = std::fs::remove_file(&path);
    Ok(seconds)
}

fn hnsw_spec(dataset: &Dataset) -> SegmentIndexSpec {
    SegmentIndexSpec {
        method: IndexMethod::Hnsw,
        metric: dataset.metric,
        dim: dataset.dim,
        options: vec![
            ("m".into(), M.to_string()),
            ("ef_construction".into(), EF_CONSTRUCTION.to_string()),
        ],
    }
}

/// Keeps about `permille` / 1000 of the rows, chosen by a hash so the filter is scattered.
fn permille_filter(permille: u32) -> impl Fn(u32) -> bool + Sync {
    move |offset: u32| (offset.wrapping_mul(2_654_435_761) >> 7) % 1000 < permille
}

fn run_dataset(
    dataset: &Dataset,
    settings: &Settings,
    scratch: &Path,
) -> BenchResult<DatasetReport> {
    let dim = dataset.dim;
    let store = InMemoryVectorStore::from_rows(dim, dataset.base.chunks_exact(dim).map(Some))?;
    let hnsw_spec = hnsw_spec(dataset);
    let hnsw_path = scratch.join(format!("{}.hnsw", dataset.name));
    let (build_seconds, build_cpu_seconds) =
        build(dataset, &store, &hnsw_spec, &hnsw_path, settings.threads)?;
    let mut custos = EngineCurve {
        build_seconds: Some(build_seconds),
        build_cpu_seconds: Some(build_cpu_seconds),
        ..EngineCurve::default()
    };
    let store = std::sync::Arc::new(store);
    let index = open_segment_index(&hnsw_path, store.clone())?;
    for ef in EF_VALUES {
        let params = SearchParams {
            ef_search: ef,
            ..SearchParams::default()
        };
        measure(index.as_ref(), dataset, &dataset.truth, params, 1, &|_| {
            true
        }); // warm-up
        let (recall, qps, _) = measure(
            index.as_ref(),
            dataset,
            &dataset.truth,
            params,
            settings.repeats,
            &|_| true,
        );
        eprintln!("  custos hnsw ef {ef}: recall {recall:.4}, {qps:.0} q/s");
        custos.points.push(Point {
            setting: ef,
            recall,
            qps,
        });
    }

    let mut filtered = Vec::new();
    for permille in SELECTIVITY_PERMILLE {
        let accept = permille_filter(permille);
        let truth = exact_truth(dataset, &accept);
        let (recall, qps, short) = measure(
            index.as_ref(),
            dataset,
            &truth,
            SearchParams::default(),
            settings.repeats,
            &accept,
        );
        eprintln!(
            "  custos hnsw filtered {:.1}%: recall {recall:.4}, {qps:.0} q/s, {short} short",
            f64::from(permille) / 10.0
        );
        filtered.push((permille, recall, qps, short));
    }
    drop(index);

    let ivf_lists = ((dataset.base_rows() as f64).sqrt().round() as usize).clamp(1, 32_768);
    let ivf_spec = SegmentIndexSpec {
        method: IndexMethod::IvfFlat,
        metric: dataset.metric,
        dim,
        options: vec![("lists".into(), ivf_lists.to_string())],
    };
    let ivf_path = scratch.join(format!("{}.ivf", dataset.name));
    let (ivf_build_seconds, _) = build(dataset, &store, &ivf_spec, &ivf_path, settings.threads)?;
    let ivf_index = open_segment_index(&ivf_path, store.clone())?;
    let mut ivf = Vec::new();
    for probes in PROBE_VALUES {
        let params = SearchParams {
            probes,
            ..SearchParams::default()
        };
        let (recall, qps, _) = measure(
            ivf_index.as_ref(),
            dataset,
            &dataset.truth,
            params,
            settings.repeats,
            &|_| true,
        );
        eprintln!("  custos ivfflat probes {probes}: recall {recall:.4}, {qps:.0} q/s");
        ivf.push(Point {
            setting: probes,
            recall,
            qps,
        });
    }
    drop(ivf_index);
    let _ = std::fs::remove_file(&hnsw_path);
    let _ = std::fs::remove_file(&ivf_path);

    let baselines = if settings.python {
        run_python(dataset, settings, scratch)
    } else {
        vec![(
            "hnswlib / faiss".to_string(),
            EngineCurve {
                error: Some("skipped (--no-python)".into()),
                ..EngineCurve::default()
            },
        )]
    };
    Ok(DatasetReport {
        name: dataset.name,
        rows: dataset.base_rows(),
        dim,
        queries: dataset.query_count(),
        custos,
        baselines,
        filtered,
        ivf_lists,
        ivf_build_seconds,
        ivf,
    })
}

fn main() -> BenchResult<()> {
    let settings = Settings::from_args()?;
    let scratch = tempfile::tempdir()?;
    let loaders: [(&str, DatasetLoader); 3] = [
        ("scifact", load_scifact),
        ("tickets", load_tickets),
        ("glove", load_glove),
    ];
    println!(
        "## ANN indexes in-process{} (single-threaded queries, builds on {} threads)",
        if settings.quick { ", quick run" } else { "" },
        settings.threads
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!(
            "\nLoad average at start: {} (queries/s are per second of the querying thread's CPU time)",
            load.join(" ")
        );
    }
    let mut wrong_counts = 0;
    for (name, load) in loaders {
        if !settings.wants(name) {
            continue;
        }
        eprintln!("{name}: loading");
        let dataset = match load(&settings) {
            Ok(dataset) => dataset,
            Err(error) => {
                println!("\n### {name}\n\nnot measured: {error}");
                continue;
            }
        };
        if settings.build_only {
            let seconds = build_only(&dataset, &settings, scratch.path())?;
            println!(
                "- {name}: HNSW build {seconds:.2} s on {} threads",
                settings.threads
            );
            continue;
        }
        let report = run_dataset(&dataset, &settings, scratch.path())?;
        wrong_counts += report.filtered.iter().map(|entry| entry.3).sum::<usize>();
        print_report(&report, &settings);
    }
    if wrong_counts > 0 {
        eprintln!("{wrong_counts} filtered searches returned the wrong number of rows");
        std::process::exit(1);
    }
    Ok(())
}
