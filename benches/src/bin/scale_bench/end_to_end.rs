//! The scale set through SQL: the `custos` server started in a temporary data directory, the
//! rows loaded with `COPY items (id, sel, embedding) FROM STDIN (FORMAT binary)` (pgvector's
//! binary vector form inside PostgreSQL's binary COPY format, [`COPY_CHUNK_ROWS`] rows per
//! statement so that no transaction nears the WAL's record limit), `CHECKPOINT`, the HNSW
//! built with `CREATE INDEX`, then one client running a prepared statement with a binary
//! vector parameter per query, for each ef_search, and filtered (`WHERE sel < $2`).
//!
//! `id` is the row's offset in the set, so results compare directly with the ground truth;
//! `sel` is [`permille_of`] the row, so `sel < p` is the in-process filter.

use std::error::Error;
use std::time::{Duration, Instant};

use custos_benches::wire::servers::{custos_binary, Server, Session};
use futures_util::SinkExt;
use tokio_postgres::types::private::BytesMut;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use crate::in_process::Point;
use crate::scale_set::{permille_of, recall, ScaleSet, DIM, K};
use crate::{BenchResult, Settings, EF_CONSTRUCTION, M};

/// Rows per COPY statement (about 155 MB of COPY data at 384 dimensions).
const COPY_CHUNK_ROWS: usize = 100_000;
/// Bytes per CopyData message sent.
const COPY_MESSAGE_BYTES: usize = 1 << 20;

/// A `vector` parameter in pgvector's binary form.
#[derive(Debug)]
struct PgVector<'a>(&'a [f32]);

impl ToSql for PgVector<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        encode_vector(self.0, out)?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "vector"
    }

    to_sql_checked!();
}

/// pgvector's binary form: int16 dimensions, int16 0, big-endian float4s.
fn encode_vector(vector: &[f32], out: &mut BytesMut) -> Result<(), Box<dyn Error + Sync + Send>> {
    out.extend_from_slice(&i16::try_from(vector.len())?.to_be_bytes());
    out.extend_from_slice(&0i16.to_be_bytes());
    for value in vector {
        out.extend_from_slice(&value.to_be_bytes());
    }
    Ok(())
}

/// What the server did with the scale set.
#[derive(Debug, Default)]
pub(crate) struct EndToEnd {
    pub version: String,
    pub copy_seconds: f64,
    pub checkpoint_seconds: f64,
    pub build_seconds: f64,
    /// Waiting for compaction's index builds before measuring.
    pub background_wait_seconds: f64,
    pub background_builds: usize,
    pub explain: String,
    pub curve: Vec<Point>,
    /// (permille, mean rows returned, expected rows, recall)
    pub filtered: Vec<(u32, f64, f64, f64)>,
}

/// How long the view must stay empty before measuring.
const QUIET_PERIOD: Duration = Duration::from_secs(10);
/// Longest wait for background builds.
const BACKGROUND_WAIT_LIMIT: Duration = Duration::from_secs(20 * 60);

