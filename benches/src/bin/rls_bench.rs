//! `rls_bench`: what row-level security costs (issue 6: "throughput of point lookups and
//! filtered vector search with RLS on vs off, target within 10 %").
//!
//! One custos server (fresh data directory) gets two tables with the same rows,
//! `docs_off` and `docs_on` (`id int PRIMARY KEY, tenant_id int, body text, emb vector(16)`,
//! an HNSW index on `emb`), spread over 20 tenants. `docs_on` has row-level security with the
//! policy `tenant_id = current_setting('custos.claim.tenant_id')::int`; the login role
//! `bench_app` has the claim `custos.claim.tenant_id = 7` (ALTER ROLE ... SET). Through one
//! connection as `bench_app`, the same questions are asked both ways:
//!
//! - **lookups**: `SELECT body FROM docs_off WHERE id = $1 AND tenant_id =
//!   current_setting('custos.claim.tenant_id')::int` (the filter written by hand) against
//!   `SELECT body FROM docs_on WHERE id = $1` (the policy adds it), prepared, ids of tenant 7;
//! - **vector**: `... ORDER BY emb <-> '[...]' LIMIT 10`, with the tenant filter written by
//!   hand against the policy, random query vectors (simple protocol, the same text shape).
//!
//! Each workload runs for `--seconds` per side, alternating sides, `--repeats` times; the
//! figures are medians, and the ratio is RLS-on throughput / RLS-off throughput. Before
//! timing, both sides must return the same rows for a sample of queries.
//!
//! Usage: `rls_bench [--quick] [--rows N] [--seconds S] [--repeats R]`.
//! `--quick`: 4,000 rows, 1-second runs, 1 repeat. Needs `custos` beside this executable
//! (cargo build --release -p custos-server) or CUSTOS_BIN.

use std::error::Error;
use std::time::{Duration, Instant};

use custos_benches::median;
use custos_benches::wire::servers::{custos_binary, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::runtime::Runtime;
use tokio_postgres::{Client, NoTls};

type BenchResult<T> = Result<T, Box<dyn Error>>;

const TENANTS: i32 = 20;
const TENANT: i32 = 7;
const DIMS: usize = 16;
const K: usize = 10;
const TARGET: f64 = 0.90;

struct Settings {
    rows: usize,
    seconds: f64,
    repeats: usize,
}

fn settings() -> BenchResult<Settings> {
    let mut s = Settings {
        rows: 40_000,
        seconds: 5.0,
        repeats: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> BenchResult<String> {
            args.next()
                .ok_or_else(|| format!("{name} needs a value").into())
        };
        match arg.as_str() {
            "--quick" => {
                s.rows = 4_000;
                s.seconds = 1.0;
                s.repeats = 1;
            }
            "--rows" => s.rows = value("--rows")?.parse()?,
            "--seconds" => s.seconds = value("--seconds")?.parse()?,
            "--repeats" => s.repeats = value("--repeats")?.parse()?,
            other => {
                return Err(format!(
                    "unknown argument {other}\nusage: rls_bench [--quick] [--rows N] [--seconds S] [--repeats R]"
                )
                .into())
            }
        }
    }
    Ok(s)
}

fn vector_literal(rng: &mut StdRng) -> String {
    let parts: Vec<String> = (0..DIMS)
        .map(|_| format!("{:.4}", rng.gen_range(-1.0f64..1.0)))
        .collect();
    format!("'[{}]'", parts.join(","))
}

async fn load(admin: &Client, rows: usize) -> BenchResult<Vec<i32>> {
    let mut rng = StdRng::seed_from_u64(11);
    for table in ["docs_off", "docs_on"] {
        admin
            .batch_execute(&format!(
                "CREATE TABLE {table} (id int PRIMARY KEY, tenant_id int NOT NULL, body text, \
                 emb vector({DIMS}))"
            ))
            .await?;
    }
    let mut mine = Vec::new();
    let mut batch = Vec::new();
    for id in 1..=rows as i32 {
        let tenant = rng.gen_range(1..=TENANTS);
        if tenant == TENANT {
            mine.push(id);
        }
        batch.push(format!(
            "({id}, {tenant}, 'document {id} of tenant {tenant}', {})",
            vector_literal(&mut rng)
        ));
        if batch.len() == 500 || id as usize == rows {
            let values = batch.join(", ");
            for table in ["docs_off", "docs_on"] {
                admin
                    .batch_execute(&format!("INSERT INTO {table} VALUES {values}"))
                    .await?;
            }
            batch.clear();
        }
    }
    admin
        .batch_execute(
            "CREATE INDEX docs_off_emb ON docs_off USING hnsw (emb vector_l2_ops);\
             CREATE INDEX docs_on_emb ON docs_on USING hnsw (emb vector_l2_ops);\
             ALTER TABLE docs_on ENABLE ROW LEVEL SECURITY;\
             CREATE POLICY tenant_isolation ON docs_on \
                 USING (tenant_id = current_setting('custos.claim.tenant_id')::int);\
             CREATE ROLE bench_app LOGIN PASSWORD 'bench-app-pw';\
             GRANT SELECT ON docs_off, docs_on TO bench_app;\
             ANALYZE;",
        )
        .await?;
    admin
        .batch_execute(&format!(
            "ALTER ROLE bench_app SET custos.claim.tenant_id = '{TENANT}'"
        ))
        .await?;
    Ok(mine)
}

const FILTER: &str = "tenant_id = current_setting('custos.claim.tenant_id')::int";

fn lookup_sql(rls: bool) -> String {
    if rls {
        "SELECT body FROM docs_on WHERE id = $1".into()
    } else {
        format!("SELECT body FROM docs_off WHERE id = $1 AND {FILTER}")
    }
}

fn vector_sql(rls: bool, query: &str) -> String {
    if rls {
        format!("SELECT id FROM docs_on ORDER BY emb <-> {query} LIMIT {K}")
    } else {
        format!("SELECT id FROM docs_off WHERE {FILTER} ORDER BY emb <-> {query} LIMIT {K}")
    }
}

async fn ids_of(client: &Client, sql: &str) -> BenchResult<Vec<String>> {
    let mut out = Vec::new();
    for m in client.simple_query(sql).await? {
        if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
            out.push(r.get(0).unwrap_or("").to_string());
        }
    }
    Ok(out)
}

