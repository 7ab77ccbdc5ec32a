//! SQL functions: definitions, inlined calls, subquery calls, dependencies.

use super::*;

#[test]
fn sql_functions_inline_as_expressions() {
    let (_d, _db, mut s) = open();
    assert_eq!(
        run(&mut s, "CREATE FUNCTION add_one(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$"),
        ["CREATE FUNCTION"]
    );
    assert_eq!(
        run(&mut s, "SELECT add_one(41), add_one(NULL)"),
        ["42|NULL"]
    );
    run(
        &mut s,
        "CREATE FUNCTION greet(text) RETURNS text LANGUAGE sql AS 'SELECT ''hi '' || $1'",
    );
    assert_eq!(run(&mut s, "SELECT greet('ann')"), ["hi ann"]);
    run(
        &mut s,
        "CREATE FUNCTION or_five(a int) RETURNS int LANGUAGE sql STRICT AS 'SELECT coalesce(a, 5)'",
    );
    run(
        &mut s,
        "CREATE FUNCTION or_six(a int) RETURNS int LANGUAGE sql AS 'SELECT coalesce(a, 6)'",
    );
    assert_eq!(
        run(&mut s, "SELECT or_five(NULL), or_five(1), or_six(NULL)"),
        ["NULL|1|6"]
    );
    run(
        &mut s,
        "CREATE FUNCTION twice(n numeric) RETURNS numeric RETURN n * 2",
    );
    assert_eq!(run(&mut s, "SELECT twice(1.5)"), ["3.0"]);
    // Overloads, by argument type.
    run(
        &mut s,
        "CREATE FUNCTION kind(int) RETURNS text LANGUAGE sql AS $$SELECT 'int'$$",
    );
    run(
        &mut s,
        "CREATE FUNCTION kind(text) RETURNS text LANGUAGE sql AS $$SELECT 'text'$$",
    );
    assert_eq!(
        run(&mut s, "SELECT kind(1), kind('a'::text), kind('a')"),
        ["int|text|text"]
    );
    // Arguments from rows, and the return value cast to the declared type.
    run(
        &mut s,
        "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2)",
    );
    run(
        &mut s,
        "CREATE FUNCTION big(a int) RETURNS bigint LANGUAGE sql AS 'SELECT a * 1000000000'",
    );
    assert_eq!(
        run(&mut s, "SELECT big(a) FROM t ORDER BY a"),
        ["1000000000", "2000000000"]
    );
    assert_eq!(run(&mut s, "SELECT sum(add_one(a)) FROM t"), ["5"]);
    assert_eq!(run(&mut s, "SELECT add_one(sum(a)::int) FROM t"), ["4"]);
    assert_eq!(code(&mut s, "SELECT add_one(sum(a)) FROM t"), "42883");
}

#[test]
fn sql_functions_with_queries_run_as_subqueries() {
    let (_d, _db, mut s) = open();
    run(&mut s, "CREATE TABLE orders (customer int, amount int)");
    run(&mut s, "INSERT INTO orders VALUES (1, 10), (1, 20), (2, 5)");
    run(&mut s, "CREATE FUNCTION total(c int) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT sum(amount) FROM orders WHERE customer = c'");
    assert_eq!(
        run(&mut s, "SELECT total(1), total(2), total(3)"),
        ["30|5|NULL"]
    );
    run(
        &mut s,
        "CREATE TABLE customers (id int); INSERT INTO customers VALUES (1), (2)",
    );
    assert_eq!(
        run(&mut s, "SELECT id, total(id) FROM customers ORDER BY id"),
        ["1|30", "2|5"]
    );
    // The first row of the last query is the result; none gives NULL.
    run(&mut s, "CREATE FUNCTION first_amount(c int) RETURNS int LANGUAGE sql AS 'SELECT amount FROM orders WHERE customer = $1 ORDER BY amount'");
    assert_eq!(
        run(&mut s, "SELECT first_amount(1), first_amount(9)"),
        ["10|NULL"]
    );
    run(&mut s, "CREATE FUNCTION strict_total(c int) RETURNS bigint LANGUAGE sql STRICT AS 'SELECT count(*) FROM orders WHERE customer = c OR c IS NULL'");
    assert_eq!(run(&mut s, "SELECT strict_total(NULL)"), ["NULL"]);
}

