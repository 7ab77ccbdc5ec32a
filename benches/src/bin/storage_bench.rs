//! `storage_bench`: throughput, latency and memory of the custos storage engine, printed as a
//! Markdown table.
//!
//! What it measures, on a customer-360 table (`id int8 primary key, name, email, city text,
//! balance numeric(12,2), created timestamptz, embedding vector(16)`):
//! - single-row commits per second from 1 and from 8 threads, with the WAL fsyncs per commit
//!   (group commit shares one fsync among the committers waiting for it);
//! - batched inserts (rows per second in large transactions);
//! - point lookups by primary key at random, on memtable rows and on segment rows;
//! - full scans (rows/s and MB/s of logical data) of a memtable, and of many segments on one
//!   thread and in parallel over [`storage::ScanPartition`]s with rayon;
//! - checkpoint (sealing memtables) and compaction (merging many small segments) throughput;
//! - memory per million rows: the growth of the resident set (`VmRSS`) when rows are loaded
//!   into memtables, and after a checkpoint has moved them into memory-mapped segments.
//!
//! Every figure is the median of [`REPEATS`] runs, each on a fresh engine where the
//! measurement changes state. Row generation is never timed. The engine runs without its
//! background maintenance thread, so that checkpoints and compactions happen only when
//! measured. "Logical data" is the rows' size in the storage encoding before compression
//! ([`custos_benches::logical_row_bytes`]); MB is 10^6 bytes, MiB 2^20.
//!
//! Usage: `storage_bench [--rows N] [--quick] [--data-dir DIR]`. Progress goes to stderr and
//! the report to stdout. Commit figures are only meaningful on a real disk: the data directory
//! (a temporary directory by default) must not be on tmpfs.

use std::error::Error;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use custos_benches::{
    create_customer_table, default_tickets_csv, filesystem_of, fsync_is_real, logical_row_bytes,
    median, process_cpu_seconds, release_free_memory, resident_bytes, CustomerGenerator,
    CustomerTable, NamePool,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use storage::types::{Row, Value};
use storage::{Engine, EngineOptions, ScanOptions, ScanPartition};

type BenchResult<T> = Result<T, Box<dyn Error>>;

/// Runs per measurement; the report gives their median.
const REPEATS: usize = 3;
/// Committing threads of the group-commit measurement.
const COMMIT_THREADS: usize = 8;
/// Largest transaction of the batched-insert measurement.
const BATCH_ROWS: usize = 100_000;
/// Small segments merged by one compaction.
const COMPACTION_SEGMENTS: usize = 100;
/// Lookups between two looks at the clock.
const LOOKUP_CHUNK: usize = 256;
const MIB: f64 = (1 << 20) as f64;
const MB: f64 = 1e6;

/// Sizes of one run, from the command line.
#[derive(Debug, Clone)]
struct Settings {
    rows: usize,
    batch_rows: usize,
    commits_one_thread: usize,
    commits_per_thread: usize,
    lookups: usize,
    /// A lookup measurement stops after this long even if keys remain.
    lookup_budget_seconds: f64,
    compaction_segments: usize,
    /// Raw fsyncs probing the disk before each commit measurement.
    raw_fsyncs: usize,
    data_dir: Option<PathBuf>,
    quick: bool,
}

impl Settings {
    fn full() -> Settings {
        Settings {
            rows: 1_000_000,
            batch_rows: BATCH_ROWS,
            commits_one_thread: 1_000,
            commits_per_thread: 250,
            lookups: 200_000,
            lookup_budget_seconds: 3.0,
            compaction_segments: COMPACTION_SEGMENTS,
            raw_fsyncs: 100,
            data_dir: None,
            quick: false,
        }
    }

    /// Sizes for a smoke run (CI): the whole benchmark in a few seconds.
    fn quick() -> Settings {
        Settings {
            rows: 20_000,
            batch_rows: 5_000,
            commits_one_thread: 50,
            commits_per_thread: 20,
            lookups: 5_000,
            lookup_budget_seconds: 0.3,
            compaction_segments: 20,
            raw_fsyncs: 10,
            data_dir: None,
            quick: true,
        }
    }

    fn from_args(args: &[String]) -> Result<Settings, String> {
        let mut rows = None;
        let mut data_dir = None;
        let mut quick = false;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--rows" => {
                    let value = args.next().ok_or("--rows needs a number")?;
                    let parsed: usize = value
                        .replace('_', "")
                        .parse()
                        .map_err(|_| format!("--rows: \"{value}\" is not a number"))?;
                    if parsed == 0 {
                        return Err("--rows must be at least 1".into());
                    }
                    rows = Some(parsed);
                }
                "--data-dir" => {
                    let value = args.next().ok_or("--data-dir needs a directory")?;
                    data_dir = Some(PathBuf::from(value));
                }
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument \"{other}\"\n{USAGE}")),
            }
        }
        let mut settings = if quick {
            Settings::quick()
        } else {
            Settings::full()
        };
        if let Some(rows) = rows {
            settings.rows = rows;
        }
        settings.batch_rows = settings.batch_rows.min(settings.rows);
        settings.compaction_segments = settings.compaction_segments.min(settings.rows);
        settings.data_dir = data_dir;
        Ok(settings)
    }
}

