//! The engine end to end without the wire: statements through a Session, results as text.

mod common;

use common::{open, run};

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

#[test]
fn set_returning_functions_in_the_select_list() {
    let (_dir, mut s) = open();
    // Several set-returning functions run in lockstep, shorter ones padded with NULLs.
    assert_eq!(
        run(
            &mut s,
            "SELECT generate_series(1, 3), unnest(ARRAY['a', 'b'])"
        ),
        ["1|a", "2|b", "3|NULL"]
    );
    // A multi-column result is a record whose fields can be selected (pgjdbc's
    // getPrimaryKeys query shape).
    assert_eq!(
        run(
            &mut s,
            "SELECT (r.k).x, (r.k).n, r.k FROM (SELECT information_schema._pg_expandarray(ARRAY[10, 20]) AS k) r"
        ),
        ["10|1|(10,1)", "20|2|(20,2)"]
    );
    assert_eq!(
        run(
            &mut s,
            "SELECT (information_schema._pg_expandarray(ARRAY[7, 8])).n"
        ),
        ["1", "2"]
    );
    assert_eq!(
        run(
            &mut s,
            "SELECT count(*) FROM (VALUES (NULL, NULL), (1, NULL)) v(a, b) WHERE (a, b) IS NULL"
        ),
        ["1"]
    );
}

#[test]
fn large_aggregates_run_in_parallel_and_match() {
    let (_dir, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE big (id int PRIMARY KEY, k int, v int)",
    );
    assert_eq!(
        run(
            &mut s,
            "INSERT INTO big SELECT g, g % 7, g FROM generate_series(1, 70000) g"
        ),
        ["INSERT 0 70000"]
    );
    // 70,000 rows pass the parallel threshold; the result must equal the serial formula.
    let rows = run(
        &mut s,
        "SELECT k, count(*), sum(v) FROM big GROUP BY k ORDER BY k",
    );
    let mut expected = Vec::new();
    for k in 0..7i64 {
        let members: Vec<i64> = (1..=70000i64).filter(|g| g % 7 == k).collect();
        expected.push(format!(
            "{k}|{}|{}",
            members.len(),
            members.iter().sum::<i64>()
        ));
    }
    assert_eq!(rows, expected);
    assert_eq!(
        run(&mut s, "SELECT count(*) FROM big WHERE v % 1000 = 0"),
        ["70"]
    );
}

#[test]
fn running_window_aggregates() {
    let (_dir, mut s) = open();
    assert_eq!(
        run(
            &mut s,
            "SELECT id, sum(id) OVER (ORDER BY id), string_agg(id::text, ',') OVER (ORDER BY id), \
             array_agg(id) OVER (ORDER BY id / 2) FROM generate_series(1, 4) id ORDER BY id"
        ),
        [
            "1|1|1|{1}",
            "2|3|1,2|{1,2,3}",
            "3|6|1,2,3|{1,2,3}",
            "4|10|1,2,3,4|{1,2,3,4}"
        ]
    );
}

#[test]
fn row_comparisons_and_atomic_function_bodies() {
    let (_dir, mut s) = open();
    assert_eq!(
        run(
            &mut s,
            "SELECT ROW(1, 'a') = ROW(1, 'a'), (1, 2) < (1, 3), (1, NULL) = (1, NULL), (2, 1) >= (1, 9)"
        ),
        ["t|t|NULL|t"]
    );
    // Semicolons inside BEGIN ATOMIC ... END belong to the function body.
    let created = run(
        &mut s,
        "CREATE FUNCTION two() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT two()",
    );
    assert_eq!(created.last().map(String::as_str), Some("2"), "{created:?}");
}

