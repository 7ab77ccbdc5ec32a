-- Conditional and scalar expressions: CASE (simple and searched), COALESCE, NULLIF,
-- GREATEST/LEAST, casts in both syntaxes, booleans and three-valued logic, type output of
-- every storage type. Format: see ../README.md.

-- name: expr_case_searched
SELECT id, CASE WHEN satisfaction >= 4 THEN 'happy' WHEN satisfaction <= 2 THEN 'unhappy' WHEN satisfaction = 3 THEN 'neutral' ELSE 'unrated' END
FROM tickets ORDER BY id LIMIT 30;

-- name: expr_case_simple
SELECT priority, CASE priority WHEN 'Critical' THEN 1 WHEN 'High' THEN 2 WHEN 'Medium' THEN 3 ELSE 4 END AS rank, count(*)
FROM tickets GROUP BY priority;

-- name: expr_case_without_else_is_null
SELECT CASE WHEN false THEN 1 END, CASE 1 WHEN 2 THEN 'x' END;

-- name: expr_case_in_aggregate
SELECT sum(CASE WHEN status = 'Closed' THEN 1 ELSE 0 END) AS closed, sum(CASE WHEN resolution IS NULL THEN 1 END) AS unresolved FROM tickets;

-- name: expr_coalesce
SELECT id, coalesce(resolution, 'n/a'), coalesce(satisfaction, 0), coalesce(NULL, NULL, 'third') FROM tickets ORDER BY id LIMIT 12;

-- name: expr_nullif
SELECT nullif(1, 1), nullif(1, 2), nullif('a', 'b'), nullif(channel, 'Email') FROM tickets WHERE id <= 6 ORDER BY id;

-- name: expr_nullif_to_avoid_division_by_zero
SELECT status, count(*) FILTER (WHERE satisfaction = 5)::numeric / nullif(count(satisfaction), 0) AS share_of_fives
FROM tickets GROUP BY status;

-- name: expr_three_valued_logic
SELECT NULL AND false, NULL AND true, NULL OR true, NULL OR false, NOT NULL::boolean, NULL = NULL, NULL <> 1;

-- name: expr_is_true_false_unknown
SELECT v, v IS TRUE, v IS NOT TRUE, v IS FALSE, v IS UNKNOWN FROM (VALUES (true), (false), (NULL)) AS t(v);

-- name: expr_boolean_output_and_casts
SELECT true, false, 't'::boolean, 'yes'::boolean, 'off'::boolean, 1::boolean, true::int, 'TRUE'::boolean::text;

-- name: expr_cast_syntaxes
SELECT CAST('42' AS integer), '42'::bigint, int4 '7', CAST(3.99 AS int), CAST(price AS text) FROM products WHERE id = 1;

-- name: expr_cast_to_varchar_and_char
SELECT 'abcdef'::varchar(3), 'ab'::char(4), length('ab'::char(4)), 'ab'::char(4) || 'x', 'x'::char(3) = 'x  '::char(3);

-- name: expr_cast_date_timestamp_text
SELECT purchase_date::text, purchase_date::timestamp, first_response_at::text, resolved_at::date FROM tickets
WHERE resolved_at IS NOT NULL ORDER BY id LIMIT 5;

-- name: expr_cast_numeric_text_roundtrip
SELECT price::text, price::float8, price::int, (price::text)::numeric = price FROM products ORDER BY id LIMIT 6;

-- name: expr_bytea_output
SELECT 'abc'::bytea, '\x00ff10'::bytea, decode('68656c6c6f', 'hex'), encode('hello'::bytea, 'base64'), length('\x0102'::bytea);

-- name: expr_uuid_output
SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid, '{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}'::uuid = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid;

-- name: expr_in_list_with_expressions
SELECT count(*) FROM tickets WHERE satisfaction IN (1 + 1, 2 * 2, NULL);

