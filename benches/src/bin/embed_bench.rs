//! `embed_bench`: embeddings computed inside custos, measured through SQL (issue 5).
//!
//! - **Throughput**: the ticket descriptions of `customer_support_tickets.csv` (8,469 texts)
//!   go into `tickets(id, description, description_vec vector(384) GENERATED ALWAYS AS
//!   (embed(description)) STORED)` by `\copy` (psql, CSV) and by `INSERT ... SELECT` from a
//!   plain table, each on a freshly started server (so the text cache is cold; the model is
//!   loaded by a warm-up statement before timing). In the same run, Python onnxruntime embeds
//!   the same texts with the same model files (`benches/python/embed_baseline.py`: same
//!   recipe, same batch size of 32, length-sorted batches, as many intra-op threads as custos
//!   uses in all: one per core). Printed: texts/s of each and the ratio custos / Python
//!   (target >= 0.9).
//! - **Retrieval quality**: BEIR SciFact's 5,183 documents ("title text", as MTEB embeds them)
//!   are copied into a table with a generated embedding column, an HNSW cosine index is
//!   built, and the 300 test queries run as `SELECT id FROM scifact ORDER BY emb <=> embed($1)
//!   LIMIT 10` (prepared; the plan is checked to use the index). nDCG@10 from
//!   `qrels/test.tsv` (binary gains, log2 discounts, trec_eval's convention). Target >= 0.64.
//!
//! The model directory is `$CUSTOS_MODEL_DIR`, else `<workspace>/models`
//! (`scripts/fetch-models`). The servers get it through `CUSTOS_MODEL_DIR`.
//!
//! Usage: `embed_bench [--quick] [--texts N] [--repeats R] [--only throughput|scifact]`.
//! `--quick` is `--texts 500 --repeats 1 --only throughput`. Build first:
//! `cargo build --release -p custos-server -p custos-benches`.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use custos_benches::wire::measure::psql_copy;
use custos_benches::wire::servers::{custos_binary, Server};
use custos_benches::{model_dir, parse_csv};
use tokio::runtime::Runtime;

type BenchResult<T> = Result<T, Box<dyn Error>>;

const THROUGHPUT_TARGET: f64 = 0.9;
const NDCG_TARGET: f64 = 0.64;
/// Texts per model run, for custos (the embedder's `SESSION_BATCH`) and for Python.
const BATCH: usize = 32;
const K: usize = 10;
/// Upper bound on one COPY / INSERT / Python run (debug builds on a loaded machine).
const STEP_TIMEOUT: Duration = Duration::from_secs(3_600);

struct Options {
    texts: Option<usize>,
    repeats: usize,
    throughput: bool,
    scifact: bool,
}

fn parse_options() -> BenchResult<Options> {
    let mut options = Options {
        texts: None,
        repeats: 1,
        throughput: true,
        scifact: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value"))
                .and_then(|v| v.parse::<usize>().map_err(|e| format!("{name}: {e}")))
        };
        match arg.as_str() {
            "--quick" => {
                options.texts = Some(500);
                options.repeats = 1;
                options.scifact = false;
            }
            "--texts" => options.texts = Some(value("--texts")?),
            "--repeats" => options.repeats = value("--repeats")?.max(1),
            "--only" => {
                let part = args.next().ok_or("--only needs throughput or scifact")?;
                options.throughput = part == "throughput";
                options.scifact = part == "scifact";
                if !options.throughput && !options.scifact {
                    return Err(format!("--only {part}: expected throughput or scifact").into());
                }
            }
            other => {
                return Err(format!(
                    "unknown argument {other}\nusage: embed_bench [--quick] [--texts N] \
                     [--repeats R] [--only throughput|scifact]"
                )
                .into())
            }
        }
    }
    Ok(options)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared_data() -> PathBuf {
    workspace_root().join("../shared/data")
}

