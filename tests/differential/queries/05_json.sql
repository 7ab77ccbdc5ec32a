-- JSON and jsonb: constructors, operators (->, ->>, #>, @>, ?, ||, -), aggregates,
-- functions, and the profile jsonb column. Format: see ../README.md.

-- name: json_profile_domain_counts
SELECT profile ->> 'domain' AS domain, count(*) FROM customers GROUP BY 1;

-- name: json_profile_arrow_types
SELECT id, profile -> 'tickets', profile ->> 'tickets', profile -> 'newsletter', profile -> 'segment'
FROM customers ORDER BY id LIMIT 8;

-- name: json_profile_containment
SELECT count(*) FROM customers WHERE profile @> '{"segment": "senior", "newsletter": true}';

-- name: json_profile_contained_by
SELECT count(*) FROM customers WHERE '{"domain": "example.net"}'::jsonb <@ profile;

-- name: json_profile_key_exists
SELECT profile ? 'segment', profile ? 'missing', profile ?| ARRAY['x', 'domain'], profile ?& ARRAY['domain', 'tickets']
FROM customers WHERE id = 1;

-- name: json_profile_numeric_cast
SELECT (profile ->> 'tickets')::int AS tickets, count(*) FROM customers GROUP BY 1;

-- name: json_repeat_customers
SELECT id, name, profile FROM customers WHERE (profile ->> 'tickets')::int > 1 ORDER BY id LIMIT 10;

-- name: json_build_object_ticket
SELECT json_build_object('id', id, 'status', status, 'satisfaction', satisfaction, 'closed', status = 'Closed')
FROM tickets ORDER BY id LIMIT 5;

-- name: jsonb_build_object_ticket
SELECT jsonb_build_object('id', id, 'priority', priority, 'resolved_at', resolved_at, 'date', purchase_date)
FROM tickets WHERE resolved_at IS NOT NULL ORDER BY id LIMIT 5;

-- name: json_build_array
SELECT json_build_array(1, 'two', 3.5, NULL, true), jsonb_build_array(1, 'two', 3.5, NULL, false);

-- name: jsonb_agg_products_by_category
SELECT category, jsonb_agg(name ORDER BY name) FROM products GROUP BY category;

-- name: json_agg_prices
SELECT brand, json_agg(price ORDER BY price) FROM products GROUP BY brand;

-- name: jsonb_object_agg_priorities
SELECT jsonb_object_agg(name, sla_hours) FROM priorities;

-- name: json_object_agg_ordered
SELECT json_object_agg(name, rank ORDER BY rank) FROM priorities;

-- name: to_jsonb_row
SELECT to_jsonb(p) FROM products p ORDER BY id LIMIT 3;

-- name: to_json_values
SELECT to_json('text with "quotes"'::text), to_json(42), to_json(ARRAY[1, 2]), to_jsonb(1.50::numeric), to_jsonb('2021-01-01'::date);

-- name: row_to_json_subselect
SELECT row_to_json(x) FROM (SELECT id, name, price FROM products ORDER BY id LIMIT 3) AS x;

-- name: jsonb_path_operators
SELECT '{"a": {"b": [10, 20, {"c": "deep"}]}}'::jsonb #> '{a,b,2}', '{"a": {"b": [10, 20, {"c": "deep"}]}}'::jsonb #>> '{a,b,2,c}',
       '{"a": [1, 2, 3]}'::jsonb -> 'a' -> 1, '[1, 2, 3]'::jsonb -> -1;

-- name: jsonb_concat_and_delete
SELECT '{"a": 1}'::jsonb || '{"b": 2}', '{"a": 1, "b": 2}'::jsonb - 'a', '[1, 2, 3]'::jsonb - 1,
       '{"a": {"b": 1, "c": 2}}'::jsonb #- '{a,b}';

-- name: jsonb_set_and_insert
SELECT jsonb_set(profile, '{segment}', '"vip"'), jsonb_insert('{"a": [1, 2]}', '{a,1}', '9')
FROM customers WHERE id = 3;

-- name: jsonb_each_text_profile
SELECT key, value FROM customers, jsonb_each_text(profile) WHERE id = 10;

-- name: jsonb_each_profile
SELECT e.key, e.value, jsonb_typeof(e.value) FROM customers c, jsonb_each(c.profile) AS e WHERE c.id = 11;

-- name: jsonb_object_keys_distinct
SELECT DISTINCT jsonb_object_keys(profile) FROM customers;

-- name: jsonb_array_elements
SELECT value FROM jsonb_array_elements('[1, "a", null, {"k": true}]');

-- name: jsonb_array_elements_text_ordinality
SELECT * FROM jsonb_array_elements_text('["x", "y", "z"]') WITH ORDINALITY AS t(v, n) ORDER BY n;

-- name: jsonb_array_length_and_typeof
SELECT jsonb_array_length('[1, 2, [3, 4]]'), jsonb_typeof('1'), jsonb_typeof('"s"'), jsonb_typeof('null'), json_typeof('[]');

-- name: jsonb_strip_nulls_and_pretty
SELECT jsonb_strip_nulls('{"a": 1, "b": null, "c": {"d": null}}'), jsonb_pretty('{"a": [1, {"b": 2}]}');

-- name: jsonb_normalisation_of_keys
SELECT '{"b": 1, "a": 2, "a": 3, "aa": 0}'::jsonb, '{"b": 1, "a": 2}'::json, '{ "x" :  1 }'::jsonb;

-- name: jsonb_equality_and_ordering
SELECT '{"a": 1, "b": 2}'::jsonb = '{"b": 2, "a": 1}'::jsonb, '[1, 2]'::jsonb = '[2, 1]'::jsonb, '1.0'::jsonb = '1'::jsonb;

-- name: jsonb_numbers_display
SELECT '1.50'::jsonb, '1e2'::jsonb, '-0.0'::jsonb, '12345678901234567890'::jsonb;

-- name: jsonb_group_by_value
SELECT profile -> 'newsletter' AS newsletter, count(*) FROM customers GROUP BY 1;

-- name: jsonb_order_by_value
SELECT id, profile -> 'age_band' FROM customers ORDER BY profile -> 'age_band' DESC, id LIMIT 10;

-- name: jsonb_ticket_summary_per_customer
SELECT c.id, jsonb_build_object('name', c.name, 'tickets', jsonb_agg(jsonb_build_object('id', t.id, 'status', t.status) ORDER BY t.id))
FROM customers c JOIN tickets t ON t.customer_id = c.id
WHERE (c.profile ->> 'tickets')::int >= 3 GROUP BY c.id, c.name ORDER BY c.id;

-- name: jsonb_path_query
SELECT jsonb_path_query_array('{"items": [{"p": 5}, {"p": 15}, {"p": 25}]}', '$.items[*] ? (@.p > 10).p'),
       jsonb_path_exists('{"a": [1, 2]}', '$.a[*] ? (@ == 2)');

-- name: json_text_extract_null_cases
SELECT '{"a": null}'::jsonb -> 'a', '{"a": null}'::jsonb ->> 'a', '{"a": 1}'::jsonb -> 'b', '"str"'::jsonb ->> 0;

-- name: jsonb_contains_arrays
SELECT '[1, 2, 3]'::jsonb @> '[3, 1]', '[1, [2, 3]]'::jsonb @> '[[3]]', '{"a": [1, 2]}'::jsonb @> '{"a": [2]}';

-- name: json_populate_from_tickets
SELECT (jsonb_build_object('n', count(*), 'avg', round(avg(satisfaction), 2)))::text
FROM tickets WHERE satisfaction IS NOT NULL;
