//! `pg_index`, `pg_constraint`, `pg_attrdef`, `pg_sequence`, `pg_rewrite`, `pg_depend`, and
//! the relation catalogs custos has nothing in (`pg_inherits`, `pg_trigger`,
//! `pg_partitioned_table`, `pg_statistic_ext`).
//!
//! Expressions (defaults, CHECK clauses, index expressions and predicates, view queries) are
//! kept as SQL text where PostgreSQL keeps a node tree; `pg_get_expr` prints them as
//! PostgreSQL prints the tree (see [`crate::deparse`]). A `DEFAULT NULL` has no `pg_attrdef`
//! row, as in PostgreSQL.
//! `pg_constraint.conkey` of a CHECK lists the columns whose names appear in the expression.

use storage::catalog::{
    Catalog, ConstraintDef, ConstraintKind, IndexDef, ReferentialAction, TableDef,
};
use storage::types::{Row, Value};

use super::access_tables::resolve_opclass;
use super::class_tables::{index_am, index_key_column, index_keys};
use super::datum::*;
use super::oids::{attrdef_oid, exposed_namespace_oid, rel, rewrite_oid};
use super::type_tables::no_rows;
use super::types::type_info;
use super::{table, SystemCtx, SystemTable};
use crate::deparse::attrdef_expression;
use crate::error::SqlResult;
use crate::pgtype::SqlType;

pub(super) fn tables() -> Vec<SystemTable> {
    vec![
        table(
            "pg_catalog",
            "pg_index",
            rel::PG_INDEX,
            vec![
                ("indexrelid", OID),
                ("indrelid", OID),
                ("indnatts", INT2),
                ("indnkeyatts", INT2),
                ("indisunique", BOOL),
                ("indnullsnotdistinct", BOOL),
                ("indisprimary", BOOL),
                ("indisexclusion", BOOL),
                ("indimmediate", BOOL),
                ("indisclustered", BOOL),
                ("indisvalid", BOOL),
                ("indcheckxmin", BOOL),
                ("indisready", BOOL),
                ("indislive", BOOL),
                ("indisreplident", BOOL),
                ("indkey", SqlType::Int2Vector),
                ("indcollation", SqlType::OidVector),
                ("indclass", SqlType::OidVector),
                ("indoption", SqlType::Int2Vector),
                ("indexprs", NODE_TREE),
                ("indpred", NODE_TREE),
            ],
            pg_index_rows,
        ),
        table(
            "pg_catalog",
            "pg_constraint",
            rel::PG_CONSTRAINT,
            vec![
                ("oid", OID),
                ("conname", NAME),
                ("connamespace", OID),
                ("contype", CHAR),
                ("condeferrable", BOOL),
                ("condeferred", BOOL),
                ("convalidated", BOOL),
                ("conrelid", OID),
                ("contypid", OID),
                ("conindid", OID),
                ("conparentid", OID),
                ("confrelid", OID),
                ("confupdtype", CHAR),
                ("confdeltype", CHAR),
                ("confmatchtype", CHAR),
                ("conislocal", BOOL),
                ("coninhcount", INT2),
                ("connoinherit", BOOL),
                ("conkey", array_of(INT2)),
                ("confkey", array_of(INT2)),
                ("conpfeqop", array_of(OID)),
                ("conppeqop", array_of(OID)),
                ("conffeqop", array_of(OID)),
                ("confdelsetcols", array_of(INT2)),
                ("conexclop", array_of(OID)),
                ("conbin", NODE_TREE),
            ],
            pg_constraint_rows,
        ),
        table(
            "pg_catalog",
            "pg_attrdef",
            rel::PG_ATTRDEF,
            vec![
                ("oid", OID),
                ("adrelid", OID),
                ("adnum", INT2),
                ("adbin", NODE_TREE),
            ],
            pg_attrdef_rows,
        ),
        table(
            "pg_catalog",
            "pg_sequence",
            rel::PG_SEQUENCE,
            vec![
                ("seqrelid", OID),
                ("seqtypid", OID),
                ("seqstart", INT8),
                ("seqincrement", INT8),
                ("seqmax", INT8),
                ("seqmin", INT8),
                ("seqcache", INT8),
                ("seqcycle", BOOL),
            ],
            pg_sequence_rows,
        ),
        table(
            "pg_catalog",
            "pg_rewrite",
            rel::PG_REWRITE,
            vec![
                ("oid", OID),
                ("rulename", NAME),
                ("ev_class", OID),
                ("ev_type", CHAR),
                ("ev_enabled", CHAR),
                ("is_instead", BOOL),
                ("ev_qual", NODE_TREE),
                ("ev_action", NODE_TREE),
            ],
            pg_rewrite_rows,
        ),
        table(
            "pg_catalog",
            "pg_depend",
            rel::PG_DEPEND,
            vec![
                ("classid", OID),
                ("objid", OID),
                ("objsubid", INT4),
                ("refclassid", OID),
                ("refobjid", OID),
                ("refobjsubid", INT4),
                ("deptype", CHAR),
            ],
            pg_depend_rows,
        ),
        table(
            "pg_catalog",
            "pg_inherits",
            rel::PG_INHERITS,
            vec![
                ("inhrelid", OID),
                ("inhparent", OID),
                ("inhseqno", INT4),
                ("inhdetachpending", BOOL),
            ],
            no_rows,
        ),
        table(
            "pg_catalog",
            "pg_trigger",
            rel::PG_TRIGGER,
            vec![
                ("oid", OID),
                ("tgrelid", OID),
                ("tgparentid", OID),
                ("tgname", NAME),
                ("tgfoid", OID),
                ("tgtype", INT2),
                ("tgenabled", CHAR),
                ("tgisinternal", BOOL),
                ("tgconstrrelid", OID),
                ("tgconstrindid", OID),
                ("tgconstraint", OID),
                ("tgdeferrable", BOOL),
                ("tginitdeferred", BOOL),
                ("tgnargs", INT2),
                ("tgattr", SqlType::Int2Vector),
                ("tgargs", SqlType::Bytea),
                ("tgqual", NODE_TREE),
                ("tgoldtable", NAME),
                ("tgnewtable", NAME),
            ],
            crate::plpgsql::catalog_rows::pg_trigger_rows,
        ),
        table(
            "pg_catalog",
            "pg_partitioned_table",
            rel::PG_PARTITIONED_TABLE,
            vec![
                ("partrelid", OID),
                ("partstrat", CHAR),
                ("partnatts", INT2),
                ("partdefid", OID),
                ("partattrs", SqlType::Int2Vector),
                ("partclass", SqlType::OidVector),
                ("partcollation", SqlType::OidVector),
                ("partexprs", NODE_TREE),
            ],
            no_rows,
        ),
        table(
            "pg_catalog",
            "pg_statistic_ext",
            rel::PG_STATISTIC_EXT,
            vec![
                ("oid", OID),
                ("stxrelid", OID),
                ("stxname", NAME),
                ("stxnamespace", OID),
                ("stxowner", OID),
                ("stxstattarget", INT4),
                ("stxkeys", SqlType::Int2Vector),
                ("stxkind", array_of(CHAR)),
                ("stxexprs", NODE_TREE),
            ],
            no_rows,
        ),
    ]
}

