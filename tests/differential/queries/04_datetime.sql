-- Dates, timestamps, intervals: date_trunc, extract/date_part, age between two values,
-- interval arithmetic, to_char with common patterns, casts. No now()/current_date: results
-- must not depend on when the suite runs. Format: see ../README.md.

-- name: dt_purchase_year_counts
SELECT extract(year FROM purchase_date) AS year, count(*) FROM tickets GROUP BY 1;

-- name: dt_purchases_per_month
SELECT date_trunc('month', purchase_date) AS month, count(*) FROM tickets
GROUP BY 1 ORDER BY 1;

-- name: dt_date_trunc_units
SELECT date_trunc('year', ts), date_trunc('quarter', ts), date_trunc('week', ts), date_trunc('day', ts),
       date_trunc('hour', ts), date_trunc('minute', ts)
FROM (VALUES ('2021-08-19 14:37:52.123456'::timestamp)) AS v(ts);

-- name: dt_date_trunc_timestamptz
SELECT id, date_trunc('hour', first_response_at) FROM tickets
WHERE first_response_at IS NOT NULL ORDER BY id LIMIT 10;

-- name: dt_extract_fields
SELECT extract(year FROM ts), extract(month FROM ts), extract(day FROM ts), extract(hour FROM ts),
       extract(minute FROM ts), extract(second FROM ts), extract(dow FROM ts), extract(doy FROM ts),
       extract(quarter FROM ts), extract(week FROM ts), extract(isodow FROM ts)
FROM (VALUES ('2021-08-19 14:37:52.5'::timestamp)) AS v(ts);

-- name: dt_extract_epoch
SELECT extract(epoch FROM '2023-06-01 12:00:00+00'::timestamptz), extract(epoch FROM interval '1 day 2 hours');

-- name: dt_date_part_function
SELECT date_part('year', purchase_date), date_part('month', purchase_date), count(*)
FROM tickets GROUP BY 1, 2 ORDER BY 1, 2;

-- name: dt_day_of_week_distribution
SELECT extract(dow FROM purchase_date) AS dow, count(*) FROM tickets GROUP BY 1 ORDER BY 1;

-- name: dt_date_plus_integer
SELECT purchase_date, purchase_date + 30, purchase_date - 1 FROM tickets ORDER BY id LIMIT 5;

-- name: dt_date_minus_date
SELECT id, '2023-06-01'::date - purchase_date AS days_since FROM tickets ORDER BY id LIMIT 10;

-- name: dt_date_plus_interval
SELECT purchase_date + interval '1 month', purchase_date + interval '2 weeks 3 days'
FROM tickets ORDER BY id LIMIT 5;

-- name: dt_timestamp_difference_interval
SELECT id, resolved_at - first_response_at::timestamp AS gap FROM tickets
WHERE resolved_at IS NOT NULL ORDER BY id LIMIT 15;

-- name: dt_age_between_dates
SELECT id, age('2023-06-01'::date, purchase_date) FROM tickets ORDER BY id LIMIT 10;

-- name: dt_age_between_timestamps
SELECT age('2021-03-31 10:00'::timestamp, '2020-01-31 12:30'::timestamp),
       age('2020-03-01'::timestamp, '2020-02-28'::timestamp);

-- name: dt_interval_arithmetic
SELECT interval '1 day' + interval '3 hours', interval '1 hour' * 3.5, interval '1 day' / 4,
       interval '2 months' - interval '1 day', -interval '1 year 2 mons';

-- name: dt_interval_display_forms
SELECT interval '90 minutes', interval '36 hours', interval '1.5 years', interval '-3 days 4 hours',
       interval '1 year 2 months 3 days 04:05:06.7';

-- name: dt_justify_interval
SELECT justify_hours(interval '50 hours'), justify_days(interval '45 days'), justify_interval(interval '1 mon -1 hour');

-- name: dt_to_char_dates
SELECT to_char(purchase_date, 'YYYY-MM-DD'), to_char(purchase_date, 'DD/MM/YYYY'),
       to_char(purchase_date, 'Mon YYYY'), to_char(purchase_date, 'Day'), to_char(purchase_date, 'FMDay, FMMonth DD')
FROM tickets ORDER BY id LIMIT 7;

-- name: dt_to_char_timestamps
SELECT to_char(ts, 'YYYY-MM-DD HH24:MI:SS'), to_char(ts, 'HH12:MI AM'), to_char(ts, 'Q'),
       to_char(ts, 'IW'), to_char(ts, 'DDD'), to_char(ts, 'YYYY"-W"WW'), to_char(ts, 'MS US')
FROM (VALUES ('2021-08-19 14:37:52.123456'::timestamp), ('2020-01-01 00:00:00'::timestamp)) AS v(ts)
ORDER BY ts;

