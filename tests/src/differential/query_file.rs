//! The differential query files (`tests/differential/queries/*.sql`).
//!
//! Format (also described in `tests/differential/README.md`):
//!
//! ```text
//! -- Free comment lines (the file's preamble).
//! -- mode: rollback            (optional, preamble only: every query of the file runs inside
//!                               BEGIN ... ROLLBACK so that the data set never changes)
//!
//! -- name: unique_query_name
//! -- expect: error 22012       (optional: the query must fail with this SQLSTATE; such
//!                               queries always run inside BEGIN ... ROLLBACK)
//! -- expect: unordered         (optional: compare rows as a multiset despite an ORDER BY)
//! SELECT ...;                  (one or more statements, up to the next `-- name:` line)
//! ```
//!
//! Names are unique across all files (the known-failures list refers to them).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::differential::sql_text;
use crate::error::{HarnessError, HarnessResult};
use crate::locate::tests_crate_dir;

/// What a query must do on PostgreSQL (and therefore on custos).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// Succeed; results are compared.
    Rows,
    /// Fail with this SQLSTATE.
    Error(String),
}

/// One query of the suite.
#[derive(Debug, Clone)]
pub struct QueryCase {
    pub name: String,
    /// `file.sql:line` of the `-- name:` line.
    pub location: String,
    pub sql: String,
    pub expectation: Expectation,
    /// Runs inside BEGIN ... ROLLBACK.
    pub rollback: bool,
    /// Forces multiset comparison even with a top-level ORDER BY.
    pub force_unordered: bool,
}

impl QueryCase {
    /// The statements of the query text, in order.
    pub fn statements(&self) -> Vec<String> {
        sql_text::split_statements(&self.sql)
    }

    /// For each statement: whether its row order is compared.
    pub fn ordered_statements(&self) -> Vec<bool> {
        self.statements()
            .iter()
            .map(|statement| !self.force_unordered && sql_text::has_top_level_order_by(statement))
            .collect()
    }
}

/// The directory holding the query files.
pub fn queries_dir() -> PathBuf {
    tests_crate_dir().join("differential").join("queries")
}

/// Reads every `*.sql` file of `dir` in file-name order.
pub fn load_cases(dir: &Path) -> HarnessResult<Vec<QueryCase>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| HarnessError::new(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        let file_name = file
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        cases.extend(parse_file(&file_name, &text)?);
    }
    let mut seen = HashSet::new();
    for case in &cases {
        if !seen.insert(case.name.as_str()) {
            return Err(HarnessError::new(format!(
                "query name {:?} is used twice (again at {})",
                case.name, case.location
            )));
        }
    }
    Ok(cases)
}

/// Parses one query file.
pub fn parse_file(file_name: &str, text: &str) -> HarnessResult<Vec<QueryCase>> {
    let mut cases: Vec<QueryCase> = Vec::new();
    let mut file_rollback = false;
    let mut current: Option<(QueryCase, Vec<&str>, bool)> = None;
    let finish = |current: Option<(QueryCase, Vec<&str>, bool)>,
                  cases: &mut Vec<QueryCase>|
     -> HarnessResult<()> {
        if let Some((mut case, lines, _)) = current {
            case.sql = lines.join("\n").trim().to_string();
            if case.statements().is_empty() {
                return Err(HarnessError::new(format!(
                    "{}: query {:?} has no SQL",
                    case.location, case.name
                )));
            }
            cases.push(case);
        }
        Ok(())
    };
    for (index, line) in text.lines().enumerate() {
        let location = format!("{file_name}:{}", index + 1);
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("-- name:") {
            finish(current.take(), &mut cases)?;
            let name = name.trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(HarnessError::new(format!(
                    "{location}: query names are [A-Za-z0-9_]+, got {name:?}"
                )));
            }
            current = Some((
                QueryCase {
                    name: name.to_string(),
                    location,
                    sql: String::new(),
                    expectation: Expectation::Rows,
                    rollback: file_rollback,
                    force_unordered: false,
                },
                Vec::new(),
                true,
            ));
            continue;
        }
        match current.as_mut() {
            None => {
                if trimmed == "-- mode: rollback" {
                    file_rollback = true;
                } else if trimmed.starts_with("-- mode:") {
                    return Err(HarnessError::new(format!(
                        "{location}: unknown mode {trimmed:?}"
                    )));
                }
            }
            Some((case, lines, in_header)) => {
                if *in_header {
                    if let Some(directive) = trimmed.strip_prefix("-- expect:") {
                        let directive = directive.trim();
                        if directive == "unordered" {
                            case.force_unordered = true;
                        } else if let Some(code) = directive.strip_prefix("error ") {
                            let code = code.trim();
                            if code.len() != 5 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
                                return Err(HarnessError::new(format!(
                                    "{location}: bad SQLSTATE {code:?}"
                                )));
                            }
                            case.expectation = Expectation::Error(code.to_string());
                            case.rollback = true;
                        } else {
                            return Err(HarnessError::new(format!(
                                "{location}: unknown directive {trimmed:?}"
                            )));
                        }
                        continue;
                    }
                    *in_header = false;
                }
                lines.push(line);
            }
        }
    }
    finish(current, &mut cases)?;
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_directives_and_bodies() {
        let text = "-- preamble\n-- mode: rollback\n\n-- name: a\nSELECT 1 ORDER BY 1;\n\n\
                    -- name: b\n-- expect: error 22012\n-- expect: unordered\nSELECT 1/0;\n\
                    SELECT 2;\n";
        let cases = parse_file("f.sql", text).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].sql, "SELECT 1 ORDER BY 1;");
        assert!(cases[0].rollback);
        assert_eq!(cases[0].ordered_statements(), vec![true]);
        assert_eq!(cases[1].expectation, Expectation::Error("22012".into()));
        assert!(cases[1].force_unordered);
        assert_eq!(cases[1].statements().len(), 2);
        assert_eq!(cases[1].location, "f.sql:7");
    }

    #[test]
    fn rejects_empty_queries_and_bad_names() {
        assert!(parse_file("f.sql", "-- name: a\n-- only a comment\n").is_err());
        assert!(parse_file("f.sql", "-- name: a-b\nSELECT 1\n").is_err());
    }
}
