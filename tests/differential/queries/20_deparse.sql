-- Stored expressions printed back: pg_get_constraintdef, pg_get_expr and pg_get_indexdef over
-- the suite's own constraints and over small tables created per case, in both the plain and
-- the pretty form (PostgreSQL prints its analysed node tree: implicit casts, IN as = ANY,
-- BETWEEN expanded, LIKE as ~~). Constraints are named so that names do not depend on the
-- server's naming rules. Format: see ../README.md.
-- mode: rollback

-- name: deparse_schema_checks
SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE con.contype = 'c' AND c.relname IN ('customers', 'products', 'tickets', 'priorities', 'campaigns')
ORDER BY c.relname, pg_get_constraintdef(con.oid);

-- name: deparse_schema_checks_pretty
SELECT c.relname, pg_get_constraintdef(con.oid, true)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE con.contype = 'c' AND c.relname IN ('customers', 'products', 'tickets', 'priorities', 'campaigns')
ORDER BY c.relname, 2;

-- name: deparse_schema_conbin
SELECT pg_get_expr(conbin, conrelid), pg_get_expr(conbin, conrelid, true)
FROM pg_constraint WHERE conrelid = 'tickets'::regclass AND contype = 'c' ORDER BY 1;

-- name: deparse_schema_keys
SELECT c.relname, con.contype, pg_get_constraintdef(con.oid, true)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE con.contype IN ('p', 'u', 'f') AND c.relname IN ('customers', 'products', 'tickets', 'priorities', 'campaigns')
ORDER BY c.relname, con.contype, 3;

-- name: deparse_check_numeric_casts
CREATE TABLE dp_numbers (n integer, s smallint, b bigint, amount numeric(12, 2), f double precision, r real,
  CONSTRAINT dp_a CHECK (amount > 0), CONSTRAINT dp_b CHECK (amount > -1.5 AND amount < 1e6),
  CONSTRAINT dp_c CHECK (f > 0 AND r < 2.5), CONSTRAINT dp_d CHECK (b > 3000000000 OR n > -2147483648),
  CONSTRAINT dp_e CHECK (n + 1.5 > s * 2), CONSTRAINT dp_f CHECK ((n + s) * 2 - b / 3 % 2 > 0),
  CONSTRAINT dp_g CHECK (amount::integer > 1 AND n::numeric(10, 2) > 0 AND n::bigint <> 7));
SELECT conname, pg_get_constraintdef(oid), pg_get_constraintdef(oid, true) FROM pg_constraint
WHERE conrelid = 'dp_numbers'::regclass ORDER BY conname;

-- name: deparse_check_strings
CREATE TABLE dp_strings (t text, v varchar(20), c char(5),
  CONSTRAINT dp_a CHECK (v LIKE '%@%' AND t NOT ILIKE 'x%'), CONSTRAINT dp_b CHECK (v IN ('a', 'b')),
  CONSTRAINT dp_c CHECK (c IN ('x', 'y') AND c <> 'z'), CONSTRAINT dp_d CHECK (length(v) > 2 AND lower(t) <> t || 'x'),
  CONSTRAINT dp_e CHECK (t ~ '^[a-z]+$' AND v::varchar(5) <> ''), CONSTRAINT dp_f CHECK (t <> 'it''s'));
SELECT conname, pg_get_constraintdef(oid), pg_get_constraintdef(oid, true) FROM pg_constraint
WHERE conrelid = 'dp_strings'::regclass ORDER BY conname;

-- name: deparse_check_in_between
CREATE TABLE dp_ranges (n integer, s smallint, t text,
  CONSTRAINT dp_a CHECK (n BETWEEN 1 AND 10), CONSTRAINT dp_b CHECK (n NOT BETWEEN 1 AND 10),
  CONSTRAINT dp_c CHECK (n IN (1, 2, 3)), CONSTRAINT dp_d CHECK (n NOT IN (1, 2, 3)),
  CONSTRAINT dp_e CHECK (n IN (s, 2, 3)), CONSTRAINT dp_f CHECK (t IN ('a')),
  CONSTRAINT dp_g CHECK (n = ANY (ARRAY[s, 3])), CONSTRAINT dp_h CHECK (t <> ALL ('{x,y}')));
