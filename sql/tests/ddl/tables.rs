//! ALTER TABLE: columns, constraints, renames, types, flags; DDL inside transactions.

use super::*;

#[test]
fn add_column_fills_existing_rows_with_its_default() {
    let (_d, _db, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2)",
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ADD COLUMN b text DEFAULT 'x'"),
        ["ALTER TABLE"]
    );
    assert_eq!(run(&mut s, "SELECT a, b FROM t ORDER BY a"), ["1|x", "2|x"]);
    run(&mut s, "INSERT INTO t (a) VALUES (3)");
    assert_eq!(run(&mut s, "SELECT b FROM t WHERE a = 3"), ["x"]);
    // A volatile default is computed per row: a serial numbers the existing rows.
    run(&mut s, "ALTER TABLE t ADD COLUMN id serial");
    assert_eq!(run(&mut s, "SELECT id FROM t ORDER BY id"), ["1", "2", "3"]);
    assert_eq!(
        run(&mut s, "INSERT INTO t (a) VALUES (4) RETURNING id"),
        ["4"]
    );
    // Generated columns are computed for the existing rows too.
    run(
        &mut s,
        "ALTER TABLE t ADD COLUMN twice int GENERATED ALWAYS AS (a * 2) STORED",
    );
    assert_eq!(
        run(&mut s, "SELECT twice FROM t ORDER BY a"),
        ["2", "4", "6", "8"]
    );
    assert_eq!(code(&mut s, "ALTER TABLE t ADD COLUMN b int"), "42701");
    assert_eq!(
        run(&mut s, "ALTER TABLE t ADD COLUMN IF NOT EXISTS b int"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        notices(&mut s),
        ["column \"b\" of relation \"t\" already exists, skipping"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ADD COLUMN c int NOT NULL"),
        ["ERROR 23502 column \"c\" of relation \"t\" contains null values"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        code(&mut s, "INSERT INTO t (a, c) VALUES (5, NULL)"),
        "23502"
    );
    assert_eq!(code(&mut s, "ALTER TABLE nope ADD COLUMN x int"), "42P01");
    assert_eq!(
        run(&mut s, "ALTER TABLE IF EXISTS nope ADD COLUMN x int"),
        ["ALTER TABLE"]
    );
}

#[test]
fn add_column_constraints_are_checked_against_existing_rows() {
    let (_d, _db, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE p (id int PRIMARY KEY); INSERT INTO p VALUES (1)",
    );
    run(
        &mut s,
        "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2)",
    );
    assert_eq!(
        run(
            &mut s,
            "ALTER TABLE t ADD COLUMN g int CHECK (g > 0) DEFAULT 0"
        ),
        ["ERROR 23514 check constraint \"t_g_check\" of relation \"t\" is violated by some row"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ADD COLUMN z int UNIQUE DEFAULT 1"),
        ["ERROR 23505 could not create unique index \"t_z_key\""]
    );
    assert_eq!(
        run(
            &mut s,
            "ALTER TABLE t ADD COLUMN r int REFERENCES p DEFAULT 1"
        ),
        ["ALTER TABLE"]
    );
    assert_eq!(code(&mut s, "INSERT INTO t VALUES (3, 7)"), "23503");
    assert_eq!(
        code(&mut s, "ALTER TABLE t ADD COLUMN h int PRIMARY KEY"),
        "23502"
    );
}

#[test]
fn constraints_added_and_dropped() {
    let (_d, _db, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE p (id int PRIMARY KEY); INSERT INTO p VALUES (1)",
    );
    run(
        &mut s,
        "CREATE TABLE t (a int, b int); INSERT INTO t VALUES (1, NULL), (2, 5)",
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 1)"),
        ["ERROR 23514 check constraint \"ck\" of relation \"t\" is violated by some row"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0)"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        code(&mut s, "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0)"),
        "42710"
    );
    assert_eq!(code(&mut s, "INSERT INTO t VALUES (0, 0)"), "23514");
    assert_eq!(
        run(
            &mut s,
            "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES p"
        ),
        ["ERROR 23503 insert or update on table \"t\" violates foreign key constraint \"fk\""]
    );
    run(&mut s, "INSERT INTO p VALUES (2)");
    assert_eq!(
        run(
            &mut s,
            "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES p"
        ),
        ["ALTER TABLE"]
    );
    assert_eq!(code(&mut s, "INSERT INTO t VALUES (9, 1)"), "23503");
    assert_eq!(code(&mut s, "ALTER TABLE t ADD PRIMARY KEY (b)"), "23502");
    assert_eq!(
        run(&mut s, "ALTER TABLE t ADD PRIMARY KEY (a)"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ADD PRIMARY KEY (b)"),
        ["ERROR 42P16 multiple primary keys for table \"t\" are not allowed"]
    );
    assert_eq!(code(&mut s, "INSERT INTO t VALUES (1, 1)"), "23505");
    run(
        &mut s,
        "INSERT INTO p VALUES (3); INSERT INTO t VALUES (3, 5)",
    );
    assert_eq!(code(&mut s, "ALTER TABLE t ADD UNIQUE (b)"), "23505");
    // A key other tables reference needs CASCADE.
    assert_eq!(
        code(&mut s, "ALTER TABLE p DROP CONSTRAINT p_pkey"),
        "2BP01"
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE p DROP CONSTRAINT p_pkey CASCADE"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        notices(&mut s),
        ["drop cascades to constraint fk on table t"]
    );
    run(&mut s, "INSERT INTO t VALUES (99, 1)");
    assert_eq!(
        run(&mut s, "ALTER TABLE t DROP CONSTRAINT ck"),
        ["ALTER TABLE"]
    );
    run(&mut s, "INSERT INTO t VALUES (-1, 1)");
    assert_eq!(
        run(&mut s, "ALTER TABLE t DROP CONSTRAINT nope"),
        ["ERROR 42704 constraint \"nope\" of relation \"t\" does not exist"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t DROP CONSTRAINT IF EXISTS nope"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t RENAME CONSTRAINT t_pkey TO t_key"),
        ["ALTER TABLE"]
    );
    assert_eq!(code(&mut s, "INSERT INTO t VALUES (1, 1)"), "23505");
}

#[test]
fn column_nullability_and_defaults() {
    let (_d, _db, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE t (id int PRIMARY KEY, b text); INSERT INTO t VALUES (1, NULL)",
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN b SET NOT NULL"),
        ["ERROR 23502 column \"b\" of relation \"t\" contains null values"]
    );
    run(&mut s, "UPDATE t SET b = 'x'");
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN b SET NOT NULL"),
        ["ALTER TABLE"]
    );
    assert_eq!(code(&mut s, "INSERT INTO t VALUES (2, NULL)"), "23502");
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN b DROP NOT NULL"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN id DROP NOT NULL"),
        ["ERROR 42P16 column \"id\" is in a primary key"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN b SET DEFAULT 'dflt'"),
        ["ALTER TABLE"]
    );
    run(&mut s, "INSERT INTO t (id) VALUES (2)");
    assert_eq!(run(&mut s, "SELECT b FROM t WHERE id = 2"), ["dflt"]);
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN b DROP DEFAULT"),
        ["ALTER TABLE"]
    );
    run(&mut s, "INSERT INTO t (id) VALUES (3)");
    assert_eq!(run(&mut s, "SELECT b FROM t WHERE id = 3"), ["NULL"]);
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN zz SET DEFAULT 1"),
        ["ERROR 42703 column \"zz\" of relation \"t\" does not exist"]
    );
    assert_eq!(
        code(&mut s, "ALTER TABLE t ALTER COLUMN id SET DEFAULT 'x'"),
        "22P02"
    );
}

