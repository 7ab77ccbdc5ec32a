//! `vector_bench`: vector search end to end over the wire, custos against PostgreSQL 16 with
//! pgvector (the `pgserver` Python package's bundled build), same data, same HNSW parameters,
//! in one run; printed as Markdown tables with ratios, and a recall/throughput plot.
//!
//! Both servers run on 127.0.0.1 (TCP, no TLS). One client, one prepared statement
//! `SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10` with the query vector as a binary
//! parameter (pgvector's binary form), queries one after the other; queries/s is wall time of
//! a pass over every query, best of `passes` after a warm-up pass. Recall@10 counts ties (a
//! returned row is a hit when its distance is at most the 10th true neighbour's), as
//! ann-benchmarks does; the tickets hold exact duplicates.
//!
//! Data (read in place from `../shared/data`, see its README): **scifact** (BEIR SciFact,
//! 5,183 documents × 384, 300 test queries) and **tickets** (8,469 ticket descriptions × 384;
//! every 17th row is a query and is left out of the base). Exact top-10 (cosine) is computed
//! here by brute force.
//!
//! Per data set and server: load (batched INSERTs with binary parameters, one transaction),
//! `CHECKPOINT` (custos seals the rows into a segment, where indexes live), then the HNSW build
//! `CREATE INDEX ... USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction =
//! 64)` timed (both build on 2 threads: rayon for custos, parallel maintenance workers for
//! PostgreSQL), `ANALYZE`, then recall@10 and queries/s for `hnsw.ef_search` 10..400, then
//! filtered searches `WHERE sel < $2` at 50 %, 10 %, 1 % and 0.1 % selectivity at the default
//! ef_search (40): rows returned against `min(10, qualifying rows)`, and recall against the
//! exact filtered top-10. pgvector filters after its index scan, so it returns fewer rows when
//! few of the `ef_search` candidates qualify; custos filters inside the search.
//!
//! Usage: `vector_bench [--quick] [--data-dir DIR] [--only scifact,tickets] [--no-postgres]
//! [--plot FILE]`. `--quick` (tickets only: 3,000 rows, 100 queries, 4 ef_search values, one
//! pass) runs in well under a minute with a release build. The plot (PNG through matplotlib,
//! installed with pip if missing; SVG written here otherwise) goes to
//! `benches/results/vector_recall_qps.png` unless `--plot` says otherwise.
//!
//! The custos binary is the one beside this executable (or `CUSTOS_BIN`); PostgreSQL and
//! pgvector come from `pip install pgserver` (installed if missing; `--no-postgres` skips it).

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use custos_benches::wire::process::run_bounded;
use custos_benches::wire::servers::{custos_binary, Server, Session};
use tokio_postgres::types::private::BytesMut;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

type BenchResult<T> = Result<T, Box<dyn Error>>;

const K: usize = 10;
const DIM: usize = 384;
const SELECTIVITIES: [(&str, i32); 4] = [("50 %", 500), ("10 %", 100), ("1 %", 10), ("0.1 %", 1)];
const PIP_TIMEOUT: Duration = Duration::from_secs(600);

/// A `vector` parameter in pgvector's binary form.
#[derive(Debug)]
struct PgVector<'a>(&'a [f32]);

impl ToSql for PgVector<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.extend_from_slice(&i16::try_from(self.0.len())?.to_be_bytes());
        out.extend_from_slice(&0i16.to_be_bytes());
        for x in self.0 {
            out.extend_from_slice(&x.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "vector"
    }

    to_sql_checked!();
}

struct Settings {
    quick: bool,
    data_dir: PathBuf,
    only: Vec<String>,
    postgres: bool,
    plot: PathBuf,
    ef_values: Vec<usize>,
    passes: usize,
}

impl Settings {
    fn from_args(args: &[String]) -> BenchResult<Settings> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut settings = Settings {
            quick: false,
            data_dir: root.join("..").join("..").join("shared").join("data"),
            only: vec!["scifact".into(), "tickets".into()],
            postgres: true,
            plot: root.join("results").join("vector_recall_qps.png"),
            ef_values: vec![10, 20, 40, 80, 120, 200, 400],
            passes: 3,
        };
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let mut value = || rest.next().cloned().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--quick" => settings.quick = true,
                "--data-dir" => settings.data_dir = PathBuf::from(value()?),
                "--only" => settings.only = value()?.split(',').map(str::to_string).collect(),
                "--no-postgres" => settings.postgres = false,
                "--plot" => settings.plot = PathBuf::from(value()?),
                "--help" | "-h" => {
                    println!(
                        "vector_bench [--quick] [--data-dir DIR] [--only scifact,tickets] \
                         [--no-postgres] [--plot FILE]"
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other}").into()),
            }
        }
        if settings.quick {
            settings.only = vec!["tickets".into()];
            settings.ef_values = vec![10, 40, 100, 400];
            settings.passes = 1;
        }
        Ok(settings)
    }
}

