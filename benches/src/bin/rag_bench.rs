//! `rag_bench`: end-to-end latency of `rag_context` (issue 5) on the 8,469 support tickets.
//!
//! Set-up (untimed): a fresh `custos serve`; `tickets(id int PRIMARY KEY, description text,
//! description_vec vector(384) GENERATED ALWAYS AS (embed(description)) STORED)` filled from
//! `customer_support_tickets.csv` by `\copy` (psql, CSV), an HNSW cosine index built, a
//! CHECKPOINT (rows and index in segments), and 20 warm-up questions.
//!
//! Measured: the client-side wall time of `SELECT rank, source, row_key, content, score, flags
//! FROM rag_context($1, 5)` (prepared, tokio-postgres, one connection) for 300 distinct,
//! deterministically generated questions ("I have a payment issue with my Dell XPS. What can I
//! do?" — the ticket subjects and products of the CSV in three phrasings):
//! - **cold question**: each question seen for the first time (embedding + ANN search + safety
//!   flags + wire);
//! - **repeated question**: the same 300 again (the question's embedding comes from the
//!   server's cache: search + flags + wire).
//!
//! Printed: p50, p99 and mean of each, in milliseconds, and the plan of the per-source query
//! (it must be an index scan). Usage: `rag_bench [--questions N]`. Build first:
//! `cargo build --release -p custos-server -p custos-benches`.

use std::collections::HashSet;
use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use custos_benches::wire::measure::psql_copy;
use custos_benches::wire::servers::{custos_binary, Server};
use custos_benches::{model_dir, parse_csv};
use tokio::runtime::Runtime;

type BenchResult<T> = Result<T, Box<dyn Error>>;

const K: i32 = 5;
const WARM_UP_QUESTIONS: usize = 20;
const DEFAULT_QUESTIONS: usize = 300;
/// Upper bound on loading the tickets (embedding 8,469 texts).
const LOAD_TIMEOUT: Duration = Duration::from_secs(3_600);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The tickets CSV: (id, description), distinct subjects, distinct products.
struct Tickets {
    rows: Vec<(String, String)>,
    subjects: Vec<String>,
    products: Vec<String>,
}

fn read_tickets() -> BenchResult<Tickets> {
    let path = workspace_root().join("../shared/data/customer_support_tickets.csv");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let records = parse_csv(&text);
    let header = records.first().ok_or("empty tickets CSV")?;
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("no column {name:?} in the tickets CSV"))
    };
    let (id, description) = (column("Ticket ID")?, column("Ticket Description")?);
    let (subject, product) = (column("Ticket Subject")?, column("Product Purchased")?);
    let mut tickets = Tickets {
        rows: Vec::new(),
        subjects: Vec::new(),
        products: Vec::new(),
    };
    for record in &records[1..] {
        let field = |i: usize| record.get(i).cloned().unwrap_or_default();
        tickets.rows.push((field(id), field(description)));
        for (list, value) in [
            (&mut tickets.subjects, field(subject)),
            (&mut tickets.products, field(product)),
        ] {
            if !value.is_empty() && !list.contains(&value) {
                list.push(value);
            }
        }
    }
    Ok(tickets)
}

/// `count` distinct questions built from the subjects and products, in a fixed order.
fn questions(tickets: &Tickets, count: usize) -> Vec<String> {
    let phrasings = [
        "I have a {s} problem with my {p}. What can I do?",
        "How do I resolve a {s} issue on the {p}?",
        "A customer reports {s} after buying a {p}; are there similar tickets?",
    ];
    let (subjects, products) = (&tickets.subjects, &tickets.products);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(count);
    let limit = subjects.len() * products.len() * phrasings.len();
    for i in 0..limit * 4 {
        if out.len() == count {
            break;
        }
        let subject = subjects[i % subjects.len()].to_lowercase();
        let product = &products[(i / subjects.len() + 7 * i) % products.len()];
        let phrasing = phrasings[(i / subjects.len()) % phrasings.len()];
        let question = phrasing.replace("{s}", &subject).replace("{p}", product);
        if seen.insert(question.clone()) {
            out.push(question);
        }
    }
    out
}

fn write_csv(path: &Path, rows: &[(String, String)]) -> BenchResult<()> {
    let quote = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (id, text) in rows {
        writeln!(file, "{},{}", quote(id), quote(text))?;
    }
    file.flush()?;
    Ok(())
}

/// p-th percentile (nearest rank) of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(label: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    println!(
        "rag_context k={K}, {label}: p50 {:.2} ms, p99 {:.2} ms, mean {:.2} ms over {} questions",
        percentile(&samples, 50.0),
        percentile(&samples, 99.0),
        mean,
        samples.len()
    );
}