#[test]
fn drop_column_takes_its_indexes_and_constraints() {
    let (_d, db, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE t (id int PRIMARY KEY, a int CHECK (a > 0), b int, c int)",
    );
    run(
        &mut s,
        "CREATE INDEX t_ab ON t (a, b); CREATE INDEX t_c ON t (c)",
    );
    run(&mut s, "INSERT INTO t VALUES (1, 1, 2, 3)");
    assert_eq!(run(&mut s, "ALTER TABLE t DROP COLUMN a"), ["ALTER TABLE"]);
    assert_eq!(run(&mut s, "SELECT * FROM t"), ["1|2|3"]);
    let catalog = db.storage().catalog();
    let table = catalog.tables.values().find(|t| t.name == "t").unwrap();
    let names: Vec<&str> = catalog
        .indexes_of(table.oid)
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"t_pkey") && names.contains(&"t_c"));
    assert!(table.constraints.iter().all(|k| k.name != "t_a_check"));
    run(&mut s, "INSERT INTO t VALUES (2, 5, 6)");
    assert_eq!(
        run(&mut s, "ALTER TABLE t ADD COLUMN a text"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        run(&mut s, "SELECT * FROM t ORDER BY id"),
        ["1|2|3|NULL", "2|5|6|NULL"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t DROP COLUMN zz"),
        ["ERROR 42703 column \"zz\" of relation \"t\" does not exist"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t DROP COLUMN IF EXISTS zz"),
        ["ALTER TABLE"]
    );
    // Referenced by another table's foreign key, or read by a view: CASCADE or refuse.
    run(&mut s, "CREATE TABLE r (x int REFERENCES t (id))");
    assert_eq!(code(&mut s, "ALTER TABLE t DROP COLUMN id"), "2BP01");
    assert_eq!(
        run(&mut s, "ALTER TABLE t DROP COLUMN id CASCADE"),
        ["ALTER TABLE"]
    );
    run(&mut s, "INSERT INTO r VALUES (42)");
    run(&mut s, "CREATE VIEW v AS SELECT b, c FROM t");
    notices(&mut s);
    assert_eq!(
        run(&mut s, "ALTER TABLE t DROP COLUMN c"),
        ["ERROR 2BP01 cannot drop column c of table t because other objects depend on it"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t DROP COLUMN c CASCADE"),
        ["ALTER TABLE"]
    );
    assert_eq!(notices(&mut s), ["drop cascades to view v"]);
    assert_eq!(code(&mut s, "SELECT * FROM v"), "42P01");
    // A generated column computed from the dropped one.
    run(
        &mut s,
        "CREATE TABLE g (a int, f int GENERATED ALWAYS AS (a * 2) STORED, k int)",
    );
    assert_eq!(code(&mut s, "ALTER TABLE g DROP COLUMN a"), "2BP01");
    assert_eq!(
        run(&mut s, "ALTER TABLE g DROP COLUMN a CASCADE"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        run(&mut s, "INSERT INTO g VALUES (1); SELECT * FROM g"),
        ["INSERT 0 1", "1"]
    );
}

#[test]
fn renames_keep_constraints_and_views_working() {
    let (_d, _db, mut s) = open();
    run(&mut s, "CREATE TABLE t (a int CHECK (a > 0), b text)");
    run(&mut s, "INSERT INTO t VALUES (1, 'x')");
    run(&mut s, "CREATE VIEW v AS SELECT a, b FROM t WHERE a > 0");
    assert_eq!(
        run(&mut s, "ALTER TABLE t RENAME COLUMN a TO n"),
        ["ALTER TABLE"]
    );
    assert_eq!(code(&mut s, "INSERT INTO t VALUES (0, 'y')"), "23514");
    assert_eq!(run(&mut s, "SELECT * FROM v"), ["1|x"]);
    assert_eq!(
        run(&mut s, "ALTER TABLE t RENAME COLUMN zz TO y"),
        ["ERROR 42703 column \"zz\" does not exist"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t RENAME COLUMN n TO b"),
        ["ERROR 42701 column \"b\" of relation \"t\" already exists"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t RENAME TO customers"),
        ["ALTER TABLE"]
    );
    assert_eq!(run(&mut s, "SELECT n FROM customers"), ["1"]);
    assert_eq!(run(&mut s, "SELECT * FROM v"), ["1|x"]);
    run(&mut s, "CREATE TABLE other (x int)");
    assert_eq!(
        run(&mut s, "ALTER TABLE customers RENAME TO other"),
        ["ERROR 42P07 relation \"other\" already exists"]
    );
    assert_eq!(run(&mut s, "ALTER TABLE v RENAME TO w"), ["ALTER TABLE"]);
    assert_eq!(run(&mut s, "SELECT a FROM w"), ["1"]);
    assert_eq!(
        run(&mut s, "ALTER VIEW w RENAME COLUMN a TO n"),
        ["ALTER VIEW"]
    );
    assert_eq!(run(&mut s, "SELECT n FROM w"), ["1"]);
    run(&mut s, "CREATE INDEX customers_b ON customers (b)");
    assert_eq!(
        run(&mut s, "ALTER INDEX customers_b RENAME TO by_b"),
        ["ALTER INDEX"]
    );
    assert_eq!(code(&mut s, "DROP INDEX by_b"), "ok");
}

#[test]
fn column_type_changes_rewrite_the_rows() {
    let (_d, _db, mut s) = open();
    run(&mut s, "CREATE TABLE t (id int PRIMARY KEY, a int, b text)");
    run(
        &mut s,
        "INSERT INTO t VALUES (1, 2147483647, '10'), (2, NULL, '20')",
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN a TYPE bigint"),
        ["ALTER TABLE"]
    );
    run(&mut s, "UPDATE t SET a = a + 1 WHERE id = 1");
    assert_eq!(run(&mut s, "SELECT a FROM t WHERE id = 1"), ["2147483648"]);
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN b TYPE int"),
        ["ERROR 42804 column \"b\" cannot be cast automatically to type integer"]
    );
    assert_eq!(
        run(
            &mut s,
            "ALTER TABLE t ALTER COLUMN b TYPE int USING b::int * 2"
        ),
        ["ALTER TABLE"]
    );
    assert_eq!(run(&mut s, "SELECT b + 1 FROM t ORDER BY id"), ["21", "41"]);
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN b TYPE text"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        run(&mut s, "SELECT b || '!' FROM t ORDER BY id"),
        ["20!", "40!"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN id TYPE bigint"),
        ["ALTER TABLE"]
    );
    assert_eq!(code(&mut s, "INSERT INTO t VALUES (1, 0, 'dup')"), "23505");
    assert_eq!(run(&mut s, "SELECT b FROM t WHERE id = 2"), ["40"]);
    run(&mut s, "CREATE VIEW v AS SELECT b FROM t");
    assert_eq!(
        run(&mut s, "ALTER TABLE t ALTER COLUMN b TYPE varchar(10)"),
        ["ERROR 0A000 cannot alter type of a column used by a view or rule"]
    );
}

#[test]
fn row_security_flags_and_owner() {
    let (_d, db, mut s) = open();
    run(&mut s, "CREATE TABLE t (a int)");
    assert_eq!(
        run(&mut s, "ALTER TABLE t ENABLE ROW LEVEL SECURITY"),
        ["ALTER TABLE"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t FORCE ROW LEVEL SECURITY"),
        ["ALTER TABLE"]
    );
    let table = |db: &Database| {
        let c = db.storage().catalog();
        c.tables.values().find(|t| t.name == "t").unwrap().clone()
    };
    assert!(table(&db).row_security && table(&db).force_row_security);
    run(&mut s, "ALTER TABLE t DISABLE ROW LEVEL SECURITY");
    run(&mut s, "ALTER TABLE t NO FORCE ROW LEVEL SECURITY");
    assert!(!table(&db).row_security && !table(&db).force_row_security);
    assert_eq!(
        run(&mut s, "ALTER TABLE t OWNER TO nobody"),
        ["ERROR 42704 role \"nobody\" does not exist"]
    );
    assert_eq!(
        run(&mut s, "ALTER TABLE t OWNER TO custos"),
        ["ALTER TABLE"]
    );
}

#[test]
fn ddl_rolls_back_with_its_transaction() {
    let (_d, db, mut s) = open();
    run(&mut s, "CREATE TABLE t (a int); INSERT INTO t VALUES (1)");
    run(&mut s, "BEGIN");
    run(&mut s, "ALTER TABLE t ADD COLUMN b int DEFAULT 7");
    run(&mut s, "ALTER TABLE t RENAME TO u");
    run(&mut s, "CREATE VIEW v AS SELECT * FROM u");
    run(&mut s, "CREATE SEQUENCE s");
    run(&mut s, "COMMENT ON TABLE u IS 'gone soon'");
    run(
        &mut s,
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    );
    assert_eq!(run(&mut s, "SELECT * FROM v"), ["1|7"]);
    run(&mut s, "ROLLBACK");
    assert_eq!(run(&mut s, "SELECT * FROM t"), ["1"]);
    for sql in ["SELECT * FROM v", "SELECT * FROM u", "SELECT nextval('s')"] {
        assert_eq!(code(&mut s, sql), "42P01", "{sql}");
    }
    assert_eq!(code(&mut s, "SELECT f()"), "42883");
    assert!(db.storage().catalog().comments.is_empty());
    // A failed statement inside a block leaves nothing either.
    run(&mut s, "BEGIN");
    assert_eq!(
        code(&mut s, "ALTER TABLE t ADD COLUMN c int NOT NULL"),
        "23502"
    );
    run(&mut s, "ROLLBACK");
    assert_eq!(run(&mut s, "SELECT * FROM t"), ["1"]);
}

#[test]
fn alter_table_applies_several_operations_in_order() {
    let (_d, _db, mut s) = open();
    run(
        &mut s,
        "CREATE TABLE t (a int, b int); INSERT INTO t VALUES (1, 2)",
    );
    assert_eq!(
        run(
            &mut s,
            "ALTER TABLE t ADD COLUMN c int DEFAULT 3, DROP COLUMN a, RENAME COLUMN b TO bee"
        ),
        ["ERROR 42601 syntax error at or near \"RENAME\""]
    );
    assert_eq!(
        run(
            &mut s,
            "ALTER TABLE t ADD COLUMN c int DEFAULT 3, DROP COLUMN a, ALTER COLUMN b SET NOT NULL"
        ),
        ["ALTER TABLE"]
    );
    assert_eq!(run(&mut s, "SELECT * FROM t"), ["2|3"]);
    // One failing operation undoes the others.
    assert_eq!(
        code(&mut s, "ALTER TABLE t ADD COLUMN d int, ADD COLUMN d text"),
        "42701"
    );
    assert_eq!(run(&mut s, "SELECT * FROM t"), ["2|3"]);
}