/// Base vectors, queries and their exact top-10 (distances, nearest first).
struct Dataset {
    name: &'static str,
    base: Vec<Vec<f32>>,
    queries: Vec<Vec<f32>>,
    /// `sel` of each base row: spread evenly over 0..1000.
    sel: Vec<i32>,
}

/// A float32 matrix from a `.npy` file (`<f4`, C order).
fn read_npy_f32(path: &Path) -> BenchResult<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(format!("{} is not a .npy file", path.display()).into());
    }
    let (header_len, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        )
    };
    let header = String::from_utf8_lossy(&bytes[start..start + header_len]).to_string();
    if !header.contains("'<f4'") || header.contains("'fortran_order': True") {
        return Err(format!("{}: expected float32 in C order", path.display()).into());
    }
    let data = &bytes[start + header_len..];
    let rows = data.len() / (DIM * 4);
    if rows * DIM * 4 != data.len() {
        return Err(format!("{}: not {DIM} columns", path.display()).into());
    }
    Ok(data
        .chunks_exact(DIM * 4)
        .map(|row| {
            row.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .collect())
}

fn load_dataset(name: &str, settings: &Settings) -> BenchResult<Dataset> {
    let (name, mut base, mut queries) = match name {
        "scifact" => {
            let dir = settings.data_dir.join("beir").join("scifact");
            (
                "scifact",
                read_npy_f32(&dir.join("corpus_emb.npy"))?,
                read_npy_f32(&dir.join("query_emb.npy"))?,
            )
        }
        "tickets" => {
            let all = read_npy_f32(
                &settings
                    .data_dir
                    .join("customer_support_tickets.desc_emb.npy"),
            )?;
            let (mut base, mut queries) = (Vec::new(), Vec::new());
            for (i, v) in all.into_iter().enumerate() {
                if i % 17 == 0 {
                    queries.push(v);
                } else {
                    base.push(v);
                }
            }
            ("tickets", base, queries)
        }
        other => return Err(format!("unknown data set {other}").into()),
    };
    if settings.quick {
        base.truncate(3000);
        queries.truncate(100);
    }
    let sel = (0..base.len())
        .map(|i| ((i * 7919) % 1000) as i32)
        .collect();
    Ok(Dataset {
        name,
        base,
        queries,
        sel,
    })
}

/// Cosine distance as pgvector computes it (f32 sums).
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    (1.0 - (f64::from(dot) / (f64::from(na) * f64::from(nb)).sqrt()).clamp(-1.0, 1.0)) as f32
}

/// Exact top-`k` distances among base rows accepted by `keep`, nearest first.
fn exact_top(data: &Dataset, query: &[f32], keep: impl Fn(usize) -> bool) -> Vec<f32> {
    let mut d: Vec<f32> = (0..data.base.len())
        .filter(|&i| keep(i))
        .map(|i| cosine(&data.base[i], query))
        .collect();
    let k = K.min(d.len());
    if k == 0 {
        return d;
    }
    d.select_nth_unstable_by(k - 1, f32::total_cmp);
    d.truncate(k);
    d.sort_by(f32::total_cmp);
    d
}

/// Recall@10 with ties of the returned row ids against the exact distances.
fn recall(data: &Dataset, query: &[f32], ids: &[i32], truth: &[f32]) -> f64 {
    let Some(kth) = truth.last() else {
        return 1.0;
    };
    let hits = ids
        .iter()
        .filter(|&&id| {
            let row = (id - 1) as usize;
            row < data.base.len() && cosine(&data.base[row], query) <= kth + 1e-6
        })
        .count()
        .min(truth.len());
    hits as f64 / truth.len() as f64
}

/// One server under test.
struct Engine {
    label: &'static str,
    server: Server,
    session: Session,
}

