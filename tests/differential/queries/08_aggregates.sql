-- GROUP BY and HAVING with the usual aggregates, FILTER, count(DISTINCT), bool_and/bool_or,
-- GROUPING SETS, ROLLUP and CUBE. Format: see ../README.md.

-- name: agg_count_star_and_column
SELECT count(*), count(resolution), count(satisfaction), count(first_response_at) FROM tickets;

-- name: agg_group_by_status
SELECT status, count(*) FROM tickets GROUP BY status;

-- name: agg_group_by_two_columns
SELECT status, priority, count(*) FROM tickets GROUP BY status, priority;

-- name: agg_group_by_ordinal
SELECT channel, priority, count(*) FROM tickets GROUP BY 1, 2 ORDER BY 1, 2;

-- name: agg_having_count
SELECT product_id, count(*) FROM tickets GROUP BY product_id HAVING count(*) > 215;

-- name: agg_having_avg
SELECT p.name, round(avg(t.satisfaction), 3) AS avg_sat FROM tickets t JOIN products p ON p.id = t.product_id
GROUP BY p.name HAVING avg(t.satisfaction) > 3.1;

-- name: agg_sum_avg_min_max
SELECT ticket_type, sum(satisfaction), round(avg(satisfaction), 5), min(satisfaction), max(satisfaction)
FROM tickets GROUP BY ticket_type;

-- name: agg_min_max_text
SELECT min(name), max(name), min(email), max(email) FROM customers;

-- name: agg_count_distinct
SELECT count(DISTINCT customer_id), count(DISTINCT product_id), count(DISTINCT subject) FROM tickets;

-- name: agg_count_distinct_per_group
SELECT channel, count(DISTINCT product_id), count(DISTINCT customer_id) FROM tickets GROUP BY channel;

-- name: agg_bool_and_or
SELECT status, bool_and(resolution IS NOT NULL), bool_or(satisfaction = 5), every(priority <> 'None')
FROM tickets GROUP BY status;

-- name: agg_filter_clause
SELECT channel, count(*) FILTER (WHERE status = 'Closed') AS closed, count(*) FILTER (WHERE priority = 'Critical') AS critical,
       round(avg(satisfaction) FILTER (WHERE priority IN ('Low', 'Medium')), 4) AS low_sat
FROM tickets GROUP BY channel;

-- name: agg_empty_input
SELECT count(*), sum(satisfaction), avg(satisfaction), max(id), bool_and(true), string_agg(status, ',') FROM tickets WHERE id < 0;

-- name: agg_empty_input_grouped
SELECT status, count(*) FROM tickets WHERE id < 0 GROUP BY status;

-- name: agg_group_by_expression
SELECT upper(left(name, 1)) AS initial, count(*) FROM customers GROUP BY upper(left(name, 1));

-- name: agg_group_by_case
SELECT CASE WHEN age < 30 THEN 'under 30' WHEN age < 50 THEN '30-49' ELSE '50+' END AS band, count(*)
FROM customers GROUP BY 1;

-- name: agg_group_by_null_group
SELECT satisfaction, count(*) FROM tickets GROUP BY satisfaction;

-- name: agg_grouping_sets
SELECT status, channel, count(*) FROM tickets GROUP BY GROUPING SETS ((status), (channel), ());

-- name: agg_rollup
SELECT status, priority, count(*) FROM tickets GROUP BY ROLLUP (status, priority);

-- name: agg_cube
SELECT gender, (age >= 50) AS senior, count(*) FROM customers GROUP BY CUBE (gender, (age >= 50));

-- name: agg_grouping_function
SELECT status, channel, grouping(status, channel) AS g, count(*) FROM tickets GROUP BY ROLLUP (status, channel);

-- name: agg_rollup_ordered_with_labels
SELECT coalesce(p.category, 'ALL') AS category, count(*) FROM tickets t JOIN products p ON p.id = t.product_id
GROUP BY ROLLUP (p.category) ORDER BY grouping(p.category), p.category;

