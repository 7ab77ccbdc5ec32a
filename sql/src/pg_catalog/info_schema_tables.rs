//! `information_schema`: `schemata`, `tables`, `views`, `table_constraints`,
//! `key_column_usage`, `referential_constraints`, `constraint_column_usage`,
//! `check_constraints`, `sequences` and `character_sets` (`columns`, `routines` and
//! `parameters` are in [`super::info_schema_columns`]).
//!
//! As in PostgreSQL 16, NOT NULL columns appear as CHECK constraints named
//! `<namespace oid>_<table oid>_<attnum>_not_null` with clause `<column> IS NOT NULL`.
//! Every object is listed, whatever the reading role's privileges.

use storage::catalog::{Catalog, ConstraintDef, ConstraintKind, ReferentialAction, TableDef};
use storage::types::{Row, Value};

use super::datum::info::*;
use super::datum::*;
use super::ddl::constraint_definition;
use super::ident::quote_identifier;
use super::names::{namespace_name, relations, role_by_oid, Relation};
use super::oids::{exposed_namespace_oid, rel};
use super::{table, SystemCtx, SystemTable, INFORMATION_SCHEMA_NAMESPACE, PG_CATALOG_NAMESPACE};
use crate::deparse::DeparseCtx;
use crate::error::SqlResult;
use crate::types::SessionFormat;

const fn view(n: u32) -> u32 {
    rel::FIRST_VIEW + 100 + n
}

