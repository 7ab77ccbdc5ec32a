//! `pg_class` and `pg_attribute`: every relation (system tables and views, user tables,
//! views, sequences, indexes) and its columns.
//!
//! User tables list every column ever defined, dropped ones as PostgreSQL names them
//! (`........pg.dropped.N........`, type 0). View columns have the types of the view's query
//! bound as it stands (the catalog keeps the query, not the types; `text` when it no longer
//! binds). Indexes list one column per key, named after
//! the table column (or `expr` for an expression). Sequences have PostgreSQL's three columns.
//! Row types are not modelled: `reltype` is 0.

use std::sync::Arc;

use storage::catalog::{Catalog, IdentityKind, IndexMethodDef, TableDef};
use storage::types::{Row, Value};

use super::datum::*;
use super::names::{bootstrap_owner, relations, Relation};
use super::oids::{am, rel};
use super::privileges::{column_acl, relation_acl};
use super::types::type_info;
use super::{table, SystemCtx, SystemTable};
use crate::bind::Binder;
use crate::deparse;
use crate::error::SqlResult;
use crate::pgtype::SqlType;
use crate::types::SessionFormat;

pub(super) fn tables() -> Vec<SystemTable> {
    vec![
        table(
            "pg_catalog",
            "pg_class",
            rel::PG_CLASS,
            vec![
                ("oid", OID),
                ("relname", NAME),
                ("relnamespace", OID),
                ("reltype", OID),
                ("reloftype", OID),
                ("relowner", OID),
                ("relam", OID),
                ("relfilenode", OID),
                ("reltablespace", OID),
                ("relpages", INT4),
                ("reltuples", FLOAT4),
                ("relallvisible", INT4),
                ("reltoastrelid", OID),
                ("relhasindex", BOOL),
                ("relisshared", BOOL),
                ("relpersistence", CHAR),
                ("relkind", CHAR),
                ("relnatts", INT2),
                ("relchecks", INT2),
                ("relhasrules", BOOL),
                ("relhastriggers", BOOL),
                ("relhassubclass", BOOL),
                ("relrowsecurity", BOOL),
                ("relforcerowsecurity", BOOL),
                ("relispopulated", BOOL),
                ("relreplident", CHAR),
                ("relispartition", BOOL),
                ("relrewrite", OID),
                ("relfrozenxid", XID),
                ("relminmxid", XID),
                ("relacl", array_of(SqlType::AclItem)),
                ("reloptions", array_of(TEXT)),
                ("relpartbound", NODE_TREE),
            ],
            pg_class_rows,
        ),
        table(
            "pg_catalog",
            "pg_attribute",
            rel::PG_ATTRIBUTE,
            vec![
                ("attrelid", OID),
                ("attname", NAME),
                ("atttypid", OID),
                ("attlen", INT2),
                ("attnum", INT2),
                ("attcacheoff", INT4),
                ("atttypmod", INT4),
                ("attndims", INT2),
                ("attbyval", BOOL),
                ("attalign", CHAR),
                ("attstorage", CHAR),
                ("attcompression", CHAR),
                ("attnotnull", BOOL),
                ("atthasdef", BOOL),
                ("atthasmissing", BOOL),
                ("attidentity", CHAR),
                ("attgenerated", CHAR),
                ("attisdropped", BOOL),
                ("attislocal", BOOL),
                ("attinhcount", INT2),
                ("attstattarget", INT2),
                ("attcollation", OID),
                ("attacl", array_of(SqlType::AclItem)),
                ("attoptions", array_of(TEXT)),
                ("attfdwoptions", array_of(TEXT)),
                ("attmissingval", SqlType::AnyArray),
            ],
            pg_attribute_rows,
        ),
    ]
}

/// The access method OID of an index method.
pub(super) fn index_am(method: &IndexMethodDef) -> u32 {
    match method {
        IndexMethodDef::Btree => am::BTREE,
        IndexMethodDef::Hnsw => am::HNSW,
        IndexMethodDef::IvfFlat => am::IVFFLAT,
    }
}