-- name: agg_sum_numeric_prices_by_ticket
SELECT c.gender, sum(p.price) AS revenue, round(avg(p.price), 2) FROM tickets t
JOIN products p ON p.id = t.product_id JOIN customers c ON c.id = t.customer_id GROUP BY c.gender;

-- name: agg_count_per_customer_distribution
SELECT n, count(*) FROM (SELECT customer_id, count(*) AS n FROM tickets GROUP BY customer_id) s GROUP BY n;

-- name: agg_having_without_group_by
SELECT count(*) FROM tickets HAVING count(*) > 1000;

-- name: agg_having_false_without_group_by
SELECT count(*) FROM tickets HAVING count(*) > 100000;

-- name: agg_string_agg_per_status
SELECT status, string_agg(DISTINCT channel, ',' ORDER BY channel) FROM tickets GROUP BY status;

-- name: agg_avg_int_result_type
SELECT avg(x), sum(x), avg(x::float8) FROM (VALUES (1), (2), (2)) AS v(x);

-- name: agg_sum_bigint_overflow_safe
SELECT sum(x) FROM (VALUES (9223372036854775807::bigint), (1::bigint)) AS v(x);

-- name: agg_min_max_dates_per_product
SELECT product_id, min(purchase_date), max(purchase_date), max(purchase_date) - min(purchase_date) AS span
FROM tickets GROUP BY product_id;

-- name: agg_mode_and_percentiles
SELECT mode() WITHIN GROUP (ORDER BY channel), percentile_disc(0.5) WITHIN GROUP (ORDER BY age),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY age), percentile_cont(0.9) WITHIN GROUP (ORDER BY age)
FROM tickets t JOIN customers c ON c.id = t.customer_id;

-- name: agg_count_case_pivot
SELECT priority,
       sum(CASE WHEN channel = 'Email' THEN 1 ELSE 0 END) AS email,
       sum(CASE WHEN channel = 'Phone' THEN 1 ELSE 0 END) AS phone,
       sum(CASE WHEN channel = 'Chat' THEN 1 ELSE 0 END) AS chat,
       sum(CASE WHEN channel = 'Social media' THEN 1 ELSE 0 END) AS social
FROM tickets GROUP BY priority;

-- name: agg_group_by_date_parts
SELECT extract(year FROM purchase_date) AS y, extract(quarter FROM purchase_date) AS q, count(*)
FROM tickets GROUP BY 1, 2 ORDER BY 1, 2;

-- name: agg_nested_aggregate_subquery
SELECT max(n), min(n), round(avg(n), 4) FROM (SELECT product_id, count(*) AS n FROM tickets GROUP BY product_id) s;

-- name: agg_group_by_primary_key_functional_dependency
SELECT c.id, c.name, count(t.id) FROM customers c JOIN tickets t ON t.customer_id = c.id
GROUP BY c.id HAVING count(t.id) > 2;

-- name: agg_count_nulls_via_filter
SELECT count(*) FILTER (WHERE resolution IS NULL) AS unresolved, count(*) FILTER (WHERE resolution IS NOT NULL) AS resolved FROM tickets;

-- name: agg_bit_and_or
SELECT bit_and(x), bit_or(x), bit_xor(x) FROM (VALUES (12), (10), (6)) AS v(x);

-- name: agg_corr_regr
SELECT round(corr(age, satisfaction)::numeric, 8), round(regr_slope(satisfaction, age)::numeric, 8), regr_count(satisfaction, age)
FROM tickets t JOIN customers c ON c.id = t.customer_id;

-- name: agg_distinct_on_expression_count
SELECT count(DISTINCT (status, priority)) FROM tickets;

-- name: agg_group_by_having_order_limit
SELECT subject, count(*) AS n FROM tickets GROUP BY subject HAVING count(*) >= 500 ORDER BY n DESC, subject LIMIT 5;