const USAGE: &str = "usage: storage_bench [--rows N] [--quick] [--data-dir DIR]
  --rows N        rows loaded by the bulk measurements (default 1000000)
  --quick         small sizes for a smoke run (well under 20 s)
  --data-dir DIR  where engines are created (default: a temporary directory); it must be on
                  a real disk for the commit and fsync figures to mean anything";

/// One line of the report.
struct Metric {
    name: String,
    value: f64,
    unit: &'static str,
}

#[derive(Default)]
struct Report {
    metrics: Vec<Metric>,
}

impl Report {
    /// Records the median of `samples`, and shows every sample on stderr.
    fn add(&mut self, name: impl Into<String>, samples: &[f64], unit: &'static str) {
        let name = name.into();
        let shown: Vec<String> = samples.iter().map(|s| format_value(*s)).collect();
        eprintln!("  {name}: {} {unit}", shown.join(", "));
        self.metrics.push(Metric {
            name,
            value: median(samples.to_vec()),
            unit,
        });
    }
}

/// What every measurement needs: the settings, where to create engines, row generation.
struct Bench {
    settings: Settings,
    root: PathBuf,
    pool: Arc<NamePool>,
    engines_opened: usize,
    /// Mean logical row size seen by the last load.
    logical_bytes_per_row: f64,
}

/// An engine in its own directory, removed when dropped.
struct ScratchEngine {
    engine: Engine,
    table: CustomerTable,
    dir: PathBuf,
}

impl Drop for ScratchEngine {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Bench {
    /// Opens a fresh engine (no background maintenance) holding an empty customers table.
    fn open_engine(&mut self, options: EngineOptions) -> BenchResult<ScratchEngine> {
        self.engines_opened += 1;
        let dir = self.root.join(format!("engine-{}", self.engines_opened));
        let options = EngineOptions {
            background_maintenance: false,
            memtable_limit_bytes: usize::MAX,
            ..options
        };
        let engine = Engine::open(&dir, options)?;
        let table = create_customer_table(&engine)?;
        Ok(ScratchEngine { engine, table, dir })
    }

    fn generator(&self, seed: u64) -> CustomerGenerator {
        CustomerGenerator::new(self.pool.clone(), seed)
    }

