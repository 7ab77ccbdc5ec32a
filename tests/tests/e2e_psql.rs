//! psql scripts with expected output (issue 3): `tests/psql/<name>.sql` run with
//! `psql -X -q -v ON_ERROR_STOP=0 -f <name>.sql` (stdout and stderr interleaved), compared with
//! `tests/psql/<name>.out`.
//!
//! The `.out` files are PostgreSQL 15's output (role and database both `custos`, like a
//! custos server). Where custos differs by design, `<name>.custos.out` holds what custos must
//! print instead (see the comment at the top of that script).
//!
//! - `psql_expected_outputs_match_postgres`: the `.out` files are PostgreSQL's output.
//!   `CUSTOS_PSQL_WRITE_EXPECTED=1` regenerates them.
//! - `custos_psql_outputs_match_expected`: custos prints the same.

use std::path::{Path, PathBuf};

use custos_tests::locate::tests_crate_dir;
use custos_tests::{CustosServer, Endpoint, HarnessError, HarnessResult, ReferencePostgres};

const WRITE_ENV: &str = "CUSTOS_PSQL_WRITE_EXPECTED";

/// Lines of context shown around the first difference.
const CONTEXT_LINES: usize = 4;

fn scripts() -> HarnessResult<Vec<PathBuf>> {
    let dir = tests_crate_dir().join("psql");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| HarnessError::new(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    scripts.sort();
    if scripts.is_empty() {
        return Err(HarnessError::new(format!(
            "no psql scripts in {}",
            dir.display()
        )));
    }
    Ok(scripts)
}

fn expected_path(script: &Path, for_custos: bool) -> PathBuf {
    if for_custos {
        let custos_specific = script.with_extension("custos.out");
        if custos_specific.is_file() {
            return custos_specific;
        }
    }
    script.with_extension("out")
}

/// Runs a script; the output with the exit status appended when psql did not exit with 0.
fn run_script(endpoint: &Endpoint, script: &Path) -> HarnessResult<String> {
    let (status, mut output) = endpoint.psql_script(script)?;
    match status {
        Some(status) if status.success() => {}
        Some(status) => output.push_str(&format!("[psql exited with {status}]\n")),
        None => output.push_str("[psql was killed after timing out]\n"),
    }
    Ok(output)
}

/// A description of how `actual` differs from `expected`, or `None` when they are equal.
fn difference(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let expected_lines: Vec<&str> = expected.lines().collect();
    let actual_lines: Vec<&str> = actual.lines().collect();
    let first = expected_lines
        .iter()
        .zip(&actual_lines)
        .position(|(e, a)| e != a)
        .unwrap_or(expected_lines.len().min(actual_lines.len()));
    let start = first.saturating_sub(CONTEXT_LINES);
    let show = |lines: &[&str]| -> String {
        lines
            .iter()
            .enumerate()
            .skip(start)
            .take(2 * CONTEXT_LINES + 1)
            .map(|(i, line)| {
                format!(
                    "{:>5}{} {line}\n",
                    i + 1,
                    if i == first { '>' } else { ' ' }
                )
            })
            .collect()
    };
    Some(format!(
        "first difference at line {} ({} expected lines, {} actual)\n--- expected\n{}--- actual\n{}",
        first + 1,
        expected_lines.len(),
        actual_lines.len(),
        show(&expected_lines),
        show(&actual_lines)
    ))
}

#[tokio::test]
async fn psql_expected_outputs_match_postgres() -> HarnessResult<()> {
    let rewrite = std::env::var(WRITE_ENV).is_ok_and(|v| v == "1");
    let mut problems = Vec::new();
    for script in scripts()? {
        let reference = ReferencePostgres::start_with_password_auth().await?;
        let output = run_script(reference.endpoint(), &script)?;
        let expected_file = expected_path(&script, false);
        if rewrite {
            std::fs::write(&expected_file, &output)?;
            println!("wrote {}", expected_file.display());
            continue;
        }
        let expected = std::fs::read_to_string(&expected_file).map_err(|e| {
            HarnessError::new(format!(
                "cannot read {} ({e}); generate it with {WRITE_ENV}=1",
                expected_file.display()
            ))
        })?;
        if let Some(diff) = difference(&expected, &output) {
            problems.push(format!("{}: {diff}", script.display()));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(HarnessError::new(format!(
            "PostgreSQL's psql output differs from the expected files:\n{}",
            problems.join("\n")
        )))
    }
}

#[tokio::test]
async fn custos_psql_outputs_match_expected() -> HarnessResult<()> {
    let mut problems = Vec::new();
    let all = scripts()?;
    for script in &all {
        let mut server = CustosServer::start().await?;
        let output = run_script(server.endpoint(), script)?;
        server.ensure_alive()?;
        let expected_file = expected_path(script, true);
        let expected = std::fs::read_to_string(&expected_file)?;
        match difference(&expected, &output) {
            None => println!("pass {}", script.display()),
            Some(diff) => {
                println!("FAIL {}: {diff}", script.display());
                problems.push(script.display().to_string());
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(HarnessError::new(format!(
            "{} of {} psql scripts differ (details above): {problems:?}",
            problems.len(),
            all.len()
        )))
    }
}
