-- What a CRM analyst or a BI tool sends: moving windows over value ranges, percentiles,
-- top-N with ties, multi-column IN, period overlaps, SQL/JSON paths over profiles, ordered
-- aggregates with FILTER, grouping sets, LATERAL top-N, date bucketing and formatting,
-- calendar series, JSON reports, rounding and interval arithmetic. Every ORDER BY that
-- decides which rows are shown ends with a unique key. Format: see ../README.md.

-- name: bi_range_window_price_band
SELECT name, price, count(*) OVER w AS similar_priced, sum(price) OVER w AS band_total
FROM products WINDOW w AS (ORDER BY price RANGE BETWEEN 100 PRECEDING AND 100 FOLLOWING)
ORDER BY price, id;

-- name: bi_range_window_age_desc
SELECT id, age, count(*) OVER (ORDER BY age DESC RANGE BETWEEN 2 PRECEDING AND 1 FOLLOWING) AS near_age
FROM customers WHERE id <= 60 ORDER BY id;

-- name: bi_range_window_trailing_7_days
SELECT d, n, sum(n) OVER (ORDER BY d RANGE BETWEEN interval '6 days' PRECEDING AND CURRENT ROW) AS trailing_week
FROM (SELECT purchase_date AS d, count(*) AS n FROM tickets WHERE purchase_date < '2020-03-01' GROUP BY 1) daily
ORDER BY d;

-- name: bi_range_window_timestamp_hours
SELECT id, first_response_at,
       count(*) OVER (ORDER BY first_response_at RANGE BETWEEN interval '2 hours' PRECEDING AND interval '2 hours' FOLLOWING)
FROM tickets WHERE customer_id <= 40 AND first_response_at IS NOT NULL ORDER BY first_response_at, id;

-- name: bi_range_window_following_only
SELECT v, sum(v) OVER (ORDER BY v RANGE BETWEEN 1 FOLLOWING AND 3 FOLLOWING), count(*) OVER (ORDER BY v RANGE BETWEEN 2 PRECEDING AND 1 PRECEDING)
FROM (VALUES (1), (2), (2), (4), (7), (NULL), (8)) AS t(v) ORDER BY v NULLS FIRST;

-- name: bi_range_window_float_and_numeric
SELECT x, sum(x) OVER (ORDER BY x RANGE BETWEEN 0.5 PRECEDING AND 0.5 FOLLOWING),
       count(*) OVER (ORDER BY x::float8 RANGE BETWEEN 1.5 PRECEDING AND CURRENT ROW)
FROM (VALUES (1.0), (1.25), (2.0), (3.5), (3.75)) AS t(x) ORDER BY x;