    /// Inserts rows `first_id..first_id + count` in one transaction; returns the seconds
    /// spent inserting and committing (not generating) and the rows' logical bytes.
    fn insert_batch(
        &self,
        scratch: &ScratchEngine,
        generator: &mut CustomerGenerator,
        first_id: usize,
        count: usize,
    ) -> BenchResult<(f64, usize)> {
        let rows: Vec<Row> = (first_id..first_id + count)
            .map(|id| generator.row(id as i64))
            .collect();
        let logical_bytes = rows.iter().map(|r| logical_row_bytes(r)).sum();
        let start = Instant::now();
        let mut txn = scratch.engine.begin();
        for row in rows {
            txn.insert(scratch.table.oid, row)?;
        }
        txn.commit()?;
        Ok((start.elapsed().as_secs_f64(), logical_bytes))
    }

    /// Loads ids `1..=rows` in transactions of `batch_rows`, optionally checkpointing after
    /// each; returns the seconds spent inserting and committing.
    fn load(
        &mut self,
        scratch: &ScratchEngine,
        batch_rows: usize,
        checkpoint_each_batch: bool,
    ) -> BenchResult<f64> {
        let rows = self.settings.rows;
        let mut generator = self.generator(rows as u64);
        let (mut seconds, mut logical_bytes) = (0.0, 0);
        for first_id in (1..=rows).step_by(batch_rows) {
            let count = batch_rows.min(rows + 1 - first_id);
            let (batch_seconds, batch_bytes) =
                self.insert_batch(scratch, &mut generator, first_id, count)?;
            seconds += batch_seconds;
            logical_bytes += batch_bytes;
            if checkpoint_each_batch {
                scratch.engine.checkpoint()?;
            }
        }
        self.logical_bytes_per_row = logical_bytes as f64 / rows as f64;
        Ok(seconds)
    }

    fn logical_mb(&self, rows: usize) -> f64 {
        rows as f64 * self.logical_bytes_per_row / MB
    }

    /// Random primary keys among the loaded rows.
    fn random_keys(&self, seed: u64) -> Vec<i64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..self.settings.lookups)
            .map(|_| rng.gen_range(1..=self.settings.rows as i64))
            .collect()
    }
}

/// Write 4 KiB and `fdatasync`, `count` times: the latency a commit cannot beat. The samples,
/// in µs.
fn raw_fsync_micros(dir: &Path, count: usize) -> BenchResult<Vec<f64>> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    std::fs::remove_file(&path)?;
    Ok(samples)
}

/// Single-row transactions from 1 and from [`COMMIT_THREADS`] threads. The disk is probed
/// with raw fsyncs before each run, since its latency drifts with the machine's other work.
fn measure_commits(bench: &mut Bench, report: &mut Report) -> BenchResult<()> {
    eprintln!("single-row commits");
    let scratch = bench.open_engine(EngineOptions::default())?;
    let next_id = AtomicI64::new(1);
    let mut raw_fsync_samples = Vec::new();
    let plans = [
        (1, bench.settings.commits_one_thread),
        (COMMIT_THREADS, bench.settings.commits_per_thread),
    ];
    for (threads, commits_per_thread) in plans {
        let mut rates = Vec::new();
        let mut fsyncs_per_commit = Vec::new();
        let mut latencies_micros = Vec::new();
        for repeat in 0..REPEATS {
            raw_fsync_samples.extend(raw_fsync_micros(&bench.root, bench.settings.raw_fsyncs)?);
            let fsyncs_before = scratch.engine.wal_fsyncs();
            let start = Instant::now();
            std::thread::scope(|scope| -> BenchResult<()> {
                let workers: Vec<_> = (0..threads)
                    .map(|thread| {
                        let mut generator = bench.generator((repeat * 100 + thread) as u64);
                        let (engine, table, next_id) = (&scratch.engine, scratch.table, &next_id);
                        scope.spawn(move || -> storage::Result<Vec<f64>> {
                            let mut latencies = Vec::with_capacity(commits_per_thread);
                            for _ in 0..commits_per_thread {
                                let id = next_id.fetch_add(1, Ordering::Relaxed);
                                let row = generator.row(id);
                                let start = Instant::now();
                                let mut txn = engine.begin();
                                txn.insert(table.oid, row)?;
                                txn.commit()?;
                                latencies.push(start.elapsed().as_secs_f64() * 1e6);
                            }
                            Ok(latencies)
                        })
                    })
                    .collect();
                for worker in workers {
                    let latencies = worker
                        .join()
                        .map_err(|_| "a committing thread panicked")??;
                    latencies_micros.extend(latencies);
                }
                Ok(())
            })?;
            let seconds = start.elapsed().as_secs_f64();
            let commits = (threads * commits_per_thread) as f64;
            rates.push(commits / seconds);
            let fsyncs = scratch.engine.wal_fsyncs() - fsyncs_before;
            fsyncs_per_commit.push(fsyncs as f64 / commits);
        }
        let label = if threads == 1 { "thread" } else { "threads" };
        report.add(
            format!("single-row commit latency (median of all), {threads} {label}"),
            &[median(latencies_micros)],
            "µs",
        );
        report.add(
            format!("single-row commits, {threads} {label}"),
            &rates,
            "commits/s",
        );
        report.add(
            format!("WAL fsyncs per commit, {threads} {label}"),
            &fsyncs_per_commit,
            "fsyncs/commit",
        );
    }
    report.add(
        "raw 4 KiB write + fdatasync on the data directory (median of all)",
        &[median(raw_fsync_samples)],
        "µs",
    );
    Ok(())
}

