-- What BI tools and drivers ask the catalog: information_schema and pg_catalog about the
-- suite's own tables, session settings and identity functions. Values that differ between
-- PostgreSQL versions (versions, OIDs) are not selected. Format: see ../README.md.

-- name: cat_current_identity
SELECT current_database(), current_user, session_user, current_schema(), current_schemas(false);

-- name: cat_settings
SELECT current_setting('TimeZone'), current_setting('DateStyle'), current_setting('server_encoding'),
       current_setting('client_encoding'), current_setting('standard_conforming_strings'), current_setting('integer_datetimes');

-- name: cat_show_timezone
SHOW TimeZone;

-- name: cat_info_schema_tables
SELECT table_schema, table_name, table_type FROM information_schema.tables
WHERE table_schema = 'public' ORDER BY table_name;

-- name: cat_info_schema_columns
SELECT table_name, column_name, ordinal_position, data_type, is_nullable, character_maximum_length, numeric_precision, numeric_scale
FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position;

-- name: cat_info_schema_column_udt
SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = 'tickets' ORDER BY ordinal_position;

-- name: cat_info_schema_constraints
SELECT table_name, constraint_type, count(*) FROM information_schema.table_constraints
WHERE table_schema = 'public' GROUP BY table_name, constraint_type;

-- name: cat_info_schema_key_columns
SELECT tc.table_name, tc.constraint_type, kcu.column_name
FROM information_schema.table_constraints tc
JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
WHERE tc.table_schema = 'public' AND tc.constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY', 'UNIQUE')
ORDER BY tc.table_name, tc.constraint_type, kcu.column_name;

-- name: cat_pg_class_tables
SELECT relname, relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND relkind IN ('r', 'i') ORDER BY relname;

-- name: cat_pg_attribute_columns
SELECT a.attname, a.attnum, a.attnotnull, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
WHERE a.attrelid = 'public.products'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum;

-- name: cat_pg_indexes_view
SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname;

-- name: cat_pg_tables_view
SELECT tablename, tableowner, hasindexes FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename;

-- name: cat_pg_type_names
SELECT typname FROM pg_type WHERE typname IN ('int4', 'text', 'jsonb', 'numeric', 'timestamptz', 'uuid', 'bool', '_text') ORDER BY typname;

-- name: cat_pg_namespace_public
SELECT nspname FROM pg_namespace WHERE nspname IN ('public', 'pg_catalog', 'information_schema') ORDER BY nspname;

-- name: cat_regclass_cast_text
SELECT 'tickets'::regclass::text, 'public.customers'::regclass::text;

-- name: cat_pg_constraint_kinds
SELECT conname, contype FROM pg_constraint WHERE conrelid = 'tickets'::regclass ORDER BY conname;

-- name: cat_format_type_of_columns
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'tickets'::regclass AND attnum > 0 ORDER BY attnum;

-- name: cat_info_schema_schemata
SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'public';

-- name: cat_pg_database_current
SELECT datname, pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = current_database();

-- name: cat_has_privileges
SELECT has_table_privilege('tickets', 'SELECT'), has_schema_privilege('public', 'USAGE');

-- name: cat_pg_get_constraintdef
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'customers'::regclass ORDER BY conname;