/// What one engine did on one data set.
#[derive(Default, Clone)]
struct Results {
    load_seconds: f64,
    build_seconds: f64,
    /// (ef_search, recall@10, queries/s)
    sweep: Vec<(usize, f64, f64)>,
    /// (label, mean rows returned, expected rows, recall)
    filtered: Vec<(String, f64, f64, f64)>,
}

impl Results {
    /// The best queries/s among settings reaching recall@10 ≥ 0.95.
    fn best_qps_at_95(&self) -> Option<(usize, f64, f64)> {
        self.sweep
            .iter()
            .filter(|(_, r, _)| *r >= 0.95)
            .copied()
            .max_by(|a, b| a.2.total_cmp(&b.2))
    }
}

async fn run_engine(engine: &Engine, data: &Dataset, settings: &Settings) -> BenchResult<Results> {
    let s = &engine.session;
    let mut results = Results::default();
    s.batch_execute(
        "DROP TABLE IF EXISTS items;
         CREATE TABLE items (id int PRIMARY KEY, sel int NOT NULL, embedding vector(384))",
    )
    .await?;
    let start = Instant::now();
    s.batch_execute("BEGIN").await?;
    let batch = 100;
    let rows: Vec<usize> = (0..data.base.len()).collect();
    for chunk in rows.chunks(batch) {
        let placeholders: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO items (id, sel, embedding) VALUES {}",
            placeholders.join(", ")
        );
        let ids: Vec<i32> = chunk.iter().map(|&i| i as i32 + 1).collect();
        let vectors: Vec<PgVector> = chunk.iter().map(|&i| PgVector(&data.base[i])).collect();
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for (n, &i) in chunk.iter().enumerate() {
            params.push(&ids[n]);
            params.push(&data.sel[i]);
            params.push(&vectors[n]);
        }
        s.execute(sql.as_str(), &params).await?;
    }
    s.batch_execute("COMMIT; CHECKPOINT").await?;
    results.load_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    s.batch_execute(
        "CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops) \
         WITH (m = 16, ef_construction = 64)",
    )
    .await?;
    results.build_seconds = start.elapsed().as_secs_f64();
    s.batch_execute("ANALYZE items").await?;
    eprintln!(
        "  {}: loaded {} rows in {:.2} s, HNSW built in {:.2} s",
        engine.label,
        data.base.len(),
        results.load_seconds,
        results.build_seconds
    );
    let search = s
        .prepare("SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10")
        .await?;
    let truths: Vec<Vec<f32>> = data
        .queries
        .iter()
        .map(|q| exact_top(data, q, |_| true))
        .collect();
    for &ef in &settings.ef_values {
        s.batch_execute(&format!("SET hnsw.ef_search = {ef}"))
            .await?;
        let mut best_qps: f64 = 0.0;
        let mut total_recall = 0.0;
        for pass in 0..=settings.passes {
            let started = Instant::now();
            let mut answers = Vec::with_capacity(data.queries.len());
            for q in &data.queries {
                let rows = s.query(&search, &[&PgVector(q)]).await?;
                answers.push(
                    rows.iter()
                        .map(|r| r.get::<_, i32>(0))
                        .collect::<Vec<i32>>(),
                );
            }
            let seconds = started.elapsed().as_secs_f64();
            if pass == 0 && settings.passes > 0 {
                continue; // warm-up
            }
            best_qps = best_qps.max(data.queries.len() as f64 / seconds);
            total_recall = data
                .queries
                .iter()
                .zip(&answers)
                .zip(&truths)
                .map(|((q, ids), truth)| recall(data, q, ids, truth))
                .sum::<f64>();
        }
        let mean_recall = total_recall / data.queries.len() as f64;
        eprintln!(
            "  {}: ef_search {ef}: recall@10 {mean_recall:.3}, {best_qps:.0} queries/s",
            engine.label
        );
        results.sweep.push((ef, mean_recall, best_qps));
    }
    s.batch_execute("RESET hnsw.ef_search").await?;
    let filtered = s
        .prepare("SELECT id FROM items WHERE sel < $2 ORDER BY embedding <=> $1 LIMIT 10")
        .await?;
    let queries = &data.queries[..data.queries.len().min(100)];
    for (label, threshold) in SELECTIVITIES {
        let qualifying = data.sel.iter().filter(|&&s| s < threshold).count();
        let expected = qualifying.min(K) as f64;
        let (mut rows_returned, mut recall_sum) = (0usize, 0.0);
        for q in queries {
            let rows = s.query(&filtered, &[&PgVector(q), &threshold]).await?;
            let ids: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
            let truth = exact_top(data, q, |i| data.sel[i] < threshold);
            rows_returned += ids.len();
            recall_sum += recall(data, q, &ids, &truth);
        }
        let mean_rows = rows_returned as f64 / queries.len() as f64;
        let mean_recall = recall_sum / queries.len() as f64;
        eprintln!(
            "  {}: filtered {label}: {mean_rows:.2} of {expected} rows, recall@10 {mean_recall:.3}",
            engine.label,
        );
        results
            .filtered
            .push((label.to_string(), mean_rows, expected, mean_recall));
    }
    Ok(results)
}

