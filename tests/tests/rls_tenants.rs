//! Row-level security for multi-tenant retrieval (issue 6, point 3; governance.md §2.5 and
//! §9 items 4, 18, 20), against the real binary:
//!
//! - `custos_tenant_vector_search_returns_min_k_visible_rows`: three tenants of very
//!   different sizes share one table with an HNSW index; the policy is
//!   `tenant_id = current_setting('custos.claim.tenant_id')::int`, the claim bound to each
//!   login role with `ALTER ROLE ... SET`. Every `ORDER BY emb <-> q LIMIT k` returns
//!   exactly min(k, the tenant's rows) rows, all the tenant's, the nearest ones (computed
//!   here), even for the smallest tenant whose rows are the farthest from the query; the
//!   plan uses the vector index, and a plain scan uses the index on `tenant_id` with the
//!   policy's equality as its key; point lookups of other tenants' rows find nothing, and
//!   inserting a row for another tenant fails the policy's check.
//! - `custos_claims_cannot_be_forged`: a tenant's session cannot change or reset its claim
//!   (SET, SET LOCAL, set_config, RESET, ALTER ROLE ... SET, startup options), so it keeps
//!   seeing only its own rows; a superuser can set claims. After kill -9 and a restart the
//!   policy and the claim still hold.

use custos_tests::error::ensure;
use custos_tests::{CustosServer, Endpoint, HarnessError, HarnessResult};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

async fn outcome(client: &Client, sql: &str) -> String {
    match client.simple_query(sql).await {
        Ok(messages) => {
            let mut out = String::from("ok");
            for message in messages {
                if let SimpleQueryMessage::Row(row) = message {
                    let values: Vec<String> = (0..row.len())
                        .map(|i| row.get(i).unwrap_or("NULL").to_string())
                        .collect();
                    out.push_str(&format!(" [{}]", values.join("|")));
                }
            }
            out
        }
        Err(error) => match error.as_db_error() {
            Some(db) => format!("ERROR {}: {}", db.code().code(), db.message()),
            None => format!("client error: {error}"),
        },
    }
}

/// Tenants: (id, rows). Tenant 1 is tiny (about 1 % of the table) and far from the query.
const TENANTS: &[(i32, usize)] = &[(1, 4), (2, 300), (3, 40)];

/// A row's embedding: tenant 2 clusters around the query point, the others farther out.
fn embedding(tenant: i32, i: usize) -> [f64; 3] {
    let t = i as f64;
    let base = match tenant {
        2 => 0.0,
        3 => 5.0,
        _ => 9.0,
    };
    [
        base + t * 0.013,
        base + (t * 0.37).sin() * 0.5,
        (t * 0.11).cos(),
    ]
}

