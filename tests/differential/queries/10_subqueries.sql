-- Subqueries: scalar, IN, NOT IN, EXISTS, NOT EXISTS, correlated, ANY/ALL with subqueries, in
-- SELECT, FROM, WHERE and HAVING. Format: see ../README.md.

-- name: sub_scalar_in_select
SELECT p.name, (SELECT count(*) FROM tickets t WHERE t.product_id = p.id) AS tickets FROM products p ORDER BY p.id;

-- name: sub_scalar_in_where
SELECT id, name, age FROM customers WHERE age = (SELECT max(age) FROM customers) ORDER BY id LIMIT 10;

-- name: sub_scalar_average_comparison
SELECT count(*) FROM products WHERE price > (SELECT avg(price) FROM products);

-- name: sub_in_subquery
SELECT count(*) FROM customers WHERE id IN (SELECT customer_id FROM tickets WHERE priority = 'Critical');

-- name: sub_not_in_subquery
SELECT count(*) FROM customers WHERE id NOT IN (SELECT customer_id FROM tickets WHERE status = 'Open');

-- name: sub_not_in_with_null_in_subquery
SELECT count(*) FROM products WHERE id NOT IN (SELECT CASE WHEN id = 1 THEN NULL ELSE id END FROM priorities);

-- name: sub_exists_correlated
SELECT p.name FROM products p WHERE EXISTS (SELECT 1 FROM campaigns c WHERE c.product_name = p.name) ORDER BY p.name;

-- name: sub_not_exists_correlated
SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = c.id AND t.status = 'Closed');

-- name: sub_correlated_max_per_group
SELECT t.id, t.product_id, t.purchase_date FROM tickets t
WHERE t.purchase_date = (SELECT max(t2.purchase_date) FROM tickets t2 WHERE t2.product_id = t.product_id)
ORDER BY t.product_id, t.id;

-- name: sub_correlated_count_in_where
SELECT c.id, c.name FROM customers c WHERE (SELECT count(*) FROM tickets t WHERE t.customer_id = c.id) >= 3 ORDER BY c.id;

-- name: sub_any_subquery
SELECT count(*) FROM products WHERE price > ANY (SELECT budget / 100 FROM campaigns WHERE budget IS NOT NULL);

-- name: sub_all_subquery
SELECT name FROM products WHERE price >= ALL (SELECT price FROM products WHERE category = 'Phones') ORDER BY name;

-- name: sub_all_empty_subquery_true
SELECT count(*) FROM products WHERE price > ALL (SELECT price FROM products WHERE id < 0);

-- name: sub_derived_table_aggregate
SELECT category, max(n) FROM (SELECT p.category, t.customer_id, count(*) AS n FROM tickets t JOIN products p ON p.id = t.product_id
GROUP BY p.category, t.customer_id) s GROUP BY category;

-- name: sub_in_having
SELECT product_id, count(*) FROM tickets GROUP BY product_id
HAVING count(*) > (SELECT avg(n) FROM (SELECT count(*) AS n FROM tickets GROUP BY product_id) s);

-- name: sub_scalar_null_when_empty
SELECT (SELECT id FROM products WHERE id < 0) IS NULL, coalesce((SELECT max(id) FROM products WHERE id < 0), -1);

-- name: sub_exists_uncorrelated
SELECT EXISTS (SELECT 1 FROM tickets WHERE satisfaction = 5), EXISTS (SELECT 1 FROM tickets WHERE satisfaction = 6);

-- name: sub_row_constructor_in
SELECT count(*) FROM tickets WHERE (status, priority) IN (SELECT 'Open', name FROM priorities WHERE rank <= 2);

-- name: sub_row_comparison
SELECT count(*) FROM tickets WHERE (product_id, id) > (41, 8000);

-- name: sub_nested_three_levels
SELECT name FROM products WHERE id IN (
  SELECT product_id FROM tickets WHERE customer_id IN (
    SELECT id FROM customers WHERE age = (SELECT min(age) FROM customers)))
ORDER BY name;

-- name: sub_correlated_in_select_with_coalesce
SELECT c.id, coalesce((SELECT max(satisfaction) FROM tickets t WHERE t.customer_id = c.id), 0) AS best
FROM customers c WHERE c.id BETWEEN 100 AND 120 ORDER BY c.id;

-- name: sub_lateral_vs_correlated_equivalence
SELECT count(*) FROM customers c WHERE (SELECT count(*) FROM tickets t WHERE t.customer_id = c.id) <> (c.profile ->> 'tickets')::int;

-- name: sub_in_select_list_exists
SELECT p.name, EXISTS (SELECT 1 FROM tickets t WHERE t.product_id = p.id AND t.satisfaction = 1 AND t.channel = 'Chat' AND t.priority = 'Low') AS any_bad
FROM products p ORDER BY p.id;

-- name: sub_from_values_join
SELECT v.status, v.label, (SELECT count(*) FROM tickets t WHERE t.status = v.status) FROM
(VALUES ('Open', 'o'), ('Closed', 'c'), ('Unknown', 'u')) AS v(status, label) ORDER BY v.status;

-- name: sub_correlated_percent_of_product
SELECT t.product_id, t.channel, count(*),
       round(100.0 * count(*) / (SELECT count(*) FROM tickets t2 WHERE t2.product_id = t.product_id), 2) AS pct
FROM tickets t WHERE t.product_id <= 3 GROUP BY t.product_id, t.channel ORDER BY t.product_id, t.channel;

-- name: sub_not_exists_anti_join_products
SELECT name FROM products p WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.product_id = p.id AND t.satisfaction = 5 AND t.priority = 'Critical' AND t.channel = 'Email')
ORDER BY name;

-- name: sub_scalar_subquery_in_order_by
SELECT p.name FROM products p ORDER BY (SELECT count(*) FROM tickets t WHERE t.product_id = p.id) DESC, p.name LIMIT 5;

-- name: sub_in_list_of_subquery_on_text
SELECT count(*) FROM tickets WHERE subject IN (SELECT DISTINCT subject FROM tickets WHERE ticket_type = 'Refund request');

-- name: sub_exists_with_limit_inside
SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = c.id LIMIT 1);

-- name: sub_scalar_subquery_on_values
SELECT (SELECT sum(x) FROM (VALUES (1), (2), (3)) AS v(x)) * 10;
