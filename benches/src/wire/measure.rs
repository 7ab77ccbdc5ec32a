//! One measurement against one server: a COPY through `psql \copy`, a pgbench run, a query
//! timed through one tokio-postgres connection, and the comparison of two result sets.
//!
//! These return `Result<_, String>`: an error is something the *server* refused or got wrong
//! (the statement and the server's SQLSTATE and message, or the program's output), reported
//! in the benchmark's table rather than aborting the other measurements.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, SimpleQueryMessage};

use super::process::run_bounded;
use super::servers::Server;

/// Rows of a result in text form (NULL as `None`), as the simple query protocol returns them.
pub type TextRows = Vec<Vec<Option<String>>>;

/// A COPY as psql reported it.
#[derive(Debug, Clone, Copy)]
pub struct CopyOutcome {
    /// psql's `\timing` of the `\copy` (connection start-up excluded).
    pub seconds: f64,
    pub rows: u64,
}

/// Loads `csv` into `table` with `psql -c "\copy table FROM 'csv' WITH (FORMAT csv)"`.
pub fn psql_copy(
    psql: &Path,
    server: &Server,
    table: &str,
    csv: &Path,
    timeout: Duration,
) -> Result<CopyOutcome, String> {
    let path = csv
        .to_str()
        .filter(|p| !p.contains('\''))
        .ok_or_else(|| format!("{}: a path psql cannot quote simply", csv.to_string_lossy()))?;
    let statement = format!("\\copy {table} FROM '{path}' WITH (FORMAT csv)");
    let mut command = server.endpoint.libpq_command(psql);
    command
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-c", "\\timing on", "-c"])
        .arg(&statement);
    let output = run_bounded(&mut command, timeout).map_err(|e| e.to_string())?;
    if !output.success() {
        return Err(format!("`{statement}`: {}", output.describe_failure()));
    }
    let rows = output
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("COPY "))
        .and_then(|count| count.trim().parse().ok());
    let milliseconds = output
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("Time: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse::<f64>().ok());
    match (rows, milliseconds) {
        (Some(rows), Some(milliseconds)) => Ok(CopyOutcome {
            seconds: milliseconds / 1_000.0,
            rows,
        }),
        _ => Err(format!(
            "`{statement}`: psql printed no \"COPY n\" and \"Time:\" lines: {}",
            output.stdout.trim()
        )),
    }
}

/// What pgbench reported.
#[derive(Debug, Clone, Copy)]
pub struct PgbenchOutcome {
    /// Transactions per second, initial connection time excluded.
    pub tps: f64,
    pub transactions: u64,
}

/// Runs `pgbench -n -M prepared -T seconds -c clients -j threads -f script`.
pub fn run_pgbench(
    pgbench: &Path,
    server: &Server,
    script: &Path,
    clients: usize,
    threads: usize,
    seconds: u64,
) -> Result<PgbenchOutcome, String> {
    let mut command = server.endpoint.libpq_command(pgbench);
    command
        .args(["-n", "-M", "prepared", "-T", &seconds.to_string()])
        .args(["-c", &clients.to_string(), "-j", &threads.to_string()])
        .arg("-f")
        .arg(script);
    let description = format!("pgbench -n -M prepared -T {seconds} -c {clients} -j {threads}");
    // pgbench stops at -T; the margin covers connecting and a slow last transaction.
    let timeout = Duration::from_secs(seconds + 60);
    let output = run_bounded(&mut command, timeout).map_err(|e| e.to_string())?;
    if !output.success() {
        return Err(format!("`{description}`: {}", output.describe_failure()));
    }
    parse_pgbench(&output.stdout)
        .ok_or_else(|| format!("`{description}`: unexpected output: {}", output.stdout))
        .and_then(|outcome| {
            let failed =
                pgbench_field(&output.stdout, "number of failed transactions: ").unwrap_or(0.0);
            if failed > 0.0 {
                Err(format!(
                    "`{description}`: {failed} failed transactions; stderr: {}",
                    output.stderr.trim()
                ))
            } else {
                Ok(outcome)
            }
        })
}