-- name: bi_groups_window_sessions
SELECT satisfaction, count(*) AS n,
       sum(count(*)) OVER (ORDER BY satisfaction GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS neighbourhood
FROM tickets WHERE satisfaction IS NOT NULL GROUP BY satisfaction ORDER BY satisfaction;

-- name: bi_groups_window_peer_rows
SELECT age, id, count(*) OVER (ORDER BY age GROUPS BETWEEN CURRENT ROW AND 1 FOLLOWING),
       first_value(id) OVER (ORDER BY age, id GROUPS 2 PRECEDING)
FROM customers WHERE id <= 30 ORDER BY age, id;

-- name: bi_window_exclude_variants
SELECT v, sum(v) OVER (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) AS others,
       sum(v) OVER (ORDER BY v RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE GROUP) AS other_values,
       sum(v) OVER (ORDER BY v RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES) AS near_no_ties,
       count(*) OVER (ORDER BY v ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE NO OTHERS) AS neighbours
FROM (VALUES (1), (2), (2), (3), (5), (5), (5)) AS t(v) ORDER BY v;

-- name: bi_window_exclude_first_last_value
SELECT g, first_value(g) OVER w, last_value(g) OVER w, nth_value(g, 2) OVER w
FROM generate_series(1, 6) AS g
WINDOW w AS (ORDER BY g ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) ORDER BY g;

-- name: bi_window_frame_errors
-- expect: error 42P20
SELECT sum(g) OVER (ORDER BY g, g * 2 RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM generate_series(1, 3) AS g;

-- name: bi_window_negative_offset
-- expect: error 22013
SELECT sum(g) OVER (ORDER BY g ROWS BETWEEN -1 PRECEDING AND CURRENT ROW) FROM generate_series(1, 3) AS g;

-- name: bi_between_symmetric_dates
SELECT count(*) FILTER (WHERE purchase_date BETWEEN SYMMETRIC '2021-06-30' AND '2021-01-01') AS h1_2021,
       count(*) FILTER (WHERE purchase_date NOT BETWEEN SYMMETRIC '2021-12-31' AND '2020-01-01') AS outside,
       count(*) FILTER (WHERE satisfaction BETWEEN SYMMETRIC 4 AND 2) AS middling
FROM tickets;

-- name: bi_overlaps_campaign_pairs
SELECT a.id, b.id, (a.starts_on, coalesce(a.ends_on, '2021-12-31')) OVERLAPS (b.starts_on, coalesce(b.ends_on, '2021-12-31')) AS overlapping,
       (a.starts_on, interval '30 days') OVERLAPS (b.starts_on, b.ends_on) AS first_month_overlaps
FROM campaigns a JOIN campaigns b ON a.id < b.id ORDER BY a.id, b.id;

-- name: bi_tickets_during_campaigns
SELECT c.id, count(t.id)
FROM campaigns c JOIN products p ON p.name = c.product_name
LEFT JOIN tickets t ON t.product_id = p.id
    AND (t.purchase_date, t.purchase_date) OVERLAPS (c.starts_on, coalesce(c.ends_on, '2021-12-31'::date))
GROUP BY c.id ORDER BY c.id;

-- name: bi_row_in_subquery_pairs
SELECT count(*) FROM tickets
WHERE (customer_id, product_id) IN (SELECT customer_id, product_id FROM tickets GROUP BY 1, 2 HAVING count(*) > 1);

-- name: bi_row_not_in_with_nulls
SELECT a, b, (a, b) IN (SELECT x, y FROM (VALUES (1, 1), (2, NULL)) s(x, y)) AS in_set,
       (a, b) NOT IN (SELECT x, y FROM (VALUES (1, 1), (2, NULL)) s(x, y)) AS not_in_set
FROM (VALUES (1, 1), (1, 2), (2, 2), (3, 3), (NULL, 1)) t(a, b) ORDER BY a NULLS LAST, b;

-- name: bi_row_in_correlated_priority
SELECT p.name, (SELECT count(*) FROM tickets t WHERE (t.priority, t.channel) IN (SELECT p.name, 'Email')) AS email_tickets
FROM priorities p ORDER BY p.rank;

-- name: bi_fetch_top_category_with_ties
-- expect: unordered
SELECT category, count(*) FROM products GROUP BY category ORDER BY count(*) DESC FETCH FIRST 1 ROWS WITH TIES;

-- name: bi_fetch_with_ties_ages
-- expect: unordered
SELECT age, count(*) FROM customers GROUP BY age ORDER BY count(*) DESC FETCH FIRST 3 ROWS WITH TIES;

-- name: bi_percentiles_by_channel
SELECT channel, percentile_cont(0.5) WITHIN GROUP (ORDER BY satisfaction) AS median,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY satisfaction) AS median_disc,
       percentile_cont(ARRAY[0.25, 0.75]) WITHIN GROUP (ORDER BY satisfaction) AS quartiles
FROM tickets GROUP BY channel ORDER BY channel;

-- name: bi_percentile_disc_prices
SELECT category, percentile_disc(ARRAY[0.1, 0.5, 0.9]) WITHIN GROUP (ORDER BY price),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY price DESC)
FROM products GROUP BY category ORDER BY category;

-- name: bi_mode_per_priority
SELECT priority, mode() WITHIN GROUP (ORDER BY ticket_type) AS usual_type, mode() WITHIN GROUP (ORDER BY channel DESC) AS usual_channel
FROM tickets GROUP BY priority ORDER BY priority;

-- name: bi_percentile_interval_resolution
SELECT priority, percentile_cont(0.5) WITHIN GROUP (ORDER BY resolved_at - first_response_at::timestamp) AS median_time
FROM tickets WHERE resolved_at IS NOT NULL GROUP BY priority ORDER BY priority;

-- name: bi_percentile_out_of_range
-- expect: error 22003
SELECT percentile_cont(1.5) WITHIN GROUP (ORDER BY age) FROM customers;

