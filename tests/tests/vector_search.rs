//! Vector search through SQL against the real server (issue 4): `ORDER BY embedding <op> $1
//! LIMIT k` through HNSW indexes with WHERE filters at every selectivity, deletes, updates,
//! rows in memtables and in segments, the exact path without an index, the LangChain join
//! shape, EXPLAIN, settings and their errors, the catalog psql reads, and index builds
//! interrupted by kill -9. Names start with `custos_`: they need the custos server.
//!
//! Data: the support-ticket description embeddings (8,469 x 384, all-MiniLM-L6-v2) from the
//! shared data folder; vectors travel as binary parameters (pgvector's binary form).

mod vector_support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use custos_tests::error::ensure;
use custos_tests::{CustosServer, HarnessError, HarnessResult};
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;
use vector_support::{
    cosine_distance, explain, insert_rows, recall_with_ties, ticket_embeddings, vector_literal,
    PgUuid, PgVector,
};

/// Selectivities of the filtered searches: label and the `sel < threshold` bound (`sel` is
/// spread evenly over 0..1000).
const SELECTIVITIES: [(&str, i32); 4] = [("50 %", 500), ("10 %", 100), ("1 %", 10), ("0.1 %", 1)];

const K: usize = 10;

/// The rows as the test believes them to be: id -> (sel, embedding).
type Model = HashMap<i32, (i32, Option<Vec<f32>>)>;

/// The exact filtered answer from the model: distances of the nearest qualifying rows with a
/// vector (at most `k`), and how many rows qualify in all (NULL vectors included).
fn exact_answer(model: &Model, query: &[f32], threshold: i32, k: usize) -> (Vec<f64>, usize) {
    let mut distances: Vec<f64> = model
        .values()
        .filter(|(sel, _)| *sel < threshold)
        .filter_map(|(_, v)| v.as_ref().map(|v| cosine_distance(v, query)))
        .collect();
    distances.sort_by(f64::total_cmp);
    distances.truncate(k);
    let qualifying = model.values().filter(|(sel, _)| *sel < threshold).count();
    (distances, qualifying)
}

