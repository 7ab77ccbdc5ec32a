//! DDL that needs the parser's fallback (ALTER SEQUENCE, COMMENT ON FUNCTION f(types),
//! LEAKPROOF / COST) and user functions in FROM, driven through a Session with the fallback
//! applied here, so they are tested whether or not the parser and binder call it yet.

use std::sync::Arc;

use storage::types::Value;

use crate::engine::{Database, DatabaseOptions, Outcome, Session, Statement};

fn open() -> (tempfile::TempDir, Arc<Database>, Session) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::open(dir.path(), DatabaseOptions::default()).expect("open");
    let session = db.session("custos", "custos", &[]).expect("session");
    (dir, db, session)
}

/// One statement: parsed (with the DDL fallback), executed, committed; rows as text lines.
fn run(s: &mut Session, sql: &str) -> Vec<String> {
    let ast = match crate::parse::parse_one(sql) {
        Ok(ast) => ast,
        Err(e) => match super::fallback::parse(sql) {
            Some(Ok(ast)) => ast,
            _ => return vec![format!("ERROR {} {}", e.code, e.message)],
        },
    };
    let statement = Statement {
        sql: sql.to_string(),
        offset: 0,
        ast: Arc::new(ast),
    };
    let result = s
        .prepare(statement, &[])
        .and_then(|p| s.execute(&p, &[]))
        .and_then(|o| s.commit_implicit().map(|_| o));
    match result {
        Ok(Outcome::Rows { rows, columns, .. }) => rows
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&columns)
                    .map(|(v, c)| match v {
                        Value::Null => "NULL".to_string(),
                        v => s.output_text(v, &c.sql_type),
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect(),
        Ok(Outcome::Command { tag }) => vec![tag],
        Ok(_) => vec!["other".into()],
        Err(e) => vec![format!("ERROR {} {}", e.code, e.message)],
    }
}

#[test]
fn alter_sequence_restarts_renames_and_changes_options() {
    let (_d, _db, mut s) = open();
    run(&mut s, "CREATE SEQUENCE s");
    assert_eq!(run(&mut s, "SELECT nextval('s'), nextval('s')"), ["1|2"]);
    assert_eq!(
        run(&mut s, "ALTER SEQUENCE s RESTART WITH 50"),
        ["ALTER SEQUENCE"]
    );
    assert_eq!(run(&mut s, "SELECT nextval('s')"), ["50"]);
    run(&mut s, "ALTER SEQUENCE s RESTART");
    assert_eq!(run(&mut s, "SELECT nextval('s')"), ["1"]);
    run(&mut s, "ALTER SEQUENCE s INCREMENT BY 10 RESTART");
    assert_eq!(run(&mut s, "SELECT nextval('s'), nextval('s')"), ["1|11"]);
    assert_eq!(
        run(&mut s, "ALTER SEQUENCE s MAXVALUE 5 RESTART WITH 10"),
        ["ERROR 22023 RESTART value (10) cannot be greater than MAXVALUE (5)"]
    );
    assert_eq!(
        run(&mut s, "ALTER SEQUENCE nope RESTART"),
        ["ERROR 42P01 relation \"nope\" does not exist"]
    );
    assert_eq!(
        run(&mut s, "ALTER SEQUENCE IF EXISTS nope RESTART"),
        ["ALTER SEQUENCE"]
    );
    assert_eq!(
        run(&mut s, "ALTER SEQUENCE s RENAME TO t"),
        ["ALTER SEQUENCE"]
    );
    assert_eq!(run(&mut s, "SELECT nextval('t')"), ["21"]);
    run(&mut s, "ALTER SEQUENCE t AS smallint");
    assert_eq!(
        run(&mut s, "ALTER SEQUENCE t RESTART WITH 40000"),
        ["ERROR 22023 RESTART value (40000) cannot be greater than MAXVALUE (32767)"]
    );
    run(&mut s, "ALTER SEQUENCE t OWNER TO custos");
}

#[test]
fn comment_on_function_by_signature_and_extra_function_options() {
    let (_d, db, mut s) = open();
    run(
        &mut s,
        "CREATE FUNCTION f(int) RETURNS int LANGUAGE sql AS 'SELECT $1'",
    );
    run(
        &mut s,
        "CREATE FUNCTION f(text) RETURNS int LANGUAGE sql AS 'SELECT 1'",
    );
    assert_eq!(
        run(&mut s, "COMMENT ON FUNCTION f IS 'x'"),
        ["ERROR 42725 function name \"f\" is not unique"]
    );
    assert_eq!(
        run(&mut s, "COMMENT ON FUNCTION f(integer) IS 'on int'"),
        ["COMMENT"]
    );
    assert_eq!(
        run(&mut s, "COMMENT ON FUNCTION f(bool) IS 'x'"),
        ["ERROR 42883 function f(boolean) does not exist"]
    );
    assert_eq!(db.storage().catalog().comments[0].text, "on int");
    assert_eq!(
        run(
            &mut s,
            "CREATE FUNCTION g(a text) RETURNS text LANGUAGE sql LEAKPROOF COST 5 AS 'SELECT a'"
        ),
        ["CREATE FUNCTION"]
    );
    let catalog = db.storage().catalog();
    let g = catalog
        .functions
        .values()
        .find(|f| f.name == "g")
        .expect("g");
    assert_eq!(
        g.attributes.get("LEAKPROOF").map(String::as_str),
        Some("true")
    );
    assert_eq!(g.attributes.get("COST").map(String::as_str), Some("5"));
}

/// Binds `SELECT * FROM name(args)` the way the binder's FROM hook does, and runs it.
fn from_function(s: &mut Session, name: &str, args: &[&str], ordinality: bool) -> Vec<String> {
    let bound = s.with_binder(Vec::new(), |b| {
        let mut typed = Vec::new();
        for a in args {
            let e = crate::dml::parse_expr(a)?;
            let mut cx = crate::bind::expr::ExprContext::plain("functions in FROM");
            typed.push(b.bind_expr(&e, &crate::bind::Scope::default(), &mut cx)?);
        }
        super::functions::table_function(b, None, name, &typed, None, ordinality)
    });
    let (plan, columns, _) = match bound {
        Ok(Some(found)) => found,
        Ok(None) => return vec!["none".into()],
        Err(e) => return vec![format!("ERROR {} {}", e.code, e.message)],
    };
    let mut out = vec![columns
        .iter()
        .map(|c| c.name.clone())
        .collect::<Vec<_>>()
        .join("|")];
    let rows = s
        .with_exec(&[], |ctx| crate::exec::run(&plan, ctx, None))
        .expect("run");
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&columns)
            .map(|(v, c)| match v {
                Value::Null => "NULL".to_string(),
                v => s.output_text(v, &c.sql_type),
            })
            .collect();
        out.push(line.join("|"));
    }
    out
}

