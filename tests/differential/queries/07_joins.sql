-- Joins of every kind: inner, left, right, full, cross, self, USING, NATURAL, lateral, joins
-- on expressions and with filters in ON versus WHERE. Format: see ../README.md.

-- name: join_inner_ticket_customer_product
SELECT t.id, c.name, p.name, t.status FROM tickets t
JOIN customers c ON c.id = t.customer_id JOIN products p ON p.id = t.product_id
ORDER BY t.id LIMIT 15;

-- name: join_inner_count_by_category
SELECT p.category, count(*) FROM tickets t INNER JOIN products p ON p.id = t.product_id GROUP BY p.category;

-- name: join_left_campaigns_products
SELECT c.id, c.product_name, p.id AS product_id, p.price FROM campaigns c
LEFT JOIN products p ON p.name = c.product_name ORDER BY c.id;

-- name: join_left_products_campaigns
SELECT p.name, c.id AS campaign FROM products p LEFT JOIN campaigns c ON c.product_name = p.name
ORDER BY p.name, c.id;

-- name: join_left_is_null_anti
SELECT p.name FROM products p LEFT JOIN campaigns c ON c.product_name = p.name
WHERE c.id IS NULL ORDER BY p.name;

-- name: join_right_outer
SELECT c.id, p.name FROM products p RIGHT JOIN campaigns c ON c.product_name = p.name ORDER BY c.id;

-- name: join_full_outer
SELECT p.name, c.product_name, c.id FROM products p FULL OUTER JOIN campaigns c ON c.product_name = p.name
ORDER BY p.name NULLS FIRST, c.id NULLS FIRST;

-- name: join_full_outer_counts
SELECT count(*), count(p.id), count(c.id) FROM products p FULL JOIN campaigns c ON c.product_name = p.name;

-- name: join_cross_priorities_channels
SELECT pr.name, ch.channel FROM priorities pr CROSS JOIN (SELECT DISTINCT channel FROM tickets) ch
ORDER BY pr.rank, ch.channel;

-- name: join_cross_comma_syntax
SELECT count(*) FROM priorities, campaigns;

-- name: join_cross_with_counts
SELECT pr.name, ch.channel, count(t.id) FROM priorities pr
CROSS JOIN (SELECT DISTINCT channel FROM tickets) ch
LEFT JOIN tickets t ON t.priority = pr.name AND t.channel = ch.channel
GROUP BY pr.name, pr.rank, ch.channel ORDER BY pr.rank, ch.channel;

-- name: join_self_same_customer
SELECT a.id, b.id, a.customer_id FROM tickets a JOIN tickets b ON a.customer_id = b.customer_id AND a.id < b.id
ORDER BY a.id, b.id LIMIT 20;

-- name: join_self_same_product_and_date
SELECT count(*) FROM tickets a JOIN tickets b
ON a.product_id = b.product_id AND a.purchase_date = b.purchase_date AND a.id < b.id;

-- name: join_using
SELECT count(*) FROM tickets JOIN (SELECT id AS product_id, category FROM products) p USING (product_id)
WHERE category = 'Audio';

-- name: join_using_column_once
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS x(k, v) JOIN (VALUES (1, 'c'), (3, 'd')) AS y(k, w) USING (k);

-- name: join_natural
SELECT * FROM (VALUES (1, 'x', 10), (2, 'y', 20)) AS a(k, v, n)
NATURAL JOIN (VALUES (1, 'x', 'first'), (2, 'z', 'second')) AS b(k, v, label);

-- name: join_natural_left
SELECT * FROM (VALUES (1), (2), (3)) AS a(k) NATURAL LEFT JOIN (VALUES (2, 'two')) AS b(k, label) ORDER BY k;

-- name: join_on_expression_range
SELECT p.name, count(t.id) FROM products p JOIN tickets t ON t.product_id = p.id AND t.satisfaction >= 4
GROUP BY p.name;

-- name: join_filter_in_on_vs_where
SELECT (SELECT count(*) FROM priorities pr LEFT JOIN tickets t ON t.priority = pr.name AND t.id < 3),
       (SELECT count(*) FROM priorities pr LEFT JOIN tickets t ON t.priority = pr.name WHERE t.id < 3);

