//! Row-level security under retrieval-augmented generation (issue 6 points 3 and 8;
//! governance.md §9 items 18, 20, 22), against the real binary with the embedding model:
//!
//! - `custos_rag_context_returns_only_visible_rows_per_tenant`: three tenants of very
//!   different sizes share a table whose `body_vec` is `GENERATED ... (embed(body))`, with an
//!   HNSW index, and a policy on `current_setting('custos.claim.tenant_id')`. For each
//!   tenant, `rag_context(q, k)` returns exactly min(k, the tenant's rows) rows, every row key
//!   one of the tenant's, for k below and above the tenant's size; `rag_prompt(q, k)` cites
//!   the same rows and no other tenant's text. A superuser sees every tenant's rows; a role
//!   whose claim matches no tenant gets an empty context.
//!
//! Names start with `custos_`: they need the custos server and the embedding model
//! (`scripts/fetch-models`, found in `CUSTOS_MODEL_DIR` or `<repo>/models`).

use std::collections::BTreeSet;

use custos_tests::error::ensure;
use custos_tests::locate::model_dir;
use custos_tests::{CustosServer, Endpoint, HarnessResult, ServerOptions};
use tokio_postgres::Client;

/// Tenants and their number of rows: 2, 5 and 13.
const TENANTS: &[(i32, usize)] = &[(1, 2), (2, 5), (3, 13)];

const TOPICS: &[&str] = &[
    "my card was charged twice for the same order",
    "the refund for the broken headphones has not arrived",
    "duplicate payment on my credit card statement",
    "how do I reset the password of my router",
    "the espresso machine leaks water onto the counter",
    "shipping to Norway takes two weeks",
    "the invoice shows the wrong billing address",
];

/// Row id → (tenant, body).
fn rows() -> Vec<(i32, i32, String)> {
    let mut out = Vec::new();
    let mut id = 0;
    for &(tenant, count) in TENANTS {
        for i in 0..count {
            id += 1;
            let topic = TOPICS[(id as usize + i) % TOPICS.len()];
            out.push((id, tenant, format!("tenant {tenant} ticket {i}: {topic}")));
        }
    }
    out
}

fn tenant_endpoint(server: &CustosServer, tenant: i32) -> Endpoint {
    Endpoint {
        user: format!("app_t{tenant}"),
        password: format!("pw-{tenant}"),
        ..server.endpoint().clone()
    }
}

async fn row_keys(client: &Client, k: i32) -> HarnessResult<Vec<String>> {
    let got = client
        .query(
            "SELECT row_key FROM rag_context('I was billed two times for one purchase', $1)
             ORDER BY rank",
            &[&k],
        )
        .await?;
    Ok(got
        .iter()
        .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_rag_context_returns_only_visible_rows_per_tenant() -> HarnessResult<()> {
    let server = CustosServer::start_with(ServerOptions {
        args: vec!["--model-dir".into(), model_dir()?.display().to_string()],
        env: Vec::new(),
    })
    .await?;
    let admin = server.endpoint().connect().await?;
    admin
        .batch_execute(
            "CREATE TABLE tickets (id int PRIMARY KEY, tenant_id int NOT NULL, body text,
                 body_vec vector(384) GENERATED ALWAYS AS (embed(body)) STORED);
             CREATE INDEX tickets_vec ON tickets USING hnsw (body_vec vector_cosine_ops);
             ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
             CREATE POLICY tenant_isolation ON tickets
                 USING (tenant_id = current_setting('custos.claim.tenant_id')::int);
             CREATE ROLE app_t9 LOGIN PASSWORD 'pw-9';
             ALTER ROLE app_t9 SET custos.claim.tenant_id = '9';
             GRANT SELECT ON tickets TO app_t9;",
        )
        .await?;
    for &(tenant, _) in TENANTS {
        admin
            .batch_execute(&format!(
                "CREATE ROLE app_t{tenant} LOGIN PASSWORD 'pw-{tenant}';
                 ALTER ROLE app_t{tenant} SET custos.claim.tenant_id = '{tenant}';
                 GRANT SELECT ON tickets TO app_t{tenant};"
            ))
            .await?;
    }
    let all = rows();
    for (id, tenant, body) in &all {
        admin
            .execute(
                "INSERT INTO tickets (id, tenant_id, body) VALUES ($1, $2, $3)",
                &[id, tenant, body],
            )
            .await?;
    }

    // The superuser (not subject to policies) retrieves from every tenant.
    let keys = row_keys(&admin, 100).await?;
    ensure(keys.len() == all.len(), || {
        format!("the superuser should see all {} rows: {keys:?}", all.len())
    })?;

    for &(tenant, count) in TENANTS {
        let own: BTreeSet<String> = all
            .iter()
            .filter(|r| r.1 == tenant)
            .map(|r| r.0.to_string())
            .collect();
        let client = tenant_endpoint(&server, tenant).connect().await?;
        for k in [1, 3, 8, 100] {
            let keys = row_keys(&client, k).await?;
            let want = count.min(k as usize);
            ensure(keys.len() == want, || {
                format!("tenant {tenant}, k={k}: {want} rows expected, got {keys:?}")
            })?;
            ensure(keys.iter().all(|key| own.contains(key)), || {
                format!("tenant {tenant}, k={k}: a row of another tenant in {keys:?}")
            })?;
            let distinct: BTreeSet<&String> = keys.iter().collect();
            ensure(distinct.len() == keys.len(), || {
                format!("tenant {tenant}: duplicate rows {keys:?}")
            })?;
        }
        // rag_prompt cites the same rows, and no other tenant's text appears in it.
        let prompt: String = client
            .query_one(
                "SELECT rag_prompt('I was billed two times for one purchase', 8)",
                &[],
            )
            .await?
            .get(0);
        let entries: Vec<&str> = prompt.lines().filter(|l| l.starts_with('[')).collect();
        ensure(entries.len() == count.min(8), || {
            format!(
                "tenant {tenant}: {} entries expected:\n{prompt}",
                count.min(8)
            )
        })?;
        let keys = row_keys(&client, 8).await?;
        for (i, (entry, key)) in entries.iter().zip(&keys).enumerate() {
            let head = format!("[{}] (tickets, id={key}) ", i + 1);
            ensure(entry.starts_with(&head), || {
                format!("tenant {tenant}: entry {entry:?} should start with {head:?}")
            })?;
        }
        for other in TENANTS.iter().map(|t| t.0).filter(|&t| t != tenant) {
            ensure(!prompt.contains(&format!("tenant {other} ticket")), || {
                format!("tenant {tenant}'s prompt quotes tenant {other}:\n{prompt}")
            })?;
        }
        // Plain SQL agrees with the retrieval.
        let n: i64 = client
            .query_one("SELECT count(*) FROM tickets", &[])
            .await?
            .get(0);
        ensure(n as usize == count, || {
            format!("tenant {tenant} counts {n}")
        })?;
    }

    // A claim that matches no tenant: nothing to retrieve, an empty context.
    let nobody = tenant_endpoint(&server, 9).connect().await?;
    let keys = row_keys(&nobody, 5).await?;
    ensure(keys.is_empty(), || format!("tenant 9 retrieved {keys:?}"))?;
    let prompt: String = nobody
        .query_one(
            "SELECT rag_prompt('I was billed two times for one purchase', 5)",
            &[],
        )
        .await?
        .get(0);
    ensure(!prompt.contains("tenant "), || {
        format!("tenant 9's prompt quotes rows:\n{prompt}")
    })?;
    Ok(())
}