/// The tps and transaction count of pgbench's report.
fn parse_pgbench(stdout: &str) -> Option<PgbenchOutcome> {
    Some(PgbenchOutcome {
        tps: pgbench_field(stdout, "tps = ")?,
        transactions: pgbench_field(stdout, "number of transactions actually processed: ")? as u64,
    })
}

/// The number after `label` at the start of a line of pgbench's report.
fn pgbench_field(stdout: &str, label: &str) -> Option<f64> {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
}

/// Runs `sql` through the simple query protocol; returns the wall time and the rows.
pub async fn timed_query(
    client: &Client,
    sql: &str,
    timeout: Duration,
) -> Result<(f64, TextRows), String> {
    let started = Instant::now();
    let messages = tokio::time::timeout(timeout, client.simple_query(sql))
        .await
        .map_err(|_| format!("`{sql}`: no answer within {timeout:?}"))?
        .map_err(|e| describe_error(sql, &e))?;
    let seconds = started.elapsed().as_secs_f64();
    let rows = messages
        .iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    Ok((seconds, rows))
}

/// Runs statements without results.
pub async fn execute(client: &Client, sql: &str, timeout: Duration) -> Result<(), String> {
    tokio::time::timeout(timeout, client.batch_execute(sql))
        .await
        .map_err(|_| format!("`{sql}`: no answer within {timeout:?}"))?
        .map_err(|e| describe_error(sql, &e))
}

/// The statement with the server's SQLSTATE and message (or the client-side error).
pub fn describe_error(sql: &str, error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("`{sql}`: ERROR {}: {}", db.code().code(), db.message()),
        None => format!("`{sql}`: {error}"),
    }
}

/// Checks that two results hold the same rows in any order; the error shows where they differ.
pub fn compare_results(custos: &TextRows, postgres: &TextRows) -> Result<(), String> {
    let mut custos = custos.clone();
    let mut postgres = postgres.clone();
    custos.sort();
    postgres.sort();
    if custos == postgres {
        return Ok(());
    }
    let show = |row: Option<&Vec<Option<String>>>| match row {
        Some(row) => row
            .iter()
            .map(|value| value.as_deref().unwrap_or("NULL"))
            .collect::<Vec<_>>()
            .join(" | "),
        None => "(no row)".into(),
    };
    let first_difference = (0..custos.len().max(postgres.len()))
        .find(|&i| custos.get(i) != postgres.get(i))
        .unwrap_or(0);
    Err(format!(
        "results differ: custos {} rows, PostgreSQL {} rows; first difference (sorted row \
         {first_difference}): custos [{}] vs PostgreSQL [{}]",
        custos.len(),
        postgres.len(),
        show(custos.get(first_difference)),
        show(postgres.get(first_difference))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PGBENCH_15_OUTPUT: &str = "transaction type: lookup.sql
scaling factor: 1
query mode: prepared
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 2 s
number of transactions actually processed: 33671
number of failed transactions: 0 (0.000%)
latency average = 0.059 ms
initial connection time = 2.703 ms
tps = 16857.406199 (without initial connection time)
";

    #[test]
    fn pgbench_report_is_parsed() {
        let outcome = parse_pgbench(PGBENCH_15_OUTPUT).unwrap();
        assert_eq!(outcome.transactions, 33_671);
        assert!((outcome.tps - 16_857.406199).abs() < 1e-6);
        assert_eq!(
            pgbench_field(PGBENCH_15_OUTPUT, "number of failed transactions: "),
            Some(0.0)
        );
        assert!(parse_pgbench("pgbench: error: connection failed").is_none());
    }

    #[test]
    fn results_compare_in_any_order() {
        let row = |a: &str, b: Option<&str>| vec![Some(a.to_string()), b.map(str::to_string)];
        let left = vec![row("1", Some("x")), row("2", None)];
        let right = vec![row("2", None), row("1", Some("x"))];
        assert!(compare_results(&left, &right).is_ok());
        let wrong = vec![row("2", Some("y")), row("1", Some("x"))];
        let error = compare_results(&left, &wrong).unwrap_err();
        assert!(
            error.contains("custos [2 | NULL] vs PostgreSQL [2 | y]"),
            "{error}"
        );
    }
}