-- name: join_priorities_sla
SELECT t.id, t.priority, pr.sla_hours FROM tickets t JOIN priorities pr ON pr.name = t.priority
ORDER BY pr.rank, t.id LIMIT 12;

-- name: join_lateral_top_tickets
SELECT p.name, x.id, x.satisfaction FROM products p
CROSS JOIN LATERAL (SELECT t.id, t.satisfaction FROM tickets t WHERE t.product_id = p.id AND t.satisfaction IS NOT NULL
                    ORDER BY t.satisfaction DESC, t.id LIMIT 2) x
ORDER BY p.name, x.id;

-- name: join_left_lateral_latest
SELECT c.id, c.name, last.id, last.purchase_date FROM customers c
LEFT JOIN LATERAL (SELECT t.id, t.purchase_date FROM tickets t WHERE t.customer_id = c.id
                   ORDER BY t.purchase_date DESC, t.id DESC LIMIT 1) last ON true
WHERE c.id <= 10 ORDER BY c.id;

-- name: join_three_way_aggregates
SELECT p.brand, c.gender, count(*) FROM tickets t
JOIN products p ON p.id = t.product_id JOIN customers c ON c.id = t.customer_id
GROUP BY p.brand, c.gender;

-- name: join_nonequi_price_bands
SELECT b.label, count(p.id) FROM (VALUES ('cheap', 0, 300), ('mid', 300, 1000), ('premium', 1000, 100000)) AS b(label, lo, hi)
LEFT JOIN products p ON p.price >= b.lo AND p.price < b.hi GROUP BY b.label;

-- name: join_with_duplicates_multiplicity
SELECT a.v, b.v FROM (VALUES (1), (1), (2)) AS a(v) JOIN (VALUES (1), (1), (3)) AS b(v) ON a.v = b.v;

-- name: join_null_keys_do_not_match
SELECT count(*) FROM (VALUES (1), (NULL)) AS a(v) JOIN (VALUES (1), (NULL)) AS b(v) ON a.v = b.v;

-- name: join_full_with_nulls
SELECT a.v, b.v FROM (VALUES (1), (2), (NULL)) AS a(v) FULL JOIN (VALUES (2), (3), (NULL)) AS b(v) ON a.v = b.v;

-- name: join_customers_without_closed_tickets
SELECT count(*) FROM customers c LEFT JOIN tickets t ON t.customer_id = c.id AND t.status = 'Closed'
WHERE t.id IS NULL;

-- name: join_aliased_columns_star
SELECT * FROM priorities pr JOIN campaigns c ON c.id = pr.rank ORDER BY pr.rank;

-- name: join_subquery_derived_table
SELECT d.category, d.n, d.avg_price FROM (
  SELECT p.category, count(*) AS n, round(avg(p.price), 2) AS avg_price
  FROM tickets t JOIN products p ON p.id = t.product_id GROUP BY p.category
) d WHERE d.n > 500;

-- name: join_product_campaign_ticket_counts
SELECT c.id, c.product_name, count(t.id) AS tickets FROM campaigns c
LEFT JOIN products p ON p.name = c.product_name LEFT JOIN tickets t ON t.product_id = p.id
GROUP BY c.id, c.product_name ORDER BY c.id;

-- name: join_left_join_coalesce_zero
SELECT p.name, coalesce(sum(c.budget), 0) AS budget FROM products p LEFT JOIN campaigns c ON c.product_name = p.name
GROUP BY p.name ORDER BY budget DESC, p.name LIMIT 10;

-- name: join_inner_on_true_filter
SELECT count(*) FROM priorities a JOIN priorities b ON true WHERE a.rank < b.rank;

-- name: join_values_lookup
SELECT t.id, v.label FROM tickets t JOIN (VALUES ('Email', 'async'), ('Chat', 'live'), ('Phone', 'live')) AS v(channel, label)
ON v.channel = t.channel WHERE t.id <= 12 ORDER BY t.id;
