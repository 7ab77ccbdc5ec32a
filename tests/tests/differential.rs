//! The differential suite (issue 3): the customer-360 data set and the query cases of
//! `tests/differential/queries/` run on custos and on PostgreSQL 15, results compared exactly.
//!
//! - `differential_query_files_parse`: the files parse, names are unique, the suite is big
//!   enough (no server needed).
//! - `differential_queries_valid_on_postgres`: the suite itself is right: on PostgreSQL every
//!   case behaves as stated and deterministically (PostgreSQL only).
//! - `custos_differential_against_postgres`: custos against PostgreSQL, checked against
//!   `tests/differential/known_failures.txt`. Environment: `CUSTOS_DIFF_WRITE_KNOWN=1`
//!   rewrites that list from the results; `CUSTOS_DIFF_FILTER=<substring>` runs only the cases
//!   whose name contains it. The full report is also written to
//!   `<target>/custos-differential-report.txt`.

use std::collections::BTreeSet;
use std::time::Instant;

use custos_tests::customer360::{Customer360, RowOrder};
use custos_tests::differential::known_failures::{self, known_failures_path, REWRITE_ENV};
use custos_tests::differential::outcome::QuerySession;
use custos_tests::differential::query_file::{load_cases, queries_dir, Expectation, QueryCase};
use custos_tests::differential::{
    load, load_statements, render_report, run_against_custos, validate_on_reference,
};
use custos_tests::locate::target_dir;
use custos_tests::{CustosServer, HarnessError, HarnessResult, ReferencePostgres};

/// The suite's minimum size (issue 3: at least 450 queries, about 40 of them errors).
const MIN_CASES: usize = 450;
const MIN_ERROR_CASES: usize = 40;

/// Runs only the cases whose name contains this substring.
const FILTER_ENV: &str = "CUSTOS_DIFF_FILTER";

fn all_cases() -> HarnessResult<Vec<QueryCase>> {
    load_cases(&queries_dir())
}

fn selected_cases(cases: &[QueryCase]) -> Vec<QueryCase> {
    match std::env::var(FILTER_ENV) {
        Ok(filter) if !filter.is_empty() => cases
            .iter()
            .filter(|case| case.name.contains(&filter))
            .cloned()
            .collect(),
        _ => cases.to_vec(),
    }
}

#[test]
fn differential_query_files_parse() -> HarnessResult<()> {
    let cases = all_cases()?;
    let errors = cases
        .iter()
        .filter(|case| matches!(case.expectation, Expectation::Error(_)))
        .count();
    println!(
        "{} cases: {} rows, {errors} errors",
        cases.len(),
        cases.len() - errors
    );
    if cases.len() < MIN_CASES || errors < MIN_ERROR_CASES {
        return Err(HarnessError::new(format!(
            "the suite needs at least {MIN_CASES} cases and {MIN_ERROR_CASES} error cases; it \
             has {} and {errors}",
            cases.len()
        )));
    }
    let all_names: BTreeSet<String> = cases.iter().map(|c| c.name.clone()).collect();
    let known = known_failures::read(&known_failures_path())?;
    let unknown: Vec<&String> = known.iter().filter(|n| !all_names.contains(*n)).collect();
    if !unknown.is_empty() {
        return Err(HarnessError::new(format!(
            "known_failures.txt lists names that are not cases: {unknown:?}"
        )));
    }
    Ok(())
}

