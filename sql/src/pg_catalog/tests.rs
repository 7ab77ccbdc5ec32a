//! Tests over a populated catalog: every system table's rows match its columns, OIDs agree
//! across tables and helpers, and the texts clients parse come out as PostgreSQL prints them.

use storage::catalog::{
    Catalog, ColumnDef, CommentDef, ConstraintDef, ConstraintKind, FunctionDef, GrantDef,
    IdentityKind, IndexDef, IndexMethodDef, PolicyDef, ReferentialAction, RoleDef, SequenceDef,
    ViewDef,
};
use storage::types::{DataType, Row, Value};

use super::*;

/// The OIDs of the objects [`sample_catalog`] creates.
pub(super) struct Sample {
    pub(super) catalog: Catalog,
    pub(super) admin: u32,
    pub(super) reader: u32,
    pub(super) customers: u32,
    pub(super) pkey: u32,
    pub(super) embedding_index: u32,
    pub(super) orders: u32,
    pub(super) fkey: u32,
    pub(super) check: u32,
    pub(super) view: u32,
    pub(super) sequence: u32,
    pub(super) function: u32,
}

pub(super) fn sample_catalog() -> Sample {
    let mut catalog = Catalog::default();
    let admin = catalog.allocate_oid();
    let mut admin_role = RoleDef {
        oid: admin,
        name: "custos".into(),
        ..Default::default()
    };
    for attribute in ["SUPERUSER", "LOGIN"] {
        admin_role
            .attributes
            .insert(attribute.into(), "true".into());
    }
    catalog.roles.insert(admin, admin_role);
    let reader = catalog.allocate_oid();
    let mut reader_role = RoleDef {
        oid: reader,
        name: "reader".into(),
        ..Default::default()
    };
    reader_role.attributes.insert("LOGIN".into(), "true".into());
    catalog.roles.insert(reader, reader_role);
    let public = catalog.ensure_schema("public", admin);
    let customers = catalog.create_table(
        public,
        "customers",
        admin,
        &[
            ("id", DataType::Int8, true),
            ("name", DataType::Varchar(Some(20)), false),
            ("embedding", DataType::Vector(Some(3)), false),
            ("meta", DataType::Jsonb, false),
        ],
        &["id"],
    );
    let pkey = catalog.indexes_of(customers).next().expect("pkey").oid;
    let sequence = catalog.allocate_oid();
    catalog.sequences.insert(
        sequence,
        SequenceDef {
            oid: sequence,
            schema: public,
            name: "customers_id_seq".into(),
            owner: admin,
            start: 1,
            increment: 1,
            min_value: 1,
            max_value: i64::MAX,
            owned_by: Some((customers, 1)),
            ..Default::default()
        },
    );
    {
        let table = catalog.tables.get_mut(&customers).expect("customers");
        table.columns[0].default = Some("nextval('customers_id_seq'::regclass)".into());
        table.columns.push(ColumnDef {
            attnum: 5,
            name: "old".into(),
            dropped: true,
            ..Default::default()
        });
        table.row_security = true;
    }
    let embedding_index = catalog.allocate_oid();
    catalog.indexes.insert(
        embedding_index,
        IndexDef {
            oid: embedding_index,
            name: "customers_embedding_idx".into(),
            schema: public,
            table: customers,
            method: IndexMethodDef::Hnsw,
            columns: vec![3],
            opclasses: vec!["vector_cosine_ops".into()],
            options: vec![("m".into(), "16".into())],
            ..Default::default()
        },
    );
    let orders = catalog.create_table(
        public,
        "Orders",
        admin,
        &[
            ("id", DataType::Int4, true),
            ("customer_id", DataType::Int8, false),
            (
                "total",
                DataType::Numeric {
                    precision: Some(10),
                    scale: Some(2),
                },
                false,
            ),
        ],
        &["id"],
    );
    let fkey = catalog.allocate_oid();
    let check = catalog.allocate_oid();
    {
        let table = catalog.tables.get_mut(&orders).expect("orders");
        table.columns[0].identity = Some(IdentityKind::Always);
        table.constraints.push(ConstraintDef {
            oid: fkey,
            name: "orders_customer_id_fkey".into(),
            kind: ConstraintKind::ForeignKey {
                columns: vec![2],
                referenced_table: customers,
                referenced_columns: vec![1],
                on_delete: ReferentialAction::Cascade,
                on_update: ReferentialAction::NoAction,
            },
        });
        table.constraints.push(ConstraintDef {
            oid: check,
            name: "orders_total_check".into(),
            kind: ConstraintKind::Check {
                expression: "total > 0".into(),
            },
        });
    }
    let view = catalog.allocate_oid();
    catalog.views.insert(
        view,
        ViewDef {
            oid: view,
            schema: public,
            name: "customer_names".into(),
            owner: admin,
            query: "SELECT id, name FROM customers".into(),
            column_names: vec!["id".into(), "name".into()],
        },
    );
    let function = catalog.allocate_oid();
    let mut function_def = FunctionDef {
        oid: function,
        schema: public,
        name: "add_one".into(),
        owner: admin,
        arguments: vec![("x".into(), DataType::Int4)],
        returns: Some(DataType::Int4),
        language: "sql".into(),
        body: "SELECT x + 1".into(),
        ..Default::default()
    };
    function_def
        .attributes
        .insert("volatility".into(), "IMMUTABLE".into());
    catalog.functions.insert(function, function_def);
    catalog.comments.push(CommentDef {
        object_kind: "column".into(),
        object: customers,
        column: 2,
        text: "display name".into(),
    });
    catalog.comments.push(CommentDef {
        object_kind: "table".into(),
        object: customers,
        column: 0,
        text: "everyone we sell to".into(),
    });
    catalog.grants.push(GrantDef {
        object_kind: "table".into(),
        object: customers,
        column: 0,
        grantee: reader,
        grantor: admin,
        privilege: "SELECT".into(),
        with_grant_option: false,
    });
    let policy = catalog.allocate_oid();
    catalog.policies.insert(
        policy,
        PolicyDef {
            oid: policy,
            table: customers,
            name: "own_rows".into(),
            permissive: true,
            command: "SELECT".into(),
            roles: vec![reader],
            using: Some("id > 0".into()),
            with_check: None,
        },
    );
    catalog.extensions.insert("vector".into(), "0.8.0".into());
    Sample {
        catalog,
        admin,
        reader,
        customers,
        pkey,
        embedding_index,
        orders,
        fkey,
        check,
        view,
        sequence,
        function,
    }
}