fn distance(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

const QUERY: [f64; 3] = [0.0, 0.0, 0.0];

async fn setup(server: &CustosServer) -> HarnessResult<Vec<(i32, i32, [f64; 3])>> {
    let admin = server.endpoint().connect().await?;
    admin
        .batch_execute(
            "CREATE TABLE docs (id int PRIMARY KEY, tenant_id int NOT NULL, body text, emb vector(3));\
             CREATE INDEX docs_emb ON docs USING hnsw (emb vector_l2_ops);\
             ALTER TABLE docs ENABLE ROW LEVEL SECURITY;\
             CREATE POLICY tenant_isolation ON docs \
                 USING (tenant_id = current_setting('custos.claim.tenant_id')::int);",
        )
        .await?;
    let mut rows = Vec::new();
    let mut id = 0;
    for &(tenant, count) in TENANTS {
        admin
            .batch_execute(&format!(
                "CREATE ROLE app_t{tenant} LOGIN PASSWORD 'pw-{tenant}';\
                 ALTER ROLE app_t{tenant} SET custos.claim.tenant_id = '{tenant}';\
                 GRANT SELECT, INSERT ON docs TO app_t{tenant};"
            ))
            .await?;
        let mut values = Vec::new();
        for i in 0..count {
            id += 1;
            let e = embedding(tenant, i);
            values.push(format!(
                "({id}, {tenant}, 'doc {id}', '[{},{},{}]')",
                e[0], e[1], e[2]
            ));
            rows.push((id, tenant, e));
        }
        admin
            .batch_execute(&format!("INSERT INTO docs VALUES {}", values.join(", ")))
            .await?;
    }
    Ok(rows)
}

fn tenant_endpoint(server: &CustosServer, tenant: i32) -> Endpoint {
    Endpoint {
        user: format!("app_t{tenant}"),
        password: format!("pw-{tenant}"),
        ..server.endpoint().clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_tenant_vector_search_returns_min_k_visible_rows() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    let rows = setup(&server).await?;
    let query = format!("'[{},{},{}]'", QUERY[0], QUERY[1], QUERY[2]);
    for &(tenant, count) in TENANTS {
        let client = tenant_endpoint(&server, tenant).connect().await?;
        let mut own: Vec<(f64, i32)> = rows
            .iter()
            .filter(|(_, t, _)| *t == tenant)
            .map(|(id, _, e)| (distance(e, &QUERY), *id))
            .collect();
        own.sort_by(|a, b| a.0.total_cmp(&b.0));
        for k in [1usize, 3, 10, 50] {
            let sql = format!("SELECT id, tenant_id FROM docs ORDER BY emb <-> {query} LIMIT {k}");
            let found = client.query(sql.as_str(), &[]).await?;
            let expected = k.min(count);
            ensure(found.len() == expected, || {
                format!(
                    "tenant {tenant}, k = {k}: {} rows, expected min(k, {count}) = {expected}",
                    found.len()
                )
            })?;
            let mut ids = Vec::new();
            for row in &found {
                let (id, t): (i32, i32) = (row.get(0), row.get(1));
                ensure(t == tenant, || {
                    format!("tenant {tenant} got row {id} of tenant {t}")
                })?;
                ids.push(id);
            }
            let nearest: Vec<i32> = own.iter().take(expected).map(|(_, id)| *id).collect();
            ensure(ids == nearest, || {
                format!("tenant {tenant}, k = {k}: got {ids:?}, the nearest are {nearest:?}")
            })?;
        }
        let plan = outcome(
            &client,
            &format!("EXPLAIN SELECT id FROM docs ORDER BY emb <-> {query} LIMIT 5"),
        )
        .await;
        ensure(plan.contains("docs_emb"), || {
            format!("tenant {tenant}: the vector index is not used: {plan}")
        })?;
        // Point lookups: another tenant's row is not there, through the primary key.
        let other = rows
            .iter()
            .find(|(_, t, _)| *t != tenant)
            .map(|(id, _, _)| *id)
            .unwrap_or(0);
        let lookup = outcome(&client, &format!("SELECT id FROM docs WHERE id = {other}")).await;
        ensure(lookup == "ok", || {
            format!("tenant {tenant} looked up row {other}: {lookup}")
        })?;
        let mine = own.first().map(|(_, id)| *id).unwrap_or(0);
        let lookup = outcome(&client, &format!("SELECT id FROM docs WHERE id = {mine}")).await;
        ensure(lookup == format!("ok [{mine}]"), || {
            format!("tenant {tenant} looked up its row {mine}: {lookup}")
        })?;
        let count_all = outcome(&client, "SELECT count(*) FROM docs").await;
        ensure(count_all == format!("ok [{count}]"), || {
            format!("tenant {tenant} counts {count_all}")
        })?;
        // Cross-tenant writes are refused by the policy's check.
        let other_tenant = if tenant == 1 { 2 } else { 1 };
        let insert = outcome(
            &client,
            &format!("INSERT INTO docs VALUES (100000, {other_tenant}, 'x', '[0,0,0]')"),
        )
        .await;
        ensure(
            insert == "ERROR 42501: new row violates row-level security policy for table \"docs\"",
            || format!("tenant {tenant} inserted for tenant {other_tenant}: {insert}"),
        )?;
    }
    // With an index on tenant_id, the policy's equality is its key: a tenant's scan reads
    // only its rows (and nearest-neighbour queries rank them exactly).
    let admin = server.endpoint().connect().await?;
    admin
        .batch_execute("CREATE INDEX docs_tenant ON docs (tenant_id)")
        .await?;
    for &(tenant, count) in TENANTS {
        let client = tenant_endpoint(&server, tenant).connect().await?;
        let plan = outcome(&client, "EXPLAIN SELECT count(*) FROM docs").await;
        ensure(
            plan.contains("Index Scan using docs_tenant on docs"),
            || format!("tenant {tenant}: the policy does not use the tenant index: {plan}"),
        )?;
        let count_all = outcome(&client, "SELECT count(*) FROM docs").await;
        ensure(count_all == format!("ok [{count}]"), || {
            format!("tenant {tenant} counts {count_all} through the index")
        })?;
        let sql = format!("SELECT id, tenant_id FROM docs ORDER BY emb <-> {query} LIMIT 10");
        let found = client.query(sql.as_str(), &[]).await?;
        ensure(
            found.len() == count.min(10) && found.iter().all(|r| r.get::<_, i32>(1) == tenant),
            || {
                format!(
                    "tenant {tenant}: {} rows through the tenant index",
                    found.len()
                )
            },
        )?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_claims_cannot_be_forged() -> HarnessResult<()> {
    let server = CustosServer::start().await?;
    setup(&server).await?;
    let endpoint = tenant_endpoint(&server, 1);
    let client = endpoint.connect().await?;
    let denied = "ERROR 42501: permission denied to set parameter \"custos.claim.tenant_id\"";
    for sql in [
        "SET custos.claim.tenant_id = '2'",
        "SET SESSION custos.claim.tenant_id = 2",
        "SELECT set_config('custos.claim.tenant_id', '2', false)",
        "RESET custos.claim.tenant_id",
        "ALTER ROLE app_t1 SET custos.claim.tenant_id = '2'",
    ] {
        let got = outcome(&client, sql).await;
        ensure(got == denied, || format!("`{sql}` gave {got}"))?;
    }
    let got = outcome(&client, "SET custos.claim.role = 'admin'").await;
    ensure(
        got == "ERROR 42501: permission denied to set parameter \"custos.claim.role\"",
        || format!("a new claim: {got}"),
    )?;
    client.batch_execute("BEGIN").await?;
    let got = outcome(&client, "SET LOCAL custos.claim.tenant_id = '2'").await;
    ensure(got == denied, || format!("SET LOCAL gave {got}"))?;
    client.batch_execute("ROLLBACK").await?;
    let got = outcome(&client, "RESET ALL").await;
    ensure(got == "ok", || format!("RESET ALL gave {got}"))?;
    let got = outcome(
        &client,
        "SELECT current_setting('custos.claim.tenant_id'), count(*), min(tenant_id), max(tenant_id) FROM docs",
    )
    .await;
    ensure(got == "ok [1|4|1|1]", || {
        format!("after the attempts, tenant 1 sees {got}")
    })?;
    // The startup packet's options are settings the session sets: refused as well.
    let mut config = tokio_postgres::Config::new();
    config
        .host(&endpoint.host)
        .port(endpoint.port)
        .user(&endpoint.user)
        .password(endpoint.password.as_str())
        .dbname(&endpoint.dbname)
        .options("-c custos.claim.tenant_id=2");
    match config.connect(NoTls).await {
        Ok((client, connection)) => {
            tokio::spawn(connection);
            let got = outcome(&client, "SELECT count(*), min(tenant_id) FROM docs").await;
            return Err(HarnessError::new(format!(
                "a login with a forged claim was accepted and sees {got}"
            )));
        }
        Err(error) => {
            let code = error.as_db_error().map(|d| d.code().code().to_string());
            ensure(code.as_deref() == Some("42501"), || {
                format!("the forged login failed with {error}")
            })?;
        }
    }
    // A superuser may set claims.
    let admin = server.endpoint().connect().await?;
    let got = outcome(
        &admin,
        "SET custos.claim.tenant_id = '3'; SELECT current_setting('custos.claim.tenant_id')",
    )
    .await;
    ensure(got == "ok [3]", || {
        format!("the superuser's SET gave {got}")
    })?;
    // Policies, row security and role claims are in the catalog the WAL keeps.
    drop(admin);
    drop(client);
    let mut server = server;
    let stopped = tokio::task::block_in_place(|| server.kill9());
    ensure(stopped.is_some(), || {
        "the server was not running".to_string()
    })?;
    server.start_again().await?;
    let client = tenant_endpoint(&server, 1).connect().await?;
    let got = outcome(
        &client,
        "SELECT current_setting('custos.claim.tenant_id'), count(*), max(tenant_id) FROM docs",
    )
    .await;
    ensure(got == "ok [1|4|1]", || {
        format!("after a restart, tenant 1 sees {got}")
    })?;
    Ok(())
}