SELECT conname, pg_get_constraintdef(oid), pg_get_constraintdef(oid, true) FROM pg_constraint
WHERE conrelid = 'dp_ranges'::regclass ORDER BY conname;

-- name: deparse_check_case_coalesce
CREATE TABLE dp_case (n integer, s smallint, v varchar(10),
  CONSTRAINT dp_a CHECK (CASE WHEN n > 0 THEN 1 ELSE 2.5 END > 0),
  CONSTRAINT dp_b CHECK (CASE n WHEN 1 THEN 'a' WHEN 2 THEN 'b' END <> 'c'),
  CONSTRAINT dp_c CHECK (COALESCE(v, 'z') <> '' AND NULLIF(n, 0) > 1),
  CONSTRAINT dp_d CHECK (GREATEST(n, s, 3) < 100 AND LEAST(n, 5) > 0));
SELECT conname, pg_get_constraintdef(oid), pg_get_constraintdef(oid, true) FROM pg_constraint
WHERE conrelid = 'dp_case'::regclass ORDER BY conname;

-- name: deparse_check_tests_and_logic
CREATE TABLE dp_logic (n integer, s smallint, ok boolean, t text,
  CONSTRAINT dp_a CHECK (n IS DISTINCT FROM s), CONSTRAINT dp_b CHECK (n IS NOT DISTINCT FROM s),
  CONSTRAINT dp_c CHECK (ok IS NOT FALSE AND ok IS NOT UNKNOWN), CONSTRAINT dp_d CHECK (NOT (n > 0 OR s > 0)),
  CONSTRAINT dp_e CHECK (n > 0 AND (s > 0 AND t IS NOT NULL)), CONSTRAINT dp_f CHECK (t IS NULL OR n > 0 AND s > 0),
  CONSTRAINT dp_g CHECK (ok), CONSTRAINT dp_h CHECK (-n < 5));
SELECT conname, pg_get_constraintdef(oid), pg_get_constraintdef(oid, true) FROM pg_constraint
WHERE conrelid = 'dp_logic'::regclass ORDER BY conname;

-- name: deparse_check_dates_and_functions
CREATE TABLE dp_dates (d date, ts timestamp with time zone, t text, arr integer[],
  CONSTRAINT dp_a CHECK (d > '2020-01-01' AND d + 1 > d), CONSTRAINT dp_b CHECK (ts >= '2020-01-01 10:00+00'),
  CONSTRAINT dp_c CHECK (extract(year FROM d) > 2000), CONSTRAINT dp_d CHECK (substring(t FROM 1 FOR 2) <> 'ab'),
  CONSTRAINT dp_e CHECK (position('a' IN t) > 0 AND trim(t) <> ''), CONSTRAINT dp_f CHECK (arr[1] > 0 AND array_length(arr, 1) < 5),
  CONSTRAINT dp_g CHECK (ts::date >= d));
SELECT conname, pg_get_constraintdef(oid), pg_get_constraintdef(oid, true) FROM pg_constraint
WHERE conrelid = 'dp_dates'::regclass ORDER BY conname;

-- name: deparse_defaults_literals
CREATE TABLE dp_defaults (id serial, t text DEFAULT 'open', v varchar(30) DEFAULT 'x', c char(3) DEFAULT 'x',
  n integer DEFAULT -1, b bigint DEFAULT 3000000000, amount numeric(10, 2) DEFAULT 9.99, m numeric DEFAULT 1e3,
  f double precision DEFAULT 0, r real DEFAULT -0.5, ok boolean DEFAULT true, d date DEFAULT '2020-01-01',
  i interval DEFAULT '1 hour', j jsonb DEFAULT '{}', tags text[] DEFAULT '{}', nums integer[] DEFAULT '{1,2}');