async fn run(server: &Server, questions: &[String]) -> BenchResult<()> {
    let session = server.endpoint.connect().await?;
    let statement = session
        .prepare("SELECT rank, source::text, row_key, content, score, flags FROM rag_context($1::text, $2::int)")
        .await?;
    let plan = session
        .query(
            "EXPLAIN SELECT id FROM tickets ORDER BY description_vec <=> embed('x') LIMIT 5",
            &[],
        )
        .await?;
    let plan: Vec<String> = plan.iter().map(|r| r.get::<_, String>(0)).collect();
    println!("per-source query plan: {}", plan.join(" / "));
    if !plan.iter().any(|line| line.contains("Index Scan using")) {
        return Err("the per-source query does not use the HNSW index".into());
    }
    let (warm_up, measured) = questions.split_at(WARM_UP_QUESTIONS);
    for question in warm_up {
        session.query(&statement, &[question, &K]).await?;
    }
    for label in ["cold question", "repeated question (embedding cached)"] {
        let mut samples = Vec::with_capacity(measured.len());
        let mut flagged = 0usize;
        for question in measured {
            let started = Instant::now();
            let rows = session.query(&statement, &[question, &K]).await?;
            samples.push(started.elapsed().as_secs_f64() * 1_000.0);
            if rows.len() != K as usize {
                return Err(format!("{question:?}: {} rows, expected {K}", rows.len()).into());
            }
            flagged += rows
                .iter()
                .filter(|r| !r.get::<_, Vec<String>>(5).is_empty())
                .count();
        }
        summary(label, samples);
        if label == "cold question" {
            println!(
                "  ({flagged} of {} returned chunks carry safety flags)",
                measured.len() * K as usize
            );
        }
    }
    session.close().await;
    Ok(())
}

fn main() -> BenchResult<()> {
    let mut count = DEFAULT_QUESTIONS;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--questions" => {
                count = args
                    .next()
                    .ok_or("--questions needs a number")?
                    .parse()
                    .map_err(|e| format!("--questions: {e}"))?;
            }
            other => {
                return Err(
                    format!("unknown argument {other}; usage: rag_bench [--questions N]").into(),
                )
            }
        }
    }
    let models = model_dir();
    if !models.join("model.onnx").is_file() {
        return Err(format!(
            "no model in {}: run scripts/fetch-models (or set CUSTOS_MODEL_DIR)",
            models.display()
        )
        .into());
    }
    // Before any thread exists: the server inherits it.
    std::env::set_var("CUSTOS_MODEL_DIR", &models);
    let tickets = read_tickets()?;
    let questions = questions(&tickets, count + WARM_UP_QUESTIONS);
    if questions.len() < count + WARM_UP_QUESTIONS {
        return Err(format!("only {} distinct questions can be made", questions.len()).into());
    }
    let scratch = tempfile::tempdir()?;
    let csv = scratch.path().join("tickets.csv");
    write_csv(&csv, &tickets.rows)?;

    let binary = custos_binary()?;
    let runtime = Runtime::new()?;
    let mut server = Server::start_custos(&runtime, &binary)?;
    println!("custos: {}", server.version);
    let execute = |sql: &str| -> BenchResult<()> {
        runtime.block_on(async {
            let session = server.endpoint.connect().await?;
            let result = session.batch_execute(sql).await;
            session.close().await;
            result.map_err(|e| format!("{sql}: {e}").into())
        })
    };
    execute(
        "CREATE TABLE tickets (id int PRIMARY KEY, description text,
             description_vec vector(384) GENERATED ALWAYS AS (embed(description)) STORED)",
    )?;
    let load = psql_copy(
        &PathBuf::from("psql"),
        &server,
        "tickets",
        &csv,
        LOAD_TIMEOUT,
    )?;
    execute(
        "CREATE INDEX tickets_description_vec_idx ON tickets
             USING hnsw (description_vec vector_cosine_ops) WITH (m = 16, ef_construction = 64);
         CHECKPOINT",
    )?;
    println!(
        "loaded {} tickets (embedded on COPY) in {:.1} s; HNSW index built; {} questions + {} warm-up",
        tickets.rows.len(),
        load.seconds,
        count,
        WARM_UP_QUESTIONS
    );
    let outcome = runtime.block_on(run(&server, &questions));
    server.stop();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&samples, 50.0), 50.0);
        assert_eq!(percentile(&samples, 99.0), 99.0);
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
    }

    #[test]
    fn questions_are_distinct_and_deterministic() {
        let tickets = Tickets {
            rows: Vec::new(),
            subjects: (0..16).map(|i| format!("Subject {i}")).collect(),
            products: (0..42).map(|i| format!("Product {i}")).collect(),
        };
        let a = questions(&tickets, 320);
        assert_eq!(a.len(), 320);
        assert_eq!(a.iter().collect::<HashSet<_>>().len(), 320);
        assert_eq!(a, questions(&tickets, 320));
    }
}