pub(super) fn tables() -> Vec<SystemTable> {
    let s = || SQL_IDENTIFIER;
    let c = || CHARACTER_DATA;
    let n = || CARDINAL_NUMBER;
    let y = || YES_OR_NO;
    let constraint_head = || {
        vec![
            ("constraint_catalog", s()),
            ("constraint_schema", s()),
            ("constraint_name", s()),
        ]
    };
    let with = |mut head: Vec<(&'static str, crate::pgtype::SqlType)>,
                tail: Vec<(&'static str, crate::pgtype::SqlType)>| {
        head.extend(tail);
        head
    };
    vec![
        table(
            "information_schema",
            "schemata",
            view(1),
            vec![
                ("catalog_name", s()),
                ("schema_name", s()),
                ("schema_owner", s()),
                ("default_character_set_catalog", s()),
                ("default_character_set_schema", s()),
                ("default_character_set_name", s()),
                ("sql_path", c()),
            ],
            schemata_rows,
        ),
        table(
            "information_schema",
            "tables",
            view(2),
            vec![
                ("table_catalog", s()),
                ("table_schema", s()),
                ("table_name", s()),
                ("table_type", c()),
                ("self_referencing_column_name", s()),
                ("reference_generation", c()),
                ("user_defined_type_catalog", s()),
                ("user_defined_type_schema", s()),
                ("user_defined_type_name", s()),
                ("is_insertable_into", y()),
                ("is_typed", y()),
                ("commit_action", c()),
            ],
            tables_rows,
        ),
        table(
            "information_schema",
            "views",
            view(4),
            vec![
                ("table_catalog", s()),
                ("table_schema", s()),
                ("table_name", s()),
                ("view_definition", c()),
                ("check_option", c()),
                ("is_updatable", y()),
                ("is_insertable_into", y()),
                ("is_trigger_updatable", y()),
                ("is_trigger_deletable", y()),
                ("is_trigger_insertable_into", y()),
            ],
            views_rows,
        ),
        table(
            "information_schema",
            "table_constraints",
            view(5),
            with(
                constraint_head(),
                vec![
                    ("table_catalog", s()),
                    ("table_schema", s()),
                    ("table_name", s()),
                    ("constraint_type", c()),
                    ("is_deferrable", y()),
                    ("initially_deferred", y()),
                    ("enforced", y()),
                    ("nulls_distinct", y()),
                ],
            ),
            table_constraints_rows,
        ),
        table(
            "information_schema",
            "key_column_usage",
            view(6),
            with(
                constraint_head(),
                vec![
                    ("table_catalog", s()),
                    ("table_schema", s()),
                    ("table_name", s()),
                    ("column_name", s()),
                    ("ordinal_position", n()),
                    ("position_in_unique_constraint", n()),
                ],
            ),
            key_column_usage_rows,
        ),
        table(
            "information_schema",
            "referential_constraints",
            view(7),
            with(
                constraint_head(),
                vec![
                    ("unique_constraint_catalog", s()),
                    ("unique_constraint_schema", s()),
                    ("unique_constraint_name", s()),
                    ("match_option", c()),
                    ("update_rule", c()),
                    ("delete_rule", c()),
                ],
            ),
            referential_constraints_rows,
        ),
        table(
            "information_schema",
            "constraint_column_usage",
            view(8),
            vec![
                ("table_catalog", s()),
                ("table_schema", s()),
                ("table_name", s()),
                ("column_name", s()),
                ("constraint_catalog", s()),
                ("constraint_schema", s()),
                ("constraint_name", s()),
            ],
            constraint_column_usage_rows,
        ),
        table(
            "information_schema",
            "check_constraints",
            view(9),
            with(constraint_head(), vec![("check_clause", c())]),
            check_constraints_rows,
        ),
        table(
            "information_schema",
            "sequences",
            view(12),
            vec![
                ("sequence_catalog", s()),
                ("sequence_schema", s()),
                ("sequence_name", s()),
                ("data_type", c()),
                ("numeric_precision", n()),
                ("numeric_precision_radix", n()),
                ("numeric_scale", n()),
                ("start_value", c()),
                ("minimum_value", c()),
                ("maximum_value", c()),
                ("increment", c()),
                ("cycle_option", y()),
            ],
            sequences_rows,
        ),
        table(
            "information_schema",
            "character_sets",
            view(13),
            vec![
                ("character_set_catalog", s()),
                ("character_set_schema", s()),
                ("character_set_name", s()),
                ("character_repertoire", s()),
                ("form_of_use", s()),
                ("default_collate_catalog", s()),
                ("default_collate_schema", s()),
                ("default_collate_name", s()),
            ],
            character_sets_rows,
        ),
    ]
}

fn yes_no(b: bool) -> Value {
    text(if b { "YES" } else { "NO" })
}

fn schema_of(catalog: &Catalog, schema: u32) -> Value {
    text_or_null(namespace_name(
        catalog,
        exposed_namespace_oid(catalog, schema),
    ))
}

fn schemata_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let system_owner = super::names::bootstrap_owner(catalog, ctx.user);
    let mut schemas: Vec<(u32, String, u32)> = vec![
        (PG_CATALOG_NAMESPACE, "pg_catalog".into(), system_owner),
        (
            INFORMATION_SCHEMA_NAMESPACE,
            "information_schema".into(),
            system_owner,
        ),
    ];
    schemas.extend(
        catalog
            .schemas
            .values()
            .map(|s| (s.oid, s.name.clone(), s.owner)),
    );
    Ok(schemas
        .into_iter()
        .map(|(_, schema, owner)| {
            vec![
                name(ctx.database),
                name(schema),
                role_by_oid(catalog, ctx.user, owner).map_or(Value::Null, |r| name(r.name)),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ]
        })
        .collect())
}

fn tables_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let mut rows = Vec::new();
    for relation in relations(catalog) {
        let (table_type, insertable) = match relation.kind() {
            'r' => ("BASE TABLE", !matches!(relation, Relation::System(_))),
            'v' => ("VIEW", false),
            _ => continue,
        };
        rows.push(vec![
            name(ctx.database),
            text_or_null(namespace_name(catalog, relation.namespace(catalog))),
            name(relation.name()),
            text(table_type),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            yes_no(insertable),
            yes_no(false),
            Value::Null,
        ]);
    }
    Ok(rows)
}

fn views_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    Ok(catalog
        .views
        .values()
        .map(|v| {
            vec![
                name(ctx.database),
                schema_of(catalog, v.schema),
                name(v.name.clone()),
                text_or_null(super::ddl::view_definition(catalog, v.oid)),
                text("NONE"),
                yes_no(false),
                yes_no(false),
                yes_no(false),
                yes_no(false),
                yes_no(false),
            ]
        })
        .collect())
}

/// The name PostgreSQL 16 gives a NOT NULL column's implicit CHECK constraint.
fn not_null_name(catalog: &Catalog, table: &TableDef, attnum: u16) -> String {
    format!(
        "{}_{}_{}_not_null",
        exposed_namespace_oid(catalog, table.schema),
        table.oid,
        attnum
    )
}

