-- String functions: case, length, substrings, search, replace, split, padding, trimming,
-- concatenation, formatting, regular-expression functions. Format: see ../README.md.

-- name: str_lower_upper
SELECT id, lower(name), upper(name) FROM products ORDER BY id LIMIT 10;

-- name: str_length_variants
SELECT name, length(name), char_length(name), octet_length(name) FROM products ORDER BY id;

-- name: str_substr_and_substring
SELECT id, substr(email, 1, 5), substring(email FROM 3 FOR 4), substring(email, 2)
FROM customers ORDER BY id LIMIT 10;

-- name: str_position_and_strpos
SELECT email, position('@' IN email), strpos(email, '.') FROM customers ORDER BY id LIMIT 10;

-- name: str_email_domain_split_part
SELECT split_part(email, '@', 2) AS domain, count(*) FROM customers GROUP BY 1;

-- name: str_split_part_negative
SELECT name, split_part(name, ' ', -1) AS last_word FROM products ORDER BY id;

-- name: str_replace_placeholder
SELECT t.id, left(replace(t.description, '{product_purchased}', p.name), 80)
FROM tickets t JOIN products p ON p.id = t.product_id ORDER BY t.id LIMIT 8;

-- name: str_concat_operator
SELECT id, name || ' <' || email || '>' FROM customers ORDER BY id LIMIT 10;

-- name: str_concat_function_with_null
SELECT id, concat(name, ' ', NULL, '#', id) FROM customers ORDER BY id LIMIT 5;

-- name: str_concat_operator_with_null
SELECT 'a' || NULL IS NULL AS is_null, concat('a', NULL) AS concatenated;

-- name: str_concat_ws
SELECT id, concat_ws(' | ', status, priority, channel, resolution) FROM tickets ORDER BY id LIMIT 10;

-- name: str_left_right
SELECT name, left(name, 3), right(name, 4), left(name, -2), right(name, -3)
FROM products ORDER BY id;

-- name: str_trim_family
SELECT trim('  padded  '), ltrim('xxabcxx', 'x'), rtrim('xxabcxx', 'x'), btrim('--a-b--', '-'),
       trim(BOTH '*' FROM '**star**'), trim(LEADING '0' FROM '000120'), trim(TRAILING FROM ' t ');

-- name: str_lpad_rpad
SELECT id, lpad(id::text, 6, '0'), rpad(name, 12, '.'), lpad(name, 5) FROM products ORDER BY id;

-- name: str_initcap
SELECT initcap(lower(subject)), initcap('hello wORLD-foo bar_baz') FROM tickets WHERE id = 1;

-- name: str_repeat_reverse
SELECT repeat('ab', 3), reverse(name) FROM products ORDER BY id LIMIT 5;

-- name: str_regexp_replace_digits
SELECT id, regexp_replace(substr(description, 1, 120), '[0-9]+', '#', 'g')
FROM tickets ORDER BY id LIMIT 10;

-- name: str_regexp_replace_first_only
SELECT regexp_replace(name, '[aeiou]', '_') FROM products ORDER BY id;

-- name: str_regexp_match
SELECT id, regexp_match(description, 'zip code is: ([0-9]+)') FROM tickets
WHERE description ~ 'zip code is: [0-9]+' ORDER BY id LIMIT 10;

-- name: str_regexp_matches_global
SELECT m FROM regexp_matches('a1b22c333', '[0-9]+', 'g') AS m;

-- name: str_regexp_split_to_array
SELECT regexp_split_to_array(name, '\s+') FROM products ORDER BY id;

-- name: str_regexp_split_to_table
SELECT word, count(*) FROM products, regexp_split_to_table(name, ' ') AS word
GROUP BY word HAVING count(*) > 1;

-- name: str_translate
SELECT translate(email, '@.', '#_') FROM customers ORDER BY id LIMIT 5;

-- name: str_md5
SELECT md5(name) FROM products ORDER BY id LIMIT 5;

-- name: str_format
SELECT format('%s bought %s (ticket %s)', c.name, p.name, t.id)
FROM tickets t JOIN customers c ON c.id = t.customer_id JOIN products p ON p.id = t.product_id
ORDER BY t.id LIMIT 5;

-- name: str_format_identifiers_and_literals
SELECT format('%I.%I = %L', 'public', 'Mixed Case', 'O''Neil'), format('%5s|%-5s|', 'ab', 'cd');

-- name: str_ascii_chr
SELECT ascii(name), chr(ascii(name) + 1) FROM products ORDER BY id LIMIT 5;

-- name: str_to_hex_and_quote
SELECT to_hex(id * 255), quote_literal(name), quote_ident(name) FROM products ORDER BY id LIMIT 6;

-- name: str_case_insensitive_group
SELECT lower(channel) AS ch, count(*) FROM tickets GROUP BY lower(channel);

-- name: str_unicode_descriptions
SELECT id, length(description), octet_length(description) FROM tickets
WHERE description ~ '[^\x01-\x7f]' ORDER BY id LIMIT 15;

-- name: str_overlay
SELECT overlay(email PLACING '***' FROM 2 FOR 3) FROM customers ORDER BY id LIMIT 5;

-- name: str_string_compare_collation_c
SELECT name FROM products ORDER BY name DESC;

-- name: str_text_ordering_mixed_case
SELECT v FROM (VALUES ('apple'), ('Banana'), ('banana'), ('Apple'), ('_x'), ('1a')) AS t(v) ORDER BY v;

-- name: str_coalesce_resolution_length
SELECT status, max(length(coalesce(resolution, ''))) FROM tickets GROUP BY status;

-- name: str_left_description_words
SELECT id, array_length(string_to_array(description, ' '), 1) AS words FROM tickets ORDER BY id LIMIT 10;

-- name: str_string_to_array_null_marker
SELECT string_to_array('a,b,,c', ','), string_to_array('a,b,,c', ',', '');

-- name: str_escape_string_literal
SELECT E'tab\there', E'quote\'s', 'back\slash', length(E'\n');

-- name: str_dollar_quoted_literal
SELECT $$it's $1 a "dollar" string$$, $tag$nested $$ inside$tag$;

-- name: str_like_with_concat_pattern
SELECT count(*) FROM tickets t JOIN products p ON p.id = t.product_id
WHERE t.subject LIKE '%' || split_part(p.category, ' ', 1) || '%';