/// Catalogs PostgreSQL shares between databases (`relisshared`).
fn is_shared_catalog(oid: u32) -> bool {
    matches!(
        oid,
        rel::PG_AUTHID
            | rel::PG_AUTH_MEMBERS
            | rel::PG_DATABASE
            | rel::PG_TABLESPACE
            | rel::PG_SHDESCRIPTION
            | rel::PG_DB_ROLE_SETTING
    )
}

/// The facts `pg_class` needs that differ by kind of relation.
struct ClassFacts {
    owner: u32,
    am: u32,
    has_index: bool,
    /// Foreign keys are triggers in PostgreSQL: set for a table with or referenced by one.
    has_triggers: bool,
    natts: usize,
    checks: usize,
    row_security: bool,
    force_row_security: bool,
    options: Vec<String>,
    acl: Value,
}

fn class_facts(ctx: &SystemCtx, rel: &Relation, system_owner: u32) -> ClassFacts {
    let catalog = ctx.catalog;
    let plain = |owner: u32, natts: usize| ClassFacts {
        owner,
        am: 0,
        has_index: false,
        has_triggers: false,
        natts,
        checks: 0,
        row_security: false,
        force_row_security: false,
        options: Vec::new(),
        acl: Value::Null,
    };
    match rel {
        Relation::Table(t) => ClassFacts {
            am: am::HEAP,
            has_index: catalog.indexes_of(t.oid).next().is_some(),
            has_triggers: catalog.triggers.values().any(|x| x.table == t.oid)
                || catalog.tables.values().any(|other| {
                    other.constraints.iter().any(|c| match &c.kind {
                        storage::catalog::ConstraintKind::ForeignKey {
                            referenced_table, ..
                        } => other.oid == t.oid || *referenced_table == t.oid,
                        _ => false,
                    })
                }),
            checks: t
                .constraints
                .iter()
                .filter(|c| matches!(c.kind, storage::catalog::ConstraintKind::Check { .. }))
                .count(),
            row_security: t.row_security,
            force_row_security: t.force_row_security,
            options: t.options.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            acl: text_array_or_null(relation_acl(ctx, t.oid, t.owner, 'r')),
            ..plain(t.owner, t.columns.len())
        },
        Relation::View(v) => ClassFacts {
            acl: text_array_or_null(relation_acl(ctx, v.oid, v.owner, 'v')),
            ..plain(v.owner, v.column_names.len())
        },
        Relation::Sequence(s) => ClassFacts {
            am: 0,
            acl: text_array_or_null(relation_acl(ctx, s.oid, s.owner, 'S')),
            ..plain(s.owner, 3)
        },
        Relation::Index(i) => ClassFacts {
            am: index_am(&i.method),
            options: i.options.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            ..plain(
                catalog
                    .tables
                    .get(&i.table)
                    .map_or(system_owner, |t| t.owner),
                index_keys(i).len(),
            )
        },
        Relation::System(s) => ClassFacts {
            am: if rel.kind() == 'r' { am::HEAP } else { 0 },
            ..plain(system_owner, s.columns.len())
        },
    }
}

fn pg_class_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let system_owner = bootstrap_owner(catalog, ctx.user);
    let mut rows = Vec::new();
    for rel in relations(catalog) {
        let facts = class_facts(ctx, &rel, system_owner);
        let kind = rel.kind();
        let has_storage = kind != 'v';
        let shared = matches!(rel, Relation::System(s) if is_shared_catalog(s.oid));
        rows.push(vec![
            oid(rel.oid()),
            name(rel.name()),
            oid(rel.namespace(catalog)),
            oid(0),
            oid(0),
            oid(facts.owner),
            oid(facts.am),
            oid(if has_storage { rel.oid() } else { 0 }),
            oid(0),
            int4(0),
            float4(if has_storage { -1.0 } else { 0.0 }),
            int4(0),
            oid(0),
            boolean(facts.has_index),
            boolean(shared),
            ch('p'),
            ch(kind),
            int2(i16::try_from(facts.natts).unwrap_or(i16::MAX)),
            int2(i16::try_from(facts.checks).unwrap_or(i16::MAX)),
            boolean(kind == 'v'),
            boolean(facts.has_triggers),
            boolean(false),
            boolean(facts.row_security),
            boolean(facts.force_row_security),
            boolean(true),
            ch(if kind == 'r' { 'd' } else { 'n' }),
            boolean(false),
            oid(0),
            oid(0),
            oid(0),
            facts.acl,
            text_array_or_null(facts.options),
            Value::Null,
        ]);
    }
    Ok(rows)
}