-- name: expr_between_symmetric
SELECT 5 BETWEEN 10 AND 1, 5 BETWEEN SYMMETRIC 10 AND 1, 'm' BETWEEN 'a' AND 'z';

-- name: expr_greatest_least_with_columns
SELECT id, greatest(purchase_date, '2021-01-01'), least(satisfaction, 3) FROM tickets ORDER BY id LIMIT 10;

-- name: expr_string_comparison_operators
SELECT 'abc' < 'abd', 'abc' < 'ab', 'B' < 'a', 'Zebra' > 'apple', '' < 'a';

-- name: expr_case_with_subquery
SELECT p.name, CASE WHEN (SELECT count(*) FROM campaigns c WHERE c.product_name = p.name) > 0 THEN 'promoted' ELSE 'organic' END
FROM products p ORDER BY p.id;

-- name: expr_nested_case_and_coalesce
SELECT id, coalesce(CASE WHEN status = 'Closed' THEN resolution END, CASE WHEN status = 'Open' THEN 'still open' END, 'waiting')
FROM tickets ORDER BY id LIMIT 10;

-- name: expr_arithmetic_on_nulls
SELECT 1 + NULL, NULL * 2, NULL || 'x', -NULL::int, abs(NULL::int);

-- name: expr_implicit_unknown_literal_types
SELECT '1' = 1::int, '2021-01-01' < purchase_date, 'Open' = status FROM tickets WHERE id = 3;

-- name: expr_integer_literal_types
SELECT pg_typeof(1), pg_typeof(2147483648), pg_typeof(9223372036854775808), pg_typeof(1.0), pg_typeof(1e2);

-- name: expr_text_concat_with_numbers
SELECT 'id-' || id, id || '/' || customer_id, 1.5 || 'x' FROM tickets ORDER BY id LIMIT 3;

-- name: expr_case_types_unify
SELECT CASE WHEN id % 2 = 0 THEN 1 ELSE 2.5 END FROM products ORDER BY id LIMIT 4;

-- name: expr_row_values_and_comparisons
SELECT ROW(1, 'a') = ROW(1, 'a'), (1, 2) < (1, 3), (1, NULL) = (1, NULL), ROW(1, 2) IS NULL;

-- name: expr_interval_casts
SELECT '1 day'::interval, '36:00:00'::interval, '1 week'::interval, '100'::interval, 'P1Y2M3DT4H5M6S'::interval;

-- name: expr_float4_and_float8_output
SELECT 3.14159265358979::float4, 3.14159265358979::float8, 1::float4 / 3, 1::float8 / 3, 100000000::float4, 1.0e-10::float8;

-- name: expr_smallint_int_bigint_bounds
SELECT 32767::smallint, (-32768)::smallint, 2147483647::int, (-2147483648)::int, 9223372036854775807::bigint;

-- name: expr_customer_label
SELECT id, upper(left(gender, 1)) || '/' || CASE WHEN age < 30 THEN 'Y' WHEN age < 55 THEN 'A' ELSE 'S' END || '/' || split_part(email, '@', 2)
FROM customers ORDER BY id LIMIT 10;

-- name: expr_is_null_on_row_fields
SELECT count(*) FROM tickets WHERE (resolution, satisfaction) IS NULL;

-- name: expr_coalesce_types
SELECT coalesce(NULL::int, 2.5), coalesce(satisfaction, 0.5) FROM tickets WHERE id = 1;

-- name: expr_cast_text_to_jsonb_and_back
SELECT '{"a":1}'::jsonb::text, '[1,2]'::json::jsonb, 'null'::jsonb IS NULL;

-- name: expr_case_insensitive_keywords_and_quoted_identifiers
SeLeCt "id", NAME FrOm PRODUCTS wHeRe ID < 3 order BY Id;

-- name: expr_quoted_alias_preserves_case
SELECT id AS "TicketId", status AS "Status Text", priority AS prio FROM tickets ORDER BY id LIMIT 2;
