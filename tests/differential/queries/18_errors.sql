-- Queries that must fail, with the SQLSTATE PostgreSQL gives. Only the SQLSTATE is compared,
-- not the message. Each runs inside BEGIN ... ROLLBACK (implied by "expect: error"), so a
-- statement that wrongly succeeds on custos cannot change the data. Format: see ../README.md.

-- name: err_division_by_zero_int
-- expect: error 22012
SELECT 1 / 0;

-- name: err_division_by_zero_numeric
-- expect: error 22012
SELECT 1.5 / 0;

-- name: err_modulo_by_zero
-- expect: error 22012
SELECT 5 % 0;

-- name: err_division_by_zero_in_aggregate_over_data
-- expect: error 22012
SELECT sum(1 / (satisfaction - 3)) FROM tickets;

-- name: err_unknown_column
-- expect: error 42703
SELECT no_such_column FROM tickets;

-- name: err_unknown_column_in_where
-- expect: error 42703
SELECT id FROM tickets WHERE statuss = 'Open';

-- name: err_unknown_column_in_insert
-- expect: error 42703
INSERT INTO priorities (name, nope) VALUES ('x', 1);

-- name: err_unknown_table
-- expect: error 42P01
SELECT * FROM no_such_table;

-- name: err_missing_from_clause_entry
-- expect: error 42P01
SELECT x.id FROM tickets;

-- name: err_drop_unknown_table
-- expect: error 42P01
DROP TABLE no_such_table;

-- name: err_duplicate_table
-- expect: error 42P07
CREATE TABLE tickets (id int);

-- name: err_bad_integer_cast
-- expect: error 22P02
SELECT 'abc'::integer;

-- name: err_bad_integer_literal_comparison
-- expect: error 22P02
SELECT id FROM tickets WHERE id = 'twelve';

-- name: err_bad_numeric_cast
-- expect: error 22P02
SELECT '12,5'::numeric;

-- name: err_bad_boolean_cast
-- expect: error 22P02
SELECT 'maybe'::boolean;

-- name: err_bad_json
-- expect: error 22P02
SELECT '{"a": }'::jsonb;

-- name: err_bad_uuid
-- expect: error 22P02
SELECT 'not-a-uuid'::uuid;

-- name: err_bad_array_literal
-- expect: error 22P02
SELECT '{1,x}'::int[];

-- name: err_bad_date_field
-- expect: error 22008
SELECT '2021-02-30'::date;

-- name: err_bad_timestamp_syntax
-- expect: error 22007
SELECT 'not a time'::timestamp;

-- name: err_bad_interval_syntax
-- expect: error 22007
SELECT 'soon'::interval;

-- name: err_operator_does_not_exist_int_plus_text
-- expect: error 42883
SELECT 1 + 'a'::text;

-- name: err_operator_does_not_exist_text_equals_int
-- expect: error 42883
SELECT count(*) FROM tickets WHERE status = 1;

-- name: err_function_does_not_exist
-- expect: error 42883
SELECT no_such_function(1);

-- name: err_function_wrong_argument_type
-- expect: error 42883
SELECT length(42);

-- name: err_case_branch_type_mismatch
-- expect: error 42804
SELECT CASE WHEN id > 1 THEN id ELSE status END FROM tickets;

-- name: err_union_type_mismatch
-- expect: error 42804
SELECT 1 UNION SELECT 'a'::text;

-- name: err_where_not_boolean
-- expect: error 42804
SELECT id FROM tickets WHERE id;

-- name: err_union_column_count
-- expect: error 42601
SELECT 1, 2 UNION SELECT 1;

-- name: err_syntax_misspelled_keyword
-- expect: error 42601
SELEC id FROM tickets;

-- name: err_syntax_missing_expression
-- expect: error 42601
SELECT FROM WHERE;

-- name: err_syntax_unterminated_string
-- expect: error 42601
SELECT 'unterminated;

-- name: err_syntax_trailing_comma
-- expect: error 42601
SELECT id, status, FROM tickets;

-- name: err_insert_more_values_than_columns
-- expect: error 42601
INSERT INTO priorities (name, rank) VALUES ('x', 1, 2);

-- name: err_ambiguous_column
-- expect: error 42702
SELECT id FROM tickets t JOIN customers c ON c.id = t.customer_id;

-- name: err_scalar_subquery_multiple_rows
-- expect: error 21000
SELECT (SELECT id FROM products) AS one;

-- name: err_on_conflict_affects_row_twice
-- expect: error 21000
INSERT INTO priorities (name, rank, sla_hours) VALUES ('High', 2, 1), ('High', 2, 2)
ON CONFLICT (name) DO UPDATE SET sla_hours = EXCLUDED.sla_hours;

