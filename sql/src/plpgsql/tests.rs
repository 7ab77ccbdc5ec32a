//! The body parser, RAISE formatting, and functions and triggers run through a Session.

use std::sync::Arc;

use storage::types::Value;

use super::interp::format_message;
use super::parse::{parse_body, placeholders, Piece, SqlText, Stmt, Target};
use crate::engine::{Database, DatabaseOptions, Outcome, Session};

#[test]
fn sql_text_marks_names_fields_and_arguments() {
    let t = SqlText::parse("a + new.x * $2 - f(b) || t.c || 'a b'").unwrap();
    assert!(t.pieces.contains(&Piece::Name("a".into(), "a".into())));
    assert!(t
        .pieces
        .contains(&Piece::Qualified("new".into(), "x".into(), "new.x".into())));
    assert!(t.pieces.contains(&Piece::Arg(2, "$2".into())));
    // A function name is not a variable; `t.c` may be a record field.
    assert!(!t
        .pieces
        .iter()
        .any(|p| matches!(p, Piece::Name(n, _) if n == "f")));
    assert_eq!(t.source(), "a + new.x * $2 - f(b) || t.c || 'a b'");
    assert!(SqlText::parse(" NEW ").unwrap().is_name("new"));
    // Names of relations, aliases, INSERT columns and SET targets stay as written.
    let names = |sql: &str| -> Vec<String> {
        SqlText::parse(sql)
            .unwrap()
            .pieces
            .into_iter()
            .filter_map(|p| match p {
                Piece::Name(n, _) => Some(n),
                _ => None,
            })
            .filter(|n| {
                !matches!(
                    n.as_str(),
                    "insert"
                        | "into"
                        | "values"
                        | "update"
                        | "set"
                        | "where"
                        | "select"
                        | "on"
                        | "as"
                        | "from"
                        | "join"
                )
            })
            .collect()
    };
    assert_eq!(
        names("INSERT INTO audit (id, op) VALUES (id, op)"),
        ["id", "op"]
    );
    assert_eq!(
        names("UPDATE t SET v = v + 1, w = x WHERE id = k"),
        ["v", "x", "id", "k"]
    );
    assert_eq!(
        names("SELECT a AS total FROM items i JOIN other o ON o.k = a"),
        ["a", "a"]
    );
}

#[test]
fn body_structure() {
    let body = parse_body(
        "DECLARE x int := 1; c CONSTANT text = 'k'; n numeric NOT NULL DEFAULT 0;
         BEGIN
           x := x + 1;
           NEW.a = 2;
           IF x > 1 THEN NULL; ELSIF x < 0 THEN RETURN 1; ELSE PERFORM 1; END IF;
           SELECT a, b INTO STRICT x, c FROM t WHERE id = x;
           INSERT INTO t VALUES (x) RETURNING a INTO x;
           <<outer>> FOR i IN REVERSE 10..1 BY 2 LOOP EXIT outer WHEN i < 3; END LOOP outer;
           WHILE x < 10 LOOP x := x + 1; CONTINUE; END LOOP;
           RAISE NOTICE 'x=%', x USING HINT = 'h';
           RETURN x;
         END",
    )
    .unwrap();
    assert_eq!(body.decls.len(), 3);
    assert!(body.decls[1].constant && body.decls[2].not_null);
    assert!(
        matches!(&body.stmts[1], Stmt::Assign(Target::Field(r, f), _) if r == "new" && f == "a")
    );
    match &body.stmts[3] {
        Stmt::Sql {
            text,
            into: Some((true, targets)),
            ..
        } => {
            assert_eq!(targets.len(), 2);
            assert_eq!(text.source(), "SELECT a, b  FROM t WHERE id = x");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &body.stmts[4],
        Stmt::Sql {
            into: Some((false, _)),
            ..
        }
    ));
    assert!(matches!(
        &body.stmts[5],
        Stmt::ForRange {
            reverse: true,
            step: Some(_),
            ..
        }
    ));
    assert_eq!(body.stmts.len(), 9);
}

#[test]
fn unsupported_constructs_are_named_at_parse_time() {
    for (body, named) in [
        (
            "BEGIN RETURN 1; EXCEPTION WHEN others THEN RETURN 2; END",
            "EXCEPTION block",
        ),
        ("BEGIN EXECUTE 'SELECT 1'; END", "EXECUTE"),
        ("DECLARE c CURSOR FOR SELECT 1; BEGIN END", "cursor"),
        ("BEGIN RETURN NEXT 1; END", "RETURN NEXT"),
        (
            "BEGIN FOR r IN SELECT 1 LOOP END LOOP; END",
            "FOR loop over a query",
        ),
        ("DECLARE r record; BEGIN END", "record variable"),
        ("DECLARE x t.a%TYPE; BEGIN END", "%TYPE"),
        ("BEGIN CREATE TABLE x (a int); END", "CREATE statement"),
    ] {
        let e = parse_body(body).unwrap_err();
        assert_eq!(e.code, "0A000", "{body}");
        assert!(e.message.contains(named), "{body}: {}", e.message);
    }
}

