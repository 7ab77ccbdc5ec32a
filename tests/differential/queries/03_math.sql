-- Arithmetic and numeric functions over integers, numeric and floating point: rounding,
-- division semantics, casts between number types. Format: see ../README.md.

-- name: math_integer_arithmetic
SELECT 7 + 3, 7 - 10, 7 * 6, 7 / 2, -7 / 2, 7 % 3, -7 % 3, 2 ^ 10;

-- name: math_numeric_arithmetic
SELECT 1.5 + 2.25, 10.0 / 4, 10 / 4.0, 1.0 / 3, 2.50 * 4, 100.0 - 0.01;

-- name: math_float_arithmetic
SELECT 1.5::float8 * 2, 10::float8 / 4, 0.1::float8 + 0.2::float8, 1e300::float8 * 10;

-- name: math_round_variants
SELECT round(2.5), round(-2.5), round(3.14159, 2), round(1234.5678, -2), round(2.5::float8), round(3.5::float8);

-- name: math_ceil_floor_trunc
SELECT ceil(4.1), ceiling(-4.1), floor(4.9), floor(-4.1), trunc(4.789, 1), trunc(-4.789);

-- name: math_abs_sign
SELECT abs(-17), abs(-2.5), sign(-3), sign(0.0), sign(8.2::float8);

-- name: math_mod_div
SELECT mod(17, 5), mod(-17, 5), div(17, 5), div(-17, 5), mod(10.5, 3), div(10.5, 3);

-- name: math_power_sqrt_cbrt
SELECT power(2, 10), power(2.0, 0.5), sqrt(144), sqrt(2.0), cbrt(27::float8), |/ 25.0;

-- name: math_exp_ln_log
SELECT exp(1.0), ln(10.0), log(1000), log(2, 64), log10(100::float8);

-- name: math_gcd_lcm_factorial
SELECT gcd(48, 18), lcm(4, 6), factorial(10);

-- name: math_greatest_least
SELECT greatest(3, 7, 5), least(3, 7, 5), greatest('b', 'a', 'c'), least(2.5, 1, NULL);

-- name: math_price_with_tax
SELECT name, price, round(price * 1.2, 2) AS gross, price * 0.15 AS discount
FROM products ORDER BY id;

-- name: math_price_integer_division
SELECT id, price::int / 100 AS hundreds, price::int % 100 AS rest FROM products ORDER BY id;

-- name: math_avg_age_numeric
SELECT avg(age), round(avg(age), 3), sum(age), min(age), max(age) FROM customers;

-- name: math_avg_satisfaction_by_priority
SELECT priority, round(avg(satisfaction), 4), count(satisfaction) FROM tickets GROUP BY priority;

-- name: math_stddev_variance
SELECT round(stddev(age), 6), round(variance(age), 6), round(stddev_pop(age), 6), round(var_samp(age), 6)
FROM customers;

-- name: math_integer_overflow_promotion
SELECT 2147483647::bigint + 1, 32767::int + 1, (2147483647::int8 * 2)::text;

-- name: math_cast_numeric_to_int_rounding
SELECT 2.5::int, 3.5::int, (-2.5)::int, 2.4999::int, 7.5::smallint, 1.5::bigint;

-- name: math_float_to_int_rounding
SELECT 2.5::float8::int, 3.5::float8::int, (-0.5)::float8::int;

-- name: math_numeric_scale_display
SELECT 1.10::numeric, 1.100::numeric(6, 3), 5::numeric(6, 2), 0.000100, 123456789.123456789::numeric;

-- name: math_float_display
SELECT 1.0::float8, 0.1::float8, 1e15::float8, 1e16::float8, 1.5e-7::float8, 123456.789::float4;

-- name: math_float_special_values
SELECT 'NaN'::float8, 'Infinity'::float8, '-Infinity'::float8, 'NaN'::numeric;

-- name: math_numeric_rounding_to_type
SELECT 12.345::numeric(5, 2), 12.355::numeric(5, 2), (-12.345)::numeric(5, 2);

-- name: math_width_bucket_ages
SELECT width_bucket(age, 0, 100, 10) AS bucket, count(*) FROM customers GROUP BY 1;

-- name: math_percentage_of_total
SELECT channel, count(*), round(100.0 * count(*) / (SELECT count(*) FROM tickets), 2) AS pct
FROM tickets GROUP BY channel;

-- name: math_bitwise_operators
SELECT 12 & 10, 12 | 10, 12 # 10, ~12, 1 << 4, 256 >> 3;

-- name: math_unary_minus_and_precedence
SELECT -2 ^ 2, (-2) ^ 2, 2 + 3 * 4, (2 + 3) * 4, 10 - 2 - 3, 2 ^ 3 ^ 2;

-- name: math_trig_functions
SELECT round(sin(0)::numeric, 6), round(cos(0)::numeric, 6), round(pi()::numeric, 10), round(degrees(pi())::numeric, 6);

-- name: math_numeric_sum_precision
SELECT sum(price), avg(price), sum(price * 3) FROM products;

-- name: math_satisfaction_distribution
SELECT satisfaction, count(*), sum(count(*)) OVER () AS total FROM tickets
WHERE satisfaction IS NOT NULL GROUP BY satisfaction ORDER BY satisfaction;

-- name: math_scale_and_trim_scale
SELECT scale(12.3400), trim_scale(12.3400), min_scale(12.3400);

-- name: math_numeric_comparison_equal_scale
SELECT 1.0 = 1.00, 1.5::float8 = 1.5::numeric, 0.1::float4 = 0.1::float8;

-- name: math_random_free_sequence_math
SELECT g, g * g, g::numeric / 7 FROM generate_series(1, 10) AS g ORDER BY g;

-- name: math_age_statistics_by_gender
SELECT gender, count(*), min(age), max(age), round(avg(age), 2), sum(age)
FROM customers GROUP BY gender;

-- name: math_int_text_cast_roundtrip
SELECT '42'::int + 1, '  7 '::int, '-0'::int, '3.50'::numeric, '1e3'::float8;
