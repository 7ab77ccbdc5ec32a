-- generate_series, VALUES lists, and set-returning functions in FROM and SELECT, plus table
-- functions joined to tables. Format: see ../README.md.

-- name: srf_generate_series_int
SELECT * FROM generate_series(1, 5);

-- name: srf_generate_series_step
SELECT g FROM generate_series(10, 0, -3) AS g;

-- name: srf_generate_series_numeric
SELECT g FROM generate_series(0.5, 2.5, 0.5) AS g;

-- name: srf_generate_series_timestamps
SELECT g FROM generate_series('2023-06-01 00:00'::timestamp, '2023-06-01 03:00', '45 minutes') AS g;

-- name: srf_generate_series_timestamptz
SELECT g FROM generate_series('2023-06-01 00:00+00'::timestamptz, '2023-06-02 00:00+00', '8 hours') AS g;

-- name: srf_generate_series_empty
SELECT count(*) FROM generate_series(5, 1);

-- name: srf_generate_series_in_select
SELECT generate_series(1, 3) AS n, 'x';

-- name: srf_calendar_fill_gaps
SELECT d::date, count(t.id) FROM generate_series('2020-01-01'::date, '2020-01-15'::date, '1 day') AS d
LEFT JOIN tickets t ON t.purchase_date = d::date GROUP BY d ORDER BY d;

-- name: srf_series_with_ordinality
SELECT * FROM generate_series(100, 104) WITH ORDINALITY AS t(v, n);

-- name: srf_values_basic
VALUES (1, 'one'), (2, 'two'), (3, 'three');

-- name: srf_values_column_names
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v;

-- name: srf_values_with_nulls_and_types
SELECT * FROM (VALUES (1, NULL, 1.5), (NULL, 'x', NULL)) AS v(a, b, c);

-- name: srf_values_order_limit
VALUES (3, 'c'), (1, 'a'), (2, 'b') ORDER BY 1 LIMIT 2;

-- name: srf_values_in_join
SELECT v.code, p.name FROM (VALUES (1), (42), (99)) AS v(code) LEFT JOIN products p ON p.id = v.code ORDER BY v.code;

-- name: srf_values_mixed_numeric_types
SELECT x, pg_typeof(x) FROM (VALUES (1), (2.5), (3)) AS v(x);

-- name: srf_unnest_in_select_list
SELECT id, unnest(tags) FROM products WHERE id <= 3 ORDER BY id, 2;

-- name: srf_multiple_srfs_in_select
SELECT generate_series(1, 3), generate_series(1, 2);

-- name: srf_regexp_split_lateral
SELECT p.id, w.word FROM products p, LATERAL regexp_split_to_table(p.name, ' ') WITH ORDINALITY AS w(word, n)
WHERE p.id BETWEEN 20 AND 24 ORDER BY p.id, w.n;

-- name: srf_series_joined_to_tickets_ids
SELECT g, t.subject FROM generate_series(1, 10) AS g JOIN tickets t ON t.id = g * 100 ORDER BY g;

-- name: srf_json_each_from_values
SELECT k, v FROM json_each_text('{"b": "2", "a": "1"}') AS j(k, v);

-- name: srf_pg_typeof_values
SELECT pg_typeof(1), pg_typeof(1.5), pg_typeof('x'::text), pg_typeof(now_like) FROM (VALUES ('2021-01-01'::date)) AS v(now_like);

-- name: srf_series_histogram
SELECT lower_bound, count(c.id) FROM generate_series(10, 70, 10) AS lower_bound
LEFT JOIN customers c ON c.age >= lower_bound AND c.age < lower_bound + 10 GROUP BY lower_bound ORDER BY lower_bound;

-- name: srf_values_distinct
SELECT DISTINCT x FROM (VALUES (1), (1), (NULL), (NULL), (2)) AS v(x);

-- name: srf_table_without_from
SELECT 1 AS a, 'b' AS b, NULL AS c, true AS d;

-- name: srf_generate_series_bigint
SELECT sum(g) FROM generate_series(1::bigint, 100000::bigint) AS g;