/// One key of an index: a table column (attnum > 0) or an expression (attnum 0).
pub(super) struct IndexKey<'a> {
    pub attnum: u16,
    pub expression: Option<&'a str>,
}

/// The keys of an index in order. `columns` holds attnums with 0 standing for the next of
/// `expressions`; expressions not claimed by a 0 follow the columns.
pub(super) fn index_keys(index: &storage::catalog::IndexDef) -> Vec<IndexKey<'_>> {
    let mut expressions = index.expressions.iter();
    let mut keys: Vec<IndexKey> = index
        .columns
        .iter()
        .map(|&attnum| IndexKey {
            attnum,
            expression: if attnum == 0 {
                expressions.next().map(String::as_str)
            } else {
                None
            },
        })
        .collect();
    keys.extend(expressions.map(|e| IndexKey {
        attnum: 0,
        expression: Some(e),
    }));
    keys
}

/// A column as `pg_attribute` shows it.
struct Attribute {
    relid: u32,
    name: String,
    sql_type: Option<SqlType>,
    attnum: i16,
    not_null: bool,
    has_default: bool,
    has_missing: bool,
    identity: char,
    generated: char,
    acl: Value,
}

impl Attribute {
    fn plain(relid: u32, name: impl Into<String>, sql_type: SqlType, attnum: usize) -> Attribute {
        Attribute {
            relid,
            name: name.into(),
            sql_type: Some(sql_type),
            attnum: i16::try_from(attnum).unwrap_or(i16::MAX),
            not_null: false,
            has_default: false,
            has_missing: false,
            identity: '\0',
            generated: '\0',
            acl: Value::Null,
        }
    }

    fn row(self) -> Row {
        let (type_oid, typmod, ndims) = match &self.sql_type {
            Some(t) => (t.oid(), t.typmod(), i16::from(t.is_array())),
            None => (0, -1, 0),
        };
        let info = type_info(type_oid);
        vec![
            oid(self.relid),
            name(self.name),
            oid(type_oid),
            int2(info.map_or(-1, |i| i.len)),
            int2(self.attnum),
            int4(-1),
            int4(typmod),
            int2(ndims),
            boolean(info.is_some_and(|i| i.byval)),
            ch(info.map_or('i', |i| i.align)),
            ch(info.map_or('x', |i| i.storage)),
            ch('\0'),
            boolean(self.not_null),
            boolean(self.has_default),
            boolean(self.has_missing),
            ch(self.identity),
            ch(self.generated),
            boolean(self.sql_type.is_none()),
            boolean(true),
            int2(0),
            int2(-1),
            oid(info.map_or(0, |i| i.collation)),
            self.acl,
            Value::Null,
            Value::Null,
            Value::Null,
        ]
    }
}