#[test]
fn whole_row_references() {
    let (_dir, mut s) = open();
    run(&mut s, "CREATE TABLE p (id int PRIMARY KEY, name text)");
    run(&mut s, "INSERT INTO p VALUES (1, 'a b'), (2, NULL)");
    assert_eq!(
        run(&mut s, "SELECT to_jsonb(p), p FROM p ORDER BY id"),
        [
            r#"{"id": 1, "name": "a b"}|(1,"a b")"#,
            r#"{"id": 2, "name": null}|(2,)"#
        ]
    );
    assert_eq!(
        run(&mut s, "SELECT to_jsonb(q) FROM p q ORDER BY id LIMIT 1"),
        [r#"{"id": 1, "name": "a b"}"#]
    );
    assert_eq!(
        run(
            &mut s,
            "SELECT row_to_json(x) FROM (SELECT id FROM p ORDER BY id LIMIT 1) x"
        ),
        [r#"{"id":1}"#]
    );
}

#[test]
fn aggregates_over_hash_joins_match_the_row_by_row_answer() {
    let (_dir, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE region (rid int PRIMARY KEY, name text);
         CREATE TABLE shop (sid int PRIMARY KEY, rid int, kind text);
         CREATE TABLE sale (id int PRIMARY KEY, sid int, amount int, note text)",
    );
    run(
        &mut s,
        "INSERT INTO region SELECT g, 'region ' || (g % 3) FROM generate_series(1, 10) g;
         INSERT INTO shop SELECT g, CASE WHEN g % 11 = 0 THEN NULL ELSE g % 12 END,
                CASE WHEN g % 2 = 0 THEN 'mall' END FROM generate_series(1, 200) g;
         INSERT INTO sale SELECT g, CASE WHEN g % 97 = 0 THEN NULL ELSE g % 230 END,
                g % 1000 - 300, 'n' || g FROM generate_series(1, 60000) g",
    );
    // Through the fused pipeline (scan, two hash probes, aggregate) ...
    let query = "SELECT r.name, s.kind, count(*), sum(x.amount), min(x.note), \
                 count(s.kind) FILTER (WHERE x.amount > 0), avg(x.amount + s.sid) \
                 FROM sale x JOIN shop s ON s.sid = x.sid JOIN region r ON r.rid = s.rid \
                 WHERE x.amount > -100 GROUP BY r.name, s.kind ORDER BY 1, 2";
    let fused = run(&mut s, query);
    // ... and through joins materialized first (an OFFSET 0 subquery is not fused).
    let materialized = run(
        &mut s,
        "SELECT name, kind, count(*), sum(amount), min(note), \
         count(kind) FILTER (WHERE amount > 0), avg(amount + sid) FROM \
         (SELECT r.name, s.kind, x.amount, x.note, s.sid \
          FROM sale x JOIN shop s ON s.sid = x.sid JOIN region r ON r.rid = s.rid \
          WHERE x.amount > -100 OFFSET 0) j GROUP BY name, kind ORDER BY 1, 2",
    );
    assert_eq!(fused, materialized);
    assert_eq!(fused.len(), 6, "{fused:?}");
    // The first query ran fused: its joins and scan were not operators of their own.
    let plan = run(&mut s, &format!("EXPLAIN ANALYZE {query}"));
    let scan = plan
        .iter()
        .find(|l| l.contains("Seq Scan on sale"))
        .unwrap();
    assert!(!scan.contains("actual"), "{plan:?}");
    let plan = run(
        &mut s,
        "EXPLAIN ANALYZE SELECT count(*) FROM (SELECT x.id FROM sale x JOIN shop s \
         ON s.sid = x.sid OFFSET 0) j",
    );
    let scan = plan
        .iter()
        .find(|l| l.contains("Seq Scan on sale"))
        .unwrap();
    assert!(scan.contains("actual"), "{plan:?}");
    let simple = "SELECT r.name, count(*), sum(x.amount) FROM sale x \
                  JOIN shop s ON s.sid = x.sid JOIN region r ON r.rid = s.rid GROUP BY r.name";
    let mut expected = std::collections::BTreeMap::<String, (i64, i64)>::new();
    for g in 1..=60000i64 {
        if g % 97 == 0 {
            continue;
        }
        let sid = g % 230;
        if !(1..=200).contains(&sid) || sid % 11 == 0 {
            continue;
        }
        let rid = sid % 12;
        if !(1..=10).contains(&rid) {
            continue;
        }
        let e = expected.entry(format!("region {}", rid % 3)).or_default();
        e.0 += 1;
        e.1 += g % 1000 - 300;
    }
    let mut rows = run(&mut s, simple);
    rows.sort();
    let expected: Vec<String> = expected
        .iter()
        .map(|(k, (c, sum))| format!("{k}|{c}|{sum}"))
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn explain_analyze_reports_what_each_node_did() {
    let (_dir, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE t (id int PRIMARY KEY, k int);
         INSERT INTO t SELECT g, g % 4 FROM generate_series(1, 100) g",
    );
    let lines = run(
        &mut s,
        "EXPLAIN ANALYZE SELECT k, count(*) FROM (SELECT * FROM t WHERE id <= 40 LIMIT 30) x \
         GROUP BY k",
    );
    let text = lines.join("\n");
    assert!(
        lines[0].starts_with("HashAggregate (actual time=")
            && lines[0].ends_with(" rows=4 loops=1)"),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("->  Limit (actual time=") && l.ends_with(" rows=30 loops=1)")),
        "{text}"
    );
    let planning = lines
        .iter()
        .find(|l| l.starts_with("Planning Time: "))
        .expect("planning");
    let execution = lines
        .iter()
        .find(|l| l.starts_with("Execution Time: "))
        .expect("execution");
    for line in [planning, execution] {
        let ms: f64 = line
            .split(": ")
            .nth(1)
            .unwrap()
            .trim_end_matches(" ms")
            .parse()
            .unwrap();
        assert!(ms >= 0.0, "{line}");
    }
    // Without ANALYZE the plan has no figures.
    let plain = run(&mut s, "EXPLAIN SELECT k FROM t WHERE id = 3");
    assert!(plain.iter().all(|l| !l.contains("actual")), "{plain:?}");
}

#[test]
fn top_k_and_filtered_scans_match_a_full_sort() {
    let (_dir, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE m (id int PRIMARY KEY, score int, label text);
         INSERT INTO m SELECT g, CASE WHEN g % 13 = 0 THEN NULL ELSE (g * 7919) % 1000 END,
                'row ' || g FROM generate_series(1, 60000) g",
    );
    for (order, k, offset) in [
        ("score DESC, id", 10, 0),
        ("score DESC NULLS LAST, id DESC", 25, 5),
        ("score, label", 1, 0),
        ("score + id % 7, id", 100, 40),
    ] {
        let all = run(
            &mut s,
            &format!("SELECT id, label, score FROM m ORDER BY {order}"),
        );
        let top = run(
            &mut s,
            &format!("SELECT id, label, score FROM m ORDER BY {order} LIMIT {k} OFFSET {offset}"),
        );
        assert_eq!(top, all[offset..offset + k].to_vec(), "ORDER BY {order}");
        let star = run(
            &mut s,
            &format!("SELECT * FROM m WHERE id % 3 = 0 ORDER BY {order} LIMIT {k}"),
        );
        let filtered = run(
            &mut s,
            &format!("SELECT * FROM m WHERE id % 3 = 0 ORDER BY {order}"),
        );
        assert_eq!(star, filtered[..k].to_vec(), "filtered, ORDER BY {order}");
    }
    assert_eq!(
        run(
            &mut s,
            "SELECT count(*) FROM (SELECT * FROM m WHERE score > 990 OR label LIKE '%77') x"
        ),
        run(
            &mut s,
            "SELECT count(*) FROM m WHERE score > 990 OR label LIKE '%77' OFFSET 0"
        )
    );
    // The heap ran over the scan's chunks: the scan was not an operator of its own.
    let plan = run(
        &mut s,
        "EXPLAIN ANALYZE SELECT id, label FROM m ORDER BY score DESC LIMIT 3",
    );
    let scan = plan.iter().find(|l| l.contains("Seq Scan on m")).unwrap();
    assert!(!scan.contains("actual"), "{plan:?}");
    assert_eq!(
        run(&mut s, "SELECT id FROM m ORDER BY id LIMIT 0"),
        Vec::<String>::new()
    );
    assert_eq!(
        run(&mut s, "SELECT id FROM m ORDER BY id LIMIT -1")[0],
        "ERROR 2201W LIMIT must not be negative"
    );
}

#[test]
fn distinct_aggregates_over_large_scans() {
    let (_dir, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE d (id int PRIMARY KEY, g int, v int, t text);
         INSERT INTO d SELECT i, i % 4, CASE WHEN i % 10 = 0 THEN NULL ELSE i % 37 END,
                'w' || (i % 5) FROM generate_series(1, 60000) i",
    );
    let rows = run(
        &mut s,
        "SELECT g, count(DISTINCT v), sum(DISTINCT v), count(v), \
         array_to_string(array_agg(DISTINCT t), ',') FROM d GROUP BY g ORDER BY g",
    );
    let mut expected = Vec::new();
    for g in 0..4 {
        let members: Vec<i64> = (1..=60000i64).filter(|i| i % 4 == g).collect();
        let values: std::collections::BTreeSet<i64> = members
            .iter()
            .filter(|i| *i % 10 != 0)
            .map(|i| i % 37)
            .collect();
        let counted = members.iter().filter(|i| *i % 10 != 0).count();
        let words: std::collections::BTreeSet<String> =
            members.iter().map(|i| format!("w{}", i % 5)).collect();
        expected.push(format!(
            "{g}|{}|{}|{counted}|{}",
            values.len(),
            values.iter().sum::<i64>(),
            words.into_iter().collect::<Vec<_>>().join(",")
        ));
    }
    assert_eq!(rows, expected);
    assert_eq!(
        run(
            &mut s,
            "SELECT count(DISTINCT (v, t)), count(DISTINCT g) FROM d"
        ),
        run(
            &mut s,
            "SELECT count(DISTINCT (v, t)), count(DISTINCT g) FROM (SELECT * FROM d OFFSET 0) x"
        )
    );
}