/// Waits until `pg_stat_progress_create_index` has shown no build for [`QUIET_PERIOD`]:
/// compaction merges the small segments the load left behind and builds their indexes in the
/// background, and until a merged segment's index exists it is searched exactly, which would
/// be measured instead of the index. Returns (seconds waited, distinct builds seen).
async fn wait_for_background_builds(session: &Session) -> BenchResult<(f64, usize)> {
    let started = Instant::now();
    let mut quiet_since = Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    while started.elapsed() < BACKGROUND_WAIT_LIMIT {
        let rows = session
            .query(
                "SELECT pid, index_relid::int8, tuples_done, tuples_total \
                 FROM pg_stat_progress_create_index",
                &[],
            )
            .await?;
        if rows.is_empty() {
            if quiet_since.elapsed() >= QUIET_PERIOD {
                break;
            }
        } else {
            quiet_since = Instant::now();
            for row in &rows {
                seen.insert((row.get::<_, i64>(1), row.get::<_, i64>(3)));
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok((
        started.elapsed().as_secs_f64() - QUIET_PERIOD.as_secs_f64(),
        seen.len(),
    ))
}

/// Starts a server, loads, indexes and queries the set.
pub(crate) fn run(
    set: &ScaleSet,
    truths: &[Vec<Vec<u32>>],
    filters_permille: &[u32],
    settings: &Settings,
) -> BenchResult<EndToEnd> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let server = Server::start_custos(&runtime, &custos_binary()?)?;
    let session = runtime.block_on(server.endpoint.connect())?;
    let outcome = runtime.block_on(drive(&session, set, truths, filters_permille, settings));
    runtime.block_on(session.close());
    let mut outcome =
        outcome.map_err(|error| format!("{error}; server log tail: {}", server.log_tail()))?;
    outcome.version = server.version.clone();
    drop(server);
    Ok(outcome)
}

/// One COPY statement's data: the binary header, rows `rows`, the trailer.
fn copy_data(set: &ScaleSet, rows: std::ops::Range<usize>) -> BenchResult<Vec<BytesMut>> {
    let mut messages = Vec::new();
    let mut buffer = BytesMut::with_capacity(COPY_MESSAGE_BYTES + 4096);
    buffer.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buffer.extend_from_slice(&0i32.to_be_bytes()); // flags
    buffer.extend_from_slice(&0i32.to_be_bytes()); // header extension length
    for row in rows {
        buffer.extend_from_slice(&3i16.to_be_bytes());
        buffer.extend_from_slice(&4i32.to_be_bytes());
        buffer.extend_from_slice(&i32::try_from(row)?.to_be_bytes());
        buffer.extend_from_slice(&4i32.to_be_bytes());
        buffer.extend_from_slice(&(permille_of(row as u32) as i32).to_be_bytes());
        buffer.extend_from_slice(&i32::try_from(4 + 4 * DIM)?.to_be_bytes());
        encode_vector(set.base_vector(row as u32), &mut buffer)
            .map_err(|error| error.to_string())?;
        if buffer.len() >= COPY_MESSAGE_BYTES {
            messages.push(buffer.split());
        }
    }
    buffer.extend_from_slice(&(-1i16).to_be_bytes());
    messages.push(buffer.split());
    Ok(messages)
}

async fn drive(
    session: &Session,
    set: &ScaleSet,
    truths: &[Vec<Vec<u32>>],
    filters_permille: &[u32],
    settings: &Settings,
) -> BenchResult<EndToEnd> {
    let mut report = EndToEnd::default();
    session
        .batch_execute(&format!(
            "CREATE TABLE items (id int PRIMARY KEY, sel int NOT NULL, embedding vector({DIM}))"
        ))
        .await?;
    let started = Instant::now();
    for first in (0..set.rows).step_by(COPY_CHUNK_ROWS) {
        let rows = first..(first + COPY_CHUNK_ROWS).min(set.rows);
        let messages = copy_data(set, rows)?;
        let sink = session
            .copy_in("COPY items (id, sel, embedding) FROM STDIN (FORMAT binary)")
            .await?;
        futures_util::pin_mut!(sink);
        for message in messages {
            sink.send(message.freeze()).await?;
        }
        sink.finish().await?;
    }
    report.copy_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    session.batch_execute("CHECKPOINT").await?;
    report.checkpoint_seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "  custos server: COPY of {} rows in {:.1} s ({:.0} rows/s), CHECKPOINT {:.1} s",
        set.rows,
        report.copy_seconds,
        set.rows as f64 / report.copy_seconds,
        report.checkpoint_seconds
    );
    let started = Instant::now();
    session
        .batch_execute(&format!(
            "CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops) \
             WITH (m = {M}, ef_construction = {EF_CONSTRUCTION})"
        ))
        .await?;
    report.build_seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "  custos server: CREATE INDEX ... USING hnsw in {:.1} s",
        report.build_seconds
    );
    let (waited, builds_seen) = wait_for_background_builds(session).await?;
    report.background_wait_seconds = waited;
    report.background_builds = builds_seen;
    eprintln!(
        "  custos server: waited {waited:.1} s for {builds_seen} background index builds \
         (compaction) to finish"
    );
    let search = session
        .prepare("SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10")
        .await?;
    let plan = session
        .query(
            "EXPLAIN SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10",
            &[&PgVector(set.query(0))],
        )
        .await?;
    report.explain = plan
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n");
    for &ef in &settings.ef_values {
        session
            .batch_execute(&format!("SET hnsw.ef_search = {ef}"))
            .await?;
        let mut best_qps: f64 = 0.0;
        let mut recall_sum = 0.0;
        for pass in 0..=settings.repeats {
            let started = Instant::now();
            let mut answers = Vec::with_capacity(set.query_count());
            for query in 0..set.query_count() {
                let rows = session
                    .query(&search, &[&PgVector(set.query(query))])
                    .await?;
                answers.push(
                    rows.iter()
                        .map(|row| row.get::<_, i32>(0) as u32)
                        .collect::<Vec<u32>>(),
                );
            }
            let seconds = started.elapsed().as_secs_f64();
            if pass == 0 {
                continue; // warm-up
            }
            best_qps = best_qps.max(set.query_count() as f64 / seconds);
            recall_sum = answers
                .iter()
                .enumerate()
                .map(|(query, found)| recall(set, query, found, &truths[0][query], &|_| true))
                .sum();
        }
        let mean_recall = recall_sum / set.query_count() as f64;
        eprintln!("  custos server: ef_search {ef}: recall@10 {mean_recall:.4}, {best_qps:.0} q/s");
        report.curve.push(Point {
            ef,
            recall: mean_recall,
            qps: best_qps,
        });
    }
    session.batch_execute("RESET hnsw.ef_search").await?;
    let filtered = session
        .prepare("SELECT id FROM items WHERE sel < $2 ORDER BY embedding <=> $1 LIMIT 10")
        .await?;
    for (slot, &permille) in filters_permille.iter().enumerate() {
        let threshold = permille as i32;
        let accept = move |row: u32| permille_of(row) < permille;
        let (mut rows_returned, mut recall_sum, mut expected) = (0usize, 0.0, 0usize);
        for (query, truth) in truths[slot + 1].iter().enumerate() {
            let rows = session
                .query(&filtered, &[&PgVector(set.query(query)), &threshold])
                .await?;
            let found: Vec<u32> = rows.iter().map(|row| row.get::<_, i32>(0) as u32).collect();
            rows_returned += found.len();
            expected += truth.len().min(K);
            recall_sum += recall(set, query, &found, truth, &accept);
        }
        let queries = set.query_count() as f64;
        let entry = (
            permille,
            rows_returned as f64 / queries,
            expected as f64 / queries,
            recall_sum / queries,
        );
        eprintln!(
            "  custos server: filtered {:.1} %: {:.2} of {:.2} rows, recall@10 {:.4}",
            f64::from(permille) / 10.0,
            entry.1,
            entry.2,
            entry.3
        );
        report.filtered.push(entry);
    }
    Ok(report)
}