fn table_attributes(ctx: &SystemCtx, table: &TableDef, out: &mut Vec<Row>) {
    for column in &table.columns {
        let attnum = usize::from(column.attnum);
        if column.dropped {
            out.push(
                Attribute {
                    sql_type: None,
                    ..Attribute::plain(
                        table.oid,
                        format!("........pg.dropped.{attnum}........"),
                        SqlType::Int4,
                        attnum,
                    )
                }
                .row(),
            );
            continue;
        }
        out.push(
            Attribute {
                not_null: column.not_null,
                has_default: deparse::attrdef_expression(ctx.catalog, table, column).is_some(),
                has_missing: !column.missing_value.is_null(),
                identity: match column.identity {
                    Some(IdentityKind::Always) => 'a',
                    Some(IdentityKind::ByDefault) => 'd',
                    None => '\0',
                },
                generated: if column.generated.is_some() {
                    's'
                } else {
                    '\0'
                },
                acl: text_array_or_null(column_acl(ctx, table, column.attnum)),
                ..Attribute::plain(
                    table.oid,
                    column.name.clone(),
                    SqlType::from_data_type(&column.data_type),
                    attnum,
                )
            }
            .row(),
        );
    }
}

/// The name and type of index key `position` (from 0).
pub(super) fn index_key_column(
    catalog: &Catalog,
    index: &storage::catalog::IndexDef,
    key: &IndexKey,
    position: usize,
) -> (String, Option<SqlType>) {
    let column = catalog
        .tables
        .get(&index.table)
        .and_then(|t| t.column(key.attnum))
        .filter(|_| key.attnum > 0);
    match column {
        Some(c) => (c.name.clone(), Some(SqlType::from_data_type(&c.data_type))),
        None if position == 0 => ("expr".to_string(), None),
        None => (format!("expr{position}"), None),
    }
}

/// The column types of a view's query, bound in a context of its own; `None` when it does
/// not bind.
fn view_column_types(ctx: &SystemCtx, catalog: &Arc<Catalog>, query: &str) -> Option<Vec<SqlType>> {
    let statement = crate::parse::parse_one(query).ok()?;
    let sqlparser::ast::Statement::Query(q) = statement else {
        return None;
    };
    let format = SessionFormat::default();
    let setting = |name: &str| ctx.setting(name).map(str::to_string);
    let mut binder = Binder::new(
        Arc::clone(catalog),
        &format,
        ctx.user,
        ctx.search_path(),
        Vec::new(),
        &setting,
    );
    let (_, columns) = binder.bind_query(&q).ok()?;
    Some(columns.into_iter().map(|c| c.sql_type).collect())
}

fn pg_attribute_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    // The binder reads a shared catalog: one copy per read, and only when there are views.
    let shared = (!catalog.views.is_empty()).then(|| Arc::new(catalog.clone()));
    let mut rows = Vec::new();
    for rel in relations(catalog) {
        match rel {
            Relation::Table(t) => table_attributes(ctx, t, &mut rows),
            Relation::View(v) => {
                let types = shared
                    .as_ref()
                    .and_then(|c| view_column_types(ctx, c, &v.query))
                    .unwrap_or_default();
                for (i, column) in v.column_names.iter().enumerate() {
                    let sql_type = types.get(i).cloned().unwrap_or(SqlType::Text);
                    rows.push(Attribute::plain(v.oid, column.clone(), sql_type, i + 1).row());
                }
            }
            Relation::Sequence(s) => {
                for (i, (column, sql_type)) in [
                    ("last_value", SqlType::Int8),
                    ("log_cnt", SqlType::Int8),
                    ("is_called", SqlType::Bool),
                ]
                .into_iter()
                .enumerate()
                {
                    rows.push(
                        Attribute {
                            not_null: true,
                            ..Attribute::plain(s.oid, column, sql_type, i + 1)
                        }
                        .row(),
                    );
                }
            }
            Relation::Index(index) => {
                for (i, key) in index_keys(index).iter().enumerate() {
                    let (column, sql_type) = index_key_column(catalog, index, key, i);
                    rows.push(
                        Attribute::plain(
                            index.oid,
                            column,
                            sql_type.unwrap_or(SqlType::Text),
                            i + 1,
                        )
                        .row(),
                    );
                }
            }
            Relation::System(s) => {
                for (i, (column, sql_type)) in s.columns.iter().enumerate() {
                    rows.push(Attribute::plain(s.oid, *column, sql_type.clone(), i + 1).row());
                }
            }
        }
    }
    Ok(rows)
}
