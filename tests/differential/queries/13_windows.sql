-- Window functions: ranking, offsets, running and moving aggregates with frames, ntile,
-- first/last/nth value, named windows, windows over aggregates. Every ORDER BY inside a window
-- ends with a unique key so that results are deterministic. Format: see ../README.md.

-- name: win_row_number_per_customer
SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id ORDER BY purchase_date, id) AS n
FROM tickets WHERE customer_id <= 200 ORDER BY customer_id, n;

-- name: win_rank_dense_rank_prices
SELECT name, price, rank() OVER (ORDER BY price DESC), dense_rank() OVER (ORDER BY round(price, -2) DESC),
       row_number() OVER (ORDER BY price DESC, id)
FROM products ORDER BY price DESC, id;

-- name: win_rank_with_ties_age
SELECT id, age, rank() OVER (ORDER BY age), dense_rank() OVER (ORDER BY age) FROM customers WHERE id <= 30 ORDER BY id;

-- name: win_percent_rank_cume_dist
SELECT name, price, round(percent_rank() OVER (ORDER BY price)::numeric, 6), round(cume_dist() OVER (ORDER BY price)::numeric, 6)
FROM products ORDER BY price, id;

-- name: win_lag_lead
SELECT id, purchase_date, lag(purchase_date) OVER w, lead(purchase_date) OVER w, lag(id, 2, -1) OVER w
FROM tickets WHERE product_id = 7 WINDOW w AS (ORDER BY purchase_date, id) ORDER BY purchase_date, id LIMIT 25;

-- name: win_lag_gap_days
SELECT id, purchase_date - lag(purchase_date) OVER (PARTITION BY customer_id ORDER BY purchase_date, id) AS gap
FROM tickets WHERE customer_id IN (SELECT customer_id FROM tickets GROUP BY customer_id HAVING count(*) > 1)
ORDER BY id;

-- name: win_running_sum
SELECT month, n, sum(n) OVER (ORDER BY month) AS running_total
FROM (SELECT date_trunc('month', purchase_date)::date AS month, count(*) AS n FROM tickets GROUP BY 1) m ORDER BY month;

-- name: win_sum_over_partition
SELECT p.category, p.name, p.price, sum(p.price) OVER (PARTITION BY p.category) AS category_total,
       round(100 * p.price / sum(p.price) OVER (PARTITION BY p.category), 2) AS share
FROM products p ORDER BY p.category, p.name;