#[test]
fn syntax_errors() {
    assert_eq!(
        parse_body("BEGIN RETURN 1 END").unwrap_err().message,
        "syntax error at end of input"
    );
    assert_eq!(
        parse_body("BEGIN foo bar; END").unwrap_err().message,
        "syntax error at or near \"foo\""
    );
    assert_eq!(
        parse_body("BEGIN RAISE NOTICE 'a % %', 1; END")
            .unwrap_err()
            .message,
        "too few parameters specified for RAISE"
    );
    assert_eq!(
        parse_body("BEGIN RAISE nosuch; END").unwrap_err().message,
        "unrecognized exception condition \"nosuch\""
    );
}

#[test]
fn raise_format() {
    assert_eq!(placeholders("a % b %% c %"), 2);
    assert_eq!(
        format_message("hello % (% times), 100%% sure", &[Some("ann".into()), None]),
        "hello ann (<NULL> times), 100% sure"
    );
}

fn open() -> (tempfile::TempDir, Arc<Database>, Session) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::open(dir.path(), DatabaseOptions::default()).expect("open");
    let session = db.session("custos", "custos", &[]).expect("session");
    (dir, db, session)
}

/// One statement, committed; rows as text lines, or `ERROR code message`.
fn run(s: &mut Session, sql: &str) -> Vec<String> {
    let result = s.parse(sql).and_then(|mut statements| {
        let statement = statements.remove(0);
        let prepared = s.prepare(statement, &[])?;
        let outcome = s.execute(&prepared, &[])?;
        s.commit_implicit()?;
        Ok(outcome)
    });
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
        Err(e) => {
            s.fail_transaction();
            let _ = s.commit_implicit();
            vec![format!("ERROR {} {}", e.code, e.message)]
        }
    }
}

fn notices(s: &mut Session) -> Vec<String> {
    s.take_notices()
        .into_iter()
        .map(|n| format!("{} {}", n.severity, n.message))
        .collect()
}

#[test]
fn functions_run_in_queries() {
    let (_d, _db, mut s) = open();
    run(&mut s, "CREATE TABLE t (id int, v text)");
    run(&mut s, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, NULL)");
    assert_eq!(
        run(
            &mut s,
            "CREATE FUNCTION f(x int) RETURNS text LANGUAGE plpgsql AS $$
             DECLARE s int := 0;
             BEGIN
               FOR i IN 1..x LOOP s := s + i; END LOOP;
               IF s > 3 THEN RETURN 'big ' || s; ELSIF s > 1 THEN RETURN 'mid'; END IF;
               RETURN 'small';
             END $$"
        ),
        ["CREATE FUNCTION"]
    );
    assert_eq!(
        run(&mut s, "SELECT id, f(id) FROM t ORDER BY id"),
        ["1|small", "2|mid", "3|big 6"]
    );
    run(
        &mut s,
        "CREATE FUNCTION leak(v text) RETURNS bool LANGUAGE plpgsql AS $$
         BEGIN RAISE NOTICE 'saw %', v; RETURN v IS NOT NULL; END $$",
    );
    assert_eq!(
        run(&mut s, "SELECT id FROM t WHERE leak(v) ORDER BY id"),
        ["1", "2"]
    );
    assert_eq!(
        notices(&mut s),
        ["NOTICE saw a", "NOTICE saw b", "NOTICE saw <NULL>"]
    );
    run(
        &mut s,
        "CREATE FUNCTION cnt() RETURNS bigint LANGUAGE plpgsql AS $$
         DECLARE n bigint; BEGIN SELECT count(*) INTO n FROM t; RETURN n; END $$",
    );
    assert_eq!(run(&mut s, "SELECT cnt()"), ["3"]);
    run(
        &mut s,
        "CREATE FUNCTION boom(x int) RETURNS int LANGUAGE plpgsql STRICT AS $$
         BEGIN IF x < 0 THEN RAISE EXCEPTION 'negative: %', x USING ERRCODE = '22023'; END IF;
         RETURN x; END $$",
    );
    assert_eq!(run(&mut s, "SELECT boom(NULL), boom(2)"), ["NULL|2"]);
    assert_eq!(run(&mut s, "SELECT boom(-1)"), ["ERROR 22023 negative: -1"]);
    run(
        &mut s,
        "CREATE FUNCTION writes() RETURNS int LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO t VALUES (9, 'x'); RETURN 1; END $$",
    );
    assert!(run(&mut s, "SELECT writes()")[0].starts_with("ERROR 0A000"));
    assert_eq!(run(&mut s, "SELECT count(*) FROM t"), ["3"]);
}