SELECT a.attname, pg_get_expr(d.adbin, d.adrelid), pg_get_expr(d.adbin, d.adrelid, true)
FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid = 'dp_defaults'::regclass ORDER BY a.attnum;

-- name: deparse_defaults_expressions
CREATE TABLE dp_default_exprs (a integer, v varchar(30) DEFAULT 'x' || 'y', t text DEFAULT lower('ABC'),
  u text DEFAULT CASE WHEN 1 > 0 THEN 'a' ELSE 'b' END, e text[] DEFAULT ARRAY[]::text[], k integer DEFAULT 2 * 3 + 1);
SELECT a.attname, pg_get_expr(d.adbin, d.adrelid), pg_get_expr(d.adbin, d.adrelid, true)
FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid = 'dp_default_exprs'::regclass ORDER BY a.attnum;

-- name: deparse_generated_columns
CREATE TABLE dp_generated (price numeric(10, 2), qty integer, a integer, b integer,
  total numeric GENERATED ALWAYS AS (price * qty) STORED, s integer GENERATED ALWAYS AS (a + b) STORED,
  w bigint GENERATED ALWAYS AS (a * 2) STORED);
SELECT a.attname, pg_get_expr(d.adbin, d.adrelid), pg_get_expr(d.adbin, d.adrelid, true)
FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid = 'dp_generated'::regclass ORDER BY a.attnum;

-- name: deparse_index_definitions
CREATE TABLE dp_indexed (a integer, b integer, "T" text, e varchar(100));
CREATE INDEX dp_multi ON dp_indexed (a, "T");
CREATE UNIQUE INDEX dp_unique ON dp_indexed (e, b);
SELECT c.relname, pg_get_indexdef(i.indexrelid), pg_get_indexdef(i.indexrelid, 0, true),
       pg_get_indexdef(i.indexrelid, 1, false), pg_get_indexdef(i.indexrelid, 2, true), pg_get_indexdef(i.indexrelid, 3, true)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'dp_indexed'::regclass ORDER BY c.relname;

-- name: deparse_foreign_key_actions
CREATE TABLE dp_parent (id integer PRIMARY KEY, code text UNIQUE);
CREATE TABLE dp_child (id integer PRIMARY KEY, p integer, q integer DEFAULT 0, code text,
  CONSTRAINT dp_a FOREIGN KEY (p) REFERENCES dp_parent (id) ON DELETE CASCADE,
  CONSTRAINT dp_b FOREIGN KEY (q) REFERENCES dp_parent (id) ON UPDATE SET NULL ON DELETE SET DEFAULT,
  CONSTRAINT dp_c FOREIGN KEY (code) REFERENCES dp_parent (code) ON DELETE RESTRICT);
SELECT conname, contype, pg_get_constraintdef(oid), pg_get_constraintdef(oid, true) FROM pg_constraint
WHERE conrelid IN ('dp_parent'::regclass, 'dp_child'::regclass) ORDER BY conrelid::regclass::text, contype, 3;

-- name: deparse_info_schema_defaults
CREATE TABLE dp_defaults (id serial, t text DEFAULT 'open', n numeric(8, 2) DEFAULT 0, k integer DEFAULT -1,
  s integer GENERATED ALWAYS AS (k * 2) STORED);
SELECT column_name, column_default, generation_expression FROM information_schema.columns
WHERE table_name = 'dp_defaults' ORDER BY ordinal_position;

-- name: deparse_info_schema_check_clause
SELECT constraint_name, check_clause FROM information_schema.check_constraints
WHERE constraint_name IN ('customers_age_check', 'customers_gender_check', 'products_price_check', 'campaigns_check')
ORDER BY constraint_name;