/// The `pgserver` package's PostgreSQL programs, installed with pip if missing.
fn pgserver_bin_dir() -> BenchResult<PathBuf> {
    let locate = || -> Option<PathBuf> {
        let output = run_bounded(
            Command::new("python3").args([
                "-c",
                "import os, pgserver; print(os.path.dirname(pgserver.__file__))",
            ]),
            Duration::from_secs(60),
        )
        .ok()?;
        let dir = PathBuf::from(output.stdout.lines().last()?.trim())
            .join("pginstall")
            .join("bin");
        dir.join("postgres").is_file().then_some(dir)
    };
    if let Some(dir) = locate() {
        return Ok(dir);
    }
    eprintln!("installing pgserver (PostgreSQL 16 + pgvector) with pip ...");
    let _ = run_bounded(
        Command::new("python3").args(["-m", "pip", "install", "--quiet", "pgserver"]),
        PIP_TIMEOUT,
    );
    locate().ok_or_else(|| "pip could not install pgserver".into())
}

/// PostgreSQL refuses to run as root, so the benchmark runs it as the `postgres` OS user:
/// that user must be able to read pgserver's installation (pgserver itself does the same).
fn open_to_other_users(bin_dir: &Path) -> BenchResult<()> {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let install = bin_dir.parent().ok_or("pgserver bin dir has no parent")?;
    fn walk(path: &Path) -> std::io::Result<()> {
        let meta = std::fs::metadata(path)?;
        let mode = meta.permissions().mode();
        let extra = if meta.is_dir() || mode & 0o100 != 0 {
            0o055
        } else {
            0o044
        };
        if mode & extra != extra {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | extra))?;
        }
        if meta.is_dir() {
            for entry in std::fs::read_dir(path)? {
                walk(&entry?.path())?;
            }
        }
        Ok(())
    }
    walk(install)?;
    let mut ancestor = install.parent();
    while let Some(dir) = ancestor {
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o001 == 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o011))?;
        }
        ancestor = dir.parent();
    }
    Ok(())
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "—".into()
    }
}