#[test]
fn row_triggers_change_skip_and_audit() {
    let (_d, _db, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE acct (id int PRIMARY KEY, name text, balance int)",
    );
    run(
        &mut s,
        "CREATE TABLE audit (op text, tbl text, id int, old_balance int, new_balance int)",
    );
    run(
        &mut s,
        "CREATE FUNCTION norm() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.balance < 0 THEN RETURN NULL; END IF;
           NEW.name := upper(NEW.name);
           RETURN NEW;
         END $$",
    );
    run(
        &mut s,
        "CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF TG_OP = 'DELETE' THEN
             INSERT INTO audit VALUES (TG_OP, TG_TABLE_NAME, OLD.id, OLD.balance, NULL);
             RETURN OLD;
           ELSIF TG_OP = 'UPDATE' THEN
             INSERT INTO audit VALUES (TG_OP, TG_TABLE_NAME, NEW.id, OLD.balance, NEW.balance);
           ELSE
             INSERT INTO audit VALUES (TG_OP, TG_TABLE_NAME, NEW.id, NULL, NEW.balance);
           END IF;
           RETURN NEW;
         END $$",
    );
    assert_eq!(
        run(&mut s, "CREATE TRIGGER a_norm BEFORE INSERT OR UPDATE ON acct FOR EACH ROW EXECUTE FUNCTION norm()"),
        ["CREATE TRIGGER"]
    );
    run(&mut s, "CREATE TRIGGER z_log AFTER INSERT OR UPDATE OR DELETE ON acct FOR EACH ROW EXECUTE FUNCTION log_change()");
    assert_eq!(
        run(
            &mut s,
            "INSERT INTO acct VALUES (1, 'ann', 10), (2, 'bo', -1), (3, 'cy', 5)"
        ),
        ["INSERT 0 2"]
    );
    assert_eq!(
        run(&mut s, "SELECT id, name FROM acct ORDER BY id"),
        ["1|ANN", "3|CY"]
    );
    assert_eq!(
        run(
            &mut s,
            "UPDATE acct SET balance = balance + 1, name = 'x' WHERE id = 1"
        ),
        ["UPDATE 1"]
    );
    assert_eq!(run(&mut s, "DELETE FROM acct WHERE id = 3"), ["DELETE 1"]);
    assert_eq!(
        run(
            &mut s,
            "SELECT op, tbl, id, old_balance, new_balance FROM audit"
        ),
        [
            "INSERT|acct|1|NULL|10",
            "INSERT|acct|3|NULL|5",
            "UPDATE|acct|1|10|11",
            "DELETE|acct|3|5|NULL"
        ]
    );
    assert_eq!(run(&mut s, "SELECT name FROM acct"), ["X"]);
    assert_eq!(run(&mut s, "DROP TRIGGER a_norm ON acct"), ["DROP TRIGGER"]);
    run(&mut s, "INSERT INTO acct VALUES (4, 'dee', -3)");
    assert_eq!(run(&mut s, "SELECT name FROM acct WHERE id = 4"), ["dee"]);
    assert!(run(&mut s, "DROP FUNCTION log_change()")[0].starts_with("ERROR 2BP01"));
}

#[test]
fn deep_recursion_is_an_error_not_a_crash() {
    // A connection thread's stack (8 MiB), as the server gives it.
    let worker = std::thread::Builder::new().stack_size(8 << 20).spawn(|| {
        let (_d, _db, mut s) = open();
        run(
            &mut s,
            "CREATE FUNCTION fact(n int) RETURNS numeric LANGUAGE plpgsql AS $$
             BEGIN IF n <= 1 THEN RETURN 1; END IF; RETURN n * fact(n - 1); END $$",
        );
        let shallow = run(&mut s, "SELECT fact(5)");
        let deep = run(&mut s, "SELECT fact(100000)");
        let after = run(&mut s, "SELECT 1");
        (shallow, deep, after)
    });
    let (shallow, deep, after) = worker.expect("thread").join().expect("no crash");
    assert_eq!(shallow, ["120"]);
    assert_eq!(deep, ["ERROR 54001 stack depth limit exceeded"]);
    assert_eq!(after, ["1"]);
}
