-- Data changes, each case run inside BEGIN ... ROLLBACK by the harness so that the data set
-- never changes: INSERT ... RETURNING, INSERT ... SELECT, UPDATE (with FROM), DELETE (with
-- USING), ON CONFLICT DO NOTHING / DO UPDATE, DDL, savepoints; most cases read back what
-- they changed in a second statement. Format: see ../README.md.
-- mode: rollback

-- name: dml_insert_returning
INSERT INTO priorities (name, rank, sla_hours) VALUES ('Urgent', 0, 1) RETURNING name, rank, sla_hours;

-- name: dml_insert_multi_row_returning_expressions
INSERT INTO campaigns (id, product_name, starts_on, ends_on, budget) VALUES
  (100, 'iPhone', '2022-01-01', '2022-01-31', 1000), (101, 'Xbox', '2022-02-01', NULL, NULL)
RETURNING id, upper(product_name), ends_on - starts_on AS days, budget * 2;

-- name: dml_insert_default_and_null_columns
INSERT INTO campaigns (id, product_name, starts_on) VALUES (102, 'Dell XPS', '2022-03-01') RETURNING *;

-- name: dml_insert_select
INSERT INTO campaigns (id, product_name, starts_on, budget)
SELECT 200 + id, name, '2022-06-01', price * 10 FROM products WHERE category = 'Audio';
SELECT id, product_name, budget FROM campaigns WHERE id > 200 ORDER BY id;

-- name: dml_insert_customer_and_ticket
INSERT INTO customers (id, name, email, age, gender, profile) VALUES (900001, 'Test Person', 'test.person@example.com', 30, 'Other', '{"segment": "adult"}');
INSERT INTO tickets (id, customer_id, product_id, purchase_date, ticket_type, subject, description, status, priority, channel)
VALUES (900001, 900001, 1, '2022-01-01', 'Product inquiry', 'Product setup', 'How do I set it up?', 'Open', 'Low', 'Chat')
RETURNING id, customer_id, resolution, satisfaction;
SELECT c.name, t.subject FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = 900001;

-- name: dml_update_returning
UPDATE tickets SET status = 'Closed', satisfaction = 5, resolution = 'Resolved in test' WHERE id IN (1, 2, 3)
RETURNING id, status, satisfaction, resolution;

-- name: dml_update_count_then_read
UPDATE products SET price = price * 1.10 WHERE category = 'Gaming';
SELECT name, price FROM products WHERE category = 'Gaming' ORDER BY id;

-- name: dml_update_from_returning
UPDATE tickets t SET priority = 'Critical' FROM products p
WHERE p.id = t.product_id AND p.name = 'iPhone' AND t.status = 'Open' AND t.channel = 'Phone'
RETURNING t.id, t.priority, p.name;

-- name: dml_update_with_subquery
UPDATE customers SET profile = profile || jsonb_build_object('vip', true)
WHERE id IN (SELECT customer_id FROM tickets GROUP BY customer_id HAVING count(*) >= 3)
RETURNING id, profile ->> 'vip';

-- name: dml_update_set_from_correlated
UPDATE products p SET tags = array_append(p.tags, 'busy')
WHERE (SELECT count(*) FROM tickets t WHERE t.product_id = p.id) > 220 RETURNING p.name, p.tags;

-- name: dml_update_multiple_columns_tuple
UPDATE priorities SET (rank, sla_hours) = (rank + 10, sla_hours * 2) RETURNING name, rank, sla_hours;

-- name: dml_update_no_rows
UPDATE tickets SET status = 'Open' WHERE id < 0 RETURNING id;

-- name: dml_delete_returning
DELETE FROM campaigns WHERE budget IS NULL OR budget < 10000 RETURNING id, product_name;

-- name: dml_delete_using_returning
DELETE FROM campaigns c USING products p WHERE p.name = c.product_name AND p.category = 'Phones'
RETURNING c.id, p.name, p.category;

-- name: dml_delete_then_count
DELETE FROM tickets WHERE status = 'Closed' AND satisfaction = 1;
SELECT count(*) FROM tickets;

-- name: dml_delete_with_exists
DELETE FROM tickets t WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = t.customer_id AND c.age > 69) RETURNING t.id;

-- name: dml_on_conflict_do_nothing
INSERT INTO priorities (name, rank, sla_hours) VALUES ('High', 9, 9), ('Trivial', 5, 500)
ON CONFLICT DO NOTHING RETURNING name, rank;

-- name: dml_on_conflict_on_column_do_nothing
INSERT INTO priorities (name, rank, sla_hours) VALUES ('Low', 7, 7) ON CONFLICT (name) DO NOTHING RETURNING name;

-- name: dml_on_conflict_do_update_excluded
INSERT INTO priorities (name, rank, sla_hours) VALUES ('Medium', 3, 48), ('Minor', 6, 336)
ON CONFLICT (name) DO UPDATE SET sla_hours = EXCLUDED.sla_hours RETURNING name, rank, sla_hours;