fn constraint_type(constraint: &ConstraintDef) -> &'static str {
    match constraint.kind {
        ConstraintKind::PrimaryKey { .. } => "PRIMARY KEY",
        ConstraintKind::Unique { .. } => "UNIQUE",
        ConstraintKind::Check { .. } => "CHECK",
        ConstraintKind::ForeignKey { .. } => "FOREIGN KEY",
    }
}

fn table_constraints_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let mut rows = Vec::new();
    for table in catalog.tables.values() {
        let schema = schema_of(catalog, table.schema);
        let row = |constraint_name: String, kind: &str, nulls_distinct: Value| {
            vec![
                name(ctx.database),
                schema.clone(),
                name(constraint_name),
                name(ctx.database),
                schema.clone(),
                name(table.name.clone()),
                text(kind),
                yes_no(false),
                yes_no(false),
                yes_no(true),
                nulls_distinct,
            ]
        };
        for constraint in &table.constraints {
            let kind = constraint_type(constraint);
            let nulls_distinct = if matches!(kind, "PRIMARY KEY" | "UNIQUE") {
                yes_no(true)
            } else {
                Value::Null
            };
            rows.push(row(constraint.name.clone(), kind, nulls_distinct));
        }
        for column in table.live_columns().filter(|c| c.not_null) {
            rows.push(row(
                not_null_name(catalog, table, column.attnum),
                "CHECK",
                Value::Null,
            ));
        }
    }
    Ok(rows)
}

/// The referenced table's unique constraint a foreign key points at, with its columns.
fn referenced_constraint<'a>(
    catalog: &'a Catalog,
    referenced_table: u32,
    referenced_columns: &[u16],
) -> Option<(&'a TableDef, &'a ConstraintDef, &'a [u16])> {
    let table = catalog.tables.get(&referenced_table)?;
    table.constraints.iter().find_map(|c| match &c.kind {
        ConstraintKind::PrimaryKey { columns, .. } | ConstraintKind::Unique { columns, .. }
            if columns.len() == referenced_columns.len()
                && referenced_columns.iter().all(|r| columns.contains(r)) =>
        {
            Some((table, c, columns.as_slice()))
        }
        _ => None,
    })
}

/// The columns of a key constraint and, for a foreign key, its referenced columns with the
/// columns of the unique constraint they match.
type KeyColumns<'a> = (&'a [u16], Option<(&'a [u16], &'a [u16])>);

fn key_column_usage_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let mut rows = Vec::new();
    for table in catalog.tables.values() {
        let schema = schema_of(catalog, table.schema);
        for constraint in &table.constraints {
            let (columns, referenced): KeyColumns = match &constraint.kind {
                ConstraintKind::PrimaryKey { columns, .. }
                | ConstraintKind::Unique { columns, .. } => (columns, None),
                ConstraintKind::ForeignKey {
                    columns,
                    referenced_table,
                    referenced_columns,
                    ..
                } => {
                    let unique =
                        referenced_constraint(catalog, *referenced_table, referenced_columns)
                            .map(|(_, _, unique_columns)| unique_columns);
                    (columns, unique.map(|u| (referenced_columns.as_slice(), u)))
                }
                ConstraintKind::Check { .. } => continue,
            };
            for (i, attnum) in columns.iter().enumerate() {
                let Some(column) = table.column(*attnum) else {
                    continue;
                };
                let position_in_unique = referenced
                    .and_then(|(refs, unique)| {
                        let r = refs.get(i)?;
                        unique.iter().position(|u| u == r)
                    })
                    .map_or(Value::Null, |p| int4(p as i32 + 1));
                rows.push(vec![
                    name(ctx.database),
                    schema.clone(),
                    name(constraint.name.clone()),
                    name(ctx.database),
                    schema.clone(),
                    name(table.name.clone()),
                    name(column.name.clone()),
                    int4(i as i32 + 1),
                    position_in_unique,
                ]);
            }
        }
    }
    Ok(rows)
}