/// Creates `tickets(id, sel, embedding vector(384))` with an HNSW cosine index, loads the
/// ticket embeddings (every 500th vector NULL), checkpoints (segment + index file), then adds
/// rows that stay in the memtable, deletes and updates some of both.
async fn load_tickets(client: &Client) -> HarnessResult<(Model, Vec<Vec<f32>>)> {
    let embeddings = ticket_embeddings()?;
    client
        .batch_execute(
            "CREATE TABLE tickets (id int PRIMARY KEY, sel int NOT NULL, embedding vector(384));
             CREATE INDEX tickets_embedding_idx ON tickets
                 USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)",
        )
        .await?;
    let mut model = Model::new();
    let mut rows = Vec::new();
    for (i, vector) in embeddings.iter().enumerate() {
        let id = i as i32 + 1;
        let sel = ((i * 7919) % 1000) as i32;
        let vector = (i % 500 != 7).then(|| vector.clone());
        model.insert(id, (sel, vector.clone()));
        rows.push((id, sel, vector));
    }
    insert_rows(client, "tickets", &rows, 200).await?;
    client.batch_execute("CHECKPOINT").await?;
    // Rows that stay in the memtable: perturbed copies of existing vectors.
    let mut fresh = Vec::new();
    for j in 0..400usize {
        let id = 20_000 + j as i32;
        let sel = ((j * 37) % 1000) as i32;
        let source = &embeddings[(j * 13) % embeddings.len()];
        let vector: Vec<f32> = source
            .iter()
            .enumerate()
            .map(|(d, x)| x + if d == j % 384 { 0.05 } else { 0.0 })
            .collect();
        model.insert(id, (sel, Some(vector.clone())));
        fresh.push((id, sel, Some(vector)));
    }
    insert_rows(client, "tickets", &fresh, 200).await?;
    // Deletes in the segment and in the memtable.
    client
        .execute("DELETE FROM tickets WHERE id % 7 = 3", &[])
        .await?;
    model.retain(|id, _| id % 7 != 3);
    // Updates: the new version lives in the memtable, the old one stays deleted in the segment.
    for n in 0..60 {
        let id = 1 + n * 131;
        let Some(entry) = model.get_mut(&id) else {
            continue;
        };
        let replacement = embeddings[(n as usize * 997 + 5) % embeddings.len()].clone();
        client
            .execute(
                "UPDATE tickets SET embedding = $1 WHERE id = $2",
                &[&PgVector(replacement.clone()), &id],
            )
            .await?;
        entry.1 = Some(replacement);
    }
    Ok((model, embeddings))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_filtered_hnsw_search_returns_min_k_rows_at_50_10_1_and_0_1_percent(
) -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let client = server.endpoint().connect().await?;
    let (model, embeddings) = load_tickets(&client).await?;
    let search = client
        .prepare(
            "SELECT id, embedding <=> $1 AS distance FROM tickets WHERE sel < $2 \
             ORDER BY distance LIMIT 10",
        )
        .await?;
    let plan = explain(
        &client,
        &format!(
            "SELECT id FROM tickets WHERE sel < 10 ORDER BY embedding <=> {} LIMIT 10",
            vector_literal(&embeddings[0])
        ),
    )
    .await?;
    ensure(
        plan.iter()
            .any(|l| l.contains("Index Scan using tickets_embedding_idx on tickets"))
            && plan
                .iter()
                .any(|l| l.contains("Order By: (embedding <=> '[")),
        || format!("EXPLAIN does not show the index scan:\n{}", plan.join("\n")),
    )?;
    let mut report = Vec::new();
    for (label, threshold) in SELECTIVITIES {
        let mut recall = 0.0;
        let queries = 25;
        for q in 0..queries {
            let query = embeddings[(q * 331 + 17) % embeddings.len()].clone();
            let (truth, qualifying) = exact_answer(&model, &query, threshold, K);
            let params: [&(dyn ToSql + Sync); 2] = [&PgVector(query.clone()), &threshold];
            let rows = client.query(&search, &params).await?;
            let expected = qualifying.min(K);
            ensure(rows.len() == expected, || {
                format!(
                    "{label}: query {q} returned {} rows, {qualifying} rows qualify (k = {K})",
                    rows.len()
                )
            })?;
            let distances: Vec<Option<f64>> = rows.iter().map(|r| r.get(1)).collect();
            for row in &rows {
                let id: i32 = row.get(0);
                let (sel, _) = model.get(&id).ok_or_else(|| {
                    HarnessError::new(format!("{label}: row {id} is deleted or unknown"))
                })?;
                ensure(*sel < threshold, || {
                    format!("{label}: row {id} has sel {sel}, the filter is sel < {threshold}")
                })?;
            }
            // Nearest first, NULL distances (NULL vectors) last.
            ensure(
                distances.windows(2).all(|w| match (w[0], w[1]) {
                    (Some(a), Some(b)) => a <= b + 1e-12,
                    (None, Some(_)) => false,
                    _ => true,
                }),
                || format!("{label}: rows out of order: {distances:?}"),
            )?;
            let returned: Vec<f64> = distances.iter().flatten().copied().collect();
            recall += recall_with_ties(&returned, &truth);
            // The exact path (PostgreSQL's way of getting it: no index scans) is exact.
            client.batch_execute("SET enable_indexscan = off").await?;
            let exact_rows = client.query(&search, &params).await?;
            client.batch_execute("RESET enable_indexscan").await?;
            let exact: Vec<f64> = exact_rows
                .iter()
                .filter_map(|r| r.get::<_, Option<f64>>(1))
                .collect();
            ensure(
                exact_rows.len() == expected
                    && exact.len() == truth.len()
                    && exact.iter().zip(&truth).all(|(a, b)| (a - b).abs() < 1e-5),
                || format!("{label}: exact search gave {exact:?}, expected {truth:?}"),
            )?;
        }
        let recall = recall / queries as f64;
        report.push(format!("{label}: recall@10 {recall:.3}"));
        ensure(recall >= 0.95, || {
            format!("{label}: recall@10 {recall:.3} is below 0.95")
        })?;
    }
    eprintln!("filtered HNSW search: {}", report.join(", "));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_order_by_distance_is_exact_and_sorts_like_postgres() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let client = server.endpoint().connect().await?;
    client
        .batch_execute(
            "CREATE TABLE items (id int PRIMARY KEY, sel int, embedding vector(3));
             INSERT INTO items VALUES (1, 0, '[1,2,3]'), (2, 1, '[4,5,6]'), (3, 0, '[1,1,1]'),
                 (4, 1, NULL), (5, 0, '[0,0,0]'), (6, 1, '[-1,2,-3]'), (7, 0, '[3,1,2]')",
        )
        .await?;
    let ids =
        |rows: Vec<tokio_postgres::Row>| -> Vec<i32> { rows.iter().map(|r| r.get(0)).collect() };
    // Without an index: exact, NaN (cosine with the zero vector) after numbers, NULL last.
    let cases: [(&str, Vec<i32>); 4] = [
        ("<->", vec![7, 3, 1, 5, 2, 6, 4]),
        ("<=>", vec![7, 3, 2, 1, 6, 5, 4]),
        ("<#>", vec![2, 7, 1, 3, 5, 6, 4]),
        ("<+>", vec![7, 3, 1, 5, 2, 6, 4]),
    ];
    for (op, expected) in &cases {
        let sql = format!("SELECT id FROM items ORDER BY embedding {op} '[3,1,2]' LIMIT 10");
        let got = ids(client.query(sql.as_str(), &[]).await?);
        ensure(&got == expected, || {
            format!("{op}: got {got:?}, expected {expected:?}")
        })?;
        let plan = client.query(format!("EXPLAIN {sql}").as_str(), &[]).await?;
        let plan: Vec<String> = plan.iter().map(|r| r.get(0)).collect();
        ensure(plan.iter().any(|l| l.contains("Seq Scan on items")), || {
            format!("{op}: plan without an index:\n{}", plan.join("\n"))
        })?;
    }
    // ORDER BY an alias, OFFSET, a filter, a parameter LIMIT.
    let got = ids(
        client
            .query(
                "SELECT id, embedding <-> $1 AS d FROM items WHERE sel = 0 ORDER BY d LIMIT $2 OFFSET 1",
                &[&PgVector(vec![3.0, 1.0, 2.0]), &2i64],
            )
            .await?,
    );
    ensure(got == vec![3, 1], || format!("alias + offset: {got:?}"))?;
    // The same answers through indexes of every operator class.
    client
        .batch_execute(
            "CREATE INDEX items_l2 ON items USING hnsw (embedding vector_l2_ops);
             CREATE INDEX items_cos ON items USING hnsw (embedding vector_cosine_ops);
             CREATE INDEX items_ip ON items USING ivfflat (embedding vector_ip_ops) WITH (lists = 1);
             CREATE INDEX items_l1 ON items USING hnsw (embedding vector_l1_ops);
             CHECKPOINT",
        )
        .await?;
    for ((op, expected), index) in
        cases
            .iter()
            .zip(["items_l2", "items_cos", "items_ip", "items_l1"])
    {
        let sql = format!("SELECT id FROM items ORDER BY embedding {op} '[3,1,2]' LIMIT 10");
        let got = ids(client.query(sql.as_str(), &[]).await?);
        ensure(&got == expected, || {
            format!("{op} via {index}: got {got:?}, expected {expected:?}")
        })?;
        let plan = client.query(format!("EXPLAIN {sql}").as_str(), &[]).await?;
        let plan: Vec<String> = plan.iter().map(|r| r.get(0)).collect();
        ensure(
            plan.iter()
                .any(|l| l.contains(&format!("Index Scan using {index} on items"))),
            || format!("{op}: plan:\n{}", plan.join("\n")),
        )?;
    }
    // A NULL query vector: every row, all distances NULL.
    let rows = client
        .query(
            "SELECT id FROM items ORDER BY embedding <-> NULL LIMIT 10",
            &[],
        )
        .await?;
    ensure(rows.len() == 7, || {
        format!("NULL query: {} rows", rows.len())
    })?;
    // pgvector's errors.
    let error = client
        .query(
            "SELECT id FROM items ORDER BY embedding <-> '[1,2]' LIMIT 3",
            &[],
        )
        .await
        .err()
        .ok_or_else(|| HarnessError::new("a 2-dimensional query against vector(3) succeeded"))?;
    ensure(
        error.as_db_error().is_some_and(|e| {
            e.code().code() == "22000" && e.message() == "different vector dimensions 3 and 2"
        }),
        || format!("dimension mismatch: {error:?}"),
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_langchain_join_shape_returns_k_rows_through_the_index() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let client = server.endpoint().connect().await?;
    let embeddings = ticket_embeddings()?;
    client
        .batch_execute(
            "CREATE TABLE langchain_pg_collection (uuid uuid PRIMARY KEY, name varchar NOT NULL,
                 cmetadata json);
             CREATE TABLE langchain_pg_embedding (id varchar PRIMARY KEY,
                 collection_id uuid REFERENCES langchain_pg_collection (uuid) ON DELETE CASCADE,
                 embedding vector(384), document varchar, cmetadata jsonb);
             CREATE INDEX langchain_embedding_idx ON langchain_pg_embedding
                 USING hnsw (embedding vector_cosine_ops);
             INSERT INTO langchain_pg_collection VALUES
                 ('7f7119c0-45d4-44eb-81d3-270b5968d3c2', 'docs', '{}'),
                 ('00000000-0000-0000-0000-000000000002', 'other', '{}')",
        )
        .await?;
    let insert = client
        .prepare(
            "INSERT INTO langchain_pg_embedding (id, collection_id, embedding, document, cmetadata) \
             VALUES ($1::VARCHAR, $2::UUID, $3, $4::VARCHAR, $5::JSONB)",
        )
        .await?;
    let docs = PgUuid::parse("7f7119c0-45d4-44eb-81d3-270b5968d3c2")?;
    let other = PgUuid::parse("00000000-0000-0000-0000-000000000002")?;
    client.batch_execute("BEGIN").await?;
    for (i, vector) in embeddings.iter().take(3000).enumerate() {
        // One row in 20 belongs to "docs".
        let collection = if i % 20 == 0 { docs } else { other };
        let id = format!("doc-{i}");
        let document = format!("document {i}");
        let metadata = serde_json::json!({"kind": if i % 2 == 0 { "a" } else { "b" }});
        client
            .execute(
                &insert,
                &[
                    &id,
                    &collection,
                    &PgVector(vector.clone()),
                    &document,
                    &metadata,
                ],
            )
            .await?;
    }
    client.batch_execute("COMMIT; CHECKPOINT").await?;
    // The statement LangChain's PGVector sends (client-traffic/log_langchain.txt).
    let sql = "SELECT langchain_pg_embedding.id AS langchain_pg_embedding_id, \
        langchain_pg_embedding.collection_id AS langchain_pg_embedding_collection_id, \
        langchain_pg_embedding.embedding AS langchain_pg_embedding_embedding, \
        langchain_pg_embedding.document AS langchain_pg_embedding_document, \
        langchain_pg_embedding.cmetadata AS langchain_pg_embedding_cmetadata, \
        langchain_pg_embedding.embedding <=> $1 AS distance \n\
        FROM langchain_pg_embedding JOIN langchain_pg_collection ON \
        langchain_pg_embedding.collection_id = langchain_pg_collection.uuid \n\
        WHERE langchain_pg_embedding.collection_id = $2::UUID ORDER BY distance ASC \n LIMIT $3::INTEGER";
    let statement = client.prepare(sql).await?;
    let collection = docs;
    let collection_rows: Vec<&Vec<f32>> = embeddings.iter().take(3000).step_by(20).collect();
    for q in 0..10 {
        let query = embeddings[4000 + q * 17].clone();
        let limit = 4i32;
        let rows = client
            .query(&statement, &[&PgVector(query.clone()), &collection, &limit])
            .await?;
        ensure(rows.len() == 4, || {
            format!("query {q}: {} rows, expected 4", rows.len())
        })?;
        let mut truth: Vec<f64> = collection_rows
            .iter()
            .map(|v| cosine_distance(v, &query))
            .collect();
        truth.sort_by(f64::total_cmp);
        truth.truncate(4);
        let returned: Vec<f64> = rows.iter().map(|r| r.get::<_, f64>("distance")).collect();
        for row in &rows {
            let id: String = row.get("langchain_pg_embedding_id");
            let n: usize = id.trim_start_matches("doc-").parse().unwrap_or(1);
            ensure(n.is_multiple_of(20), || {
                format!("row {id} is not in the collection")
            })?;
        }
        ensure(recall_with_ties(&returned, &truth) >= 0.75, || {
            format!("query {q}: distances {returned:?}, exact {truth:?}")
        })?;
    }
    let with_literals = sql
        .replace("$1", &vector_literal(&embeddings[0]))
        .replace("$2", "'7f7119c0-45d4-44eb-81d3-270b5968d3c2'")
        .replace("$3", "4");
    let plan = explain(&client, &with_literals).await?;
    ensure(
        plan.iter().any(|l| {
            l.contains("Index Scan using langchain_embedding_idx on langchain_pg_embedding")
        }),
        || format!("the join does not use the index:\n{}", plan.join("\n")),
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_vector_settings_and_catalog_match_pgvector() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let client = server.endpoint().connect().await?;
    for (set, show, value) in [
        ("SET hnsw.ef_search = 100", "SHOW hnsw.ef_search", "100"),
        ("SET ivfflat.probes = 10", "SHOW ivfflat.probes", "10"),
        ("RESET hnsw.ef_search", "SHOW hnsw.ef_search", "40"),
        ("RESET ivfflat.probes", "SHOW ivfflat.probes", "1"),
    ] {
        client.batch_execute(set).await?;
        let row = client.query_one(show, &[]).await?;
        let shown: String = row.get(0);
        ensure(shown == value, || format!("{show} after {set}: {shown}"))?;
    }
    for (sql, message) in [
        (
            "SET hnsw.ef_search = 0",
            "0 is outside the valid range for parameter \"hnsw.ef_search\" (1 .. 1000)",
        ),
        (
            "SET hnsw.ef_search = 1001",
            "1001 is outside the valid range for parameter \"hnsw.ef_search\" (1 .. 1000)",
        ),
        (
            "SET ivfflat.probes = 40000",
            "40000 is outside the valid range for parameter \"ivfflat.probes\" (1 .. 32768)",
        ),
        (
            "SET hnsw.ef_search = 'many'",
            "invalid value for parameter \"hnsw.ef_search\": \"many\"",
        ),
    ] {
        let error = client
            .batch_execute(sql)
            .await
            .err()
            .ok_or_else(|| HarnessError::new(format!("{sql} succeeded")))?;
        let db = error.as_db_error();
        ensure(
            db.is_some_and(|e| e.code().code() == "22023" && e.message() == message),
            || format!("{sql}: {error:?}"),
        )?;
    }
    client
        .batch_execute(
            "CREATE TABLE docs (id int PRIMARY KEY, embedding vector(3));
             CREATE INDEX docs_embedding_idx ON docs USING hnsw (embedding vector_cosine_ops)
                 WITH (m = 16, ef_construction = 64);
             CREATE INDEX docs_ivf ON docs USING ivfflat (embedding) WITH (lists = 2)",
        )
        .await?;
    for (sql, code, message) in [
        (
            "CREATE INDEX bad ON docs USING hnsw (embedding vector_cosine_ops) WITH (m = 1)",
            "22023",
            "value 1 out of bounds for option \"m\"",
        ),
        (
            "CREATE INDEX bad ON docs USING hnsw (embedding) WITH (lists = 3)",
            "22023",
            "unrecognized parameter \"lists\"",
        ),
        (
            "CREATE INDEX bad ON docs USING ivfflat (embedding vector_l1_ops)",
            "42704",
            "operator class \"vector_l1_ops\" does not exist for access method \"ivfflat\"",
        ),
    ] {
        let error = client
            .batch_execute(sql)
            .await
            .err()
            .ok_or_else(|| HarnessError::new(format!("{sql} succeeded")))?;
        ensure(
            error
                .as_db_error()
                .is_some_and(|e| e.code().code() == code && e.message() == message),
            || format!("{sql}: {error:?}"),
        )?;
    }
    let definition: String = client
        .query_one(
            "SELECT pg_get_indexdef('docs_embedding_idx'::regclass)",
            &[],
        )
        .await?
        .get(0);
    ensure(
        definition
            == "CREATE INDEX docs_embedding_idx ON public.docs USING hnsw (embedding vector_cosine_ops) WITH (m='16', ef_construction='64')",
        || format!("pg_get_indexdef: {definition}"),
    )?;
    let methods: Vec<String> = client
        .query("SELECT amname::text FROM pg_am ORDER BY amname", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    ensure(
        ["btree", "hnsw", "ivfflat"]
            .iter()
            .all(|m| methods.iter().any(|x| x == m)),
        || format!("pg_am: {methods:?}"),
    )?;
    let opclasses: Vec<String> = client
        .query(
            "SELECT opcname::text || ' ' || amname::text FROM pg_opclass c \
             JOIN pg_am a ON a.oid = c.opcmethod WHERE opcname LIKE 'vector%' ORDER BY 1",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for wanted in [
        "vector_cosine_ops hnsw",
        "vector_ip_ops hnsw",
        "vector_l1_ops hnsw",
        "vector_l2_ops hnsw",
        "vector_cosine_ops ivfflat",
        "vector_ip_ops ivfflat",
        "vector_l2_ops ivfflat",
    ] {
        ensure(opclasses.iter().any(|o| o == wanted), || {
            format!("pg_opclass lacks {wanted}: {opclasses:?}")
        })?;
    }
    let described = tokio::task::block_in_place(|| server.psql(&["-c", "\\d docs"], None))?;
    for line in [
        "\"docs_embedding_idx\" hnsw (embedding vector_cosine_ops) WITH (m='16', ef_construction='64')",
        "\"docs_ivf\" ivfflat (embedding) WITH (lists='2')",
    ] {
        ensure(described.stdout.contains(line), || {
            format!("\\d docs lacks {line}:\n{}{}", described.stdout, described.stderr)
        })?;
    }
    let idle = client
        .query("SELECT * FROM pg_stat_progress_create_index", &[])
        .await?;
    ensure(idle.is_empty(), || {
        format!("{} index builds in progress on an idle server", idle.len())
    })
}

/// Polls `pg_stat_progress_create_index` from `observer` until a build on `table` shows up.
async fn wait_for_build(
    observer: &Client,
    table: &str,
    limit: Duration,
) -> HarnessResult<(i64, String)> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        // The index is not in pg_class before its CREATE INDEX commits: match the table.
        let rows = observer
            .query(
                "SELECT tuples_total, phase FROM pg_stat_progress_create_index \
                 WHERE relid = $1::text::regclass",
                &[&table],
            )
            .await?;
        if let Some(row) = rows.first() {
            return Ok((row.get(0), row.get(1)));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(HarnessError::new(format!(
        "no index build on {table} appeared in pg_stat_progress_create_index within {limit:?}"
    )))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_vector_index_answers_after_kill9_during_its_build() -> HarnessResult<()> {
    let mut server = CustosServer::start().await?;
    let embeddings = ticket_embeddings()?;
    {
        let client = server.endpoint().connect().await?;
        client
            .batch_execute("CREATE TABLE tickets (id int PRIMARY KEY, sel int NOT NULL, embedding vector(384))")
            .await?;
        let rows: Vec<(i32, i32, Option<Vec<f32>>)> = embeddings
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i32 + 1, (i % 1000) as i32, Some(v.clone())))
            .collect();
        insert_rows(&client, "tickets", &rows, 200).await?;
        client.batch_execute("CHECKPOINT").await?;
        // CREATE INDEX on a table with a segment builds the segment's index file; kill -9
        // while pg_stat_progress_create_index shows the build.
        let builder = server.endpoint().connect().await?;
        let build = tokio::spawn(async move {
            builder
                .batch_execute(
                    "CREATE INDEX tickets_embedding_idx ON tickets \
                     USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)",
                )
                .await
        });
        let (tuples, phase) = wait_for_build(&client, "tickets", Duration::from_secs(60)).await?;
        ensure(
            tuples == embeddings.len() as i64
                && ["initializing", "loading tuples"].contains(&phase.as_str()),
            || format!("progress row: tuples_total {tuples}, phase {phase}"),
        )?;
        tokio::task::block_in_place(|| server.kill9());
        let _ = build.await;
    }
    server.start_again().await?;
    let client = server.endpoint().connect().await?;
    // The CREATE INDEX either committed (its file is rebuilt on open) or did not; then it is
    // created again. Either way the index answers.
    let exists: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname = 'tickets_embedding_idx'",
            &[],
        )
        .await?
        .get(0);
    if exists == 0 {
        client
            .batch_execute(
                "CREATE INDEX tickets_embedding_idx ON tickets \
                 USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)",
            )
            .await?;
    }
    // More rows, then a checkpoint killed while it builds the new segment's index file.
    let more: Vec<(i32, i32, Option<Vec<f32>>)> = embeddings
        .iter()
        .take(2000)
        .enumerate()
        .map(|(i, v)| {
            (
                30_000 + i as i32,
                (i % 1000) as i32,
                Some(v.iter().map(|x| -x).collect()),
            )
        })
        .collect();
    insert_rows(&client, "tickets", &more, 200).await?;
    let checkpointer = server.endpoint().connect().await?;
    let checkpoint = tokio::spawn(async move { checkpointer.batch_execute("CHECKPOINT").await });
    let observed = wait_for_build(&client, "tickets", Duration::from_secs(60)).await;
    tokio::task::block_in_place(|| server.kill9());
    let _ = checkpoint.await;
    observed?;
    server.start_again().await?;
    let client = server.endpoint().connect().await?;
    let count: i64 = client
        .query_one("SELECT count(*) FROM tickets", &[])
        .await?
        .get(0);
    ensure(count == (embeddings.len() + more.len()) as i64, || {
        format!("{count} rows after the restarts")
    })?;
    client.batch_execute("CHECKPOINT").await?;
    let search = client
        .prepare("SELECT id, embedding <=> $1 FROM tickets ORDER BY embedding <=> $1 LIMIT 10")
        .await?;
    let mut recall = 0.0;
    for q in 0..10 {
        let query = embeddings[q * 701 + 3].clone();
        let rows = client.query(&search, &[&PgVector(query.clone())]).await?;
        ensure(rows.len() == 10, || {
            format!("query {q}: {} rows", rows.len())
        })?;
        let first: i32 = rows[0].get(0);
        let distance: f64 = rows[0].get(1);
        ensure(distance.abs() < 1e-5, || {
            format!("query {q}: nearest is {first} at {distance}, expected the row itself")
        })?;
        let mut truth: Vec<f64> = embeddings
            .iter()
            .chain(more.iter().filter_map(|(_, _, v)| v.as_ref()))
            .map(|v| cosine_distance(v, &query))
            .collect();
        truth.sort_by(f64::total_cmp);
        truth.truncate(10);
        let returned: Vec<f64> = rows.iter().map(|r| r.get(1)).collect();
        recall += recall_with_ties(&returned, &truth);
    }
    ensure(recall / 10.0 >= 0.95, || {
        format!("recall@10 {} after the crashes", recall / 10.0)
    })?;
    let plan = explain(
        &client,
        &format!(
            "SELECT id FROM tickets ORDER BY embedding <=> {} LIMIT 10",
            vector_literal(&embeddings[0])
        ),
    )
    .await?;
    ensure(
        plan.iter()
            .any(|l| l.contains("Index Scan using tickets_embedding_idx")),
        || format!("plan after the crashes:\n{}", plan.join("\n")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_ivfflat_probes_reach_the_index() -> HarnessResult<()> {
    use rand::{Rng, SeedableRng};
    let server = CustosServer::start().await?;
    let client = server.endpoint().connect().await?;
    client
        .batch_execute(
            "CREATE TABLE points (id int PRIMARY KEY, sel int NOT NULL, embedding vector(8))",
        )
        .await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let rows: Vec<(i32, i32, Option<Vec<f32>>)> = (0..3000)
        .map(|i| {
            let v: Vec<f32> = (0..8).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
            (i + 1, i % 10, Some(v))
        })
        .collect();
    insert_rows(&client, "points", &rows, 200).await?;
    client
        .batch_execute(
            "CHECKPOINT;
             CREATE INDEX points_ivf ON points USING ivfflat (embedding vector_l2_ops) WITH (lists = 30)",
        )
        .await?;
    let search = client
        .prepare("SELECT id FROM points WHERE sel < 5 ORDER BY embedding <-> $1 LIMIT 10")
        .await?;
    let (mut one_probe, mut all_probes) = (0usize, 0usize);
    for _ in 0..20 {
        let query = PgVector((0..8).map(|_| rng.gen_range(-1.0f32..1.0)).collect());
        client.batch_execute("SET enable_indexscan = off").await?;
        let exact: Vec<i32> = client
            .query(&search, &[&query])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        client
            .batch_execute("RESET enable_indexscan; SET ivfflat.probes = 1")
            .await?;
        let probed: Vec<i32> = client
            .query(&search, &[&query])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        ensure(probed.len() == 10, || {
            format!("probes = 1 returned {} rows", probed.len())
        })?;
        one_probe += probed.iter().filter(|id| exact.contains(id)).count();
        client.batch_execute("SET ivfflat.probes = 30").await?;
        let all: Vec<i32> = client
            .query(&search, &[&query])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        all_probes += all.iter().filter(|id| exact.contains(id)).count();
        ensure(all == exact, || {
            format!("probes = lists: {all:?}, exact {exact:?}")
        })?;
    }
    ensure(one_probe < all_probes, || {
        format!("probes had no effect: {one_probe} hits with 1 probe, {all_probes} with 30")
    })
}

/// EXPLAIN of an ANN query prepared over the extended protocol with untyped parameters:
/// ParameterDescription types `$1` as `vector` (from `embedding <-> $1`) and `$2` as the
/// column it is compared with, so a driver can send the query vector in binary, and the plan
/// shows the index scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_explain_with_an_untyped_vector_parameter_infers_vector() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let client = server.endpoint().connect().await?;
    client
        .batch_execute(
            "CREATE TABLE items (id int PRIMARY KEY, sel int NOT NULL, embedding vector(3));
             INSERT INTO items VALUES (1, 1, '[1,0,0]'), (2, 2, '[0,1,0]'), (3, 3, '[0,0,1]');
             CHECKPOINT;
             CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_l2_ops)",
        )
        .await?;
    let statement = client
        .prepare("EXPLAIN SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5")
        .await?;
    let types: Vec<&str> = statement.params().iter().map(|t| t.name()).collect();
    ensure(types == ["vector"], || {
        format!("EXPLAIN's parameters were described as {types:?}, not [\"vector\"]")
    })?;
    let plan: Vec<String> = client
        .query(&statement, &[&PgVector(vec![1.0, 0.0, 0.0])])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    ensure(
        plan.iter()
            .any(|line| line.contains("Index Scan using items_embedding_idx on items")),
        || format!("EXPLAIN does not show the index scan:\n{}", plan.join("\n")),
    )?;
    let filtered = client
        .prepare("EXPLAIN SELECT id FROM items WHERE sel < $2 ORDER BY embedding <=> $1 LIMIT 5")
        .await?;
    let types: Vec<&str> = filtered.params().iter().map(|t| t.name()).collect();
    ensure(types == ["vector", "int4"], || {
        format!("filtered EXPLAIN's parameters were described as {types:?}")
    })?;
    Ok(())
}
