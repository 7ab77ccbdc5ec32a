//! Running one query case on one server, and comparing two servers' outcomes.
//!
//! Queries go through the simple query protocol (tokio-postgres `simple_query`), so every value
//! arrives in its text form and comparison is exact string equality (NULL distinct from the
//! empty string). Per statement the column names, the rows and the affected-row count of the
//! CommandComplete are compared; rows are compared in order only when the statement has a
//! top-level ORDER BY, otherwise as sorted multisets.

use std::fmt::Write as _;
use std::time::Duration;

use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::differential::query_file::{Expectation, QueryCase};
use crate::endpoint::Endpoint;

/// Upper bound on one query (all its statements).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a result a report prints.
const REPORT_ROWS: usize = 12;
const REPORT_VALUE_CHARS: usize = 60;

/// The result of one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementResult {
    /// `None` for a statement without a result set (e.g. INSERT without RETURNING).
    pub columns: Option<Vec<String>>,
    pub rows: Vec<Vec<Option<String>>>,
    /// The row count of the CommandComplete tag.
    pub affected: u64,
}

/// What running a query on a server produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed(Vec<StatementResult>),
    Error {
        sqlstate: String,
        message: String,
    },
    Timeout,
    /// The connection broke or could not be established.
    ConnectionLost(String),
    /// The harness could not set the case up (BEGIN of a rolled-back case failed).
    SetupFailed(String),
}

/// One server connection that survives timeouts and lost connections by reconnecting.
pub struct QuerySession {
    endpoint: Endpoint,
    client: Option<Client>,
}

impl QuerySession {
    pub fn new(endpoint: Endpoint) -> Self {
        QuerySession {
            endpoint,
            client: None,
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn client(&mut self) -> Result<&Client, String> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
        }
        if self.client.is_none() {
            let client = self.endpoint.connect().await.map_err(|e| e.to_string())?;
            self.client = Some(client);
        }
        self.client
            .as_ref()
            .ok_or_else(|| "no connection".to_string())
    }

    /// Runs one simple-query string, bounded by [`QUERY_TIMEOUT`]; cancels it at the deadline.
    pub async fn simple(&mut self, sql: &str) -> Outcome {
        let client = match self.client().await {
            Ok(client) => client,
            Err(e) => return Outcome::ConnectionLost(e),
        };
        let cancel = client.cancel_token();
        match tokio::time::timeout(QUERY_TIMEOUT, client.simple_query(sql)).await {
            Ok(Ok(messages)) => Outcome::Completed(collect_statements(messages)),
            Ok(Err(error)) => match error.as_db_error() {
                Some(db) => Outcome::Error {
                    sqlstate: db.code().code().to_string(),
                    message: db.message().to_string(),
                },
                None => {
                    self.client = None;
                    Outcome::ConnectionLost(error.to_string())
                }
            },
            Err(_) => {
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), cancel.cancel_query(NoTls)).await;
                // The connection may still be busy: start afresh for the next query.
                self.client = None;
                Outcome::Timeout
            }
        }
    }

    /// Runs a case: inside BEGIN ... ROLLBACK when it asks for it.
    pub async fn run_case(&mut self, case: &QueryCase) -> Outcome {
        if !case.rollback {
            return self.simple(&case.sql).await;
        }
        match self.simple("BEGIN").await {
            Outcome::Completed(_) => {}
            Outcome::Error { sqlstate, message } => {
                return Outcome::SetupFailed(format!("BEGIN failed with {sqlstate}: {message}"))
            }
            other => return other,
        }
        let outcome = self.simple(&case.sql).await;
        if !matches!(outcome, Outcome::Timeout | Outcome::ConnectionLost(_)) {
            if let Outcome::Error { message, .. } = self.simple("ROLLBACK").await {
                // The data set may have changed: later results would be meaningless.
                return Outcome::ConnectionLost(format!("ROLLBACK failed: {message}"));
            }
        }
        outcome
    }
}

