//! The differential suite: the customer-360 data set loaded identically into custos and the
//! reference PostgreSQL, then every query case run on both and compared (see
//! `tests/differential/README.md` for the file formats).
//!
//! - [`query_file`]: the query cases and their expectations.
//! - [`sql_text`]: statement splitting and top-level ORDER BY detection.
//! - [`outcome`]: running a case on one server, comparing two outcomes.
//! - [`known_failures`]: the list of cases custos is known to fail.
//!
//! The suite is first validated against PostgreSQL alone ([`validate_on_reference`]): every
//! "rows" case succeeds, every "error" case fails with its SQLSTATE, no case calls a function
//! whose result depends on time or chance, and every case gives the same result on a second
//! database loaded in reverse row order (so that ORDER BY ... LIMIT without a unique key,
//! or aggregates without ORDER BY whose output depends on row order, are caught).

pub mod known_failures;
pub mod outcome;
pub mod query_file;
pub mod sql_text;

use std::fmt::Write as _;
use std::time::Duration;

use crate::customer360::{schema_path, Customer360, RowOrder, DEFAULT_BATCH_ROWS};
use crate::custos_server::CustosServer;
use crate::endpoint::Endpoint;
use crate::error::{HarnessError, HarnessResult};
use outcome::{compare, render_outcome, Outcome, QuerySession, Verdict};
use query_file::{Expectation, QueryCase};

/// Upper bound on one statement of the data load.
const LOAD_STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// How many times a crashed custos is restarted during one run before the remaining cases are
/// reported as not run.
const MAX_CUSTOS_RESTARTS: usize = 3;

/// Functions and literals whose results differ between runs or servers.
const NONDETERMINISTIC_WORDS: [&str; 16] = [
    "NOW",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "CLOCK_TIMESTAMP",
    "STATEMENT_TIMESTAMP",
    "TRANSACTION_TIMESTAMP",
    "TIMEOFDAY",
    "RANDOM",
    "SETSEED",
    "VERSION",
    "PG_BACKEND_PID",
    "TXID_CURRENT",
    "GEN_RANDOM_UUID",
];

/// The schema and INSERT statements of the data set, in execution order.
pub fn load_statements(data: &Customer360, order: RowOrder) -> HarnessResult<Vec<String>> {
    let schema = std::fs::read_to_string(schema_path())
        .map_err(|e| HarnessError::new(format!("cannot read {}: {e}", schema_path().display())))?;
    let mut statements = sql_text::split_statements(&schema);
    statements.extend(data.insert_statements(DEFAULT_BATCH_ROWS, order));
    Ok(statements)
}

/// Runs the load statements one by one on `endpoint`; the first failure is an error naming
/// the statement.
pub async fn load(endpoint: &Endpoint, statements: &[String]) -> HarnessResult<()> {
    let client = endpoint.connect().await?;
    for (index, statement) in statements.iter().enumerate() {
        let result = tokio::time::timeout(LOAD_STATEMENT_TIMEOUT, client.simple_query(statement))
            .await
            .map_err(|_| {
                HarnessError::new(format!(
                    "load statement {} timed out after {LOAD_STATEMENT_TIMEOUT:?}",
                    index + 1
                ))
            })?;
        if let Err(error) = result {
            let shown: String = statement.chars().take(300).collect();
            return Err(HarnessError::from(error).context(format!(
                "load statement {} of {} failed ({shown}...)",
                index + 1,
                statements.len()
            )));
        }
    }
    Ok(())
}

/// The suite's problems on PostgreSQL alone: each entry names a case and what is wrong.
pub async fn validate_on_reference(
    cases: &[QueryCase],
    forward: &mut QuerySession,
    reversed: &mut QuerySession,
) -> Vec<String> {
    let mut problems = Vec::new();
    for case in cases {
        let mut problem = nondeterminism_problem(case);
        let outcome = forward.run_case(case).await;
        if problem.is_none() {
            problem = expectation_problem(case, &outcome);
        }
        if problem.is_none() && case.expectation == Expectation::Rows {
            let again = reversed.run_case(case).await;
            if let verdict @ (Verdict::Mismatch(_) | Verdict::ErrorMismatch(_)) = compare(
                case,
                &outcome,
                &again,
                "PostgreSQL, rows loaded in reverse order",
            ) {
                problem = Some(format!(
                    "result depends on physical row order (tie in ORDER BY, LIMIT without a \
                     unique order, or an order-sensitive aggregate): {}",
                    verdict.detail()
                ));
            }
        }
        if let Some(problem) = problem {
            problems.push(format!("{} ({}): {problem}", case.name, case.location));
        }
    }
    problems
}