-- name: bi_jsonpath_profile_filters
SELECT profile->>'segment' AS segment, count(*) FILTER (WHERE profile @? '$ ? (@.tickets > 1)') AS repeat_customers,
       count(*) FILTER (WHERE profile @@ '$.newsletter == true') AS subscribers,
       count(*) FILTER (WHERE jsonb_path_exists(profile, '$.age_band ? (@ starts with "2")')) AS twenties
FROM customers GROUP BY 1 ORDER BY 1;

-- name: bi_jsonpath_query_vars
SELECT id, jsonb_path_query_array(profile, '$.* ? (@.type() == "number" && @ >= $min)', '{"min": 2}'),
       jsonb_path_query_first(profile, '$.age_band'), jsonb_path_match(profile, 'exists($.domain) && $.tickets < 3')
FROM customers WHERE id <= 12 ORDER BY id;

-- name: bi_jsonpath_query_rows
SELECT c.id, p.value FROM customers c, jsonb_path_query(c.profile, 'strict $.keyvalue() ? (@.value.type() == "string").key') AS p(value)
WHERE c.id <= 3 ORDER BY c.id, p.value;

-- name: bi_jsonpath_arithmetic_and_methods
SELECT jsonb_path_query_array('{"items": [{"qty": 2, "price": 9.5}, {"qty": 1, "price": 20}, {"qty": 3, "price": "4.25"}]}',
                              '$.items[*] ? (@.price.double() > 5).qty'),
       jsonb_path_query_first('{"items": [{"qty": 2, "price": 9.5}, {"qty": 1, "price": 20}]}', '$.items[1].price * $.items[0].qty - 0.5'),
       jsonb_path_query_array('[1.5, -2.25, 3]', '$[*].abs().ceiling()'),
       jsonb_path_query_array('{"a": [[1, 2], [3]]}', '$.a[*].size()'),
       jsonb_path_query_array('{"a": {"b": {"c": 1}}, "d": 2}', '$.**{1 to 2}.type()'),
       jsonb_path_query_array('["x1", "Y2", "z3"]', '$[*] ? (@ like_regex "^[xy]" flag "i")');

-- name: bi_jsonpath_strict_error
-- expect: error 2203A
SELECT jsonb_path_query('{"a": 1}', 'strict $.b');

-- name: bi_string_agg_ordered_distinct
SELECT category, string_agg(name, ', ' ORDER BY price DESC, name) AS by_price,
       array_agg(DISTINCT brand ORDER BY brand) AS brands, count(DISTINCT brand)
FROM products GROUP BY category ORDER BY category;

-- name: bi_filter_clauses_per_channel
SELECT channel, count(*) FILTER (WHERE status = 'Open') AS open,
       count(*) FILTER (WHERE status = 'Closed' AND satisfaction >= 4) AS happy_closed,
       round(avg(satisfaction) FILTER (WHERE priority IN ('Critical', 'High')), 3) AS urgent_sat,
       string_agg(DISTINCT priority, '/' ORDER BY priority) FILTER (WHERE resolution IS NULL) AS unresolved_priorities
FROM tickets GROUP BY channel ORDER BY channel;

-- name: bi_grouping_sets_report
SELECT channel, priority, count(*), grouping(channel, priority) AS level
FROM tickets GROUP BY GROUPING SETS ((channel, priority), (channel), ())
ORDER BY level, channel NULLS LAST, priority NULLS LAST;

-- name: bi_rollup_year_priority
SELECT extract(year FROM purchase_date) AS year, priority, count(*), round(avg(satisfaction), 2)
FROM tickets GROUP BY ROLLUP (1, priority) ORDER BY 1 NULLS LAST, 2 NULLS LAST;

-- name: bi_cube_gender_segment
SELECT c.gender, c.profile->>'segment' AS segment, count(DISTINCT c.id) AS customers, count(t.id) AS tickets
FROM customers c JOIN tickets t ON t.customer_id = c.id
GROUP BY CUBE (c.gender, c.profile->>'segment') ORDER BY 1 NULLS FIRST, 2 NULLS FIRST;

-- name: bi_lateral_latest_tickets
SELECT c.id, c.name, last.id AS ticket_id, last.purchase_date
FROM customers c
CROSS JOIN LATERAL (SELECT t.id, t.purchase_date FROM tickets t WHERE t.customer_id = c.id
                    ORDER BY t.purchase_date DESC, t.id DESC LIMIT 2) last