/// Looks keys up by primary key in one read transaction, until all are done or
/// `budget_seconds` have passed; returns lookups per second.
fn lookups_per_second(
    scratch: &ScratchEngine,
    keys: &[i64],
    budget_seconds: f64,
) -> BenchResult<f64> {
    let txn = scratch.engine.begin();
    let start = Instant::now();
    let mut done = 0;
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        for key in chunk {
            let found = txn.index_lookup(scratch.table.pkey, &[Value::Int8(*key)])?;
            if found.len() != 1 {
                return Err(format!("primary key {key} found {} rows", found.len()).into());
            }
            black_box(found);
        }
        done += chunk.len();
        if start.elapsed().as_secs_f64() > budget_seconds {
            break;
        }
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

/// Rows yielded by one scan partition.
fn scan_partition(partition: &ScanPartition) -> storage::Result<usize> {
    let mut rows = 0;
    for batch in partition.iter() {
        let batch = batch?;
        rows += batch.rows.len();
        black_box(batch);
    }
    Ok(rows)
}

/// Scans the whole table (in parallel over its partitions if asked); returns the seconds.
fn full_scan_seconds(scratch: &ScratchEngine, rows: usize, parallel: bool) -> BenchResult<f64> {
    Ok(full_scan(scratch, rows, parallel)?.seconds)
}

/// Wall-clock and CPU time (all threads of the process) of one full scan.
struct ScanTiming {
    seconds: f64,
    cpu_seconds: f64,
}

impl ScanTiming {
    /// How many CPUs were busy on average: below the thread count when the scan waited for
    /// CPUs other processes held (or for locks).
    fn cores_busy(&self) -> f64 {
        self.cpu_seconds / self.seconds
    }
}

fn full_scan(scratch: &ScratchEngine, rows: usize, parallel: bool) -> BenchResult<ScanTiming> {
    let txn = scratch.engine.begin();
    let cpu_start = process_cpu_seconds();
    let start = Instant::now();
    let partitions = txn.scan_partitions(scratch.table.oid, &ScanOptions::default())?;
    let seen = if parallel {
        partitions
            .par_iter()
            .map(scan_partition)
            .try_reduce(|| 0, |a, b| Ok(a + b))?
    } else {
        partitions
            .iter()
            .map(scan_partition)
            .sum::<storage::Result<usize>>()?
    };
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = process_cpu_seconds() - cpu_start;
    if seen != rows {
        return Err(format!("the scan saw {seen} rows, {rows} were loaded").into());
    }
    Ok(ScanTiming {
        seconds,
        cpu_seconds,
    })
}

/// The resident-set size once the allocator has returned what it does not use.
fn settled_resident_bytes() -> BenchResult<f64> {
    release_free_memory();
    Ok(resident_bytes().ok_or("cannot read VmRSS from /proc/self/status")? as f64)
}

/// Bulk load into memtables, memory, lookups and scan on memtables; checkpoint, memory and
/// lookups on the segment it wrote.
fn measure_load_and_lookups(bench: &mut Bench, report: &mut Report) -> BenchResult<()> {
    eprintln!("batched load, lookups, checkpoint, memory");
    let rows = bench.settings.rows;
    let per_million = 1e6 / rows as f64;
    let budget = bench.settings.lookup_budget_seconds;
    let mut load_rates = Vec::new();
    let mut memtable_mib = Vec::new();
    let mut memtable_lookups = Vec::new();
    let mut memtable_scan_rows = Vec::new();
    let mut memtable_scan_mb = Vec::new();
    let mut checkpoint_rates = Vec::new();
    let mut segment_mib = Vec::new();
    let mut segment_lookups = Vec::new();
    for repeat in 0..REPEATS {
        let scratch = bench.open_engine(EngineOptions::default())?;
        let resident_empty = settled_resident_bytes()?;
        let seconds = bench.load(&scratch, bench.settings.batch_rows, false)?;
        load_rates.push(rows as f64 / seconds);
        let resident_memtables = settled_resident_bytes()?;
        memtable_mib.push((resident_memtables - resident_empty) * per_million / MIB);

        let keys = bench.random_keys(repeat as u64);
        memtable_lookups.push(lookups_per_second(&scratch, &keys, budget)?);
        let seconds = full_scan_seconds(&scratch, rows, false)?;
        memtable_scan_rows.push(rows as f64 / seconds);
        memtable_scan_mb.push(bench.logical_mb(rows) / seconds);

        let start = Instant::now();
        let stats = scratch.engine.checkpoint()?;
        checkpoint_rates.push(rows as f64 / start.elapsed().as_secs_f64());
        if stats.sealed_rows != rows {
            return Err(format!("checkpoint sealed {} of {rows} rows", stats.sealed_rows).into());
        }
        let resident_segments = settled_resident_bytes()?;
        segment_mib.push((resident_segments - resident_empty) * per_million / MIB);
        segment_lookups.push(lookups_per_second(&scratch, &keys, budget)?);
    }
    let batch = bench.settings.batch_rows;
    report.add(
        format!("batched insert ({batch}-row transactions)"),
        &load_rates,
        "rows/s",
    );
    report.add(
        "point lookups by primary key, memtable rows",
        &memtable_lookups,
        "lookups/s",
    );
    report.add(
        "point lookups by primary key, segment rows",
        &segment_lookups,
        "lookups/s",
    );
    report.add(
        "full scan, memtable, 1 thread",
        &memtable_scan_rows,
        "rows/s",
    );
    report.add("full scan, memtable, 1 thread", &memtable_scan_mb, "MB/s");
    report.add(
        "checkpoint (memtable to segment)",
        &checkpoint_rates,
        "rows/s",
    );
    report.add(
        "memory, rows in memtables",
        &memtable_mib,
        "MiB per 1M rows",
    );
    report.add(
        "memory, rows in segments (after checkpoint)",
        &segment_mib,
        "MiB per 1M rows",
    );
    Ok(())
}

/// Many small segments: full scans on 1 thread and in parallel, then one compaction merging
/// them all.
fn measure_scans_and_compaction(bench: &mut Bench, report: &mut Report) -> BenchResult<()> {
    let rows = bench.settings.rows;
    let segments = bench.settings.compaction_segments;
    let segment_rows = rows.div_ceil(segments);
    let threads = rayon::current_num_threads();
    eprintln!("scans and compaction over {segments} segments of {segment_rows} rows");
    let mut scan_rows = Vec::new();
    let mut scan_mb = Vec::new();
    let mut parallel_scan_rows = Vec::new();
    let mut parallel_scan_mb = Vec::new();
    let mut scan_cores = Vec::new();
    let mut parallel_scan_cores = Vec::new();
    let mut compaction_rows = Vec::new();
    let mut compaction_mb = Vec::new();
    let mut compaction_disk_mb = Vec::new();
    for _ in 0..REPEATS {
        let scratch = bench.open_engine(EngineOptions {
            compaction_small_segment_rows: segment_rows + 1,
            ..Default::default()
        })?;
        bench.load(&scratch, segment_rows, true)?;
        let loaded_segments = scratch.engine.segment_count(scratch.table.oid);
        if loaded_segments != Some(rows.div_ceil(segment_rows)) {
            return Err(format!("expected {segments} segments, found {loaded_segments:?}").into());
        }
        // Untimed: both timed scans then start from the same page and block-cache state.
        full_scan_seconds(&scratch, rows, false)?;
        let single = full_scan(&scratch, rows, false)?;
        scan_rows.push(rows as f64 / single.seconds);
        scan_mb.push(bench.logical_mb(rows) / single.seconds);
        scan_cores.push(single.cores_busy());
        let parallel = full_scan(&scratch, rows, true)?;
        parallel_scan_rows.push(rows as f64 / parallel.seconds);
        parallel_scan_mb.push(bench.logical_mb(rows) / parallel.seconds);
        parallel_scan_cores.push(parallel.cores_busy());

        let start = Instant::now();
        let stats = scratch.engine.compact()?;
        let seconds = start.elapsed().as_secs_f64();
        if stats.rows_written != rows || scratch.engine.segment_count(scratch.table.oid) != Some(1)
        {
            return Err(format!("compaction did not merge every segment: {stats:?}").into());
        }
        compaction_rows.push(rows as f64 / seconds);
        compaction_mb.push(bench.logical_mb(rows) / seconds);
        compaction_disk_mb.push(stats.bytes_read as f64 / MB / seconds);
    }
    let on_segments = format!("full scan, {segments} segments");
    report.add(format!("{on_segments}, 1 thread"), &scan_rows, "rows/s");
    report.add(format!("{on_segments}, 1 thread"), &scan_mb, "MB/s");
    report.add(format!("{on_segments}, 1 thread"), &scan_cores, "CPUs busy");
    let parallel = format!("{on_segments}, parallel ({threads} rayon threads)");
    report.add(parallel.clone(), &parallel_scan_rows, "rows/s");
    report.add(parallel.clone(), &parallel_scan_mb, "MB/s");
    report.add(parallel, &parallel_scan_cores, "CPUs busy");
    let compaction = format!("compaction ({segments} segments into 1)");
    report.add(compaction.clone(), &compaction_rows, "rows/s");
    report.add(compaction.clone(), &compaction_mb, "MB/s");
    report.add(
        format!("{compaction}, compressed segment bytes read"),
        &compaction_disk_mb,
        "MB/s",
    );
    Ok(())
}

/// Numbers as a reader wants them: thousands separated, decimals only for small values.
fn format_value(value: f64) -> String {
    if value.abs() >= 100.0 {
        let digits = format!("{:.0}", value.abs());
        let mut grouped = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        if value < 0.0 {
            grouped.insert(0, '-');
        }
        grouped
    } else if value.abs() >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The 1-minute load average: how busy the machine was with work other than ours.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn total_memory_gib() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / MIB)
}