-- name: dml_on_conflict_do_update_where
INSERT INTO priorities (name, rank, sla_hours) VALUES ('Critical', 1, 2), ('Low', 4, 999)
ON CONFLICT (name) DO UPDATE SET sla_hours = EXCLUDED.sla_hours WHERE priorities.sla_hours > EXCLUDED.sla_hours
RETURNING name, sla_hours;
SELECT name, sla_hours FROM priorities ORDER BY rank;

-- name: dml_on_conflict_upsert_counter
INSERT INTO campaigns (id, product_name, starts_on, budget) VALUES (1, 'iPhone', '2020-03-01', 100)
ON CONFLICT (id) DO UPDATE SET budget = campaigns.budget + EXCLUDED.budget RETURNING id, budget;

-- name: dml_create_table_and_use
CREATE TABLE scratch_notes (id integer PRIMARY KEY, ticket_id integer REFERENCES tickets (id), note text NOT NULL DEFAULT 'none', created date);
INSERT INTO scratch_notes (id, ticket_id, created) VALUES (1, 10, '2023-01-01'), (2, 20, NULL);
INSERT INTO scratch_notes VALUES (3, 30, 'third', '2023-01-03');
SELECT n.id, n.note, n.created, t.status FROM scratch_notes n JOIN tickets t ON t.id = n.ticket_id ORDER BY n.id;

-- name: dml_create_table_as
CREATE TABLE channel_summary AS SELECT channel, count(*) AS n FROM tickets GROUP BY channel;
SELECT channel, n FROM channel_summary ORDER BY channel;

-- name: dml_alter_table_add_column
ALTER TABLE priorities ADD COLUMN description text DEFAULT 'standard';
UPDATE priorities SET description = 'page someone' WHERE name = 'Critical';
SELECT name, description FROM priorities ORDER BY rank;

-- name: dml_serial_identity_column
CREATE TABLE audit_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text NOT NULL);
INSERT INTO audit_events (what) VALUES ('first'), ('second') RETURNING id, what;
INSERT INTO audit_events (what) VALUES ('third') RETURNING id;

-- name: dml_serial_pseudo_type
CREATE TABLE serial_things (id serial PRIMARY KEY, label text);
INSERT INTO serial_things (label) VALUES ('a'), ('b'), ('c') RETURNING id, label;

-- name: dml_truncate
TRUNCATE campaigns;
SELECT count(*) FROM campaigns;

-- name: dml_savepoint_rollback_to
INSERT INTO priorities VALUES ('P5', 5, 500);
SAVEPOINT before_p6;
INSERT INTO priorities VALUES ('P6', 6, 600);
ROLLBACK TO SAVEPOINT before_p6;
SELECT name FROM priorities ORDER BY rank;

-- name: dml_savepoint_release
SAVEPOINT s1;
SELECT 1;
RELEASE SAVEPOINT s1;
INSERT INTO priorities VALUES ('P7', 7, 700) RETURNING name;

-- name: dml_update_then_aggregate_same_transaction
UPDATE tickets SET satisfaction = 5 WHERE satisfaction = 1;
SELECT satisfaction, count(*) FROM tickets GROUP BY satisfaction ORDER BY satisfaction NULLS LAST;

-- name: dml_delete_all_then_insert
DELETE FROM campaigns;
INSERT INTO campaigns (id, product_name, starts_on) VALUES (1, 'only', '2024-01-01');
SELECT id, product_name FROM campaigns;

-- name: dml_insert_jsonb_and_array_values
INSERT INTO products (id, name, brand, category, price, tags)
VALUES (1000, 'Test Gadget', 'Acme', 'Gadgets', 9.99, '{new,"with space"}') RETURNING id, tags, price;
UPDATE customers SET profile = '{"b": [1, 2], "a": null}' WHERE id = 1 RETURNING profile;

-- name: dml_insert_timestamps_and_read_back
UPDATE tickets SET first_response_at = '2024-02-29 23:59:59.999999+00', resolved_at = '2024-03-01 00:00:00.5'
WHERE id = 5 RETURNING first_response_at, resolved_at, resolved_at - first_response_at::timestamp;

-- name: dml_create_index_and_use
CREATE INDEX tickets_channel_idx ON tickets (channel);
SELECT channel, count(*) FROM tickets WHERE channel = 'Chat' GROUP BY channel;

-- name: dml_create_view_and_query
CREATE VIEW closed_tickets AS SELECT id, priority, satisfaction FROM tickets WHERE status = 'Closed';
SELECT priority, count(*), round(avg(satisfaction), 3) FROM closed_tickets GROUP BY priority ORDER BY priority;

-- name: dml_drop_table_if_exists
DROP TABLE IF EXISTS does_not_exist_anywhere;
SELECT 'still fine';