fn rule(action: ReferentialAction) -> &'static str {
    match action {
        ReferentialAction::NoAction => "NO ACTION",
        ReferentialAction::Restrict => "RESTRICT",
        ReferentialAction::Cascade => "CASCADE",
        ReferentialAction::SetNull => "SET NULL",
        ReferentialAction::SetDefault => "SET DEFAULT",
    }
}

fn referential_constraints_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let mut rows = Vec::new();
    for table in catalog.tables.values() {
        for constraint in &table.constraints {
            let ConstraintKind::ForeignKey {
                referenced_table,
                referenced_columns,
                on_delete,
                on_update,
                ..
            } = &constraint.kind
            else {
                continue;
            };
            let unique = referenced_constraint(catalog, *referenced_table, referenced_columns);
            rows.push(vec![
                name(ctx.database),
                schema_of(catalog, table.schema),
                name(constraint.name.clone()),
                unique.map_or(Value::Null, |_| name(ctx.database)),
                unique.map_or(Value::Null, |(t, _, _)| schema_of(catalog, t.schema)),
                unique.map_or(Value::Null, |(_, c, _)| name(c.name.clone())),
                text("NONE"),
                text(rule(*on_update)),
                text(rule(*on_delete)),
            ]);
        }
    }
    Ok(rows)
}

fn constraint_column_usage_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let mut rows = Vec::new();
    for table in catalog.tables.values() {
        let constraint_schema = schema_of(catalog, table.schema);
        for constraint in &table.constraints {
            let (used_table, columns): (&TableDef, Vec<u16>) = match &constraint.kind {
                ConstraintKind::PrimaryKey { columns, .. }
                | ConstraintKind::Unique { columns, .. } => (table, columns.clone()),
                ConstraintKind::Check { expression } => (
                    table,
                    super::constraint_tables::columns_in_expression(table, expression)
                        .into_iter()
                        .map(|a| a as u16)
                        .collect(),
                ),
                ConstraintKind::ForeignKey {
                    referenced_table,
                    referenced_columns,
                    ..
                } => match catalog.tables.get(referenced_table) {
                    Some(t) => (t, referenced_columns.clone()),
                    None => continue,
                },
            };
            for attnum in columns {
                let Some(column) = used_table.column(attnum) else {
                    continue;
                };
                rows.push(vec![
                    name(ctx.database),
                    schema_of(catalog, used_table.schema),
                    name(used_table.name.clone()),
                    name(column.name.clone()),
                    name(ctx.database),
                    constraint_schema.clone(),
                    name(constraint.name.clone()),
                ]);
            }
        }
    }
    Ok(rows)
}

fn check_constraints_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let format = SessionFormat::default();
    let deparse_ctx = DeparseCtx {
        catalog,
        format: &format,
    };
    let mut rows = Vec::new();
    for table in catalog.tables.values() {
        let schema = schema_of(catalog, table.schema);
        for constraint in &table.constraints {
            if !matches!(constraint.kind, ConstraintKind::Check { .. }) {
                continue;
            }
            let clause = constraint_definition(&deparse_ctx, constraint.oid, false)
                .map(|d| d.trim_start_matches("CHECK ").to_string());
            rows.push(vec![
                name(ctx.database),
                schema.clone(),
                name(constraint.name.clone()),
                text_or_null(clause),
            ]);
        }
        for column in table.live_columns().filter(|c| c.not_null) {
            rows.push(vec![
                name(ctx.database),
                schema.clone(),
                name(not_null_name(catalog, table, column.attnum)),
                text(format!("{} IS NOT NULL", quote_identifier(&column.name))),
            ]);
        }
    }
    Ok(rows)
}

fn sequences_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    Ok(catalog
        .sequences
        .values()
        .map(|s| {
            vec![
                name(ctx.database),
                schema_of(catalog, s.schema),
                name(s.name.clone()),
                text("bigint"),
                int4(64),
                int4(2),
                int4(0),
                text(s.start.to_string()),
                text(s.min_value.to_string()),
                text(s.max_value.to_string()),
                text(s.increment.to_string()),
                yes_no(s.cycle),
            ]
        })
        .collect())
}

fn character_sets_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(vec![vec![
        Value::Null,
        Value::Null,
        name("UTF8"),
        name("UCS"),
        name("UTF8"),
        name(ctx.database),
        name("pg_catalog"),
        Value::Null,
    ]])
}