fn ticket_descriptions() -> BenchResult<Vec<String>> {
    let text = std::fs::read_to_string(shared_data().join("customer_support_tickets.csv"))?;
    let records = parse_csv(&text);
    let header = records.first().ok_or("empty tickets CSV")?;
    let column = header
        .iter()
        .position(|name| name == "Ticket Description")
        .ok_or("no Ticket Description column")?;
    Ok(records[1..]
        .iter()
        .filter_map(|record| record.get(column).cloned())
        .collect())
}

/// A CSV field, always quoted.
fn csv_field(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Writes `(id, text)` rows as CSV.
fn write_csv(path: &Path, rows: &[(String, String)]) -> BenchResult<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (id, text) in rows {
        writeln!(file, "{},{}", csv_field(id), csv_field(text))?;
    }
    file.flush()?;
    Ok(())
}

fn psql() -> PathBuf {
    PathBuf::from("psql")
}

async fn execute(server: &Server, sql: &str) -> BenchResult<()> {
    let session = server.endpoint.connect().await?;
    let result = session.batch_execute(sql).await;
    session.close().await;
    result.map_err(|e| format!("{sql}: {e}").into())
}

/// Loads the model (both pool sessions) before anything is timed.
const WARM_UP: &str = "SELECT embed('warm-up ' || g) FROM generate_series(1, 200) g";

const TICKETS_TABLE: &str = "CREATE TABLE tickets (id int PRIMARY KEY, description text,
    description_vec vector(384) GENERATED ALWAYS AS (embed(description)) STORED)";

/// Seconds custos takes to `\copy` the tickets CSV into the embedded table.
fn custos_copy(runtime: &Runtime, binary: &Path, csv: &Path) -> BenchResult<f64> {
    let mut server = Server::start_custos(runtime, binary)?;
    runtime.block_on(execute(&server, TICKETS_TABLE))?;
    runtime.block_on(execute(&server, WARM_UP))?;
    let outcome = psql_copy(&psql(), &server, "tickets", csv, STEP_TIMEOUT)?;
    server.stop();
    Ok(outcome.seconds)
}

/// Seconds custos takes for `INSERT INTO tickets SELECT * FROM raw` (raw loaded untimed).
fn custos_insert_select(runtime: &Runtime, binary: &Path, csv: &Path) -> BenchResult<f64> {
    let mut server = Server::start_custos(runtime, binary)?;
    runtime.block_on(execute(
        &server,
        &format!("{TICKETS_TABLE}; CREATE TABLE raw (id int, description text)"),
    ))?;
    psql_copy(&psql(), &server, "raw", csv, STEP_TIMEOUT)?;
    runtime.block_on(execute(&server, WARM_UP))?;
    let start = Instant::now();
    runtime.block_on(execute(
        &server,
        "INSERT INTO tickets (id, description) SELECT id, description FROM raw",
    ))?;
    let seconds = start.elapsed().as_secs_f64();
    server.stop();
    Ok(seconds)
}

