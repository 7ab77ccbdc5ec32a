//! DDL end to end through a Session: ALTER TABLE, views, sequences, comments, SQL functions,
//! with PostgreSQL's results and SQLSTATEs, and DDL rolling back with its transaction.
//! The cases live in `ddl/`, one file per kind of object; the helpers are here.

#[path = "ddl/functions.rs"]
mod functions;
#[path = "ddl/objects.rs"]
mod objects;
#[path = "ddl/tables.rs"]
mod tables;

use std::sync::Arc;

use sql::engine::{Database, DatabaseOptions, Outcome, Session};

fn open() -> (tempfile::TempDir, Arc<Database>, Session) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), DatabaseOptions::default()).unwrap();
    db.bootstrap_superuser("custos", || "SCRAM-SHA-256$4096:c2FsdA==$a:b".into())
        .unwrap();
    let session = db.session("custos", "custos", &[]).unwrap();
    (dir, db, session)
}

/// Runs a query string as the simple protocol would; returns one line per row
/// (`|`-separated, NULL as `NULL`) or the command tag, or `ERROR <code> <message>`.
fn run(s: &mut Session, sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let statements = match s.parse(sql) {
        Ok(st) => st,
        Err(e) => return vec![format!("ERROR {} {}", e.code, e.message)],
    };
    let n = statements.len();
    for (i, st) in statements.into_iter().enumerate() {
        let result = s.prepare(st, &[]).and_then(|p| s.execute(&p, &[]));
        let result = result.and_then(|o| {
            if i + 1 == n {
                s.commit_implicit()?;
            }
            Ok(o)
        });
        match result {
            Ok(Outcome::Rows { columns, rows, .. }) => {
                for r in rows {
                    let line: Vec<String> = r
                        .iter()
                        .zip(&columns)
                        .map(|(v, c)| {
                            if v.is_null() {
                                "NULL".to_string()
                            } else {
                                s.output_text(v, &c.sql_type)
                            }
                        })
                        .collect();
                    out.push(line.join("|"));
                }
            }
            Ok(Outcome::Command { tag }) => out.push(tag),
            Ok(_) => out.push("other".into()),
            Err(e) => {
                out.push(format!("ERROR {} {}", e.code, e.message));
                return out;
            }
        }
    }
    out
}

/// The SQLSTATE of the statement's error (or "ok").
fn code(s: &mut Session, sql: &str) -> String {
    match run(s, sql).last() {
        Some(line) if line.starts_with("ERROR ") => line[6..11].to_string(),
        _ => "ok".into(),
    }
}

fn notices(s: &mut Session) -> Vec<String> {
    s.take_notices().into_iter().map(|n| n.message).collect()
}