/// The report: the machine and settings, the table, and how to read it.
fn print_report(bench: &Bench, report: &Report, args: &[String], load_at_start: &str) {
    let settings = &bench.settings;
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = total_memory_gib().map_or("? GiB".into(), |g| format!("{g:.1} GiB"));
    let (fs_type, device) = filesystem_of(&bench.root).unwrap_or(("unknown".into(), "?".into()));
    let real = if fsync_is_real(&fs_type) { "yes" } else { "NO" };
    let build = if cfg!(debug_assertions) {
        "debug (figures are not representative: use --release)"
    } else {
        "release"
    };
    println!("## custos storage benchmark\n");
    let arguments: String = args.iter().map(|a| format!(" {a}")).collect();
    println!("- command: `storage_bench{arguments}`");
    println!(
        "- machine: {cpus} CPUs (nproc), {}, {memory} RAM",
        cpu_model()
    );
    println!(
        "- data directory: {} on {fs_type} ({device}); fsync is real: {real}",
        bench.root.display()
    );
    println!(
        "- load average (1 min) at start / end: {load_at_start} / {} (the CPUs and disk are shared)",
        load_average()
    );
    println!("- build: {build}");
    println!(
        "- rows: {}; mean logical row size {:.0} bytes; names from {}",
        settings.rows, bench.logical_bytes_per_row, bench.pool.source
    );
    println!("- every value is the median of {REPEATS} runs\n");
    println!("| metric | value | unit |");
    println!("|---|---:|---|");
    for metric in &report.metrics {
        println!(
            "| {} | {} | {} |",
            metric.name,
            format_value(metric.value),
            metric.unit
        );
    }
    println!();
    println!(
        "Commits: {} single-row transactions on 1 thread, {COMMIT_THREADS} x {} on {COMMIT_THREADS} \
         threads. Lookups: up to {} random keys (at most {} s), one `index_lookup` each, in one read \
         transaction. \
         Scans materialise every column of every row; segments are read from a warm page cache \
         after one untimed scan; \"CPUs busy\" is the process's CPU time over the wall time of \
         a scan (below the thread count: the scan waited for CPUs or locks). Memory: `VmRSS` growth after `malloc_trim`, the primary-key B-tree included; after the \
         checkpoint it counts the mapped segment pages touched so far.",
        settings.commits_one_thread,
        settings.commits_per_thread,
        settings.lookups,
        settings.lookup_budget_seconds
    );
}