/// Texts/s of the Python onnxruntime baseline over the texts in `texts_file` (JSON lines).
fn python_baseline(texts_file: &Path, threads: usize) -> BenchResult<f64> {
    let script = workspace_root().join("benches/python/embed_baseline.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg("--model-dir")
        .arg(model_dir())
        .arg("--texts")
        .arg(texts_file)
        .args(["--batch", &BATCH.to_string()])
        .args(["--threads", &threads.to_string()])
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "{} failed (python3 -m pip install onnxruntime numpy tokenizers): {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(text.trim())?;
    report["texts_per_second"]
        .as_f64()
        .ok_or_else(|| format!("unexpected baseline output: {text}").into())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn throughput(runtime: &Runtime, binary: &Path, options: &Options) -> BenchResult<bool> {
    let mut texts = ticket_descriptions()?;
    if let Some(limit) = options.texts {
        texts.truncate(limit);
    }
    let scratch = tempfile::tempdir()?;
    let csv = scratch.path().join("tickets.csv");
    let rows: Vec<(String, String)> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| ((i + 1).to_string(), text.clone()))
        .collect();
    write_csv(&csv, &rows)?;
    let jsonl = scratch.path().join("tickets.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&jsonl)?);
    for text in &texts {
        writeln!(file, "{}", serde_json::to_string(text)?)?;
    }
    file.flush()?;
    drop(file);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = texts.len() as f64;
    let (mut python, mut copy, mut insert) = (Vec::new(), Vec::new(), Vec::new());
    for repeat in 0..options.repeats {
        // Alternate the order so a burst of load elsewhere does not fall on one side only.
        let mut steps = ["python", "copy", "insert"];
        if repeat % 2 == 1 {
            steps.reverse();
        }
        for step in steps {
            match step {
                "python" => {
                    let rate = python_baseline(&jsonl, cores)?;
                    eprintln!("python onnxruntime: {rate:.1} texts/s");
                    python.push(rate);
                }
                "copy" => {
                    let rate = n / custos_copy(runtime, binary, &csv)?;
                    eprintln!("custos COPY: {rate:.1} texts/s");
                    copy.push(rate);
                }
                _ => {
                    let rate = n / custos_insert_select(runtime, binary, &csv)?;
                    eprintln!("custos INSERT ... SELECT: {rate:.1} texts/s");
                    insert.push(rate);
                }
            }
        }
    }
    let (python, copy, insert) = (median(python), median(copy), median(insert));
    println!(
        "throughput: {} ticket descriptions, {cores} threads, batch {BATCH}, median of {}",
        texts.len(),
        options.repeats
    );
    println!("  python onnxruntime        {python:8.1} texts/s");
    println!(
        "  custos COPY               {copy:8.1} texts/s   ratio {:.2}x (target >= {THROUGHPUT_TARGET})",
        copy / python
    );
    println!(
        "  custos INSERT ... SELECT  {insert:8.1} texts/s   ratio {:.2}x (target >= {THROUGHPUT_TARGET})",
        insert / python
    );
    Ok(copy / python >= THROUGHPUT_TARGET && insert / python >= THROUGHPUT_TARGET)
}

/// nDCG@k of a ranked list against the relevant ids (binary gains).
fn ndcg_at_k(ranked: &[String], relevant: &HashSet<String>, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, id)| relevant.contains(*id))
        .map(|(rank, _)| 1.0 / (rank as f64 + 2.0).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(k))
        .map(|rank| 1.0 / (rank as f64 + 2.0).log2())
        .sum();
    if ideal == 0.0 {
        0.0
    } else {
        dcg / ideal
    }
}

fn read_jsonl(path: &Path) -> BenchResult<Vec<serde_json::Value>> {
    std::fs::read_to_string(path)?
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).map_err(Into::into))
        .collect()
}

