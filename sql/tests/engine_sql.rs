//! The engine end to end without the wire: statements through a Session, results as text.

use sql::engine::{Database, DatabaseOptions, Outcome, Session};

fn open() -> (tempfile::TempDir, Session) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), DatabaseOptions::default()).unwrap();
    db.bootstrap_superuser("custos", || "SCRAM-SHA-256$4096:c2FsdA==$a:b".into())
        .unwrap();
    let session = db.session("custos", "custos", &[]).unwrap();
    (dir, session)
}

/// Runs a query string as the simple protocol would; returns one line per row
/// (`|`-separated, NULL as `NULL`) or the command tag, or `ERROR <code>`.
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

#[test]
fn tables_queries_and_errors() {
    let (_dir, mut s) = open();
    assert_eq!(run(&mut s, "SELECT 1 + 1, 'ab'"), ["2|ab"]);
    run(
        &mut s,
        "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, age int CHECK (age > 0))",
    );
    run(
        &mut s,
        "CREATE TABLE tickets (id int PRIMARY KEY, customer_id int REFERENCES customers(id), status text)",
    );
    assert_eq!(
        run(&mut s, "INSERT INTO customers (name, age) VALUES ('ann', 30), ('bob', 40), ('cy', NULL) RETURNING id"),
        ["1", "2", "3"]
    );
    run(
        &mut s,
        "INSERT INTO tickets VALUES (1, 1, 'open'), (2, 1, 'closed'), (3, 2, 'open')",
    );
    assert_eq!(
        run(&mut s, "SELECT c.name, count(t.id) FROM customers c LEFT JOIN tickets t ON t.customer_id = c.id GROUP BY c.name ORDER BY c.name"),
        ["ann|2", "bob|1", "cy|0"]
    );
    assert_eq!(
        run(&mut s, "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM tickets WHERE status = 'open') ORDER BY 1"),
        ["ann", "bob"]
    );
    assert_eq!(
        run(&mut s, "SELECT name FROM customers WHERE id = 2"),
        ["bob"]
    );
    assert!(run(&mut s, "INSERT INTO tickets VALUES (9, 99, 'x')")[0].starts_with("ERROR 23503"));
    assert!(
        run(&mut s, "INSERT INTO customers (name, age) VALUES ('z', -1)")[0]
            .starts_with("ERROR 23514")
    );
    assert!(run(&mut s, "INSERT INTO tickets VALUES (1, 1, 'dup')")[0].starts_with("ERROR 23505"));
    assert!(run(&mut s, "SELECT nope FROM customers")[0].starts_with("ERROR 42703"));
    assert!(run(&mut s, "SELECT 1/0")[0].starts_with("ERROR 22012"));
    assert_eq!(
        run(
            &mut s,
            "UPDATE tickets SET status = 'done' WHERE customer_id = 1"
        ),
        ["UPDATE 2"]
    );
    assert_eq!(
        run(
            &mut s,
            "DELETE FROM tickets WHERE status = 'done' RETURNING id"
        ),
        ["1", "2"]
    );
    assert_eq!(
        run(
            &mut s,
            "SELECT id, row_number() OVER (ORDER BY id DESC) FROM customers ORDER BY id"
        ),
        ["1|3", "2|2", "3|1"]
    );
    assert_eq!(
        run(&mut s, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3) SELECT x FROM n"),
        ["1", "2", "3"]
    );
    // Transactions: an error aborts the block until ROLLBACK.
    run(&mut s, "BEGIN");
    run(&mut s, "INSERT INTO tickets VALUES (10, 3, 'new')");
    assert!(run(&mut s, "SELECT 1/0")[0].starts_with("ERROR 22012"));
    assert!(run(&mut s, "SELECT 1")[0].starts_with("ERROR 25P02"));
    run(&mut s, "ROLLBACK");
    assert_eq!(run(&mut s, "SELECT count(*) FROM tickets"), ["1"]);
}
