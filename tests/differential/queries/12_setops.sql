-- UNION, UNION ALL, INTERSECT, EXCEPT (and their ALL forms), with ORDER BY/LIMIT on the
-- whole, type resolution across branches, and parenthesised nesting. Format: see ../README.md.

-- name: set_union_distinct
SELECT channel FROM tickets UNION SELECT channel FROM campaigns WHERE channel IS NOT NULL;

-- name: set_union_all_counts
SELECT count(*) FROM (SELECT status FROM tickets UNION ALL SELECT status FROM tickets) s;

-- name: set_union_with_nulls
SELECT channel FROM campaigns UNION SELECT NULL;

-- name: set_intersect
SELECT product_name FROM campaigns INTERSECT SELECT name FROM products;

-- name: set_intersect_all
SELECT x FROM (VALUES (1), (1), (1), (2)) AS a(x) INTERSECT ALL SELECT x FROM (VALUES (1), (1), (3)) AS b(x);

-- name: set_except
SELECT product_name FROM campaigns EXCEPT SELECT name FROM products;

-- name: set_except_all
SELECT x FROM (VALUES (1), (1), (1), (2)) AS a(x) EXCEPT ALL SELECT x FROM (VALUES (1), (3)) AS b(x);

-- name: set_union_order_by_limit
SELECT name, price FROM products WHERE category = 'Phones'
UNION ALL SELECT name, price FROM products WHERE category = 'Audio' ORDER BY price DESC, name LIMIT 5;

-- name: set_union_type_resolution
SELECT 1 AS v UNION SELECT 2.5 UNION SELECT 3::bigint;

-- name: set_union_column_names_from_first
SELECT 'a' AS first_name, 1 AS n UNION ALL SELECT 'b' AS other, 2 AS m ORDER BY n;

-- name: set_precedence_intersect_binds_tighter
SELECT 1 UNION SELECT 2 INTERSECT SELECT 3;

-- name: set_parenthesised
(SELECT 1 UNION SELECT 2) INTERSECT (SELECT 2 UNION SELECT 3);

-- name: set_customers_emails_on_two_domains
SELECT name FROM customers WHERE email LIKE '%.org' AND age = 40
INTERSECT SELECT name FROM customers WHERE gender = 'Female' ORDER BY name;

-- name: set_except_customers_with_open
SELECT customer_id FROM tickets WHERE priority = 'Critical' EXCEPT SELECT customer_id FROM tickets WHERE status <> 'Open'
ORDER BY customer_id LIMIT 15;

-- name: set_union_in_subquery_count
SELECT count(*) FROM (SELECT customer_id FROM tickets WHERE channel = 'Chat' UNION SELECT customer_id FROM tickets WHERE channel = 'Email') u;

-- name: set_union_all_with_literals_labels
SELECT 'open' AS kind, count(*) FROM tickets WHERE status = 'Open'
UNION ALL SELECT 'closed', count(*) FROM tickets WHERE status = 'Closed'
UNION ALL SELECT 'pending', count(*) FROM tickets WHERE status = 'Pending Customer Response';

-- name: set_union_dedups_within_branch
SELECT x FROM (VALUES (1), (1), (2)) AS t(x) UNION SELECT 2;

-- name: set_except_empty_result
SELECT name FROM priorities EXCEPT SELECT priority FROM tickets;

-- name: set_union_order_by_column_name
SELECT id, name FROM priorities JOIN (SELECT rank AS id FROM priorities) r ON r.id = priorities.rank
UNION SELECT 99, 'extra' ORDER BY name;

-- name: set_union_all_values_and_table
SELECT name, sla_hours FROM priorities UNION ALL VALUES ('Urgent', 1) ORDER BY 2, 1;

-- name: set_intersect_multi_column
SELECT status, priority FROM tickets WHERE channel = 'Chat' INTERSECT SELECT status, priority FROM tickets WHERE channel = 'Phone';

-- name: set_union_of_aggregates
SELECT 'min' AS agg, min(age) FROM customers UNION ALL SELECT 'max', max(age) FROM customers ORDER BY agg;

-- name: set_union_text_and_unknown_literal
SELECT 'x' UNION SELECT name FROM priorities ORDER BY 1;

-- name: set_union_null_typed_columns
SELECT NULL::int AS a, 'x' AS b UNION ALL SELECT 1, NULL ORDER BY a NULLS FIRST;

-- name: set_except_with_order_and_offset
SELECT id FROM products EXCEPT SELECT product_id FROM tickets WHERE satisfaction = 5 AND channel = 'Phone' AND priority = 'Low'
ORDER BY id OFFSET 2;

-- name: set_union_distinct_case_sensitivity
SELECT 'Email' UNION SELECT 'email' UNION SELECT 'EMAIL';