fn collect_statements(messages: Vec<SimpleQueryMessage>) -> Vec<StatementResult> {
    let mut statements = Vec::new();
    let mut current: Option<StatementResult> = None;
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(columns) => {
                current = Some(StatementResult {
                    columns: Some(columns.iter().map(|c| c.name().to_string()).collect()),
                    rows: Vec::new(),
                    affected: 0,
                });
            }
            SimpleQueryMessage::Row(row) => {
                let result = current.get_or_insert_with(|| StatementResult {
                    columns: Some(row.columns().iter().map(|c| c.name().to_string()).collect()),
                    rows: Vec::new(),
                    affected: 0,
                });
                result.rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                );
            }
            SimpleQueryMessage::CommandComplete(affected) => {
                let mut result = current.take().unwrap_or(StatementResult {
                    columns: None,
                    rows: Vec::new(),
                    affected: 0,
                });
                result.affected = affected;
                statements.push(result);
            }
            _ => {}
        }
    }
    if let Some(result) = current {
        statements.push(result);
    }
    statements
}

/// How a case fared on the server under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Both succeeded with different results.
    Mismatch(String),
    /// The SQLSTATE differs, or one side failed and the other did not.
    ErrorMismatch(String),
    Timeout,
    ConnectionLost(String),
}

impl Verdict {
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    /// A short label for reports.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Mismatch(_) => "MISMATCH",
            Verdict::ErrorMismatch(_) => "ERROR-MISMATCH",
            Verdict::Timeout => "TIMEOUT",
            Verdict::ConnectionLost(_) => "CONNECTION-LOST",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Verdict::Mismatch(detail)
            | Verdict::ErrorMismatch(detail)
            | Verdict::ConnectionLost(detail) => detail,
            Verdict::Pass | Verdict::Timeout => "",
        }
    }
}

/// Compares the outcome of the server under test (`candidate`, named `candidate_label` in
/// reports) with the reference outcome.
pub fn compare(
    case: &QueryCase,
    reference: &Outcome,
    candidate: &Outcome,
    candidate_label: &str,
) -> Verdict {
    match (&case.expectation, reference, candidate) {
        (_, _, Outcome::Timeout) => Verdict::Timeout,
        (_, _, Outcome::ConnectionLost(reason)) => Verdict::ConnectionLost(reason.clone()),
        (_, _, Outcome::SetupFailed(reason)) => {
            Verdict::ErrorMismatch(format!("the case could not be run: {reason}"))
        }
        (Expectation::Error(expected), _, Outcome::Error { sqlstate, message }) => {
            if sqlstate == expected {
                Verdict::Pass
            } else {
                Verdict::ErrorMismatch(format!(
                    "expected SQLSTATE {expected}, got {sqlstate}: {message}"
                ))
            }
        }
        (Expectation::Error(expected), _, Outcome::Completed(results)) => {
            Verdict::ErrorMismatch(format!(
                "expected SQLSTATE {expected}, but the query succeeded:\n{}",
                render_results(results)
            ))
        }
        (Expectation::Rows, Outcome::Completed(expected), Outcome::Completed(actual)) => {
            compare_results(case, expected, actual, candidate_label)
        }
        (Expectation::Rows, Outcome::Completed(_), Outcome::Error { sqlstate, message }) => {
            Verdict::ErrorMismatch(format!("unexpected error {sqlstate}: {message}"))
        }
        (Expectation::Rows, reference, _) => Verdict::ErrorMismatch(format!(
            "the reference itself did not succeed: {}",
            render_outcome(reference)
        )),
    }
}

