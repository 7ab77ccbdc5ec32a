//! Embeddings in SQL against the real server (issue 5): `embed()` on NULL, empty, 100 KB and
//! non-English texts; generated `embed(body)` columns filled on INSERT, UPDATE and COPY;
//! `ORDER BY v <=> embed('...') LIMIT k` through the HNSW index; `embed_chunks`; the
//! `custos_models` view and its cache counters; sixteen sessions embedding at once; a server
//! without model files; and identity with the reference vectors of the ticket descriptions.
//!
//! The model files come from `$CUSTOS_MODEL_DIR`, else `<workspace>/models`
//! (`scripts/fetch-models` puts them there; `scripts/test` runs it first). Names start with
//! `custos_`: they need the custos server.

mod vector_support;

use std::path::PathBuf;
use std::time::Duration;

use custos_tests::error::ensure;
use custos_tests::locate::{shared_data_dir, workspace_root};
use custos_tests::{CustosServer, HarnessError, HarnessResult, ServerOptions};
use tokio_postgres::Client;
use vector_support::{explain, read_npy_f32, PgVector};

/// Upper bound on the concurrent-sessions test: a deadlock detector, far above the seconds
/// the work takes even on a loaded debug build.
const CONCURRENCY_DEADLINE: Duration = Duration::from_secs(600);

fn model_dir() -> PathBuf {
    std::env::var_os("CUSTOS_MODEL_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("models"))
}

/// A server with the model directory configured by flag.
async fn server_with_model() -> HarnessResult<CustosServer> {
    let dir = model_dir();
    ensure(dir.join("model.onnx").is_file(), || {
        format!(
            "no model in {}: run scripts/fetch-models (or set CUSTOS_MODEL_DIR)",
            dir.display()
        )
    })?;
    CustosServer::start_with(ServerOptions {
        args: vec!["--model-dir".into(), dir.display().to_string()],
        env: Vec::new(),
    })
    .await
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        dot += f64::from(*x) * f64::from(*y);
        na += f64::from(*x) * f64::from(*x);
        nb += f64::from(*y) * f64::from(*y);
    }
    dot / (na * nb).sqrt()
}

fn norm(v: &[f32]) -> f64 {
    v.iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt()
}

/// The SQLSTATE and message of a failed statement.
fn db_error(error: &tokio_postgres::Error) -> (String, String, String) {
    match error.as_db_error() {
        Some(db) => (
            db.code().code().to_string(),
            db.message().to_string(),
            db.hint().unwrap_or("").to_string(),
        ),
        None => (String::new(), error.to_string(), String::new()),
    }
}

async fn embed(client: &Client, text: Option<&str>) -> HarnessResult<Option<Vec<f32>>> {
    let row = client.query_one("SELECT embed($1::text)", &[&text]).await?;
    Ok(row.get::<_, Option<PgVector>>(0).map(|v| v.0))
}

