//! The list of query cases known to fail on custos (`tests/differential/known_failures.txt`):
//! one name per line, `#` comments and blank lines ignored. The differential test fails when a
//! case outside the list fails, when a listed case passes, and when a listed name is not a case
//! any more, so the list always says exactly what is broken and shrinks as custos improves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{HarnessError, HarnessResult};
use crate::locate::tests_crate_dir;

/// Set to `1` to rewrite the list from the current results instead of checking it.
pub const REWRITE_ENV: &str = "CUSTOS_DIFF_WRITE_KNOWN";

pub fn known_failures_path() -> PathBuf {
    tests_crate_dir()
        .join("differential")
        .join("known_failures.txt")
}

/// The listed names, in file order.
pub fn read(path: &Path) -> HarnessResult<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| HarnessError::new(format!("cannot read {}: {e}", path.display())))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Writes the list (names in suite order) with its explanatory header.
pub fn write(path: &Path, names: &[String]) -> HarnessResult<()> {
    let mut text = String::from(
        "# Differential query cases that currently fail on custos, one name per line.\n\
         # Checked by tests/tests/differential.rs (custos_differential_against_postgres): a\n\
         # failing case missing here, or a listed case that passes, fails the test.\n\
         # Regenerate: CUSTOS_DIFF_WRITE_KNOWN=1 cargo test -p custos-tests --test differential \\\n\
         #   custos_differential_against_postgres\n",
    );
    for name in names {
        text.push_str(name);
        text.push('\n');
    }
    std::fs::write(path, text)
        .map_err(|e| HarnessError::new(format!("cannot write {}: {e}", path.display())))
}

/// Differences between the list and a run.
#[derive(Debug, Default)]
pub struct ListCheck {
    /// Failing, not listed.
    pub new_failures: Vec<String>,
    /// Listed, passing.
    pub now_passing: Vec<String>,
    /// Listed, not a case of the suite.
    pub unknown: Vec<String>,
}

impl ListCheck {
    pub fn is_clean(&self) -> bool {
        self.new_failures.is_empty() && self.now_passing.is_empty() && self.unknown.is_empty()
    }
}

/// Compares the list with a run of `run_cases` (in suite order) whose failures are `failed`;
/// `all_cases` are all names of the suite (a run may be filtered to a subset).
pub fn check(
    known: &[String],
    run_cases: &[String],
    failed: &BTreeSet<String>,
    all_cases: &BTreeSet<String>,
) -> ListCheck {
    let known_set: BTreeSet<&str> = known.iter().map(String::as_str).collect();
    let mut result = ListCheck::default();
    for name in run_cases {
        let listed = known_set.contains(name.as_str());
        let failing = failed.contains(name);
        if failing && !listed {
            result.new_failures.push(name.clone());
        } else if listed && !failing {
            result.now_passing.push(name.clone());
        }
    }
    result.unknown = known
        .iter()
        .filter(|name| !all_cases.contains(*name))
        .cloned()
        .collect();
    result
}