#[test]
fn set_returning_functions_give_their_rows_in_from() {
    let (_d, _db, mut s) = open();
    run(&mut s, "CREATE TABLE orders (customer int, amount int)");
    run(&mut s, "INSERT INTO orders VALUES (1, 10), (1, 20), (2, 5)");
    run(&mut s, "CREATE FUNCTION nums(n int) RETURNS SETOF int LANGUAGE sql AS 'SELECT amount FROM orders WHERE customer = n ORDER BY 1'");
    assert_eq!(
        from_function(&mut s, "nums", &["1"], false),
        ["nums", "10", "20"]
    );
    assert_eq!(
        from_function(&mut s, "nums", &["1"], true),
        ["nums|ordinality", "10|1", "20|2"]
    );
    run(&mut s, "CREATE FUNCTION of(c int) RETURNS TABLE (amount bigint, label text) LANGUAGE sql STRICT AS $$SELECT amount, 'a' || amount FROM orders WHERE customer = c$$");
    assert_eq!(
        from_function(&mut s, "of", &["2"], false),
        ["amount|label", "5|a5"]
    );
    assert_eq!(
        from_function(&mut s, "of", &["NULL"], false),
        ["amount|label"]
    );
    run(&mut s, "CREATE FUNCTION all_orders() RETURNS SETOF orders LANGUAGE sql AS 'SELECT * FROM orders WHERE amount > 5'");
    assert_eq!(
        from_function(&mut s, "all_orders", &[], false),
        ["customer|amount", "1|10", "1|20"]
    );
    run(
        &mut s,
        "CREATE FUNCTION one(x int) RETURNS int LANGUAGE sql AS 'SELECT x + 1'",
    );
    assert_eq!(from_function(&mut s, "one", &["1"], false), ["one", "2"]);
    assert_eq!(
        from_function(&mut s, "generate_series", &["1", "2"], false),
        ["none"]
    );
    assert_eq!(
        run(
            &mut s,
            "CREATE FUNCTION bad() RETURNS TABLE (a int) LANGUAGE sql AS 'SELECT 1, 2'"
        ),
        ["ERROR 42P13 return type mismatch in function declared to return record"]
    );
}

#[test]
fn standard_sql_bodies() {
    let (_d, db, mut s) = open();
    assert_eq!(
        run(&mut s, "CREATE FUNCTION plus(a int, b int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 0; SELECT a + b; END"),
        ["CREATE FUNCTION"]
    );
    assert_eq!(run(&mut s, "SELECT plus(2, 3)"), ["5"]);
    run(&mut s, "CREATE FUNCTION neg(a int) RETURNS int RETURN -a");
    assert_eq!(run(&mut s, "SELECT neg(4)"), ["-4"]);
    let catalog = db.storage().catalog();
    let plus = catalog
        .functions
        .values()
        .find(|f| f.name == "plus")
        .expect("plus");
    assert_eq!(plus.body, "SELECT 0;\nSELECT a + b");
    assert_eq!(
        plus.attributes.get("sql_body").map(String::as_str),
        Some("BEGIN ATOMIC")
    );
}