WHERE c.id <= 25 ORDER BY c.id, last.purchase_date DESC, last.id DESC;

-- name: bi_lateral_left_join_counts
SELECT p.name, s.n, s.last_purchase
FROM products p LEFT JOIN LATERAL (SELECT count(*) AS n, max(purchase_date) AS last_purchase FROM tickets t
                                   WHERE t.product_id = p.id AND t.channel = 'Phone' AND t.satisfaction = 5) s ON true
ORDER BY p.name;

-- name: bi_date_trunc_and_extract
SELECT date_trunc('quarter', purchase_date)::date AS quarter, date_trunc('week', purchase_date)::date AS week,
       extract(isodow FROM purchase_date) AS isodow, extract(week FROM purchase_date) AS iso_week,
       extract(doy FROM purchase_date) AS doy, extract(quarter FROM purchase_date) AS q,
       extract(epoch FROM purchase_date::timestamp) AS epoch, count(*)
FROM tickets WHERE purchase_date BETWEEN '2021-02-25' AND '2021-03-08' GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 7;

-- name: bi_to_char_formats
SELECT id, to_char(purchase_date, 'YYYY-MM-DD Dy Mon DDD "week" IW Q') AS d,
       to_char(first_response_at, 'HH24:MI:SS AM FMDay FMMonth') AS t, to_char(resolved_at, 'YYYY"Q"Q DD/MM HH12:MI pm') AS r
FROM tickets WHERE id <= 8 ORDER BY id;

-- name: bi_to_char_numbers
SELECT name, to_char(price, 'FM999,990.00') AS price, to_char(price, '9G999D9') AS grouped, to_char(price * 1000, '9.99EEEE') AS sci,
       to_char(-price, 'S99999.0') AS signed, to_char(price / 10, 'FM990.0PR') AS pr
FROM products ORDER BY id LIMIT 8;

-- name: bi_regexp_replace_flags
SELECT id, regexp_replace(subject, '[aeiou]', '*', 'g') AS vowels, regexp_replace(subject, 'P(\w+)', '<\1>', 'gi') AS p_words,
       regexp_replace(subject, '\s+', '_') AS first_space, regexp_replace(lower(subject), '^(\w)(\w*)', '\2\1ay') AS pig
FROM tickets WHERE id <= 12 ORDER BY id;

-- name: bi_generate_series_calendar
SELECT day::date, count(t.id)
FROM generate_series('2021-12-20'::timestamp, '2021-12-31'::timestamp, interval '1 day') AS day
LEFT JOIN tickets t ON t.purchase_date = day::date GROUP BY day ORDER BY day;

-- name: bi_generate_series_hours
SELECT ts, extract(hour FROM ts) AS h, to_char(ts, 'Dy HH24:MI')
FROM generate_series('2021-03-27 18:00'::timestamp, '2021-03-28 06:00'::timestamp, '4 hours 30 minutes') AS ts ORDER BY ts;

-- name: bi_json_report_objects
SELECT p.category, jsonb_agg(jsonb_build_object('name', p.name, 'price', p.price, 'tags', p.tags) ORDER BY p.name) AS items,
       json_build_object('count', count(*), 'max', max(p.price)) AS summary,
       jsonb_object_agg(p.name, p.price ORDER BY p.name) FILTER (WHERE p.price > 500) AS expensive
FROM products p GROUP BY p.category ORDER BY p.category;

-- name: bi_numeric_rounding
SELECT round(2.5), round(-2.5), round(2.5::float8), round(1234.5678, -2), round(1234.5678, 2), trunc(-7.89, 1),
       10 / 4, 10 / 4.0, 10::numeric / 3, round(avg(price), 2), round(sum(price) / count(*), 4), ceil(-0.5), floor(-0.5)
FROM products;

-- name: bi_interval_arithmetic
SELECT interval '1 day' * 1.5, interval '1 month' / 3, justify_interval(interval '40 days 30 hours'),
       age('2021-03-31'::timestamp, '2020-02-29'::timestamp), '2021-01-31'::date + interval '1 month',
       '2021-03-28 01:30'::timestamp - interval '45 minutes', interval '2 hours' - interval '3 days',
       extract(epoch FROM interval '1 day 2 hours'), date '2021-12-31' - date '2021-01-01';