-- name: win_moving_average_rows_frame
SELECT month, n, round(avg(n) OVER (ORDER BY month ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 3) AS moving_avg
FROM (SELECT date_trunc('month', purchase_date)::date AS month, count(*) AS n FROM tickets GROUP BY 1) m ORDER BY month;

-- name: win_centered_frame
SELECT g, sum(g) OVER (ORDER BY g ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM generate_series(1, 10) AS g ORDER BY g;

-- name: win_unbounded_following_frame
SELECT g, sum(g) OVER (ORDER BY g ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM generate_series(1, 8) AS g ORDER BY g;

-- name: win_range_frame_with_peers
SELECT v, sum(v) OVER (ORDER BY v RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM (VALUES (1), (2), (2), (3)) AS t(v) ORDER BY v;

-- name: win_range_offset_frame
SELECT d, count(*) OVER (ORDER BY d RANGE BETWEEN interval '3 days' PRECEDING AND CURRENT ROW)
FROM (SELECT DISTINCT purchase_date AS d FROM tickets WHERE purchase_date < '2020-02-01') s ORDER BY d;

-- name: win_groups_frame
SELECT v, sum(v) OVER (ORDER BY v GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM (VALUES (1), (1), (2), (3), (3)) AS t(v) ORDER BY v;

-- name: win_frame_exclude
SELECT g, sum(g) OVER (ORDER BY g ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) FROM generate_series(1, 6) AS g ORDER BY g;

-- name: win_ntile_quartiles
SELECT id, age, ntile(4) OVER (ORDER BY age, id) FROM customers WHERE id <= 40 ORDER BY id;

-- name: win_first_last_nth_value
SELECT category, name, first_value(name) OVER w, last_value(name) OVER w, nth_value(name, 2) OVER w
FROM products WINDOW w AS (PARTITION BY category ORDER BY price, id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
ORDER BY category, price, id;

-- name: win_last_value_default_frame
SELECT g, last_value(g) OVER (ORDER BY g) FROM generate_series(1, 5) AS g ORDER BY g;

-- name: win_count_over_empty
SELECT status, count(*) OVER () AS total FROM (SELECT DISTINCT status FROM tickets) s ORDER BY status;

-- name: win_over_aggregate
SELECT channel, count(*) AS n, rank() OVER (ORDER BY count(*) DESC) AS r, sum(count(*)) OVER () AS total
FROM tickets GROUP BY channel ORDER BY r, channel;

-- name: win_top_n_per_group
SELECT category, name, price FROM (
  SELECT category, name, price, row_number() OVER (PARTITION BY category ORDER BY price DESC, id) AS rn FROM products
) ranked WHERE rn <= 2 ORDER BY category, rn;

-- name: win_customer_ticket_sequence
SELECT customer_id, id, count(*) OVER (PARTITION BY customer_id) AS tickets_of_customer,
       row_number() OVER (PARTITION BY customer_id ORDER BY id) AS nth
FROM tickets WHERE customer_id IN (SELECT customer_id FROM tickets GROUP BY customer_id HAVING count(*) >= 3)
ORDER BY customer_id, id;

-- name: win_min_max_over_partition
SELECT id, product_id, satisfaction, min(satisfaction) OVER p, max(satisfaction) OVER p
FROM tickets WHERE product_id IN (3, 4) AND satisfaction IS NOT NULL WINDOW p AS (PARTITION BY product_id)
ORDER BY id;

-- name: win_avg_over_partition_numeric
SELECT gender, id, age, round(avg(age) OVER (PARTITION BY gender), 4) FROM customers WHERE id <= 25 ORDER BY id;

-- name: win_lead_with_default
SELECT name, rank, lead(name, 1, 'none') OVER (ORDER BY rank) FROM priorities ORDER BY rank;

-- name: win_multiple_partitions_in_one_query
SELECT id, status, priority, count(*) OVER (PARTITION BY status) AS by_status, count(*) OVER (PARTITION BY priority) AS by_priority
FROM tickets WHERE id <= 20 ORDER BY id;

-- name: win_running_distinct_customers_per_month
SELECT month, new_customers, sum(new_customers) OVER (ORDER BY month) FROM (
  SELECT date_trunc('month', first_date)::date AS month, count(*) AS new_customers
  FROM (SELECT customer_id, min(purchase_date) AS first_date FROM tickets GROUP BY customer_id) f GROUP BY 1
) m ORDER BY month;

-- name: win_row_number_without_partition_order
SELECT name, row_number() OVER (ORDER BY name) FROM priorities ORDER BY name;

-- name: win_cume_satisfaction_by_channel
SELECT channel, satisfaction, count(*), sum(count(*)) OVER (PARTITION BY channel ORDER BY satisfaction) AS cumulative
FROM tickets WHERE satisfaction IS NOT NULL GROUP BY channel, satisfaction ORDER BY channel, satisfaction;

-- name: win_filter_on_window_via_subquery
SELECT count(*) FROM (SELECT id, lag(status) OVER (PARTITION BY customer_id ORDER BY id) AS previous FROM tickets) s
WHERE previous IS NOT NULL;

-- name: win_dense_rank_products_by_tickets
SELECT p.name, count(*) AS n, dense_rank() OVER (ORDER BY count(*) DESC) FROM tickets t JOIN products p ON p.id = t.product_id
GROUP BY p.name ORDER BY n DESC, p.name;

-- name: win_string_agg_over_frame
SELECT rank, string_agg(name, ',') OVER (ORDER BY rank) FROM priorities ORDER BY rank;

-- name: win_sum_float_frame
SELECT g, sum(g::float8 / 4) OVER (ORDER BY g ROWS 2 PRECEDING) FROM generate_series(1, 6) AS g ORDER BY g;