/// The opclass OIDs of an index's keys.
pub(super) fn index_opclasses(catalog: &Catalog, index: &IndexDef) -> Vec<u32> {
    let method = index_am(&index.method);
    index_keys(index)
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let (_, sql_type) = index_key_column(catalog, index, key, i);
            let named = index.opclasses.get(i).map_or("", String::as_str);
            resolve_opclass(method, named, sql_type.map_or(0, |t| t.oid()))
        })
        .collect()
}

fn pg_index_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let mut rows = Vec::new();
    for index in catalog.indexes.values() {
        let keys = index_keys(index);
        let natts = i16::try_from(keys.len()).unwrap_or(i16::MAX);
        let collations: Vec<u32> = keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let (_, sql_type) = index_key_column(catalog, index, key, i);
                sql_type
                    .and_then(|t| type_info(t.oid()))
                    .map_or(0, |info| info.collation)
            })
            .collect();
        let expressions: Vec<&str> = keys.iter().filter_map(|k| k.expression).collect();
        rows.push(vec![
            oid(index.oid),
            oid(index.table),
            int2(natts),
            int2(natts),
            boolean(index.unique),
            boolean(false),
            boolean(index.primary),
            boolean(false),
            boolean(true),
            boolean(false),
            boolean(true),
            boolean(false),
            boolean(true),
            boolean(true),
            boolean(false),
            int2_vector(keys.iter().map(|k| k.attnum as i16)),
            oid_vector(collations),
            oid_vector(index_opclasses(catalog, index)),
            int2_vector(keys.iter().map(|_| 0)),
            if expressions.is_empty() {
                Value::Null
            } else {
                text(expressions.join(", "))
            },
            text_or_null(index.predicate.clone()),
        ]);
    }
    Ok(rows)
}