#[test]
fn sql_function_definitions_are_checked() {
    let (_d, _db, mut s) = open();
    for (sql, expected) in [
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT ''a''::text'", "42P13"),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1, 2'", "42P13"),
        ("CREATE FUNCTION f() RETURNS int AS 'SELECT 1'", "42P13"),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS 'begin execute ''x''; end'", "0A000"),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE c AS 'x'", "0A000"),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE python AS 'x'", "42704"),
        ("CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT $2'", "42P02"),
        ("CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT y'", "42703"),
        ("CREATE FUNCTION f(x int, x int) RETURNS int LANGUAGE sql AS 'SELECT 1'", "42P13"),
        ("CREATE FUNCTION fact(n int) RETURNS int LANGUAGE sql AS 'SELECT CASE WHEN n <= 1 THEN 1 ELSE n * fact(n - 1) END'", "0A000"),
    ] {
        assert_eq!(code(&mut s, sql), expected, "{sql}");
    }
    assert_eq!(
        run(
            &mut s,
            "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x'"
        ),
        ["CREATE FUNCTION"]
    );
    assert_eq!(
        code(
            &mut s,
            "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT 2'"
        ),
        "42723"
    );
    assert_eq!(
        code(
            &mut s,
            "CREATE OR REPLACE FUNCTION f(x int) RETURNS bigint LANGUAGE sql AS 'SELECT 2'"
        ),
        "42P13"
    );
    assert_eq!(
        code(
            &mut s,
            "CREATE OR REPLACE FUNCTION f(y int) RETURNS int LANGUAGE sql AS 'SELECT 2'"
        ),
        "42P13"
    );
    assert_eq!(
        run(
            &mut s,
            "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x * 3'"
        ),
        ["CREATE FUNCTION"]
    );
    assert_eq!(run(&mut s, "SELECT f(2)"), ["6"]);
    run(
        &mut s,
        "CREATE FUNCTION f(x text) RETURNS int LANGUAGE sql AS 'SELECT 0'",
    );
    assert_eq!(code(&mut s, "DROP FUNCTION f"), "42725");
    assert_eq!(run(&mut s, "DROP FUNCTION f(text)"), ["DROP FUNCTION"]);
    assert_eq!(run(&mut s, "DROP FUNCTION f"), ["DROP FUNCTION"]);
    assert_eq!(code(&mut s, "SELECT f(2)"), "42883");
    assert_eq!(
        run(&mut s, "DROP FUNCTION nope(int)"),
        ["ERROR 42883 function nope(integer) does not exist"]
    );
    assert_eq!(
        run(&mut s, "DROP FUNCTION IF EXISTS nope(int)"),
        ["DROP FUNCTION"]
    );
    assert_eq!(
        notices(&mut s),
        ["function nope(integer) does not exist, skipping"]
    );
    // A view calling a function depends on it.
    run(
        &mut s,
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 7'",
    );
    run(&mut s, "CREATE VIEW v AS SELECT g() AS seven");
    assert_eq!(run(&mut s, "SELECT seven FROM v"), ["7"]);
    assert_eq!(code(&mut s, "DROP FUNCTION g()"), "2BP01");
    assert_eq!(run(&mut s, "DROP FUNCTION g() CASCADE"), ["DROP FUNCTION"]);
    // Set-returning functions are read in FROM.
    run(
        &mut s,
        "CREATE FUNCTION nums() RETURNS SETOF int LANGUAGE sql AS 'SELECT 1 UNION ALL SELECT 2'",
    );
    assert_eq!(code(&mut s, "SELECT nums()"), "0A000");
}

#[test]
fn sql_functions_nest_and_correlate() {
    let (_d, _db, mut s) = open();
    run(&mut s, "CREATE TABLE orders (customer int, amount int)");
    run(&mut s, "INSERT INTO orders VALUES (1, 10), (1, 20), (2, 5)");
    run(
        &mut s,
        "CREATE TABLE customers (id int); INSERT INTO customers VALUES (1), (2), (3)",
    );
    run(&mut s, "CREATE FUNCTION total(c int) RETURNS bigint LANGUAGE sql AS 'SELECT coalesce(sum(amount), 0) FROM orders WHERE customer = c'");
    run(&mut s, "CREATE FUNCTION n_orders(c int) RETURNS bigint LANGUAGE sql AS 'SELECT (SELECT count(*) FROM orders o WHERE o.customer = n_orders.c)'");
    run(&mut s, "CREATE FUNCTION score(c int) RETURNS bigint LANGUAGE sql AS 'SELECT total($1) * 10 + n_orders(c)'");
    assert_eq!(
        run(
            &mut s,
            "SELECT id, n_orders(id), score(id) FROM customers ORDER BY id"
        ),
        ["1|2|302", "2|1|51", "3|0|0"]
    );
    assert_eq!(
        run(
            &mut s,
            "SELECT id FROM customers c WHERE total(c.id) > 6 ORDER BY id"
        ),
        ["1"]
    );
    assert_eq!(
        run(
            &mut s,
            "SELECT id, (SELECT total(c.id) + 1) FROM customers c ORDER BY id"
        ),
        ["1|31", "2|6", "3|1"]
    );
    assert_eq!(
        run(&mut s, "SELECT total((SELECT max(customer) FROM orders))"),
        ["5"]
    );
    // A view over function calls.
    run(
        &mut s,
        "CREATE VIEW scores AS SELECT id, score(id) AS score FROM customers",
    );
    assert_eq!(run(&mut s, "SELECT score FROM scores WHERE id = 2"), ["51"]);
}