fn compare_results(
    case: &QueryCase,
    expected: &[StatementResult],
    actual: &[StatementResult],
    candidate_label: &str,
) -> Verdict {
    if expected.len() != actual.len() {
        return Verdict::Mismatch(format!(
            "{} statement results expected, {} received",
            expected.len(),
            actual.len()
        ));
    }
    let ordered = case.ordered_statements();
    for (index, (expected, actual)) in expected.iter().zip(actual).enumerate() {
        let is_ordered = ordered.get(index).copied().unwrap_or(false);
        let mut problems = Vec::new();
        if expected.columns != actual.columns {
            problems.push(format!(
                "columns differ: expected {:?}, got {:?}",
                expected.columns, actual.columns
            ));
        }
        if expected.affected != actual.affected {
            problems.push(format!(
                "row count of the command tag differs: expected {}, got {}",
                expected.affected, actual.affected
            ));
        }
        let rows_equal = if is_ordered {
            expected.rows == actual.rows
        } else {
            sorted(&expected.rows) == sorted(&actual.rows)
        };
        if !rows_equal {
            problems.push(format!(
                "rows differ ({}): expected {} rows, got {}{}",
                if is_ordered {
                    "ordered"
                } else {
                    "as multisets"
                },
                expected.rows.len(),
                actual.rows.len(),
                first_difference(&expected.rows, &actual.rows, is_ordered)
            ));
        }
        if !problems.is_empty() {
            return Verdict::Mismatch(format!(
                "statement {}: {}\n--- expected (PostgreSQL)\n{}--- got ({candidate_label})\n{}",
                index + 1,
                problems.join("; "),
                render_result(expected),
                render_result(actual)
            ));
        }
    }
    Verdict::Pass
}

fn sorted(rows: &[Vec<Option<String>>]) -> Vec<Vec<Option<String>>> {
    let mut rows = rows.to_vec();
    rows.sort();
    rows
}

fn first_difference(
    expected: &[Vec<Option<String>>],
    actual: &[Vec<Option<String>>],
    ordered: bool,
) -> String {
    let (expected, actual) = if ordered {
        (expected.to_vec(), actual.to_vec())
    } else {
        (sorted(expected), sorted(actual))
    };
    for (index, (e, a)) in expected.iter().zip(&actual).enumerate() {
        if e != a {
            return format!(
                "; first difference at row {}: expected {}, got {}",
                index + 1,
                render_row(e),
                render_row(a)
            );
        }
    }
    String::new()
}

fn render_row(row: &[Option<String>]) -> String {
    let values: Vec<String> = row
        .iter()
        .map(|value| match value {
            None => "NULL".to_string(),
            Some(text) => {
                let mut shown: String = text.chars().take(REPORT_VALUE_CHARS).collect();
                if text.chars().count() > REPORT_VALUE_CHARS {
                    shown.push('…');
                }
                format!("{shown:?}")
            }
        })
        .collect();
    format!("({})", values.join(", "))
}

/// A truncated rendering of one statement result.
pub fn render_result(result: &StatementResult) -> String {
    let mut text = String::new();
    match &result.columns {
        Some(columns) => {
            let _ = writeln!(text, "  columns: {}", columns.join(" | "));
        }
        None => text.push_str("  (no result set)\n"),
    }
    for row in result.rows.iter().take(REPORT_ROWS) {
        let _ = writeln!(text, "  {}", render_row(row));
    }
    if result.rows.len() > REPORT_ROWS {
        let _ = writeln!(text, "  ... {} rows in all", result.rows.len());
    }
    let _ = writeln!(text, "  (command tag count {})", result.affected);
    text
}

fn render_results(results: &[StatementResult]) -> String {
    results.iter().map(render_result).collect()
}

/// A truncated rendering of an outcome.
pub fn render_outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Completed(results) => render_results(results),
        Outcome::Error { sqlstate, message } => format!("error {sqlstate}: {message}"),
        Outcome::Timeout => format!("timed out after {QUERY_TIMEOUT:?}"),
        Outcome::ConnectionLost(reason) => format!("connection lost: {reason}"),
        Outcome::SetupFailed(reason) => format!("could not run the case: {reason}"),
    }
}