/// `confupdtype` / `confdeltype` letters.
pub(super) fn action_letter(action: ReferentialAction) -> char {
    match action {
        ReferentialAction::NoAction => 'a',
        ReferentialAction::Restrict => 'r',
        ReferentialAction::Cascade => 'c',
        ReferentialAction::SetNull => 'n',
        ReferentialAction::SetDefault => 'd',
    }
}

/// The live columns of `table` whose names appear as identifiers in `expression`.
pub(super) fn columns_in_expression(table: &TableDef, expression: &str) -> Vec<i16> {
    let mut words = Vec::new();
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Skip a string literal ('' is an escaped quote and re-enters the loop).
            for d in chars.by_ref() {
                if d == '\'' {
                    break;
                }
            }
        } else if c == '"' {
            let mut word = String::new();
            for d in chars.by_ref() {
                if d == '"' {
                    break;
                }
                word.push(d);
            }
            words.push(word);
        } else if c.is_alphabetic() || c == '_' {
            let mut word = c.to_lowercase().to_string();
            while let Some(&d) = chars.peek() {
                if d.is_alphanumeric() || d == '_' || d == '$' {
                    word.extend(d.to_lowercase());
                    chars.next();
                } else {
                    break;
                }
            }
            words.push(word);
        }
    }
    table
        .live_columns()
        .filter(|c| words.contains(&c.name))
        .map(|c| c.attnum as i16)
        .collect()
}

/// The unique index of `table` on exactly `columns` (a foreign key's `conindid`).
pub(super) fn unique_index_on(catalog: &Catalog, table: u32, columns: &[u16]) -> u32 {
    catalog
        .indexes_of(table)
        .find(|i| {
            i.unique
                && i.columns.len() == columns.len()
                && columns.iter().all(|c| i.columns.contains(c))
        })
        .map_or(0, |i| i.oid)
}

fn attnums(columns: &[u16]) -> Value {
    int2_vector(columns.iter().map(|&c| c as i16))
}

fn constraint_row(catalog: &Catalog, table: &TableDef, constraint: &ConstraintDef) -> Row {
    let (contype, index, foreign) = match &constraint.kind {
        ConstraintKind::PrimaryKey { index, .. } => ('p', *index, None),
        ConstraintKind::Unique { index, .. } => ('u', *index, None),
        ConstraintKind::Check { .. } => ('c', 0, None),
        ConstraintKind::ForeignKey {
            referenced_table,
            referenced_columns,
            on_delete,
            on_update,
            ..
        } => (
            'f',
            unique_index_on(catalog, *referenced_table, referenced_columns),
            Some((
                *referenced_table,
                referenced_columns,
                *on_update,
                *on_delete,
            )),
        ),
    };
    let conkey = match &constraint.kind {
        ConstraintKind::PrimaryKey { columns, .. }
        | ConstraintKind::Unique { columns, .. }
        | ConstraintKind::ForeignKey { columns, .. } => attnums(columns),
        ConstraintKind::Check { expression } => {
            int2_vector(columns_in_expression(table, expression))
        }
    };
    let conbin = match &constraint.kind {
        ConstraintKind::Check { expression } => text(expression.clone()),
        _ => Value::Null,
    };
    vec![
        oid(constraint.oid),
        name(constraint.name.clone()),
        oid(exposed_namespace_oid(catalog, table.schema)),
        ch(contype),
        boolean(false),
        boolean(false),
        boolean(true),
        oid(table.oid),
        oid(0),
        oid(index),
        oid(0),
        oid(foreign.map_or(0, |f| f.0)),
        ch(foreign.map_or(' ', |f| action_letter(f.2))),
        ch(foreign.map_or(' ', |f| action_letter(f.3))),
        ch(if foreign.is_some() { 's' } else { ' ' }),
        boolean(true),
        int2(0),
        boolean(false),
        conkey,
        foreign.map_or(Value::Null, |f| attnums(f.1)),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
        conbin,
    ]
}

fn pg_constraint_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    Ok(catalog
        .tables
        .values()
        .flat_map(|t| {
            t.constraints
                .iter()
                .map(move |c| constraint_row(catalog, t, c))
        })
        .collect())
}