/// Queries per second of one workload on one side.
async fn run(
    client: &Client,
    workload: &str,
    rls: bool,
    seconds: f64,
    mine: &[i32],
    rng: &mut StdRng,
) -> BenchResult<f64> {
    let statement = client.prepare(&lookup_sql(rls)).await?;
    let start = Instant::now();
    let limit = Duration::from_secs_f64(seconds);
    let mut done = 0u64;
    while start.elapsed() < limit {
        if workload == "lookups" {
            let id = mine[rng.gen_range(0..mine.len())];
            let rows = client.query(&statement, &[&id]).await?;
            if rows.len() != 1 {
                return Err(format!("lookup of {id} returned {} rows", rows.len()).into());
            }
        } else {
            let query = vector_literal(rng);
            let rows = ids_of(client, &vector_sql(rls, &query)).await?;
            if rows.len() != K.min(mine.len()) {
                return Err(format!("vector search returned {} rows", rows.len()).into());
            }
        }
        done += 1;
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

fn main() {
    match bench() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("rls_bench: {e}");
            std::process::exit(1);
        }
    }
}

fn bench() -> BenchResult<bool> {
    let s = settings()?;
    let runtime = Runtime::new()?;
    let mut server = Server::start_custos(&runtime, &custos_binary()?)?;
    let result = runtime.block_on(async {
        let admin = server.endpoint.connect().await?;
        eprintln!("loading {} rows into docs_off and docs_on ...", s.rows);
        let mine = load(&admin, s.rows).await?;
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(server.endpoint.port)
            .user("bench_app")
            .password("bench-app-pw")
            .dbname("custos");
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        // Both ways answer with k rows of the tenant (the two HNSW graphs are built
        // separately, so the approximate neighbours may differ slightly).
        let mut rng = StdRng::seed_from_u64(5);
        let own: std::collections::HashSet<String> = mine.iter().map(|i| i.to_string()).collect();
        for _ in 0..20 {
            let q = vector_literal(&mut rng);
            for rls in [false, true] {
                let ids = ids_of(&client, &vector_sql(rls, &q)).await?;
                if ids.len() != K.min(mine.len()) || ids.iter().any(|i| !own.contains(i)) {
                    return Err(format!("vector search (RLS {rls}) returned {ids:?}").into());
                }
            }
        }
        let mut ok = true;
        println!(
            "rls_bench: {} rows, {TENANTS} tenants ({} rows of tenant {TENANT}), {}s runs, {} repeats",
            s.rows,
            mine.len(),
            s.seconds,
            s.repeats
        );
        for workload in ["lookups", "vector"] {
            let mut off = Vec::new();
            let mut on = Vec::new();
            for repeat in 0..s.repeats {
                for rls in [repeat % 2 == 1, repeat % 2 == 0] {
                    let qps = run(&client, workload, rls, s.seconds, &mine, &mut rng).await?;
                    if rls {
                        on.push(qps);
                    } else {
                        off.push(qps);
                    }
                }
            }
            let (off, on) = (median(off), median(on));
            let ratio = on / off;
            let verdict = if ratio >= TARGET { "ok" } else { "BELOW TARGET" };
            if ratio < TARGET {
                ok = false;
            }
            println!(
                "{workload:8} RLS off {off:10.1} q/s   RLS on {on:10.1} q/s   on/off {ratio:.3} ({verdict}, target >= {TARGET})"
            );
        }
        Ok::<bool, Box<dyn Error>>(ok)
    });
    if result.is_err() {
        eprintln!("custos log tail:\n{}", server.log_tail());
    }
    server.stop();
    result
}
