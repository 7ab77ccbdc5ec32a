//! Query features end to end without the wire: window frames (RANGE / GROUPS offsets,
//! EXCLUDE), FETCH ... WITH TIES, ordered-set aggregates, multi-column IN, OVERLAPS,
//! BETWEEN SYMMETRIC and SQL/JSON paths, through a Session with results as text.

mod common;

use common::{open, run};
use sql::engine::{Outcome, Session};

/// Runs the statements of `CUSTOS_ADHOC_SQL` (one per line) and prints their results; for
/// trying queries by hand: `CUSTOS_ADHOC_SQL=... cargo test -p custos-sql --test
/// query_features adhoc -- --ignored --nocapture`.
#[test]
#[ignore]
fn adhoc() {
    let (_dir, mut s) = open();
    let text = std::env::var("CUSTOS_ADHOC_SQL").unwrap_or_default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        println!("> {line}");
        for row in run(&mut s, line) {
            println!("{row}");
        }
    }
}

#[test]
fn range_groups_and_exclude_frames() {
    let (_dir, mut s) = open();
    assert_eq!(
        run(
            &mut s,
            "SELECT v, sum(v) OVER (ORDER BY v RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES), \
             sum(v) OVER (ORDER BY v GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE GROUP) \
             FROM (VALUES (1), (1), (2), (3), (3), (5), (NULL)) AS t(v) ORDER BY v"
        ),
        ["1|3|NULL", "1|3|NULL", "2|10|2", "3|5|2", "3|5|2", "5|5|6", "NULL|NULL|5"]
    );
    assert_eq!(
        run(
            &mut s,
            "SELECT d, count(*) OVER (ORDER BY d DESC RANGE BETWEEN interval '3 days' PRECEDING AND CURRENT ROW) \
             FROM (VALUES (date '2020-01-01'), ('2020-01-03'), ('2020-01-05'), ('2020-01-09')) s(d) ORDER BY d"
        ),
        ["2020-01-01|2", "2020-01-03|2", "2020-01-05|1", "2020-01-09|1"]
    );
    assert_eq!(
        run(
            &mut s,
            "SELECT g, first_value(g) OVER w, nth_value(g, 2) OVER w FROM generate_series(1, 3) g \
             WINDOW w AS (ORDER BY g ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) ORDER BY g"
        ),
        ["1|2|NULL", "2|1|3", "3|2|NULL"]
    );
    let mut error = |sql: &str| {
        run(&mut s, sql)[0]
            .split(' ')
            .nth(1)
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        error("SELECT sum(g) OVER (ORDER BY g, g RANGE 1 PRECEDING) FROM generate_series(1, 2) g"),
        "42P20"
    );
    assert_eq!(
        error("SELECT sum(g) OVER (ORDER BY g ROWS -1 PRECEDING) FROM generate_series(1, 2) g"),
        "22013"
    );
    assert_eq!(error("SELECT sum(g) OVER (ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM generate_series(1, 2) g"), "42P20");
}

#[test]
fn fetch_with_ties_keeps_the_last_peers() {
    let (_dir, mut s) = open();
    let sql = "SELECT v FROM (VALUES (1), (2), (2), (3)) t(v) ORDER BY v";
    assert_eq!(
        run(&mut s, &format!("{sql} FETCH FIRST 2 ROWS WITH TIES")),
        ["1", "2", "2"]
    );
    assert_eq!(
        run(
            &mut s,
            &format!("{sql} OFFSET 2 ROWS FETCH FIRST 1 ROW WITH TIES")
        ),
        ["2"]
    );
    assert_eq!(
        run(&mut s, &format!("{sql} FETCH FIRST 0 ROWS WITH TIES")),
        Vec::<String>::new()
    );
    assert!(run(&mut s, "SELECT 1 FETCH FIRST 1 ROW WITH TIES")[0].starts_with("ERROR 42601"));
}

#[test]
fn ordered_set_aggregates() {
    let (_dir, mut s) = open();
    assert_eq!(
        run(
            &mut s,
            "SELECT mode() WITHIN GROUP (ORDER BY v), percentile_disc(0.5) WITHIN GROUP (ORDER BY v), \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY v), percentile_cont(ARRAY[0.25, 0.9]) WITHIN GROUP (ORDER BY v) \
             FROM (VALUES (1), (2), (2), (7), (NULL)) t(v)"
        ),
        ["2|2|2|{1.75,5.500000000000001}"]
    );
    assert!(run(
        &mut s,
        "SELECT percentile_cont(1.5) WITHIN GROUP (ORDER BY 1)"
    )[0]
    .starts_with("ERROR 22003"));
    assert!(
        run(&mut s, "SELECT percentile_cont(0.5) FROM (VALUES (1)) t(v)")[0]
            .starts_with("ERROR 42883")
    );
}

