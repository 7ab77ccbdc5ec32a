-- Arrays: constructors, array_agg, unnest, = ANY, array_length, containment, string_agg and the
-- text[] tags column. Format: see ../README.md.

-- name: arr_tags_column
SELECT id, tags, array_length(tags, 1), cardinality(tags) FROM products ORDER BY id;

-- name: arr_subscript_and_slice
SELECT id, tags[1], tags[2], tags[3], tags[2:3], tags[:1] FROM products ORDER BY id LIMIT 10;

-- name: arr_any_tag
SELECT count(*) FROM products WHERE 'premium' = ANY (tags);

-- name: arr_contains_operator
SELECT name FROM products WHERE tags @> ARRAY['gaming', 'sony'] ORDER BY name;

-- name: arr_overlap_operator
SELECT name FROM products WHERE tags && ARRAY['apple', 'google'] ORDER BY name;

-- name: arr_contained_by
SELECT count(*) FROM products WHERE tags <@ ARRAY['phones', 'apple', 'premium', 'samsung', 'sony', 'google'];

-- name: arr_unnest_tags_counts
SELECT tag, count(*) FROM products, unnest(tags) AS tag GROUP BY tag;

-- name: arr_unnest_with_ordinality
SELECT p.id, u.tag, u.n FROM products p, unnest(p.tags) WITH ORDINALITY AS u(tag, n)
WHERE p.id <= 5 ORDER BY p.id, u.n;

-- name: arr_unnest_multiple
SELECT * FROM unnest(ARRAY[1, 2, 3], ARRAY['a', 'b']) AS t(n, s);

-- name: arr_array_agg_ordered
SELECT category, array_agg(name ORDER BY name) FROM products GROUP BY category;

-- name: arr_array_agg_distinct
SELECT array_agg(DISTINCT channel ORDER BY channel) FROM tickets;

-- name: arr_array_agg_ids_per_customer
SELECT customer_id, array_agg(id ORDER BY id) FROM tickets GROUP BY customer_id HAVING count(*) > 2;

-- name: arr_string_agg_ordered
SELECT brand, string_agg(name, ', ' ORDER BY name) FROM products GROUP BY brand;

-- name: arr_string_agg_distinct
SELECT string_agg(DISTINCT priority, '/' ORDER BY priority) FROM tickets;

-- name: arr_constructor_literals
SELECT ARRAY[1, 2, 3], '{4,5,6}'::int[], ARRAY['a', NULL, 'c'], '{}'::text[], ARRAY[[1, 2], [3, 4]];

-- name: arr_text_output_quoting
SELECT ARRAY['plain', 'with space', 'with,comma', 'with"quote', '', 'NULL', NULL];

-- name: arr_append_prepend_cat
SELECT array_append(ARRAY[1, 2], 3), array_prepend(0, ARRAY[1, 2]), array_cat(ARRAY[1], ARRAY[2, 3]), ARRAY[1] || 2 || ARRAY[3, 4];

-- name: arr_remove_replace_position
SELECT array_remove(ARRAY[1, 2, 1, 3], 1), array_replace(ARRAY[1, 2, 1], 1, 9), array_position(ARRAY['a', 'b', 'c'], 'b'),
       array_positions(ARRAY[1, 2, 1], 1);

-- name: arr_dims_and_bounds
SELECT array_dims(ARRAY[[1, 2, 3], [4, 5, 6]]), array_lower(ARRAY[1, 2], 1), array_upper(ARRAY[1, 2], 1), array_ndims(ARRAY[[1], [2]]);

-- name: arr_to_string
SELECT array_to_string(tags, ' + '), array_to_string(ARRAY['a', NULL, 'b'], ',', '*') FROM products ORDER BY id LIMIT 5;

-- name: arr_equality_and_ordering
SELECT ARRAY[1, 2] = ARRAY[1, 2], ARRAY[1, 2] < ARRAY[1, 3], ARRAY[2] > ARRAY[1, 9], ARRAY[1, NULL] = ARRAY[1, NULL];

-- name: arr_any_with_subquery_array
SELECT count(*) FROM tickets WHERE product_id = ANY (ARRAY(SELECT id FROM products WHERE brand = 'Sony'));

-- name: arr_array_subquery_constructor
SELECT ARRAY(SELECT name FROM priorities ORDER BY rank);

-- name: arr_generate_subscripts
SELECT i, (ARRAY['x', 'y', 'z'])[i] FROM generate_subscripts(ARRAY['x', 'y', 'z'], 1) AS i;

-- name: arr_group_by_array
SELECT tags[1:1] AS first_tag, count(*) FROM products GROUP BY tags[1:1];

-- name: arr_order_by_array
SELECT name, tags FROM products ORDER BY tags DESC, name LIMIT 10;

-- name: arr_unnest_null_and_empty
SELECT count(*) FROM unnest('{}'::int[]) AS x, unnest(ARRAY[1, 2]) AS y;

-- name: arr_int_array_sum_via_unnest
SELECT sum(x), max(x) FROM unnest(ARRAY[3, 1, 4, 1, 5, 9, 2, 6]) AS x;

-- name: arr_all_operator
SELECT id FROM products WHERE length(name) > ALL (ARRAY[10, 12, 20]) ORDER BY id;

-- name: arr_customer_ticket_products
SELECT t.customer_id, array_agg(DISTINCT p.category ORDER BY p.category)
FROM tickets t JOIN products p ON p.id = t.product_id
GROUP BY t.customer_id HAVING count(DISTINCT p.category) >= 3;

-- name: arr_fill_and_length_multi
SELECT array_fill(7, ARRAY[3]), array_length(ARRAY[[1, 2, 3], [4, 5, 6]], 2), cardinality(ARRAY[[1, 2], [3, 4]]);

-- name: arr_string_to_array_and_back
SELECT string_to_array(name, ' ') AS words, array_length(string_to_array(name, ' '), 1) FROM products ORDER BY id LIMIT 12;
