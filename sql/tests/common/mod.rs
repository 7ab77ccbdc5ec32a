//! What the engine's integration tests share: a fresh database with its superuser, and
//! statements run as the simple protocol would, results as text.

// Each test crate uses the part it needs.
#![allow(dead_code)]

use std::sync::Arc;

use sql::engine::{Database, DatabaseOptions, Outcome, Session};

/// A database in a temporary directory and a superuser session on it.
pub fn open_database() -> (tempfile::TempDir, Arc<Database>, Session) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), DatabaseOptions::default()).unwrap();
    db.bootstrap_superuser("custos", || "SCRAM-SHA-256$4096:c2FsdA==$a:b".into())
        .unwrap();
    let session = db.session("custos", "custos", &[]).unwrap();
    (dir, db, session)
}

/// [`open_database`] without the handle on the database.
pub fn open() -> (tempfile::TempDir, Session) {
    let (dir, _db, session) = open_database();
    (dir, session)
}

/// Runs a query string as the simple protocol would; returns one line per row
/// (`|`-separated, NULL as `NULL`) or the command tag, or `ERROR <code> <message>`.
pub fn run(s: &mut Session, sql: &str) -> Vec<String> {
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