fn scifact(runtime: &Runtime, binary: &Path) -> BenchResult<bool> {
    let dir = shared_data().join("beir/scifact");
    let corpus: Vec<(String, String)> = read_jsonl(&dir.join("corpus.jsonl"))?
        .iter()
        .map(|doc| {
            let id = doc["_id"].as_str().unwrap_or_default().to_string();
            let title = doc["title"].as_str().unwrap_or_default();
            let text = doc["text"].as_str().unwrap_or_default();
            (id, format!("{title} {text}").trim().to_string())
        })
        .collect();
    let queries: HashMap<String, String> = read_jsonl(&dir.join("queries.jsonl"))?
        .iter()
        .map(|q| {
            (
                q["_id"].as_str().unwrap_or_default().to_string(),
                q["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut qrels: HashMap<String, HashSet<String>> = HashMap::new();
    for line in std::fs::read_to_string(dir.join("qrels/test.tsv"))?
        .lines()
        .skip(1)
    {
        let fields: Vec<&str> = line.split('\t').collect();
        if let [query, doc, score] = fields.as_slice() {
            if score.trim().parse::<i32>().unwrap_or(0) > 0 {
                qrels
                    .entry(query.to_string())
                    .or_default()
                    .insert(doc.to_string());
            }
        }
    }
    let scratch = tempfile::tempdir()?;
    let csv = scratch.path().join("scifact.csv");
    write_csv(&csv, &corpus)?;

    let mut server = Server::start_custos(runtime, binary)?;
    runtime.block_on(execute(
        &server,
        "CREATE TABLE scifact (id text PRIMARY KEY, body text,
             emb vector(384) GENERATED ALWAYS AS (embed(body)) STORED)",
    ))?;
    let load = psql_copy(&psql(), &server, "scifact", &csv, STEP_TIMEOUT)?;
    eprintln!(
        "scifact: {} documents copied and embedded in {:.1} s",
        load.rows, load.seconds
    );
    runtime.block_on(execute(
        &server,
        "CREATE INDEX scifact_emb ON scifact USING hnsw (emb vector_cosine_ops)
             WITH (m = 16, ef_construction = 64);
         CHECKPOINT",
    ))?;
    let mut query_ids: Vec<&String> = qrels.keys().collect();
    query_ids.sort();
    let results = runtime.block_on(async {
        let session = server.endpoint.connect().await?;
        let client: &tokio_postgres::Client = &session;
        let sql = "SELECT id FROM scifact ORDER BY emb <=> embed($1) LIMIT 10";
        let plan = client
            .simple_query(&format!("EXPLAIN {}", sql.replace("$1", "'probe'")))
            .await?;
        let plan_text: Vec<String> = plan
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                _ => None,
            })
            .collect();
        if !plan_text.iter().any(|line| line.contains("scifact_emb")) {
            return Err(format!("the HNSW index is not used:\n{}", plan_text.join("\n")).into());
        }
        let statement = client.prepare(sql).await?;
        let mut results = Vec::new();
        // The default ef_search first (the figure the target applies to), then a wider one.
        for ef_search in [40, 100] {
            client
                .batch_execute(&format!("SET hnsw.ef_search = {ef_search}"))
                .await?;
            let mut total = 0.0;
            let start = Instant::now();
            for id in &query_ids {
                let text = queries
                    .get(*id)
                    .ok_or_else(|| format!("query {id} not in queries.jsonl"))?;
                let rows = client.query(&statement, &[text]).await?;
                let ranked: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
                total += ndcg_at_k(&ranked, &qrels[*id], K);
            }
            let seconds = start.elapsed().as_secs_f64();
            results.push((ef_search, total / query_ids.len() as f64, seconds));
        }
        session.close().await;
        Ok::<_, Box<dyn Error>>(results)
    })?;
    server.stop();
    for (ef_search, ndcg, seconds) in &results {
        println!(
            "scifact: {} documents, {} test queries through SQL (HNSW ef_search {ef_search}, \
             embed($1)): nDCG@10 = {ndcg:.4} (target >= {NDCG_TARGET}); {:.1} ms per query",
            corpus.len(),
            query_ids.len(),
            seconds * 1_000.0 / query_ids.len() as f64
        );
    }
    Ok(results[0].1 >= NDCG_TARGET)
}

fn main() -> BenchResult<()> {
    let options = parse_options()?;
    let models = model_dir();
    if !models.join("model.onnx").is_file() {
        return Err(format!(
            "no model in {}: run scripts/fetch-models (or set CUSTOS_MODEL_DIR)",
            models.display()
        )
        .into());
    }
    // Before any thread exists: the servers inherit it.
    std::env::set_var("CUSTOS_MODEL_DIR", &models);
    let binary = custos_binary()?;
    let runtime = Runtime::new()?;
    let mut met = true;
    if options.throughput {
        met &= throughput(&runtime, &binary, &options)?;
    }
    if options.scifact {
        met &= scifact(&runtime, &binary)?;
    }
    if !met {
        println!("a target was not met");
    }
    Ok(())
}