#[tokio::test]
async fn differential_queries_valid_on_postgres() -> HarnessResult<()> {
    let cases = selected_cases(&all_cases()?);
    let started = Instant::now();
    // Two clusters, so that both databases are called `custos` like the custos server's.
    let reference = ReferencePostgres::start().await?;
    let reversed_reference = ReferencePostgres::start().await?;
    let data = Customer360::load()?;
    load(
        reference.endpoint(),
        &load_statements(&data, RowOrder::Forward)?,
    )
    .await?;
    load(
        reversed_reference.endpoint(),
        &load_statements(&data, RowOrder::Reversed)?,
    )
    .await?;
    println!(
        "loaded both databases in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let mut forward = QuerySession::new(reference.endpoint().clone());
    let mut reversed = QuerySession::new(reversed_reference.endpoint().clone());
    let problems = validate_on_reference(&cases, &mut forward, &mut reversed).await;
    println!(
        "validated {} cases on PostgreSQL in {:.1}s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(HarnessError::new(format!(
            "{} of {} cases are wrong on PostgreSQL:\n{}",
            problems.len(),
            cases.len(),
            problems.join("\n")
        )))
    }
}

#[tokio::test]
async fn custos_differential_against_postgres() -> HarnessResult<()> {
    let all = all_cases()?;
    let cases = selected_cases(&all);
    let started = Instant::now();
    let data = Customer360::load()?;
    let statements = load_statements(&data, RowOrder::Forward)?;

    let reference = ReferencePostgres::start().await?;
    load(reference.endpoint(), &statements).await?;
    let mut custos = CustosServer::start()
        .await
        .map_err(|e| e.context("the differential test needs a running custos server"))?;
    load(custos.endpoint(), &statements)
        .await
        .map_err(|e| e.context("custos could not load the customer-360 data set"))?;
    println!(
        "servers started and loaded in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let mut reference_session = QuerySession::new(reference.endpoint().clone());
    let reports = run_against_custos(&cases, &mut reference_session, &mut custos).await;
    let report = render_report(&reports, started.elapsed());
    println!("{report}");
    let report_path = target_dir().join("custos-differential-report.txt");
    if let Err(e) = std::fs::write(&report_path, &report) {
        println!("(could not write {}: {e})", report_path.display());
    } else {
        println!("report written to {}", report_path.display());
    }

    let suite_bugs: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            r.reference_problem
                .as_ref()
                .map(|p| format!("{}: {p}", r.name))
        })
        .collect();
    if !suite_bugs.is_empty() {
        return Err(HarnessError::new(format!(
            "the reference PostgreSQL does not behave as the suite says (run \
             differential_queries_valid_on_postgres):\n{}",
            suite_bugs.join("\n")
        )));
    }

    let run_names: Vec<String> = reports.iter().map(|r| r.name.clone()).collect();
    let failed: BTreeSet<String> = reports
        .iter()
        .filter(|r| !r.verdict.passed())
        .map(|r| r.name.clone())
        .collect();
    let list_path = known_failures_path();
    if std::env::var(REWRITE_ENV).is_ok_and(|v| v == "1") {
        if run_names.len() != all.len() {
            return Err(HarnessError::new(format!(
                "{REWRITE_ENV}=1 needs a full run; unset {FILTER_ENV}"
            )));
        }
        let names: Vec<String> = run_names
            .iter()
            .filter(|name| failed.contains(*name))
            .cloned()
            .collect();
        known_failures::write(&list_path, &names)?;
        println!("rewrote {} with {} names", list_path.display(), names.len());
        return Ok(());
    }
    let known = known_failures::read(&list_path)?;
    let all_names: BTreeSet<String> = all.iter().map(|c| c.name.clone()).collect();
    let check = known_failures::check(&known, &run_names, &failed, &all_names);
    if check.is_clean() {
        return Ok(());
    }
    Err(HarnessError::new(format!(
        "custos differs from known_failures.txt ({} failing of {}):\n\
         failing but not listed ({}): {:?}\n\
         listed but passing now, remove them ({}): {:?}\n\
         listed but not a case ({}): {:?}\n\
         (details above; {REWRITE_ENV}=1 rewrites the list)",
        failed.len(),
        reports.len(),
        check.new_failures.len(),
        check.new_failures,
        check.now_passing.len(),
        check.now_passing,
        check.unknown.len(),
        check.unknown
    )))
}