-- name: bi_resolution_time_buckets
SELECT width_bucket(extract(epoch FROM (resolved_at - first_response_at::timestamp)) / 3600, -24, 24, 6) AS bucket, count(*)
FROM tickets WHERE resolved_at IS NOT NULL GROUP BY 1 ORDER BY 1;

-- name: bi_distinct_on_nulls_last
SELECT DISTINCT ON (customer_id) customer_id, id, satisfaction
FROM tickets WHERE customer_id <= 60 ORDER BY customer_id, satisfaction DESC NULLS LAST, id;

-- name: bi_distinct_on_nulls_first
SELECT DISTINCT ON (priority) priority, id, resolved_at
FROM tickets ORDER BY priority, resolved_at NULLS FIRST, id;

-- name: bi_order_nulls_first_limit
SELECT id, satisfaction, resolved_at FROM tickets ORDER BY satisfaction NULLS FIRST, resolved_at DESC NULLS LAST, id LIMIT 12;

-- name: bi_distinct_aggregates_sorted
SELECT priority, string_agg(DISTINCT channel, ', ') AS channels, array_agg(DISTINCT satisfaction) AS ratings,
       jsonb_agg(DISTINCT ticket_type) AS types, count(DISTINCT satisfaction)
FROM tickets GROUP BY priority ORDER BY priority;

-- name: bi_json_agg_records
SELECT p.category, json_agg(p ORDER BY p.id) AS products, jsonb_agg(p.* ORDER BY p.id) AS products_b
FROM (SELECT id, name, price, category FROM products WHERE id <= 12) p GROUP BY p.category ORDER BY p.category;

-- name: bi_row_to_json_literals
SELECT row_to_json(t), to_json(t.*), to_jsonb(t) FROM (SELECT id, 'ticket' AS kind, NULL::text AS note FROM tickets WHERE id <= 3) t ORDER BY t.id;

-- name: bi_unnest_tags_grouped
SELECT unnest(tags) AS tag, count(*), min(price) FROM products GROUP BY tag ORDER BY count(*) DESC, tag;

-- name: bi_row_in_value_list
SELECT status, priority, count(*) FROM tickets
WHERE (status, priority) IN (('Open', 'High'), ('Closed', 'Low'), ('Pending Customer Response', 'Critical'))
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: bi_to_char_overflow
SELECT to_char(price, '99.99') AS narrow, to_char(price, 'FM999.0') AS fm, to_char(price * 100, '9,999') AS grouped
FROM products ORDER BY id LIMIT 6;

-- name: bi_percentile_without_within_group
-- expect: error 42883
SELECT percentile_cont(0.5) FROM customers;

-- name: bi_within_group_on_plain_aggregate
-- expect: error 42809
SELECT sum() WITHIN GROUP (ORDER BY age) FROM customers;

-- name: bi_jsonpath_typed_paths
SELECT count(*) FILTER (WHERE profile @? '$.segment ? (@ == "senior")'::jsonpath) AS seniors,
       count(*) FILTER (WHERE jsonb_path_match(profile, '$.tickets >= $n'::jsonpath, '{"n": 2}')) AS repeat,
       count(*) FILTER (WHERE jsonb_path_exists(profile, 'strict $.age_band ? (@ like_regex "^(2|3)0-")')) AS young_adults
FROM customers;

-- name: bi_range_window_quoted_offsets
SELECT x, count(*) OVER (ORDER BY x RANGE BETWEEN '1.5' PRECEDING AND '0.5' FOLLOWING),
       sum(x) OVER (ORDER BY x DESC RANGE BETWEEN 'infinity' PRECEDING AND CURRENT ROW)
FROM (VALUES (1.0::float8), (2.0), (3.6), (NULL), ('infinity')) t(x) ORDER BY x;

-- name: bi_range_offset_on_text_key
-- expect: error 0A000
SELECT count(*) OVER (ORDER BY name RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM customers;

-- name: bi_range_integer_offset_on_date_key
-- expect: error 0A000
SELECT count(*) OVER (ORDER BY purchase_date RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM tickets;

-- name: bi_rows_offset_reads_the_row
-- expect: error 42P10
SELECT count(*) OVER (ORDER BY age ROWS BETWEEN age PRECEDING AND CURRENT ROW) FROM customers;
