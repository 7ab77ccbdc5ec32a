//! pgvector-python against custos: `register_vector` on a psycopg 3 connection, numpy vectors
//! inserted (text and binary parameters, COPY BINARY) and read back as numpy arrays, a
//! nearest-neighbour query through an HNSW index. The packages come from pip (`pgvector`,
//! `psycopg[binary]`, `numpy`); the test installs them if they are missing and is skipped,
//! saying so, only when pip cannot.

use std::process::Command;
use std::time::Duration;

use custos_tests::error::ensure;
use custos_tests::process::run_bounded;
use custos_tests::{CustosServer, HarnessResult};

const PIP_TIMEOUT: Duration = Duration::from_secs(300);
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

const SCRIPT: &str = r#"
import sys
import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector

conn = psycopg.connect(sys.argv[1], autocommit=True)
conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
register_vector(conn)
conn.execute("CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3))")
rng = np.random.default_rng(42)
vectors = rng.random((500, 3), dtype=np.float32)
with conn.cursor() as cur:
    for v in vectors[:100]:
        cur.execute("INSERT INTO items (embedding) VALUES (%s)", (v,))
    for v in vectors[100:200]:
        cur.execute("INSERT INTO items (embedding) VALUES (%b)", (v,), binary=True)
    with cur.copy("COPY items (embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["vector"])
        for v in vectors[200:]:
            copy.write_row([v])
conn.execute("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops)")
conn.execute("CHECKPOINT")
count = conn.execute("SELECT count(*) FROM items").fetchone()[0]
assert count == 500, count
def as_numpy(value):
    # pgvector-python 0.4+ loads `Vector` objects, earlier versions numpy arrays.
    return value.to_numpy() if isinstance(value, Vector) else value

row = conn.execute("SELECT embedding FROM items ORDER BY id LIMIT 1").fetchone()
assert np.allclose(as_numpy(row[0]), vectors[0]), (row[0], vectors[0])
row = conn.execute("SELECT embedding FROM items ORDER BY id LIMIT 1", binary=True).fetchone()
assert np.allclose(as_numpy(row[0]), vectors[0])
query = vectors[123]
rows = conn.execute(
    "SELECT id, embedding <-> %s AS distance FROM items ORDER BY embedding <-> %s LIMIT 5",
    (query, query),
).fetchall()
assert len(rows) == 5, rows
assert rows[0][0] == 124 and rows[0][1] < 1e-6, rows
exact = np.argsort(np.linalg.norm(vectors - query, axis=1))[:5] + 1
assert [r[0] for r in rows] == list(exact), (rows, exact)
plan = "\n".join(r[0] for r in conn.execute(
    "EXPLAIN SELECT id FROM items ORDER BY embedding <-> %s LIMIT 5", (query,)))
assert "Index Scan using items_embedding_idx on items" in plan, plan
print("ok")
"#;

/// Whether python3 can import the packages.
fn packages_importable() -> bool {
    run_bounded(
        Command::new("python3").args(["-c", "import numpy, psycopg, pgvector.psycopg"]),
        None,
        SCRIPT_TIMEOUT,
    )
    .is_ok_and(|output| output.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custos_pgvector_python_registers_inserts_and_searches_numpy_vectors() -> HarnessResult<()>
{
    if !packages_importable() {
        let install = run_bounded(
            Command::new("python3").args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "pgvector",
                "psycopg[binary]",
                "numpy",
            ]),
            None,
            PIP_TIMEOUT,
        );
        if !packages_importable() {
            let why = match install {
                Ok(output) => output.stderr_lossy(),
                Err(error) => error.to_string(),
            };
            eprintln!(
                "SKIPPED custos_pgvector_python: pip could not install pgvector, psycopg[binary] \
                 and numpy: {why}"
            );
            return Ok(());
        }
    }
    let server = CustosServer::start().await?;
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("pgvector_check.py");
    std::fs::write(&script, SCRIPT)?;
    let endpoint = server.endpoint();
    let conninfo = format!(
        "host={} port={} user={} password={} dbname={}",
        endpoint.host, endpoint.port, endpoint.user, endpoint.password, endpoint.dbname
    );
    let output = tokio::task::block_in_place(|| {
        run_bounded(
            Command::new("python3").arg(&script).arg(&conninfo),
            None,
            SCRIPT_TIMEOUT,
        )
    })?;
    ensure(
        output.success() && output.stdout_lossy().contains("ok"),
        || {
            format!(
                "pgvector-python script failed ({}):\n{}\n{}",
                output.describe_status(),
                output.stdout_lossy(),
                output.stderr_lossy()
            )
        },
    )
}
