//! DDL end to end through a Session: ALTER TABLE, views, sequences, comments, SQL functions,
//! with PostgreSQL's results and SQLSTATEs, and DDL rolling back with its transaction.
//! The cases live in `ddl/`, one file per kind of object; the helpers are here.

#[path = "ddl/functions.rs"]
mod functions;
#[path = "ddl/objects.rs"]
mod objects;
#[path = "ddl/tables.rs"]
mod tables;

mod common;

use common::{open_database as open, run};
use sql::engine::{Database, Session};

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