fn settings() -> Vec<(String, String)> {
    vec![
        ("search_path".into(), "\"$user\", public".into()),
        ("work_mem".into(), "4MB".into()),
        ("DateStyle".into(), "ISO, MDY".into()),
    ]
}

fn rows_of(catalog: &Catalog, schema: &str, name: &str) -> Vec<Row> {
    let settings = settings();
    let ctx = SystemCtx {
        catalog,
        user: "custos",
        database: "custos",
        settings: &settings,
        audit: None,
    };
    let table = find(schema, name).unwrap_or_else(|| panic!("{schema}.{name} exists"));
    (table.rows)(&ctx).expect("rows build")
}

/// The value of column `column` of `row` in system table `name`.
fn col<'a>(schema: &str, name: &str, row: &'a Row, column: &str) -> &'a Value {
    let table = find(schema, name).expect("table");
    let i = table
        .columns
        .iter()
        .position(|(c, _)| *c == column)
        .unwrap_or_else(|| panic!("{name}.{column} exists"));
    &row[i]
}

fn oid_value(oid: u32) -> Value {
    Value::Int8(i64::from(oid))
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// Whether a value has the storage form of its column's type.
fn fits(sql_type: &SqlType, value: &Value) -> bool {
    match (sql_type, value) {
        (_, Value::Null) => true,
        (
            SqlType::Name
            | SqlType::Text
            | SqlType::Varchar(_)
            | SqlType::InternalChar
            | SqlType::PgNodeTree,
            Value::Text(_),
        ) => true,
        (
            SqlType::Oid | SqlType::RegProc | SqlType::RegType | SqlType::RegClass,
            Value::Int8(_),
        ) => true,
        (SqlType::Int2Vector | SqlType::OidVector | SqlType::Array(_), Value::Array(_)) => true,
        (SqlType::AnyArray, _) => true,
        (t, v) => crate::pgtype::value_fits(t, v),
    }
}

#[test]
fn every_table_builds_rows_that_match_its_columns() {
    let sample = sample_catalog();
    let settings = settings();
    let ctx = SystemCtx {
        catalog: &sample.catalog,
        user: "custos",
        database: "custos",
        settings: &settings,
        audit: None,
    };
    for table in system_tables() {
        let rows = (table.rows)(&ctx).expect("rows build");
        for row in rows {
            assert_eq!(
                row.len(),
                table.columns.len(),
                "{}.{}",
                table.schema,
                table.name
            );
            for ((column, sql_type), value) in table.columns.iter().zip(&row) {
                assert!(
                    fits(sql_type, value),
                    "{}.{}.{column}: {value:?} is not a {sql_type:?}",
                    table.schema,
                    table.name
                );
            }
        }
    }
}

#[test]
fn system_tables_are_found_by_name_and_oid_and_listed_in_pg_class() {
    assert_eq!(find("pg_catalog", "pg_class").map(|t| t.oid), Some(1259));
    assert_eq!(find("pg_catalog", "pg_type").map(|t| t.oid), Some(1247));
    assert_eq!(find_by_oid(1249).map(|t| t.name), Some("pg_attribute"));
    assert!(find("information_schema", "columns").is_some());
    let catalog = Catalog::default();
    let classes = rows_of(&catalog, "pg_catalog", "pg_class");
    let pg_roles = classes
        .iter()
        .find(|r| col("pg_catalog", "pg_class", r, "relname") == &text("pg_roles"))
        .expect("pg_roles in pg_class");
    assert_eq!(
        col("pg_catalog", "pg_class", pg_roles, "relkind"),
        &text("v")
    );
    assert_eq!(
        col("pg_catalog", "pg_class", pg_roles, "relnamespace"),
        &oid_value(PG_CATALOG_NAMESPACE)
    );
    let attributes = rows_of(&catalog, "pg_catalog", "pg_attribute");
    let relname = attributes
        .iter()
        .find(|r| {
            col("pg_catalog", "pg_attribute", r, "attrelid") == &oid_value(1259)
                && col("pg_catalog", "pg_attribute", r, "attname") == &text("relname")
        })
        .expect("pg_class.relname in pg_attribute");
    assert_eq!(
        col("pg_catalog", "pg_attribute", relname, "atttypid"),
        &oid_value(crate::pgtype::oid::NAME)
    );
}

#[test]
fn user_relations_and_columns_appear_with_catalog_oids() {
    let s = sample_catalog();
    let public = s.catalog.schema_by_name("public").expect("public").oid;
    let classes = rows_of(&s.catalog, "pg_catalog", "pg_class");
    let by_oid = |oid: u32| {
        classes
            .iter()
            .find(|r| col("pg_catalog", "pg_class", r, "oid") == &oid_value(oid))
            .unwrap_or_else(|| panic!("{oid} in pg_class"))
    };
    let customers = by_oid(s.customers);
    assert_eq!(
        col("pg_catalog", "pg_class", customers, "relkind"),
        &text("r")
    );
    assert_eq!(
        col("pg_catalog", "pg_class", customers, "relnamespace"),
        &oid_value(public)
    );
    assert_eq!(
        col("pg_catalog", "pg_class", customers, "relhasindex"),
        &Value::Bool(true)
    );
    assert_eq!(
        col("pg_catalog", "pg_class", customers, "relrowsecurity"),
        &Value::Bool(true)
    );
    assert_eq!(
        col("pg_catalog", "pg_class", customers, "relacl"),
        &datum::text_array(["custos=arwdDxt/custos", "reader=r/custos"])
    );
    assert_eq!(
        col("pg_catalog", "pg_class", by_oid(s.pkey), "relam"),
        &oid_value(403)
    );
    assert_eq!(
        col("pg_catalog", "pg_class", by_oid(s.view), "relkind"),
        &text("v")
    );
    assert_eq!(
        col("pg_catalog", "pg_class", by_oid(s.sequence), "relkind"),
        &text("S")
    );

    let attributes: Vec<Row> = rows_of(&s.catalog, "pg_catalog", "pg_attribute")
        .into_iter()
        .filter(|r| col("pg_catalog", "pg_attribute", r, "attrelid") == &oid_value(s.customers))
        .collect();
    assert_eq!(attributes.len(), 5);
    let name = &attributes[1];
    assert_eq!(
        col("pg_catalog", "pg_attribute", name, "atttypid"),
        &oid_value(1043)
    );
    assert_eq!(
        col("pg_catalog", "pg_attribute", name, "atttypmod"),
        &Value::Int4(24)
    );
    assert_eq!(
        col("pg_catalog", "pg_attribute", name, "attcollation"),
        &oid_value(100)
    );
    let id = &attributes[0];
    assert_eq!(
        col("pg_catalog", "pg_attribute", id, "attnotnull"),
        &Value::Bool(true)
    );
    assert_eq!(
        col("pg_catalog", "pg_attribute", id, "atthasdef"),
        &Value::Bool(true)
    );
    let embedding = &attributes[2];
    assert_eq!(
        col("pg_catalog", "pg_attribute", embedding, "atttypmod"),
        &Value::Int4(3)
    );
    let dropped = &attributes[4];
    assert_eq!(
        col("pg_catalog", "pg_attribute", dropped, "attname"),
        &text("........pg.dropped.5........")
    );
    assert_eq!(
        col("pg_catalog", "pg_attribute", dropped, "attisdropped"),
        &Value::Bool(true)
    );
    assert_eq!(
        col("pg_catalog", "pg_attribute", dropped, "atttypid"),
        &oid_value(0)
    );

    let defaults = rows_of(&s.catalog, "pg_catalog", "pg_attrdef");
    assert_eq!(defaults.len(), 1);
    assert_eq!(
        col("pg_catalog", "pg_attrdef", &defaults[0], "adbin"),
        &text("nextval('customers_id_seq'::regclass)")
    );
}

#[test]
fn indexes_and_constraints_point_at_each_other() {
    let s = sample_catalog();
    let indexes = rows_of(&s.catalog, "pg_catalog", "pg_index");
    let pkey = indexes
        .iter()
        .find(|r| col("pg_catalog", "pg_index", r, "indexrelid") == &oid_value(s.pkey))
        .expect("pkey in pg_index");
    assert_eq!(
        col("pg_catalog", "pg_index", pkey, "indisprimary"),
        &Value::Bool(true)
    );
    assert_eq!(
        col("pg_catalog", "pg_index", pkey, "indkey"),
        &datum::int2_vector([1])
    );
    let hnsw = indexes
        .iter()
        .find(|r| col("pg_catalog", "pg_index", r, "indexrelid") == &oid_value(s.embedding_index))
        .expect("hnsw index in pg_index");
    let cosine = access_tables::resolve_opclass(oids::am::HNSW, "vector_cosine_ops", 0);
    assert_ne!(cosine, 0);
    assert_eq!(
        col("pg_catalog", "pg_index", hnsw, "indclass"),
        &datum::oid_vector([cosine])
    );

    let constraints = rows_of(&s.catalog, "pg_catalog", "pg_constraint");
    let by_oid = |oid: u32| {
        constraints
            .iter()
            .find(|r| col("pg_catalog", "pg_constraint", r, "oid") == &oid_value(oid))
            .expect("constraint")
    };
    let pk = by_oid(s.pkey);
    assert_eq!(
        col("pg_catalog", "pg_constraint", pk, "contype"),
        &text("p")
    );
    assert_eq!(
        col("pg_catalog", "pg_constraint", pk, "conindid"),
        &oid_value(s.pkey)
    );
    let fk = by_oid(s.fkey);
    assert_eq!(
        col("pg_catalog", "pg_constraint", fk, "confrelid"),
        &oid_value(s.customers)
    );
    assert_eq!(
        col("pg_catalog", "pg_constraint", fk, "conindid"),
        &oid_value(s.pkey)
    );
    assert_eq!(
        col("pg_catalog", "pg_constraint", fk, "confdeltype"),
        &text("c")
    );
    assert_eq!(
        col("pg_catalog", "pg_constraint", fk, "confupdtype"),
        &text("a")
    );
    assert_eq!(
        col("pg_catalog", "pg_constraint", fk, "conkey"),
        &datum::int2_vector([2])
    );
    let check = by_oid(s.check);
    assert_eq!(
        col("pg_catalog", "pg_constraint", check, "conkey"),
        &datum::int2_vector([3])
    );
    assert_eq!(
        col("pg_catalog", "pg_constraint", check, "contype"),
        &text("c")
    );
}

#[test]
fn definitions_print_like_postgres() {
    let s = sample_catalog();
    let c = &s.catalog;
    let format = crate::types::SessionFormat::default();
    let ctx = crate::deparse::DeparseCtx {
        catalog: c,
        format: &format,
    };
    assert_eq!(
        ddl::index_definition(&ctx, s.pkey, 0, false).as_deref(),
        Some("CREATE UNIQUE INDEX customers_pkey ON public.customers USING btree (id)")
    );
    assert_eq!(
        ddl::index_definition(&ctx, s.pkey, 0, true).as_deref(),
        Some("CREATE UNIQUE INDEX customers_pkey ON customers USING btree (id)")
    );
    assert_eq!(
        ddl::index_definition(&ctx, s.pkey, 2, true).as_deref(),
        Some("")
    );
    assert_eq!(
        ddl::index_definition(&ctx, s.embedding_index, 0, false).as_deref(),
        Some(
            "CREATE INDEX customers_embedding_idx ON public.customers USING hnsw (embedding vector_cosine_ops) WITH (m='16')"
        )
    );
    assert_eq!(
        ddl::index_definition(&ctx, s.embedding_index, 1, true).as_deref(),
        Some("embedding")
    );
    assert_eq!(
        ddl::constraint_definition(&ctx, s.fkey, true).as_deref(),
        Some("FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE")
    );
    assert_eq!(
        ddl::constraint_definition(&ctx, s.pkey, true).as_deref(),
        Some("PRIMARY KEY (id)")
    );
    assert_eq!(
        ddl::constraint_definition(&ctx, s.check, false).as_deref(),
        Some("CHECK ((total > (0)::numeric))")
    );
    assert_eq!(
        ddl::constraint_definition(&ctx, s.check, true).as_deref(),
        Some("CHECK (total > 0::numeric)")
    );
    assert_eq!(
        ddl::view_definition(c, s.view).as_deref(),
        Some(" SELECT id, name FROM customers;")
    );
    assert_eq!(
        ddl::function_arguments(c, s.function).as_deref(),
        Some("x integer")
    );
    assert_eq!(
        ddl::function_result(c, s.function).as_deref(),
        Some("integer")
    );
    let definition = ddl::function_definition(c, s.function).expect("definition");
    assert!(definition.starts_with("CREATE OR REPLACE FUNCTION public.add_one(x integer)\n RETURNS integer\n LANGUAGE sql\n IMMUTABLE\n"));
}

#[test]
fn oid_and_name_helpers_agree() {
    let s = sample_catalog();
    let c = &s.catalog;
    let path = vec!["public".to_string()];
    assert_eq!(relation_oid(c, None, "customers", &path), Some(s.customers));
    assert_eq!(
        relation_oid(c, Some("public"), "Orders", &path),
        Some(s.orders)
    );
    assert_eq!(relation_oid(c, None, "pg_class", &path), Some(1259));
    assert!(relation_oid(c, Some("information_schema"), "tables", &path).is_some());
    assert_eq!(relation_oid(c, None, "tables", &path), None);
    assert_eq!(relation_name(c, s.customers).as_deref(), Some("customers"));
    assert_eq!(relation_name(c, s.orders).as_deref(), Some("\"Orders\""));
    assert_eq!(relation_name(c, 1259).as_deref(), Some("pg_class"));
    let columns_oid = find("information_schema", "columns").expect("columns").oid;
    assert_eq!(
        relation_name(c, columns_oid).as_deref(),
        Some("information_schema.columns")
    );
    assert_eq!(
        relation_name_on_path(c, s.customers, &["other".to_string()]).as_deref(),
        Some("public.customers")
    );
    let public = c.schema_by_name("public").expect("public").oid;
    assert_eq!(namespace_oid(c, "public"), Some(public));
    assert_eq!(namespace_name(c, public).as_deref(), Some("public"));
    assert_eq!(namespace_name(c, 11).as_deref(), Some("pg_catalog"));
    assert_eq!(role_name(c, s.reader).as_deref(), Some("reader"));
    assert_eq!(
        role_name(c, BOOTSTRAP_SUPERUSER_OID).as_deref(),
        Some("custos")
    );
    assert_eq!(role_oid(c, "custos", "reader"), Some(s.reader));
    assert_eq!(type_name(23).as_deref(), Some("integer"));
    assert_eq!(type_oid_by_name("character varying"), Some(1043));
    let int4in = proc_oid_by_name(c, "int4in").expect("int4in");
    assert_eq!(proc_name(int4in).as_deref(), Some("int4in"));
    assert_eq!(
        proc_oid_by_name(c, "pg_catalog.array_in").map(proc_name),
        Some(Some("array_in".into()))
    );
    assert_eq!(proc_name_in(c, s.function).as_deref(), Some("add_one"));
    assert_eq!(proc_oid_by_name(c, "add_one"), Some(s.function));
}

#[test]
fn pg_type_lists_vector_in_public_with_its_array() {
    let s = sample_catalog();
    let public = s.catalog.schema_by_name("public").expect("public").oid;
    let types = rows_of(&s.catalog, "pg_catalog", "pg_type");
    let vector = types
        .iter()
        .find(|r| col("pg_catalog", "pg_type", r, "typname") == &text("vector"))
        .expect("vector");
    assert_eq!(
        col("pg_catalog", "pg_type", vector, "oid"),
        &oid_value(crate::pgtype::oid::VECTOR)
    );
    assert_eq!(
        col("pg_catalog", "pg_type", vector, "typnamespace"),
        &oid_value(public)
    );
    assert_eq!(
        col("pg_catalog", "pg_type", vector, "typarray"),
        &oid_value(crate::pgtype::oid::VECTOR_ARRAY)
    );
    let int4 = types
        .iter()
        .find(|r| col("pg_catalog", "pg_type", r, "typname") == &text("_int4"))
        .expect("_int4");
    let array_in = col("pg_catalog", "pg_type", int4, "typinput");
    assert_eq!(
        proc_oid_by_name(&s.catalog, "array_in")
            .map(oid_value)
            .as_ref(),
        Some(array_in)
    );
}

#[test]
fn information_schema_describes_columns_and_constraints() {
    let s = sample_catalog();
    let columns: Vec<Row> = rows_of(&s.catalog, "information_schema", "columns")
        .into_iter()
        .filter(|r| col("information_schema", "columns", r, "table_name") == &text("customers"))
        .collect();
    assert_eq!(columns.len(), 4);
    let get = |row: &Row, column: &str| col("information_schema", "columns", row, column).clone();
    assert_eq!(
        get(&columns[0], "column_default"),
        text("nextval('customers_id_seq'::regclass)")
    );
    assert_eq!(get(&columns[0], "is_nullable"), text("NO"));
    assert_eq!(get(&columns[1], "data_type"), text("character varying"));
    assert_eq!(
        get(&columns[1], "character_maximum_length"),
        Value::Int4(20)
    );
    assert_eq!(get(&columns[2], "data_type"), text("USER-DEFINED"));
    assert_eq!(get(&columns[2], "udt_name"), text("vector"));
    assert_eq!(get(&columns[2], "udt_schema"), text("public"));
    assert_eq!(get(&columns[3], "udt_name"), text("jsonb"));

    let constraints = rows_of(&s.catalog, "information_schema", "table_constraints");
    let types: Vec<&Value> = constraints
        .iter()
        .filter(|r| {
            col("information_schema", "table_constraints", r, "table_name") == &text("Orders")
        })
        .map(|r| {
            col(
                "information_schema",
                "table_constraints",
                r,
                "constraint_type",
            )
        })
        .collect();
    assert!(types.contains(&&text("PRIMARY KEY")));
    assert!(types.contains(&&text("FOREIGN KEY")));
    assert!(types.contains(&&text("CHECK")));
    let usage = rows_of(&s.catalog, "information_schema", "key_column_usage");
    let fk = usage
        .iter()
        .find(|r| {
            col(
                "information_schema",
                "key_column_usage",
                r,
                "constraint_name",
            ) == &text("orders_customer_id_fkey")
        })
        .expect("fk usage");
    assert_eq!(
        col("information_schema", "key_column_usage", fk, "column_name"),
        &text("customer_id")
    );
    assert_eq!(
        col(
            "information_schema",
            "key_column_usage",
            fk,
            "position_in_unique_constraint"
        ),
        &Value::Int4(1)
    );
    let referential = rows_of(&s.catalog, "information_schema", "referential_constraints");
    assert_eq!(referential.len(), 1);
    assert_eq!(
        col(
            "information_schema",
            "referential_constraints",
            &referential[0],
            "unique_constraint_name"
        ),
        &text("customers_pkey")
    );
    assert_eq!(
        col(
            "information_schema",
            "referential_constraints",
            &referential[0],
            "delete_rule"
        ),
        &text("CASCADE")
    );
}

#[test]
fn roles_fall_back_to_the_session_user_without_roles() {
    let catalog = Catalog::default();
    let roles = rows_of(&catalog, "pg_catalog", "pg_roles");
    assert_eq!(roles.len(), 1);
    assert_eq!(
        col("pg_catalog", "pg_roles", &roles[0], "rolname"),
        &text("custos")
    );
    assert_eq!(
        col("pg_catalog", "pg_roles", &roles[0], "rolsuper"),
        &Value::Bool(true)
    );
    assert_eq!(
        col("pg_catalog", "pg_roles", &roles[0], "oid"),
        &oid_value(BOOTSTRAP_SUPERUSER_OID)
    );
    let databases = rows_of(&catalog, "pg_catalog", "pg_database");
    assert_eq!(
        col("pg_catalog", "pg_database", &databases[0], "encoding"),
        &Value::Int4(6)
    );
    assert_eq!(
        col("pg_catalog", "pg_database", &databases[0], "datcollate"),
        &text("C.UTF-8")
    );
}

#[test]
fn descriptions_policies_and_extensions_are_listed() {
    let s = sample_catalog();
    let descriptions = rows_of(&s.catalog, "pg_catalog", "pg_description");
    assert!(descriptions.iter().any(|r| {
        r[0] == oid_value(s.customers) && r[1] == oid_value(1259) && r[2] == Value::Int4(2)
    }));
    let policies = rows_of(&s.catalog, "pg_catalog", "pg_policy");
    assert_eq!(
        col("pg_catalog", "pg_policy", &policies[0], "polcmd"),
        &text("r")
    );
    assert_eq!(
        col("pg_catalog", "pg_policy", &policies[0], "polroles"),
        &datum::oid_vector([s.reader])
    );
    let extensions = rows_of(&s.catalog, "pg_catalog", "pg_extension");
    assert_eq!(
        col("pg_catalog", "pg_extension", &extensions[0], "extname"),
        &text("vector")
    );
    let settings = rows_of(&s.catalog, "pg_catalog", "pg_settings");
    let work_mem = settings
        .iter()
        .find(|r| r[0] == text("work_mem"))
        .expect("work_mem");
    assert_eq!(
        col("pg_catalog", "pg_settings", work_mem, "setting"),
        &text("4096")
    );
    assert_eq!(
        col("pg_catalog", "pg_settings", work_mem, "unit"),
        &text("kB")
    );
}