fn report(name: &str, custos: &Results, pgvector: Option<&Results>, out: &mut String) {
    let _ = writeln!(out, "\n### {name}\n");
    let _ = writeln!(out, "| measurement | custos | pgvector | ratio |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    let pg = |f: &dyn Fn(&Results) -> f64| pgvector.map(f);
    let build = pg(&|r| r.build_seconds);
    let _ = writeln!(
        out,
        "| HNSW build (m = 16, ef_construction = 64) | {:.2} s | {} | {} (speed-up) |",
        custos.build_seconds,
        build.map_or("—".into(), |b| format!("{b:.2} s")),
        build.map_or("—".into(), |b| ratio(b, custos.build_seconds)),
    );
    let ours = custos.best_qps_at_95();
    let theirs = pgvector.and_then(Results::best_qps_at_95);
    let _ = writeln!(
        out,
        "| best queries/s at recall@10 ≥ 0.95 | {} | {} | {} |",
        ours.map_or("not reached".into(), |(ef, r, q)| format!(
            "{q:.0} (ef {ef}, recall {r:.3})"
        )),
        theirs.map_or("not reached".into(), |(ef, r, q)| format!(
            "{q:.0} (ef {ef}, recall {r:.3})"
        )),
        match (ours, theirs) {
            (Some(a), Some(b)) => ratio(a.2, b.2),
            _ => "—".into(),
        }
    );
    let _ = writeln!(out, "\n| ef_search | custos recall@10 | custos q/s | pgvector recall@10 | pgvector q/s | q/s ratio |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|");
    for (i, (ef, recall, qps)) in custos.sweep.iter().enumerate() {
        let theirs = pgvector.and_then(|p| p.sweep.get(i));
        let _ = writeln!(
            out,
            "| {ef} | {recall:.3} | {qps:.0} | {} | {} | {} |",
            theirs.map_or("—".into(), |t| format!("{:.3}", t.1)),
            theirs.map_or("—".into(), |t| format!("{:.0}", t.2)),
            theirs.map_or("—".into(), |t| ratio(*qps, t.2)),
        );
    }
    let _ = writeln!(out, "\nFiltered (`WHERE sel < n`, ef_search 40, k = 10), mean rows returned / expected and recall@10:\n");
    let _ = writeln!(out, "| selectivity | expected rows | custos rows | custos recall | pgvector rows | pgvector recall |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for (i, (label, rows, expected, recall)) in custos.filtered.iter().enumerate() {
        let theirs = pgvector.and_then(|p| p.filtered.get(i));
        let _ = writeln!(
            out,
            "| {label} | {expected:.0} | {rows:.2} | {recall:.3} | {} | {} |",
            theirs.map_or("—".into(), |t| format!("{:.2}", t.1)),
            theirs.map_or("—".into(), |t| format!("{:.3}", t.3)),
        );
    }
}

/// Writes the recall/throughput curves: PNG through matplotlib when Python has it (pip
/// installs it if it can), an SVG drawn here otherwise. Returns the file written.
fn plot(curves: &[(String, Vec<(f64, f64)>)], target: &Path) -> BenchResult<PathBuf> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let has_matplotlib = || {
        run_bounded(
            Command::new("python3").args(["-c", "import matplotlib"]),
            Duration::from_secs(60),
        )
        .is_ok_and(|o| o.success())
    };
    if !has_matplotlib() {
        let _ = run_bounded(
            Command::new("python3").args(["-m", "pip", "install", "--quiet", "matplotlib"]),
            PIP_TIMEOUT,
        );
    }
    if has_matplotlib() {
        let mut script = String::from(
            "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n\
             fig, ax = plt.subplots(figsize=(7, 4.5))\n",
        );
        for (label, points) in curves {
            let xs: Vec<String> = points.iter().map(|p| format!("{:.4}", p.0)).collect();
            let ys: Vec<String> = points.iter().map(|p| format!("{:.1}", p.1)).collect();
            let style = if label.starts_with("custos") {
                "-o"
            } else {
                "--s"
            };
            let _ = writeln!(
                script,
                "ax.plot([{}], [{}], '{style}', label='{label}')",
                xs.join(","),
                ys.join(",")
            );
        }
        let _ = writeln!(
            script,
            "ax.set_xlabel('recall@10')\nax.set_ylabel('queries/s (1 client, over the wire)')\n\
             ax.set_yscale('log')\nax.axvline(0.95, color='grey', lw=0.8, ls=':')\n\
             ax.grid(True, which='both', alpha=0.3)\nax.legend()\n\
             ax.set_title('HNSW (m=16, ef_construction=64), ef_search 10..400')\n\
             fig.tight_layout()\nfig.savefig(r'{}', dpi=120)",
            target.display()
        );
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("plot.py");
        std::fs::write(&path, script)?;
        let output = run_bounded(Command::new("python3").arg(&path), Duration::from_secs(120))?;
        if output.success() {
            return Ok(target.to_path_buf());
        }
        eprintln!("matplotlib failed: {}", output.describe_failure());
    }
    let svg = target.with_extension("svg");
    std::fs::write(&svg, svg_plot(curves))?;
    Ok(svg)
}

