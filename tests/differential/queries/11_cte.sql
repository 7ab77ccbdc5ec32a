-- Common table expressions: plain, chained, referenced twice, recursive (series, hierarchies,
-- graph walks), MATERIALIZED hints, and CTEs feeding DML-free reports. Format: see ../README.md.

-- name: cte_simple
WITH closed AS (SELECT * FROM tickets WHERE status = 'Closed')
SELECT priority, count(*) FROM closed GROUP BY priority;

-- name: cte_chained
WITH per_product AS (SELECT product_id, count(*) AS n FROM tickets GROUP BY product_id),
     ranked AS (SELECT product_id, n, n - (SELECT avg(n) FROM per_product) AS delta FROM per_product)
SELECT p.name, r.n, round(r.delta, 3) FROM ranked r JOIN products p ON p.id = r.product_id ORDER BY r.n DESC, p.name LIMIT 10;

-- name: cte_referenced_twice
WITH s AS (SELECT channel, count(*) AS n FROM tickets GROUP BY channel)
SELECT a.channel, b.channel FROM s a JOIN s b ON a.n < b.n ORDER BY a.channel, b.channel;

-- name: cte_materialized_hint
WITH x AS MATERIALIZED (SELECT id, age FROM customers WHERE age > 60)
SELECT count(*), min(age) FROM x;

-- name: cte_not_materialized_hint
WITH x AS NOT MATERIALIZED (SELECT id, gender FROM customers)
SELECT gender, count(*) FROM x WHERE id % 2 = 0 GROUP BY gender;

-- name: cte_column_aliases
WITH t(a, b) AS (VALUES (1, 'one'), (2, 'two'))
SELECT b, a * 10 FROM t ORDER BY a;

-- name: cte_recursive_counter
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
SELECT sum(i), count(*), max(i) FROM n;

-- name: cte_recursive_fibonacci
WITH RECURSIVE fib(n, a, b) AS (SELECT 1, 0::bigint, 1::bigint UNION ALL SELECT n + 1, b, a + b FROM fib WHERE n < 50)
SELECT n, a FROM fib ORDER BY n;

-- name: cte_recursive_dates
WITH RECURSIVE days(d) AS (SELECT '2021-12-25'::date UNION ALL SELECT d + 1 FROM days WHERE d < '2022-01-03')
SELECT d, (SELECT count(*) FROM tickets t WHERE t.purchase_date = days.d) FROM days ORDER BY d;

-- name: cte_recursive_hierarchy
WITH RECURSIVE org(id, manager_id, name) AS (
  VALUES (1, NULL::int, 'CEO'), (2, 1, 'VP Support'), (3, 2, 'Lead EMEA'), (4, 2, 'Lead APAC'), (5, 3, 'Agent A'), (6, 3, 'Agent B'), (7, 4, 'Agent C')
), tree AS (
  SELECT id, name, 0 AS depth, name::text AS path FROM org WHERE manager_id IS NULL
  UNION ALL
  SELECT o.id, o.name, t.depth + 1, t.path || ' > ' || o.name FROM org o JOIN tree t ON o.manager_id = t.id
)
SELECT id, depth, path FROM tree ORDER BY path;

-- name: cte_recursive_union_distinct_cycle
WITH RECURSIVE edges(a, b) AS (VALUES (1, 2), (2, 3), (3, 1), (3, 4)),
reach(node) AS (SELECT 1 UNION SELECT e.b FROM edges e JOIN reach r ON e.a = r.node)
SELECT node FROM reach ORDER BY node;

-- name: cte_recursive_string_building
WITH RECURSIVE s(n, txt) AS (SELECT 1, 'a'::text UNION ALL SELECT n + 1, txt || chr(97 + n) FROM s WHERE n < 10)
SELECT n, txt FROM s ORDER BY n;

-- name: cte_recursive_customer_chain_by_email
WITH RECURSIVE chain(id, depth) AS (
  SELECT min(id), 0 FROM customers
  UNION ALL
  SELECT c.id, chain.depth + 1 FROM chain JOIN customers c ON c.id = chain.id + 1000 WHERE chain.depth < 8
)
SELECT chain.depth, c.id, c.name FROM chain JOIN customers c USING (id) ORDER BY chain.depth;

-- name: cte_with_window_report
WITH monthly AS (
  SELECT date_trunc('month', purchase_date)::date AS month, count(*) AS n FROM tickets GROUP BY 1
)
SELECT month, n, sum(n) OVER (ORDER BY month) AS running FROM monthly ORDER BY month;

-- name: cte_filter_then_join
WITH vip AS (SELECT id FROM customers WHERE (profile ->> 'tickets')::int >= 2)
SELECT t.priority, count(*) FROM tickets t JOIN vip ON vip.id = t.customer_id GROUP BY t.priority;

-- name: cte_shadowing_table_name
WITH products AS (SELECT 1 AS id, 'shadow' AS name)
SELECT * FROM products;

-- name: cte_in_subquery
SELECT count(*) FROM customers WHERE id IN (WITH x AS (SELECT customer_id FROM tickets WHERE satisfaction = 1) SELECT customer_id FROM x);

-- name: cte_nested_with
WITH a AS (WITH b AS (SELECT 2 AS v) SELECT v * 3 AS v FROM b) SELECT v FROM a;

-- name: cte_recursive_depth_limit_generate
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n * 2 FROM r WHERE n < 1000000)
SELECT array_agg(n ORDER BY n) FROM r;

-- name: cte_recursive_search_breadth
WITH RECURSIVE t(id, parent) AS (VALUES (1, NULL::int), (2, 1), (3, 1), (4, 2), (5, 2), (6, 3)),
walk AS (SELECT id, 1 AS level FROM t WHERE parent IS NULL UNION ALL SELECT t.id, w.level + 1 FROM t JOIN walk w ON t.parent = w.id)
SELECT level, array_agg(id ORDER BY id) FROM walk GROUP BY level ORDER BY level;

-- name: cte_cohort_retention
WITH firsts AS (
  SELECT customer_id, min(purchase_date) AS first_purchase FROM tickets GROUP BY customer_id
), cohorts AS (
  SELECT date_trunc('quarter', first_purchase)::date AS cohort, count(*) AS customers FROM firsts GROUP BY 1
)
SELECT cohort, customers FROM cohorts ORDER BY cohort;

-- name: cte_unused_cte_is_fine
WITH unused AS (SELECT 1 / 1 AS x) SELECT 'ok';