-- name: dt_to_char_numbers
SELECT to_char(1234.5, '9999.99'), to_char(1234.5, 'FM9,999.00'), to_char(7, '000'),
       to_char(-12.3, 'S999.9'), to_char(0.25, 'FM990.00%');

-- name: dt_to_date_to_timestamp
SELECT to_date('19/08/2021', 'DD/MM/YYYY'), to_timestamp('2021-08-19 14:37', 'YYYY-MM-DD HH24:MI'),
       to_timestamp(1685620800);

-- name: dt_make_date_time
SELECT make_date(2021, 2, 28), make_timestamp(2021, 2, 28, 23, 59, 59.5), make_interval(days => 10, hours => 2);

-- name: dt_cast_text_to_date_formats
SELECT '2021-08-19'::date, 'August 19, 2021'::date, '20210819'::date, '2021-08-19 23:59:59'::timestamp;

-- name: dt_timestamptz_display_utc
SELECT first_response_at, first_response_at::date, first_response_at::time FROM tickets
WHERE first_response_at IS NOT NULL ORDER BY id LIMIT 10;

-- name: dt_at_time_zone
SELECT '2023-06-01 12:00:00+00'::timestamptz AT TIME ZONE 'America/New_York',
       '2023-06-01 12:00:00'::timestamp AT TIME ZONE 'Europe/Paris',
       '2023-01-01 12:00:00+00'::timestamptz AT TIME ZONE 'Asia/Kolkata';

-- name: dt_timestamptz_offsets_input
SELECT '2023-06-01 12:00:00+02'::timestamptz, '2023-06-01 12:00:00-05:30'::timestamptz,
       '2023-06-01T12:00:00Z'::timestamptz;

-- name: dt_resolution_hours_by_priority
SELECT priority, count(*),
       round(avg(extract(epoch FROM resolved_at - first_response_at::timestamp) / 3600)::numeric, 3) AS avg_hours
FROM tickets WHERE resolved_at IS NOT NULL GROUP BY priority;

-- name: dt_first_response_per_hour
SELECT extract(hour FROM first_response_at) AS hour, count(*) FROM tickets
WHERE first_response_at IS NOT NULL GROUP BY 1 ORDER BY 1;

-- name: dt_min_max_dates
SELECT min(purchase_date), max(purchase_date), min(first_response_at), max(first_response_at),
       min(resolved_at), max(resolved_at) FROM tickets;

-- name: dt_generate_series_dates
SELECT d::date FROM generate_series('2021-01-01'::timestamp, '2021-03-01'::timestamp, interval '2 weeks') AS d;

-- name: dt_overlaps
SELECT c.id, (c.starts_on, coalesce(c.ends_on, '2099-12-31'::date)) OVERLAPS ('2021-01-01'::date, '2021-06-30'::date)
FROM campaigns c ORDER BY c.id;

-- name: dt_campaign_duration
SELECT id, product_name, ends_on - starts_on AS days FROM campaigns ORDER BY id;

-- name: dt_purchases_within_campaigns
SELECT c.id, count(t.id) FROM campaigns c
LEFT JOIN products p ON p.name = c.product_name
LEFT JOIN tickets t ON t.product_id = p.id AND t.purchase_date BETWEEN c.starts_on AND coalesce(c.ends_on, '2021-12-31')
GROUP BY c.id ORDER BY c.id;

-- name: dt_time_type
SELECT '14:37:52'::time, '14:37:52'::time + interval '30 minutes', '23:30'::time + interval '1 hour',
       '10:00'::time - '08:15'::time;

-- name: dt_interval_comparison
SELECT interval '1 day' = interval '24 hours', interval '1 mon' = interval '30 days', interval '1 year' > interval '364 days';

-- name: dt_extract_from_interval
SELECT extract(day FROM interval '3 days 4 hours'), extract(hour FROM interval '3 days 4 hours'),
       extract(minute FROM interval '90 minutes');

-- name: dt_date_bin
SELECT date_bin('6 hours', first_response_at, '2023-01-01'::timestamptz) AS bucket, count(*)
FROM tickets WHERE first_response_at IS NOT NULL GROUP BY 1 ORDER BY 1;

-- name: dt_infinity_dates
SELECT 'infinity'::date > '2021-01-01'::date, '-infinity'::timestamp < '1900-01-01'::timestamp, 'infinity'::timestamp;

-- name: dt_leap_year_handling
SELECT '2020-02-29'::date + interval '1 year', '2020-01-31'::date + interval '1 month', '2021-03-31'::date - interval '1 month';

-- name: dt_weekday_names_counts
SELECT to_char(purchase_date, 'Dy') AS day, count(*) FROM tickets GROUP BY 1;

-- name: dt_isoyear_week
SELECT extract(isoyear FROM d), extract(week FROM d), to_char(d, 'IYYY-IW')
FROM (VALUES ('2021-01-01'::date), ('2020-12-31'::date), ('2021-01-04'::date)) AS v(d) ORDER BY d;
