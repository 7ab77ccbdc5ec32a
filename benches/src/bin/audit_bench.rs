//! `audit_bench`: the cost of the audit trail, in statements per second through the SQL
//! engine (parse, bind, execute, implicit commit; no wire protocol), audit off
//! (`pgaudit.log = none`: logins and denials only) vs on.
//!
//! Loops, each on a fresh data directory with a 10,000-row table `t (id int8 primary key,
//! v text)`:
//! - point selects by primary key (`SELECT v FROM t WHERE id = $1`, prepared once): with
//!   `pgaudit.log = read` every one appends a record (written, not fsynced: a read-only
//!   transaction has nothing to be durable with);
//! - single-row INSERTs, each its own transaction: with `pgaudit.log = write` each commit
//!   fsyncs the audit record before the WAL commit.
//!
//! Every figure is the median of [`REPEATS`] runs. Usage: `audit_bench [--quick]
//! [--data-dir DIR]`. Write figures are only meaningful on a real disk (not tmpfs).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use custos_benches::{filesystem_of, median};
use sql::engine::{Database, DatabaseOptions, Session};
use sql::pgtype::SqlType;
use storage::types::Value;

type BenchResult<T> = Result<T, Box<dyn Error>>;

const REPEATS: usize = 3;
const TABLE_ROWS: i64 = 10_000;

fn run(session: &mut Session, sql: &str) -> BenchResult<()> {
    for statement in session.parse(sql)? {
        let prepared = session.prepare(statement, &[])?;
        session.execute(&prepared, &[])?;
    }
    session.commit_implicit()?;
    Ok(())
}

/// Opens a fresh database with `classes` as `pgaudit.log` and the table loaded.
fn setup(dir: &Path, classes: &str) -> BenchResult<(std::sync::Arc<Database>, Session)> {
    let options = DatabaseOptions {
        audit_log_classes: Some(classes.to_string()),
        ..DatabaseOptions::default()
    };
    let database = Database::open(dir, options)?;
    let mut session = database.session("custos", "custos", &[])?;
    run(
        &mut session,
        "CREATE TABLE t (id int8 PRIMARY KEY, v text); CREATE TABLE w (id int8 PRIMARY KEY, v text)",
    )?;
    run(
        &mut session,
        &format!("INSERT INTO t SELECT g, 'value ' || g FROM generate_series(1, {TABLE_ROWS}) g"),
    )?;
    Ok((database, session))
}

/// Statements per second of `count` executions of `sql` with parameter `$1 = i`.
fn measure(session: &mut Session, sql: &str, count: i64, offset: i64) -> BenchResult<f64> {
    let statement = session.parse(sql)?.remove(0);
    let prepared = session.prepare(statement, &[Some(SqlType::Int8)])?;
    let start = Instant::now();
    for i in 0..count {
        let id = (i * 7919) % TABLE_ROWS + 1 + offset;
        session.execute(&prepared, &[Value::Int8(id)])?;
        session.commit_implicit()?;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let base: Option<PathBuf> = args
        .iter()
        .position(|a| a == "--data-dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let (selects, inserts) = if quick { (2_000, 100) } else { (50_000, 2_000) };
    let scratch = match &base {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let filesystem = filesystem_of(scratch.path())
        .map(|(fs, mount)| format!("{fs} at {mount}"))
        .unwrap_or_else(|| "unknown".into());
    println!(
        "## audit_bench ({} mode; data on {filesystem})\n",
        if quick { "quick" } else { "full" }
    );
    println!("| loop | audit off (`none`) | audit on | on / off |");
    println!("|---|---|---|---|");
    let loops: [(&str, &str, &str, i64, i64); 2] = [
        (
            "point select by primary key",
            "read",
            "SELECT v FROM t WHERE id = $1",
            selects,
            0,
        ),
        (
            "single-row INSERT, one commit each",
            "write",
            "INSERT INTO w VALUES ($1, 'x')",
            inserts,
            0,
        ),
    ];
    for (name, classes, sql, count, offset) in loops {
        let mut figures = Vec::new();
        for setting in ["none", classes] {
            let mut samples = Vec::new();
            for repeat in 0..REPEATS {
                let dir = scratch
                    .path()
                    .join(format!("{setting}-{repeat}-{}", name.len()));
                std::fs::create_dir_all(&dir)?;
                let (database, mut session) = setup(&dir, setting)?;
                samples.push(measure(&mut session, sql, count, offset)?);
                eprintln!(
                    "{name}, pgaudit.log = {setting}: {:.0} statements/s ({} audit records)",
                    samples.last().copied().unwrap_or(0.0),
                    database.audit_log().next_seq() - 1
                );
                session.close();
            }
            figures.push(median(samples));
        }
        println!(
            "| {name} (`pgaudit.log = {classes}`) | {:.0} /s | {:.0} /s | {:.2} |",
            figures[0],
            figures[1],
            figures[1] / figures[0]
        );
    }
    Ok(())
}
