-- DISTINCT, DISTINCT ON, ORDER BY with ASC/DESC, NULLS FIRST/LAST, expressions, ordinals and
-- aliases, LIMIT/OFFSET and FETCH FIRST. Format: see ../README.md.

-- name: ord_distinct_channels
SELECT DISTINCT channel FROM tickets;

-- name: ord_distinct_pairs
SELECT DISTINCT status, priority FROM tickets ORDER BY status, priority;

-- name: ord_distinct_on_latest_ticket_per_product
SELECT DISTINCT ON (product_id) product_id, id, purchase_date FROM tickets
ORDER BY product_id, purchase_date DESC, id DESC;

-- name: ord_distinct_on_best_rated
SELECT DISTINCT ON (p.category) p.category, p.name, p.price FROM products p ORDER BY p.category, p.price DESC, p.id;

-- name: ord_distinct_with_nulls
SELECT DISTINCT satisfaction FROM tickets ORDER BY satisfaction;

-- name: ord_nulls_default_asc_last
SELECT id, satisfaction FROM tickets WHERE id <= 20 ORDER BY satisfaction, id;

-- name: ord_nulls_default_desc_first
SELECT id, satisfaction FROM tickets WHERE id <= 20 ORDER BY satisfaction DESC, id;

-- name: ord_nulls_first_asc
SELECT id, resolved_at FROM tickets WHERE id <= 20 ORDER BY resolved_at NULLS FIRST, id;

-- name: ord_nulls_last_desc
SELECT id, resolved_at FROM tickets WHERE id <= 20 ORDER BY resolved_at DESC NULLS LAST, id;

-- name: ord_multiple_directions
SELECT name, brand, price FROM products ORDER BY brand DESC, price ASC;

-- name: ord_by_expression
SELECT name FROM products ORDER BY length(name), name;

-- name: ord_by_alias
SELECT name, price * 2 AS double_price FROM products ORDER BY double_price DESC, name LIMIT 7;

-- name: ord_by_ordinal
SELECT brand, count(*) FROM products GROUP BY brand ORDER BY 2 DESC, 1;

-- name: ord_by_column_not_selected
SELECT name FROM products ORDER BY price, id;

-- name: ord_by_case_expression
SELECT name FROM priorities ORDER BY CASE name WHEN 'Low' THEN 0 WHEN 'Critical' THEN 1 ELSE 2 END, name;

-- name: ord_limit_offset_page_3
SELECT id, subject FROM tickets ORDER BY id LIMIT 10 OFFSET 20;

-- name: ord_offset_only
SELECT id FROM products ORDER BY id OFFSET 38;

-- name: ord_limit_zero
SELECT id FROM products ORDER BY id LIMIT 0;

-- name: ord_limit_null_means_all
SELECT count(*) FROM (SELECT id FROM products ORDER BY id LIMIT NULL) s;

-- name: ord_fetch_first
SELECT id, name FROM customers ORDER BY name, id FETCH FIRST 5 ROWS ONLY;

-- name: ord_fetch_with_ties
-- expect: unordered
-- The ties make the row set larger than 3; the order among equal ratings is unspecified.
SELECT satisfaction, id FROM tickets WHERE satisfaction IS NOT NULL ORDER BY satisfaction FETCH FIRST 3 ROWS WITH TIES;

-- name: ord_top_customers_by_age
SELECT id, name, age FROM customers ORDER BY age DESC, id LIMIT 10;

-- name: ord_text_desc_with_nulls_last
SELECT id, resolution FROM tickets WHERE id BETWEEN 100 AND 130 ORDER BY resolution DESC NULLS LAST, id;

-- name: ord_by_timestamp_tz
SELECT id, first_response_at FROM tickets WHERE first_response_at IS NOT NULL ORDER BY first_response_at, id LIMIT 10;

-- name: ord_by_boolean
SELECT id, satisfaction > 3 AS happy FROM tickets WHERE id <= 15 ORDER BY happy NULLS FIRST, id;

-- name: ord_by_numeric_and_float_mix
SELECT v FROM (VALUES (1.5::numeric), (1.25), (-3), (10), (0.001)) AS t(v) ORDER BY v;

-- name: ord_distinct_order_by_expression
SELECT DISTINCT lower(subject) AS s FROM tickets ORDER BY s;

-- name: ord_union_order_limit
SELECT name FROM products WHERE brand = 'Sony' UNION SELECT name FROM products WHERE brand = 'LG' ORDER BY name LIMIT 4;

-- name: ord_by_jsonb_extracted_number
SELECT id, (profile ->> 'tickets')::int AS n FROM customers ORDER BY n DESC, id LIMIT 6;

-- name: ord_by_array_length
SELECT name, tags FROM products ORDER BY cardinality(tags) DESC, name LIMIT 8;

-- name: ord_collation_c_punctuation
SELECT v FROM (VALUES ('a b'), ('a-b'), ('ab'), ('a_b'), ('A'), ('a'), ('Z'), ('z'), ('é'), ('e')) AS t(v) ORDER BY v;

-- name: ord_by_interval
SELECT id, resolved_at - first_response_at::timestamp AS gap FROM tickets WHERE resolved_at IS NOT NULL
ORDER BY gap DESC, id LIMIT 8;

-- name: ord_nulls_last_multikey
SELECT customer_id, satisfaction, id FROM tickets WHERE customer_id <= 30 ORDER BY satisfaction NULLS LAST, customer_id DESC, id;