#[test]
fn row_in_subquery_between_symmetric_and_overlaps() {
    let (_dir, mut s) = open();
    assert_eq!(
        run(
            &mut s,
            "SELECT (1, 2) IN (SELECT 1, 2), (1, NULL) IN (SELECT 1, 2), (1, 3) NOT IN (SELECT 1, 2), \
             (1, 2) IN ((3, 4), (1, 2)), 5 BETWEEN SYMMETRIC 10 AND 1, 5 NOT BETWEEN SYMMETRIC 1 AND 10, \
             (DATE '2021-01-01', DATE '2021-03-01') OVERLAPS (DATE '2021-02-01', interval '1 month')"
        ),
        ["t|NULL|t|t|t|f|t"]
    );
    assert!(run(&mut s, "SELECT (1, 2) IN (SELECT 1)")[0].starts_with("ERROR 42601"));
}

#[test]
fn sql_json_paths() {
    let (_dir, mut s) = open();
    assert_eq!(
        run(
            &mut s,
            "SELECT jsonb_path_query_array('{\"items\": [{\"p\": 5}, {\"p\": 15}]}', '$.items[*] ? (@.p > $min).p', '{\"min\": 10}'), \
             '{\"a\": [1, 2]}'::jsonb @? '$.a[*] ? (@ == 2)', '{\"a\": 1}'::jsonb @@ '$.a > 0', \
             jsonb_path_query_first('[1.5, \"2\"]', '$[1].double() * 2')"
        ),
        ["[15]|t|t|4"]
    );
    assert!(
        run(&mut s, "SELECT jsonb_path_query('{}', 'strict $.a')")[0].starts_with("ERROR 2203A")
    );
    assert!(run(&mut s, "SELECT jsonb_path_exists('{}', '$.a +')")[0].starts_with("ERROR 42601"));
}

#[test]
fn distinct_aggregates_are_sorted_and_cbrt_is_glibcs() {
    let (_dir, mut s) = open();
    assert_eq!(
        run(
            &mut s,
            "SELECT array_agg(DISTINCT x), string_agg(DISTINCT y, ','), cbrt(27::float8) \
             FROM (VALUES (3, 'c'), (NULL, NULL), (1, 'a'), (3, 'c'), (NULL, 'b')) t(x, y)"
        ),
        ["{1,3,NULL}|a,b,c|3.0000000000000004"]
    );
}

/// Runs one statement with parameters given as text (typed by inference); the parameter
/// types the statement inferred and its rows.
fn run_with_params(s: &mut Session, sql: &str, params: &[&str]) -> (Vec<String>, Vec<String>) {
    let statement = s.parse(sql).unwrap().into_iter().next().unwrap();
    let prepared = s.prepare(statement, &[]).unwrap();
    let types: Vec<String> = prepared
        .param_types()
        .iter()
        .map(|t| t.display_name())
        .collect();
    let values: Vec<storage::types::Value> = params
        .iter()
        .zip(prepared.param_types())
        .map(|(p, t)| s.input_text(p, t).unwrap())
        .collect();
    let mut rows = Vec::new();
    match s.execute(&prepared, &values) {
        Ok(Outcome::Rows {
            columns, rows: r, ..
        }) => {
            for row in r {
                let line: Vec<String> = row
                    .iter()
                    .zip(&columns)
                    .map(|(v, c)| s.output_text(v, &c.sql_type))
                    .collect();
                rows.push(line.join("|"));
            }
        }
        Ok(_) => {}
        Err(e) => rows.push(format!("ERROR {}", e.code)),
    }
    s.commit_implicit().unwrap();
    (types, rows)
}

#[test]
fn parameters_in_frames_fetch_and_paths() {
    let (_dir, mut s) = open();
    let (types, rows) = run_with_params(
        &mut s,
        "SELECT x FROM generate_series(1, 5) x ORDER BY x / 2 FETCH FIRST $1 ROWS WITH TIES",
        &["2"],
    );
    assert_eq!(
        (types, rows),
        (
            vec!["bigint".to_string()],
            vec!["1".into(), "2".into(), "3".into()]
        )
    );
    let (types, rows) = run_with_params(
        &mut s,
        "SELECT d, count(*) OVER (ORDER BY d RANGE BETWEEN $1 PRECEDING AND CURRENT ROW) \
         FROM (VALUES (date '2021-01-01'), ('2021-01-03')) t(d) ORDER BY d",
        &["2 days"],
    );
    assert_eq!(types, ["interval"]);
    assert_eq!(rows, ["2021-01-01|1", "2021-01-03|2"]);
    let (_, rows) = run_with_params(
        &mut s,
        "SELECT jsonb_path_query_array('[1, 2, 3]', $1)",
        &["$[*] ? (@ > 1)"],
    );
    assert_eq!(rows, ["[2, 3]"]);
}