fn nondeterminism_problem(case: &QueryCase) -> Option<String> {
    let words = sql_text::words(&case.sql);
    let word = NONDETERMINISTIC_WORDS
        .iter()
        .find(|w| words.iter().any(|word| word == *w))?;
    Some(format!("uses {word}, whose result is not deterministic"))
}

fn expectation_problem(case: &QueryCase, outcome: &Outcome) -> Option<String> {
    match (&case.expectation, outcome) {
        (Expectation::Rows, Outcome::Completed(_)) => None,
        (Expectation::Error(expected), Outcome::Error { sqlstate, .. }) if sqlstate == expected => {
            None
        }
        (Expectation::Rows, other) => Some(format!(
            "must succeed on PostgreSQL but gave {}",
            render_outcome(other)
        )),
        (Expectation::Error(expected), other) => Some(format!(
            "must fail on PostgreSQL with {expected} but gave {}",
            render_outcome(other)
        )),
    }
}

/// One case's result in a run against custos.
#[derive(Debug)]
pub struct CaseReport {
    pub name: String,
    pub location: String,
    pub verdict: Verdict,
    /// Set when the reference itself did not behave as the case says (a suite bug).
    pub reference_problem: Option<String>,
}

/// Runs every case on the reference and on custos and compares them. A custos that stops
/// answering is restarted on its data directory (bounded number of times).
pub async fn run_against_custos(
    cases: &[QueryCase],
    reference: &mut QuerySession,
    custos: &mut CustosServer,
) -> Vec<CaseReport> {
    let mut candidate = QuerySession::new(custos.endpoint().clone());
    let mut restarts = 0;
    let mut reports = Vec::with_capacity(cases.len());
    for case in cases {
        let expected = reference.run_case(case).await;
        let reference_problem = expectation_problem(case, &expected);
        let actual = candidate.run_case(case).await;
        let mut verdict = compare(case, &expected, &actual, "custos");
        if let Verdict::ConnectionLost(reason) = &verdict {
            if !custos.is_running() {
                verdict = Verdict::ConnectionLost(format!(
                    "custos exited ({reason}); log tail:\n{}",
                    custos.log_tail()
                ));
                if restarts < MAX_CUSTOS_RESTARTS {
                    restarts += 1;
                    if let Err(e) = custos.restart().await {
                        verdict = Verdict::ConnectionLost(format!(
                            "{}\nrestart failed: {e}",
                            verdict.detail()
                        ));
                    }
                }
            }
        }
        reports.push(CaseReport {
            name: case.name.clone(),
            location: case.location.clone(),
            verdict,
            reference_problem,
        });
    }
    reports
}

/// A readable report: one line per case, details for failures, totals at the end.
pub fn render_report(reports: &[CaseReport], elapsed: Duration) -> String {
    let mut text = String::new();
    let mut passed = 0;
    let mut counts = std::collections::BTreeMap::new();
    for report in reports {
        let _ = writeln!(
            text,
            "{:<15} {} ({})",
            report.verdict.label(),
            report.name,
            report.location
        );
        if report.verdict.passed() {
            passed += 1;
        } else {
            *counts.entry(report.verdict.label()).or_insert(0) += 1;
            for line in report.verdict.detail().lines() {
                let _ = writeln!(text, "    {line}");
            }
        }
        if let Some(problem) = &report.reference_problem {
            let _ = writeln!(text, "    SUITE BUG on PostgreSQL: {problem}");
        }
    }
    let _ = write!(
        text,
        "\ntotal {} cases in {:.1}s: {passed} pass",
        reports.len(),
        elapsed.as_secs_f64()
    );
    for (label, count) in counts {
        let _ = write!(text, ", {count} {}", label.to_lowercase());
    }
    text.push('\n');
    text
}