/// A minimal SVG line chart: recall@10 (x) against log queries/s (y).
fn svg_plot(curves: &[(String, Vec<(f64, f64)>)]) -> String {
    let (w, h, m) = (700.0, 450.0, 60.0);
    let all: Vec<(f64, f64)> = curves.iter().flat_map(|c| c.1.iter().copied()).collect();
    let x_min = all.iter().map(|p| p.0).fold(1.0, f64::min).min(0.9);
    let (y_min, y_max) = all.iter().fold((f64::MAX, 0f64), |(lo, hi), p| {
        (lo.min(p.1.max(1.0)), hi.max(p.1))
    });
    let (ly0, ly1) = (
        y_min.log10().floor(),
        y_max.log10().ceil().max(y_min.log10().floor() + 1.0),
    );
    let x = |r: f64| m + (r - x_min) / (1.0 - x_min) * (w - 2.0 * m);
    let y = |q: f64| h - m - (q.max(1.0).log10() - ly0) / (ly1 - ly0) * (h - 2.0 * m);
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"];
    let mut svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' font-family='sans-serif' font-size='12'>\
         <rect width='100%' height='100%' fill='white'/>\
         <line x1='{m}' y1='{}' x2='{}' y2='{}' stroke='black'/><line x1='{m}' y1='{m}' x2='{m}' y2='{}' stroke='black'/>\
         <text x='{}' y='{}' text-anchor='middle'>recall@10</text>\
         <text x='15' y='{}' transform='rotate(-90 15 {})' text-anchor='middle'>queries/s (log)</text>",
        h - m, w - m, h - m, h - m, w / 2.0, h - 15.0, h / 2.0, h / 2.0
    );
    for (i, (label, points)) in curves.iter().enumerate() {
        let color = colors[i % colors.len()];
        let path: Vec<String> = points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill='none' stroke='{color}' stroke-width='2' points='{}'/>\
             <text x='{}' y='{}' fill='{color}'>{label}</text>",
            path.join(" "),
            m + 10.0,
            m + 15.0 * (i as f64 + 1.0)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn run(args: &[String]) -> BenchResult<()> {
    let settings = Settings::from_args(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let custos = {
        let server = Server::start_custos(&runtime, &custos_binary()?)?;
        let session = runtime.block_on(server.endpoint.connect())?;
        Engine {
            label: "custos",
            server,
            session,
        }
    };
    let pgvector = if settings.postgres {
        match pgserver_bin_dir().and_then(|dir| {
            open_to_other_users(&dir)?;
            let server = Server::start_postgres(&runtime, &dir)?;
            let session = runtime.block_on(server.endpoint.connect())?;
            runtime.block_on(session.batch_execute("CREATE EXTENSION IF NOT EXISTS vector"))?;
            Ok(Engine {
                label: "pgvector",
                server,
                session,
            })
        }) {
            Ok(engine) => Some(engine),
            Err(error) => {
                eprintln!("pgvector unavailable ({error}); measuring custos alone");
                None
            }
        }
    } else {
        None
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## vector_bench{}\n",
        if settings.quick { " --quick" } else { "" }
    );
    let _ = writeln!(out, "- custos: {}", custos.server.version);
    if let Some(pg) = &pgvector {
        let extension = runtime
            .block_on(pg.session.query_one(
                "SELECT extversion FROM pg_extension WHERE extname = 'vector'",
                &[],
            ))
            .map(|r| r.get::<_, String>(0))
            .unwrap_or_default();
        let _ = writeln!(out, "- pgvector {extension} on {}", pg.server.version);
    }
    let _ = writeln!(
        out,
        "- one client over TCP loopback, prepared statement, binary vector parameter; load average {}",
        custos_benches::wire::report::load_average()
    );
    let mut curves = Vec::new();
    for name in &settings.only {
        let data = load_dataset(name, &settings)?;
        eprintln!(
            "{}: {} base vectors, {} queries",
            data.name,
            data.base.len(),
            data.queries.len()
        );
        let ours = runtime.block_on(run_engine(&custos, &data, &settings))?;
        let theirs = match &pgvector {
            Some(engine) => Some(runtime.block_on(run_engine(engine, &data, &settings))?),
            None => None,
        };
        report(data.name, &ours, theirs.as_ref(), &mut out);
        curves.push((
            format!("custos {}", data.name),
            ours.sweep.iter().map(|s| (s.1, s.2)).collect(),
        ));
        if let Some(theirs) = &theirs {
            curves.push((
                format!("pgvector {}", data.name),
                theirs.sweep.iter().map(|s| (s.1, s.2)).collect(),
            ));
        }
    }
    let plotted = plot(&curves, &settings.plot)?;
    let _ = writeln!(out, "\nPlot: `{}`", plotted.display());
    println!("{out}");
    for engine in [Some(custos), pgvector].into_iter().flatten() {
        runtime.block_on(engine.session.close());
        drop(engine.server);
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(error) = run(&args) {
        eprintln!("vector_bench: {error}");
        std::process::exit(1);
    }
}