fn pg_attrdef_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let mut rows = Vec::new();
    for table in ctx.catalog.tables.values() {
        for column in table.live_columns() {
            let Some(expression) = attrdef_expression(ctx.catalog, table, column) else {
                continue;
            };
            rows.push(vec![
                oid(attrdef_oid(table.oid, column.attnum)),
                oid(table.oid),
                int2(column.attnum as i16),
                text(expression),
            ]);
        }
    }
    Ok(rows)
}

fn pg_sequence_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(ctx
        .catalog
        .sequences
        .values()
        .map(|s| {
            vec![
                oid(s.oid),
                oid(crate::pgtype::oid::INT8),
                int8(s.start),
                int8(s.increment),
                int8(s.max_value),
                int8(s.min_value),
                int8(1),
                boolean(s.cycle),
            ]
        })
        .collect())
}

fn pg_rewrite_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(ctx
        .catalog
        .views
        .values()
        .map(|v| {
            vec![
                oid(rewrite_oid(v.oid)),
                name("_RETURN"),
                oid(v.oid),
                ch('1'),
                ch('O'),
                boolean(true),
                text("<>"),
                text(v.query.clone()),
            ]
        })
        .collect())
}

/// Dependencies clients follow: sequences owned by columns (`a`, or `i` for identity),
/// indexes on their columns or constraint, constraints on their columns, defaults on their
/// column, view rules on their view.
fn pg_depend_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let dep =
        |classid: u32, objid: u32, refclassid: u32, refobjid: u32, refsub: i32, kind: char| {
            vec![
                oid(classid),
                oid(objid),
                int4(0),
                oid(refclassid),
                oid(refobjid),
                int4(refsub),
                ch(kind),
            ]
        };
    let mut rows = Vec::new();
    for s in catalog.sequences.values() {
        if let Some((table, attnum)) = s.owned_by {
            let identity = catalog
                .tables
                .get(&table)
                .and_then(|t| t.column(attnum))
                .is_some_and(|c| c.identity.is_some());
            let kind = if identity { 'i' } else { 'a' };
            rows.push(dep(
                rel::PG_CLASS,
                s.oid,
                rel::PG_CLASS,
                table,
                i32::from(attnum),
                kind,
            ));
        }
    }
    for table in catalog.tables.values() {
        for c in &table.constraints {
            let (columns, index): (Vec<u16>, u32) = match &c.kind {
                ConstraintKind::PrimaryKey { columns, index }
                | ConstraintKind::Unique { columns, index } => (columns.clone(), *index),
                ConstraintKind::ForeignKey { columns, .. } => (columns.clone(), 0),
                ConstraintKind::Check { expression } => (
                    columns_in_expression(table, expression)
                        .into_iter()
                        .map(|a| a as u16)
                        .collect(),
                    0,
                ),
            };
            for attnum in columns {
                rows.push(dep(
                    rel::PG_CONSTRAINT,
                    c.oid,
                    rel::PG_CLASS,
                    table.oid,
                    i32::from(attnum),
                    'a',
                ));
            }
            if index != 0 {
                rows.push(dep(rel::PG_CLASS, index, rel::PG_CONSTRAINT, c.oid, 0, 'i'));
            }
        }
        for column in table.live_columns() {
            if attrdef_expression(catalog, table, column).is_some() {
                let attrdef = attrdef_oid(table.oid, column.attnum);
                rows.push(dep(
                    rel::PG_ATTRDEF,
                    attrdef,
                    rel::PG_CLASS,
                    table.oid,
                    i32::from(column.attnum),
                    'a',
                ));
            }
        }
    }
    for index in catalog.indexes.values() {
        let backs_constraint = catalog.tables.get(&index.table).is_some_and(|t| {
            t.constraints.iter().any(|c| {
                matches!(&c.kind, ConstraintKind::PrimaryKey { index: i, .. } | ConstraintKind::Unique { index: i, .. } if *i == index.oid)
            })
        });
        if backs_constraint {
            continue;
        }
        for key in index_keys(index).iter().filter(|k| k.attnum > 0) {
            rows.push(dep(
                rel::PG_CLASS,
                index.oid,
                rel::PG_CLASS,
                index.table,
                i32::from(key.attnum),
                'a',
            ));
        }
    }
    for v in catalog.views.values() {
        rows.push(dep(
            rel::PG_REWRITE,
            rewrite_oid(v.oid),
            rel::PG_CLASS,
            v.oid,
            0,
            'i',
        ));
    }
    Ok(rows)
}
