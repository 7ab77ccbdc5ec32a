-- psql expected-output test: how psql shows values of each type, NULLs, alignment, wide and
-- multi-line values, and psql's display modes. Run with -X -q -v ON_ERROR_STOP=0.
CREATE TABLE display (
    id integer PRIMARY KEY,
    label text,
    amount numeric(10, 2),
    ratio double precision,
    active boolean,
    born date,
    seen timestamptz,
    tags text[],
    doc jsonb
);
INSERT INTO display VALUES
    (1, 'plain', 12.50, 0.25, true, '1990-05-17', '2023-06-01 12:15:36+00', '{a,b}', '{"k": 1}'),
    (2, 'ünïcödé ✓ wide 日本語', -3.00, 1e-7, false, '2000-02-29', '2023-06-01 00:00:00+02', '{}', '[1, "two", null]'),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (4, E'two\nlines', 1234567.89, -12345.678, true, '2021-12-31', '2021-12-31 23:59:59.999+00', '{"with space",NULL}', '{"nested": {"a": [true]}}');
SELECT * FROM display ORDER BY id;
\pset null '(null)'
SELECT id, label, amount FROM display ORDER BY id;
\pset null ''
SELECT count(*) AS n, sum(amount) AS total, avg(ratio) AS mean FROM display;
SELECT 1 AS one, 'a' AS "Mixed Case", NULL::int AS nothing, 1.0::float8 / 3 AS third;
\x on
SELECT * FROM display WHERE id IN (1, 4) ORDER BY id;
\x off
\pset format unaligned
SELECT id, label, active FROM display ORDER BY id;
\pset format csv
SELECT id, label, tags, doc FROM display ORDER BY id;
\pset format aligned
\pset border 2
SELECT id, amount FROM display ORDER BY id LIMIT 2;
\pset border 1
\t on
SELECT id FROM display ORDER BY id;
\t off
\set threshold 2
SELECT id, label FROM display WHERE id > :threshold ORDER BY id;
SELECT max(id) AS max_id FROM display \gset
\echo max id is :max_id
SELECT 'x' AS a, 'y' AS b \g
SELECT generate_series(1, 3) AS g \gx
SELECT * FROM display WHERE false;
DROP TABLE display;
