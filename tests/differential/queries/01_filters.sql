-- Filters an analyst writes first: comparisons, LIKE/ILIKE, regular expressions, IN, BETWEEN,
-- IS NULL, boolean logic. Format: see ../README.md.

-- name: filter_count_all_tickets
SELECT count(*) FROM tickets;

-- name: filter_open_critical_count
SELECT count(*) AS open_critical FROM tickets WHERE status = 'Open' AND priority = 'Critical';

-- name: filter_ticket_by_id
SELECT id, customer_id, product_id, purchase_date, status, priority, channel
FROM tickets WHERE id = 4242;

-- name: filter_ids_in_list
SELECT id, subject FROM tickets WHERE id IN (1, 17, 256, 4096, 8469) ORDER BY id;

-- name: filter_ids_not_in_list_count
SELECT count(*) FROM tickets WHERE id NOT IN (1, 2, 3, 4, 5);

-- name: filter_between_dates
SELECT count(*) FROM tickets WHERE purchase_date BETWEEN '2021-01-01' AND '2021-01-31';

-- name: filter_not_between_ages
SELECT count(*) FROM customers WHERE age NOT BETWEEN 25 AND 65;

-- name: filter_like_prefix
SELECT id, name FROM customers WHERE name LIKE 'Zach%' ORDER BY id;

-- name: filter_like_suffix_email
SELECT count(*) FROM customers WHERE email LIKE '%@example.org';

-- name: filter_like_underscore
SELECT id, name FROM customers WHERE name LIKE 'J_n %' ORDER BY id LIMIT 20;

-- name: filter_not_like
SELECT count(*) FROM products WHERE name NOT LIKE '% %';

-- name: filter_ilike
SELECT id, name FROM products WHERE name ILIKE '%play%' ORDER BY id;

-- name: filter_not_ilike_count
SELECT count(*) FROM tickets WHERE subject NOT ILIKE '%issue%';

-- name: filter_like_escape
SELECT count(*) FROM tickets WHERE description LIKE '%{product\_purchased}%';

-- name: filter_regex_match
SELECT id, name FROM products WHERE name ~ '^[A-Z][a-z]+ [A-Z]{2,}' ORDER BY id;

-- name: filter_regex_case_insensitive
SELECT count(*) FROM tickets WHERE description ~* 'REFUND';

-- name: filter_regex_not_match
SELECT count(*) FROM customers WHERE email !~ '^[a-z]+@';

-- name: filter_regex_digits_in_description
SELECT count(*) FROM tickets WHERE description ~ '[0-9]{5}';

-- name: filter_is_null_resolution
SELECT count(*) FROM tickets WHERE resolution IS NULL;

-- name: filter_is_not_null_first_response
SELECT status, count(*) FROM tickets WHERE first_response_at IS NOT NULL GROUP BY status;

-- name: filter_or_and_precedence
SELECT count(*) FROM tickets
WHERE channel = 'Email' OR channel = 'Chat' AND priority = 'Low';

-- name: filter_parenthesised_or
SELECT count(*) FROM tickets
WHERE (channel = 'Email' OR channel = 'Chat') AND priority = 'Low';

-- name: filter_not_condition
SELECT count(*) FROM tickets WHERE NOT (status = 'Closed' OR priority = 'High');

-- name: filter_satisfaction_threshold
SELECT id, satisfaction FROM tickets WHERE satisfaction >= 5 AND product_id = 42 ORDER BY id;

-- name: filter_distinct_from
SELECT count(*) FROM tickets WHERE satisfaction IS DISTINCT FROM 3;

-- name: filter_not_distinct_from_null
SELECT count(*) FROM tickets WHERE resolution IS NOT DISTINCT FROM NULL;

-- name: filter_timestamp_range
SELECT count(*) FROM tickets
WHERE first_response_at >= '2023-06-01 00:00:00+00' AND first_response_at < '2023-06-01 06:00:00+00';

-- name: filter_timestamp_without_tz_compare
SELECT id, resolved_at FROM tickets
WHERE resolved_at > '2023-06-02 23:00:00' ORDER BY resolved_at, id;

-- name: filter_in_subquery_products
SELECT count(*) FROM tickets
WHERE product_id IN (SELECT id FROM products WHERE category = 'Phones');

-- name: filter_any_array_literal
SELECT count(*) FROM tickets WHERE priority = ANY (ARRAY['Critical', 'High']);

-- name: filter_all_array_literal
SELECT count(*) FROM customers WHERE age > ALL (ARRAY[30, 40, 50]);

-- name: filter_boolean_expression_column
SELECT satisfaction IS NULL AS unrated, count(*) FROM tickets GROUP BY 1;

-- name: filter_age_and_gender
SELECT gender, count(*) FROM customers WHERE age BETWEEN 18 AND 25 GROUP BY gender;

-- name: filter_numeric_price_compare
SELECT name, price FROM products WHERE price > 1000.50 ORDER BY price DESC, id;

-- name: filter_in_text_list_with_nulls
SELECT count(*) FROM campaigns WHERE channel IN ('Email', NULL);

-- name: filter_not_in_with_null_is_empty
SELECT count(*) FROM campaigns WHERE id NOT IN (1, NULL);

-- name: filter_similar_to
SELECT id, name FROM products WHERE name SIMILAR TO '(Sony|LG)%' ORDER BY id;

-- name: filter_starts_with_function
SELECT id, name FROM products WHERE starts_with(name, 'Micro') ORDER BY id;

-- name: filter_where_on_expression
SELECT count(*) FROM tickets WHERE length(description) > 350;

-- name: filter_limit_offset_by_id
SELECT id, priority FROM tickets WHERE channel = 'Phone' ORDER BY id LIMIT 5 OFFSET 100;