-- name: err_missing_group_by
-- expect: error 42803
SELECT status, count(*) FROM tickets;

-- name: err_aggregate_in_where
-- expect: error 42803
SELECT id FROM tickets WHERE count(*) > 1;

-- name: err_nested_aggregate
-- expect: error 42803
SELECT sum(count(*)) FROM tickets;

-- name: err_window_function_in_where
-- expect: error 42P20
SELECT id FROM tickets WHERE row_number() OVER () = 1;

-- name: err_order_by_position_out_of_range
-- expect: error 42P10
SELECT id, status FROM tickets ORDER BY 5;

-- name: err_distinct_on_order_by_mismatch
-- expect: error 42P10
SELECT DISTINCT ON (status) id, status FROM tickets ORDER BY id;

-- name: err_unique_violation_primary_key
-- expect: error 23505
INSERT INTO priorities (name, rank, sla_hours) VALUES ('High', 9, 9);

-- name: err_unique_violation_email
-- expect: error 23505
INSERT INTO customers (id, name, email, age, gender, profile)
SELECT 900002, 'Copy', email, 30, 'Other', '{}' FROM customers WHERE id = 1;

-- name: err_unique_violation_by_update
-- expect: error 23505
UPDATE priorities SET rank = 1 WHERE name = 'Low';

-- name: err_not_null_violation_insert
-- expect: error 23502
INSERT INTO priorities (name, rank) VALUES ('NoSla', 9);

-- name: err_not_null_violation_update
-- expect: error 23502
UPDATE customers SET name = NULL WHERE id = 1;

-- name: err_foreign_key_violation_insert
-- expect: error 23503
INSERT INTO tickets (id, customer_id, product_id, purchase_date, ticket_type, subject, description, status, priority, channel)
VALUES (900003, 0, 1, '2022-01-01', 't', 's', 'd', 'Open', 'Low', 'Chat');

-- name: err_foreign_key_violation_delete_parent
-- expect: error 23503
DELETE FROM products WHERE id = 1;

-- name: err_check_violation_satisfaction
-- expect: error 23514
UPDATE tickets SET satisfaction = 9 WHERE id = 1;

-- name: err_check_violation_age
-- expect: error 23514
UPDATE customers SET age = -1 WHERE id = 2;

-- name: err_check_violation_table_constraint
-- expect: error 23514
INSERT INTO campaigns (id, product_name, starts_on, ends_on) VALUES (300, 'x', '2022-02-01', '2022-01-01');

-- name: err_check_violation_status
-- expect: error 23514
UPDATE tickets SET status = 'Reopened' WHERE id = 3;

-- name: err_integer_out_of_range
-- expect: error 22003
SELECT 2147483647::int + 1;

-- name: err_smallint_out_of_range
-- expect: error 22003
SELECT 40000::smallint;

-- name: err_numeric_field_overflow
-- expect: error 22003
SELECT 12345.678::numeric(5, 2);

-- name: err_value_too_long_for_varchar
-- expect: error 22001
UPDATE customers SET email = repeat('x', 200) WHERE id = 1;

-- name: err_invalid_regex
-- expect: error 2201B
SELECT 'abc' ~ '(';

-- name: err_sqrt_of_negative
-- expect: error 2201F
SELECT sqrt(-1.0);

-- name: err_ln_of_zero
-- expect: error 2201E
SELECT ln(0.0);

-- name: err_array_dimensions_mismatch
-- expect: error 2202E
SELECT ARRAY[[1, 2], [3]];

-- name: err_negative_limit
-- expect: error 2201W
SELECT id FROM tickets ORDER BY id LIMIT -1;

-- name: err_negative_offset
-- expect: error 2201X
SELECT id FROM tickets ORDER BY id OFFSET -5;

-- name: err_set_returning_function_in_where
-- expect: error 0A000
SELECT id FROM tickets WHERE generate_series(1, 2) > 1;

-- name: err_jsonb_array_length_of_object
-- expect: error 22023
SELECT jsonb_array_length('{"a": 1}');

-- name: err_to_date_month_out_of_range
-- expect: error 22008
SELECT to_date('2021-13-01', 'YYYY-MM-DD');

-- name: err_alter_unknown_column
-- expect: error 42703
ALTER TABLE priorities DROP COLUMN no_such_column;

-- name: err_error_aborts_rest_of_multistatement
-- expect: error 22012
SELECT 1;
SELECT 1 / 0;
SELECT 2;