fn run(args: &[String]) -> BenchResult<()> {
    let settings = Settings::from_args(args)?;
    let base = settings.data_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base)?;
    let scratch_root = tempfile::Builder::new()
        .prefix("custos-storage-bench-")
        .tempdir_in(&base)?;
    let root = scratch_root.path().to_path_buf();
    match filesystem_of(&root) {
        Some((fs_type, _)) if !fsync_is_real(&fs_type) => eprintln!(
            "WARNING: {} is on {fs_type}: fsync does not reach a disk, commit figures are \
             meaningless; pass --data-dir on a real disk",
            root.display()
        ),
        _ if settings.data_dir.is_none() => eprintln!(
            "note: engines live in {}; it must be on a real disk for the fsync figures \
             (choose with --data-dir)",
            root.display()
        ),
        _ => {}
    }
    let pool = Arc::new(NamePool::load(&default_tickets_csv()));
    let mut bench = Bench {
        settings,
        root,
        pool,
        engines_opened: 0,
        logical_bytes_per_row: 0.0,
    };
    let started = Instant::now();
    let load_at_start = load_average();
    let mut report = Report::default();
    measure_commits(&mut bench, &mut report)?;
    measure_load_and_lookups(&mut bench, &mut report)?;
    measure_scans_and_compaction(&mut bench, &mut report)?;
    eprintln!(
        "done in {:.1} s{}",
        started.elapsed().as_secs_f64(),
        if bench.settings.quick { " (quick)" } else { "" }
    );
    print_report(&bench, &report, args, &load_at_start);
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(error) = run(&args) {
        eprintln!("storage_bench: {error}");
        std::process::exit(1);
    }
}