/// `(cache_hits, cache_misses, texts_embedded, loaded)` from `custos_models`.
async fn model_counters(client: &Client) -> HarnessResult<(i64, i64, i64, bool)> {
    let row = client
        .query_one(
            "SELECT cache_hits, cache_misses, texts_embedded, loaded FROM custos_models",
            &[],
        )
        .await?;
    Ok((row.get(0), row.get(1), row.get(2), row.get(3)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_embed_handles_null_empty_long_and_non_english_text() -> HarnessResult<()> {
    let server = server_with_model().await?;
    let client = server.endpoint().connect().await?;

    ensure(embed(&client, None).await?.is_none(), || {
        "embed(NULL) is not NULL".into()
    })?;
    let row = client
        .query_one("SELECT embed(NULL) IS NULL, vector_dims(embed(''))", &[])
        .await?;
    ensure(row.get::<_, bool>(0), || {
        "embed(NULL) IS NULL is false".into()
    })?;
    ensure(row.get::<_, i32>(1) == 384, || {
        "embed('') is not 384-d".into()
    })?;

    // 100 KB: truncated to the model's window, so it embeds like its beginning.
    let long =
        "the customer reports that the router drops the connection every night. ".repeat(1_500);
    ensure(long.len() > 100_000, || "test text is not 100 KB".into())?;
    let head: String = long.chars().take(3_000).collect();
    let long_vector = embed(&client, Some(&long)).await?.unwrap_or_default();
    let head_vector = embed(&client, Some(&head)).await?.unwrap_or_default();
    ensure(cosine(&long_vector, &head_vector) > 0.9999, || {
        format!(
            "100 KB text vs its head: cosine {}",
            cosine(&long_vector, &head_vector)
        )
    })?;

    let texts = [
        "",
        "我的信用卡被扣了两次款，请帮我退款。",
        "تم خصم المبلغ مرتين من بطاقتي الائتمانية",
        "🔥🚀 my order #42 never arrived 😡👎",
        "Ünïcödé çàfé naïve résumé",
    ];
    for text in texts {
        let vector = embed(&client, Some(text))
            .await?
            .ok_or_else(|| HarnessError::new(format!("embed({text:?}) is NULL")))?;
        ensure(vector.len() == 384, || {
            format!("{text:?}: {} dims", vector.len())
        })?;
        ensure((norm(&vector) - 1.0).abs() < 1e-4, || {
            format!("{text:?}: norm {}", norm(&vector))
        })?;
    }
    // Same meaning across phrasing: the reference pair of models.md.
    let a = embed(
        &client,
        Some("My card was charged twice for the same order"),
    )
    .await?;
    let b = embed(&client, Some("Duplicate payment on my credit card")).await?;
    let c = embed(&client, Some("The weather is nice today")).await?;
    let (a, b, c) = (
        a.unwrap_or_default(),
        b.unwrap_or_default(),
        c.unwrap_or_default(),
    );
    ensure((cosine(&a, &b) - 0.686).abs() < 0.002, || {
        format!("similar pair: {}", cosine(&a, &b))
    })?;
    ensure((cosine(&a, &c) - 0.085).abs() < 0.002, || {
        format!("unrelated pair: {}", cosine(&a, &c))
    })?;

    // The model can be named; an unknown one is refused.
    let named = client
        .query_one(
            "SELECT embed('hello', 'all-MiniLM-L6-v2') = embed('hello')",
            &[],
        )
        .await?;
    ensure(named.get::<_, bool>(0), || {
        "embed(text, model) differs".into()
    })?;
    let error = client
        .query_one("SELECT embed('hello', 'gpt-9')", &[])
        .await
        .err()
        .ok_or_else(|| HarnessError::new("unknown model accepted"))?;
    let (state, message, _) = db_error(&error);
    ensure(state == "22023", || {
        format!("unknown model: {state} {message}")
    })?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_generated_embedding_column_is_filled_on_insert_update_and_copy() -> HarnessResult<()>
{
    let server = server_with_model().await?;
    let client = server.endpoint().connect().await?;
    client
        .batch_execute(
            "CREATE TABLE notes (
                 id int PRIMARY KEY,
                 body text,
                 body_vec vector(384) GENERATED ALWAYS AS (embed(body)) STORED);
             INSERT INTO notes (id, body) VALUES
                 (1, 'refund for a damaged laptop'),
                 (2, NULL),
                 (3, ''),
                 (4, 'refund for a damaged laptop');
             CREATE TABLE drafts (id int, body text);
             INSERT INTO drafts SELECT g, 'draft number ' || g FROM generate_series(1, 300) g;
             INSERT INTO notes (id, body) SELECT id + 100, body FROM drafts;",
        )
        .await?;
    // Rows of one statement are embedded in batches, not one model call per row.
    let calls = "SELECT model_calls, texts_embedded FROM custos_models";
    let before = client.query_one(calls, &[]).await?;
    client
        .execute(
            "INSERT INTO notes (id, body) SELECT id + 500, 'batched ' || body FROM drafts",
            &[],
        )
        .await?;
    let after = client.query_one(calls, &[]).await?;
    let model_calls = after.get::<_, i64>(0) - before.get::<_, i64>(0);
    let embedded = after.get::<_, i64>(1) - before.get::<_, i64>(1);
    ensure(embedded == 300, || {
        format!("{embedded} texts embedded for 300 rows")
    })?;
    ensure(model_calls <= 2, || {
        format!("{model_calls} model calls for 300 rows (batches of 512 expected)")
    })?;
    // COPY, through psql's COPY FROM STDIN.
    let mut copy_data = String::new();
    for id in 1_000..1_050 {
        copy_data.push_str(&format!("{id}\tcopied ticket {id} about a broken screen\n"));
    }
    copy_data.push_str("1050\t\\N\n");
    let copied = server.psql(
        &[
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "COPY notes (id, body) FROM STDIN",
        ],
        Some(&copy_data),
    )?;
    ensure(copied.success(), || {
        format!("COPY failed: {}", copied.stderr)
    })?;

    let check = "SELECT count(*) FILTER (WHERE body IS NULL AND body_vec IS NOT NULL),
                        count(*) FILTER (WHERE body IS NOT NULL AND body_vec IS NULL),
                        count(*) FILTER (WHERE body_vec <=> embed(body) > 1e-4),
                        count(*)
                 FROM notes";
    let row = client.query_one(check, &[]).await?;
    let (null_with_vector, text_without_vector, wrong, total): (i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    ensure(total == 4 + 300 + 300 + 51, || format!("{total} rows"))?;
    ensure(null_with_vector == 0, || {
        format!("{null_with_vector} NULL bodies with a vector")
    })?;
    ensure(text_without_vector == 0, || {
        format!("{text_without_vector} bodies without vector")
    })?;
    ensure(wrong == 0, || {
        format!("{wrong} rows whose vector is not embed(body)")
    })?;

    // The generated column cannot be written.
    let error = client
        .execute(
            "INSERT INTO notes (id, body, body_vec) VALUES (9, 'x', embed('x'))",
            &[],
        )
        .await
        .err()
        .ok_or_else(|| HarnessError::new("writing a generated column was accepted"))?;
    ensure(db_error(&error).0 == "428C9", || {
        format!("{:?}", db_error(&error))
    })?;

    // UPDATE of body recomputes the vector (many rows at once, and one to NULL).
    let before: PgVector = client
        .query_one("SELECT body_vec FROM notes WHERE id = 101", &[])
        .await?
        .get(0);
    let updated = client
        .execute(
            "UPDATE notes SET body = 'the invoice shows the wrong amount, item ' || id
             WHERE id BETWEEN 101 AND 800",
            &[],
        )
        .await?;
    ensure(updated == 600, || format!("updated {updated}"))?;
    client
        .execute("UPDATE notes SET body = NULL WHERE id = 1", &[])
        .await?;
    let row = client.query_one(check, &[]).await?;
    ensure(
        row.get::<_, i64>(0) == 0 && row.get::<_, i64>(1) == 0,
        || "NULL/vector mismatch after UPDATE".into(),
    )?;
    ensure(row.get::<_, i64>(2) == 0, || {
        format!("{} rows stale after UPDATE", row.get::<_, i64>(2))
    })?;
    let after: PgVector = client
        .query_one("SELECT body_vec FROM notes WHERE id = 101", &[])
        .await?
        .get(0);
    ensure(cosine(&before.0, &after.0) < 0.99, || {
        "vector unchanged after its body changed".into()
    })?;
    // An UPDATE of another column keeps the vector.
    client
        .batch_execute("ALTER TABLE notes ADD COLUMN tag text; UPDATE notes SET tag = 'x'")
        .await?;
    let row = client.query_one(check, &[]).await?;
    ensure(row.get::<_, i64>(2) == 0, || {
        "vector changed by an unrelated UPDATE".into()
    })?;

    // A projection over many rows (batched per statement) agrees with the stored vectors.
    let row = client
        .query_one(
            "SELECT count(*) FROM (SELECT body_vec, embed(body) AS fresh FROM notes) s
             WHERE (body_vec <=> fresh) > 1e-4",
            &[],
        )
        .await?;
    ensure(row.get::<_, i64>(0) == 0, || "projection disagrees".into())?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_semantic_search_with_embed_uses_the_hnsw_index() -> HarnessResult<()> {
    let server = server_with_model().await?;
    let client = server.endpoint().connect().await?;
    client
        .batch_execute(
            "CREATE TABLE kb (id int PRIMARY KEY, body text,
                 body_vec vector(384) GENERATED ALWAYS AS (embed(body)) STORED);
             CREATE INDEX kb_vec ON kb USING hnsw (body_vec vector_cosine_ops);
             INSERT INTO kb (id, body) VALUES
                 (1, 'How do I reset my password?'),
                 (2, 'My credit card was charged twice'),
                 (3, 'The package arrived damaged'),
                 (4, 'Can I change my shipping address?'),
                 (5, 'The app crashes when I open settings');",
        )
        .await?;
    let query = "SELECT id FROM kb ORDER BY body_vec <=> embed('I was billed two times') LIMIT 2";
    let plan = explain(&client, query).await?.join("\n");
    ensure(plan.contains("kb_vec"), || {
        format!("index not used:\n{plan}")
    })?;
    let rows = client.query(query, &[]).await?;
    ensure(rows.first().map(|r| r.get::<_, i32>(0)) == Some(2), || {
        "billing question did not find the billing row".into()
    })?;
    // As a parameter (the RAG shape), prepared.
    let prepared = client
        .prepare("SELECT id FROM kb ORDER BY body_vec <=> embed($1) LIMIT 1")
        .await?;
    let row = client
        .query_one(&prepared, &[&"forgot my login password"])
        .await?;
    ensure(row.get::<_, i32>(0) == 1, || "password question".into())?;
    let plan = explain(
        &client,
        "SELECT id FROM kb ORDER BY body_vec <=> embed('broken box') LIMIT 3",
    )
    .await?
    .join("\n");
    ensure(plan.contains("kb_vec"), || {
        format!("index not used:\n{plan}")
    })?;
    // Without LIMIT the constant is still embedded once per statement: the model ran for
    // it once (texts_embedded grows by one for a new text however many rows are sorted).
    let (_, _, embedded_before, _) = model_counters(&client).await?;
    client
        .query(
            "SELECT id FROM kb ORDER BY body_vec <=> embed('a brand new question text')",
            &[],
        )
        .await?;
    let (_, _, embedded_after, _) = model_counters(&client).await?;
    ensure(embedded_after == embedded_before + 1, || {
        format!("model ran {} times", embedded_after - embedded_before)
    })?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_embed_chunks_covers_long_documents() -> HarnessResult<()> {
    let server = server_with_model().await?;
    let client = server.endpoint().connect().await?;
    let document = (1..=200)
        .map(|i| format!("Sentence number {i} of the warranty terms."))
        .collect::<Vec<_>>()
        .join(" ");
    let rows = client
        .query(
            "SELECT chunk_no, chunk FROM embed_chunks($1, 50, 10) ORDER BY chunk_no",
            &[&document],
        )
        .await?;
    ensure(rows.len() > 5, || format!("{} chunks", rows.len()))?;
    for (index, row) in rows.iter().enumerate() {
        ensure(row.get::<_, i32>(0) == index as i32 + 1, || {
            "chunk numbers".into()
        })?;
        let chunk: String = row.get(1);
        ensure(document.contains(&chunk), || {
            "chunk not taken from the text".into()
        })?;
    }
    let first: String = rows[0].get(1);
    let last: String = rows[rows.len() - 1].get(1);
    ensure(document.starts_with(&first), || "first chunk".into())?;
    ensure(document.ends_with(&last), || "last chunk".into())?;
    // The documented recipe: chunks into a table with a generated embedding column.
    client
        .batch_execute(
            "CREATE TABLE docs (id int PRIMARY KEY, body text);
             CREATE TABLE doc_chunks (doc_id int, chunk_no int, chunk text,
                 chunk_vec vector(384) GENERATED ALWAYS AS (embed(chunk)) STORED);",
        )
        .await?;
    client
        .execute("INSERT INTO docs VALUES (1, $1)", &[&document])
        .await?;
    let inserted = client
        .execute(
            "INSERT INTO doc_chunks (doc_id, chunk_no, chunk)
             SELECT d.id, c.chunk_no, c.chunk FROM docs d, embed_chunks(d.body) c",
            &[],
        )
        .await?;
    ensure(inserted >= 2, || format!("{inserted} chunks of 254 tokens"))?;
    let row = client
        .query_one(
            "SELECT chunk_no FROM doc_chunks
             ORDER BY chunk_vec <=> embed('sentence number 190 of the warranty') LIMIT 1",
            &[],
        )
        .await?;
    ensure(row.get::<_, i32>(0) == inserted as i32, || {
        "the last chunk holds sentence 190".into()
    })?;
    for bad in [
        "SELECT * FROM embed_chunks('x', 0)",
        "SELECT * FROM embed_chunks('x', 255)",
        "SELECT * FROM embed_chunks('x', 10, 10)",
        "SELECT * FROM embed_chunks('x', 10, -1)",
    ] {
        let error = client
            .query(bad, &[])
            .await
            .err()
            .ok_or_else(|| HarnessError::new(format!("accepted: {bad}")))?;
        ensure(db_error(&error).0 == "22023", || {
            format!("{bad}: {:?}", db_error(&error))
        })?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_models_view_shows_the_model_and_cache_hits() -> HarnessResult<()> {
    let server = server_with_model().await?;
    let client = server.endpoint().connect().await?;
    let row = client
        .query_one(
            "SELECT name, dimensions, sha256, loaded, cache_capacity FROM custos_models",
            &[],
        )
        .await?;
    ensure(row.get::<_, String>(0) == "all-MiniLM-L6-v2", || {
        "name".into()
    })?;
    ensure(row.get::<_, i32>(1) == 384, || "dimensions".into())?;
    ensure(
        row.get::<_, String>(2)
            == "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
        || "sha256".into(),
    )?;
    ensure(!row.get::<_, bool>(3), || {
        "loaded before any embed()".into()
    })?;
    ensure(row.get::<_, i64>(4) == 10_000, || "cache capacity".into())?;

    let (hits0, misses0, embedded0, _) = model_counters(&client).await?;
    embed(&client, Some("cache me if you can")).await?;
    let (hits1, misses1, embedded1, loaded) = model_counters(&client).await?;
    ensure(loaded, || "not loaded after embed()".into())?;
    ensure(misses1 == misses0 + 1 && embedded1 == embedded0 + 1, || {
        format!("first call: misses {misses0}->{misses1}, embedded {embedded0}->{embedded1}")
    })?;
    // Another session, same text: a cache hit, no model run.
    let other = server.endpoint().connect().await?;
    let first = embed(&client, Some("cache me if you can")).await?;
    let second = embed(&other, Some("cache me if you can")).await?;
    let (hits2, _, embedded2, _) = model_counters(&client).await?;
    ensure(first == second, || "cached vector differs".into())?;
    ensure(embedded2 == embedded1, || {
        "cached text embedded again".into()
    })?;
    ensure(hits2 > hits1 && hits1 >= hits0, || {
        format!("hits {hits0} -> {hits1} -> {hits2}")
    })?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn custos_sixteen_sessions_embed_at_once_and_others_keep_running() -> HarnessResult<()> {
    let server = server_with_model().await?;
    let setup = server.endpoint().connect().await?;
    setup
        .batch_execute(
            "CREATE TABLE plain (id int PRIMARY KEY, v int);
             INSERT INTO plain SELECT g, g FROM generate_series(1, 100) g;",
        )
        .await?;
    let mut tasks = Vec::new();
    for session in 0..16 {
        let endpoint = server.endpoint().clone();
        tasks.push(tokio::spawn(async move {
            let client = endpoint.connect().await?;
            let mut vectors = 0usize;
            for round in 0..5 {
                let texts: Vec<String> = (0..20)
                    .map(|i| format!("session {session} round {round} text {i} about shipping"))
                    .collect();
                let rows = client
                    .query("SELECT embed(t) FROM unnest($1::text[]) t", &[&texts])
                    .await?;
                for row in rows {
                    let vector: PgVector = row.get(0);
                    ensure(vector.0.len() == 384, || "dimension".into())?;
                    vectors += 1;
                }
            }
            Ok::<usize, HarnessError>(vectors)
        }));
    }
    // A session that never embeds keeps being answered while the others embed.
    let bystander = server.endpoint().connect().await?;
    let mut answered = 0;
    while answered < 50 && !tasks.iter().all(|task| task.is_finished()) {
        let row = bystander
            .query_one("SELECT sum(v)::int8 FROM plain", &[])
            .await?;
        ensure(row.get::<_, i64>(0) == 5050, || "bystander query".into())?;
        answered += 1;
    }
    let all = async {
        let mut total = 0;
        for task in tasks {
            total += task
                .await
                .map_err(|e| HarnessError::new(format!("session task: {e}")))??;
        }
        Ok::<usize, HarnessError>(total)
    };
    let total = tokio::time::timeout(CONCURRENCY_DEADLINE, all)
        .await
        .map_err(|_| HarnessError::new("16 embedding sessions did not finish (deadlock?)"))??;
    ensure(total == 16 * 5 * 20, || format!("{total} vectors"))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_without_model_files_embed_fails_clearly_and_the_server_serves() -> HarnessResult<()>
{
    let empty = tempfile::tempdir()?;
    let server = CustosServer::start_with(ServerOptions {
        args: vec!["--model-dir".into(), empty.path().display().to_string()],
        env: Vec::new(),
    })
    .await?;
    let client = server.endpoint().connect().await?;
    for statement in [
        "SELECT embed('hello')",
        "SELECT * FROM embed_chunks('hello')",
    ] {
        let error = client
            .query(statement, &[])
            .await
            .err()
            .ok_or_else(|| HarnessError::new(format!("{statement} worked without a model")))?;
        let (state, message, hint) = db_error(&error);
        ensure(state == "58P01", || {
            format!("{statement}: SQLSTATE {state}")
        })?;
        ensure(message.contains("scripts/fetch-models"), || {
            format!("message does not say how to fetch: {message}")
        })?;
        ensure(hint.contains("CUSTOS_MODEL_DIR"), || {
            format!("hint: {hint}")
        })?;
    }
    // Everything that does not embed works, including a table with an embedding column.
    client
        .batch_execute(
            "CREATE TABLE t (id int, body text,
                 v vector(384) GENERATED ALWAYS AS (embed(body)) STORED);
             INSERT INTO t (id, body) VALUES (1, NULL);",
        )
        .await?;
    let error = client
        .execute("INSERT INTO t (id, body) VALUES (2, 'text')", &[])
        .await
        .err()
        .ok_or_else(|| HarnessError::new("INSERT embedded without a model"))?;
    ensure(db_error(&error).0 == "58P01", || {
        format!("{:?}", db_error(&error))
    })?;
    let row = client
        .query_one(
            "SELECT count(*), (SELECT loaded FROM custos_models) FROM t",
            &[],
        )
        .await?;
    ensure(row.get::<_, i64>(0) == 1, || {
        "rows after failed INSERT".into()
    })?;
    ensure(!row.get::<_, bool>(1), || "loaded without files".into())?;
    Ok(())
}

/// The `Ticket Description` column of the support tickets CSV, in row order.
fn ticket_descriptions() -> HarnessResult<Vec<String>> {
    let text = std::fs::read_to_string(shared_data_dir().join("customer_support_tickets.csv"))?;
    let rows = custos_tests::csv::parse(&text)?;
    let header = rows
        .first()
        .ok_or_else(|| HarnessError::new("empty tickets CSV"))?;
    let column = header
        .iter()
        .position(|name| name == "Ticket Description")
        .ok_or_else(|| HarnessError::new("no Ticket Description column"))?;
    Ok(rows[1..].iter().map(|row| row[column].clone()).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_embed_matches_the_reference_vectors_of_ticket_descriptions() -> HarnessResult<()> {
    let descriptions = ticket_descriptions()?;
    let reference = read_npy_f32(&shared_data_dir().join("customer_support_tickets.desc_emb.npy"))?;
    ensure(descriptions.len() == reference.len(), || {
        format!(
            "{} descriptions, {} vectors",
            descriptions.len(),
            reference.len()
        )
    })?;
    let server = server_with_model().await?;
    let client = server.endpoint().connect().await?;
    client
        .batch_execute(
            "CREATE TABLE tickets (id int PRIMARY KEY, description text,
                 description_vec vector(384) GENERATED ALWAYS AS (embed(description)) STORED)",
        )
        .await?;
    // Every 29th ticket: 293 rows spread over the file, inserted in multi-row statements.
    let sample: Vec<usize> = (0..descriptions.len()).step_by(29).collect();
    for chunk in sample.chunks(100) {
        let ids: Vec<i32> = chunk.iter().map(|&i| i as i32).collect();
        let texts: Vec<&str> = chunk.iter().map(|&i| descriptions[i].as_str()).collect();
        client
            .execute(
                "INSERT INTO tickets (id, description)
                 SELECT * FROM unnest($1::int4[], $2::text[])",
                &[&ids, &texts],
            )
            .await?;
    }
    let rows = client
        .query("SELECT id, description_vec FROM tickets ORDER BY id", &[])
        .await?;
    ensure(rows.len() == sample.len(), || {
        format!("{} rows", rows.len())
    })?;
    let mut worst = 1.0f64;
    for row in &rows {
        let id: i32 = row.get(0);
        let vector: PgVector = row.get(1);
        worst = worst.min(cosine(&vector.0, &reference[id as usize]));
    }
    ensure(worst >= 0.9999, || {
        format!("lowest cosine to the reference: {worst}")
    })?;
    Ok(())
}
