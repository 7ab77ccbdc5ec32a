//! `pg_am`, `pg_opclass` and `pg_opfamily`: the access methods (PostgreSQL's, plus
//! pgvector's `hnsw` and `ivfflat`) and the operator classes indexes name in
//! `pg_index.indclass`, with the default operator class of each type per method.
//!
//! Each operator class has a family of its own with the same name (PostgreSQL groups
//! cross-type btree classes into shared families; nothing custos serves reads that).
//! pgvector's classes live in `public`, as the extension installs them there.

use storage::types::Row;

use super::datum::*;
use super::names::bootstrap_owner;
use super::oids::{am, public_namespace_oid, rel, FIRST_OPCLASS, FIRST_OPFAMILY};
use super::procs::support_proc_oid;
use super::{table, SystemCtx, SystemTable, PG_CATALOG_NAMESPACE};
use crate::error::SqlResult;
use crate::pgtype::oid as type_oid;

/// Access methods: OID, name, handler, type ('t' table, 'i' index).
const ACCESS_METHODS: &[(u32, &str, &str, char)] = &[
    (am::HEAP, "heap", "heap_tableam_handler", 't'),
    (am::BTREE, "btree", "bthandler", 'i'),
    (am::HASH, "hash", "hashhandler", 'i'),
    (am::GIST, "gist", "gisthandler", 'i'),
    (am::GIN, "gin", "ginhandler", 'i'),
    (am::SPGIST, "spgist", "spghandler", 'i'),
    (am::BRIN, "brin", "brinhandler", 'i'),
    (am::IVFFLAT, "ivfflat", "ivfflathandler", 'i'),
    (am::HNSW, "hnsw", "hnswhandler", 'i'),
];

/// An operator class.
pub struct OpClass {
    pub method: u32,
    pub name: &'static str,
    pub input_type: u32,
    pub default: bool,
}

const fn opclass(method: u32, name: &'static str, input_type: u32, default: bool) -> OpClass {
    OpClass {
        method,
        name,
        input_type,
        default,
    }
}

/// Every operator class; its OID is [`FIRST_OPCLASS`] + position.
pub const OPCLASSES: &[OpClass] = &[
    opclass(am::BTREE, "bool_ops", type_oid::BOOL, true),
    opclass(am::BTREE, "bytea_ops", type_oid::BYTEA, true),
    opclass(am::BTREE, "char_ops", type_oid::CHAR, true),
    opclass(am::BTREE, "name_ops", type_oid::NAME, true),
    opclass(am::BTREE, "int8_ops", type_oid::INT8, true),
    opclass(am::BTREE, "int2_ops", type_oid::INT2, true),
    opclass(am::BTREE, "int4_ops", type_oid::INT4, true),
    opclass(am::BTREE, "text_ops", type_oid::TEXT, true),
    opclass(am::BTREE, "oid_ops", type_oid::OID, true),
    opclass(am::BTREE, "oidvector_ops", type_oid::OIDVECTOR, true),
    opclass(am::BTREE, "float4_ops", type_oid::FLOAT4, true),
    opclass(am::BTREE, "float8_ops", type_oid::FLOAT8, true),
    opclass(am::BTREE, "bpchar_ops", type_oid::BPCHAR, true),
    opclass(am::BTREE, "date_ops", type_oid::DATE, true),
    opclass(am::BTREE, "time_ops", type_oid::TIME, true),
    opclass(am::BTREE, "timestamp_ops", type_oid::TIMESTAMP, true),
    opclass(am::BTREE, "timestamptz_ops", type_oid::TIMESTAMPTZ, true),
    opclass(am::BTREE, "interval_ops", type_oid::INTERVAL, true),
    opclass(am::BTREE, "numeric_ops", type_oid::NUMERIC, true),
    opclass(am::BTREE, "uuid_ops", type_oid::UUID, true),
    opclass(am::BTREE, "jsonb_ops", type_oid::JSONB, true),
    opclass(am::BTREE, "array_ops", type_oid::ANYARRAY, true),
    opclass(am::BTREE, "record_ops", type_oid::RECORD, true),
    opclass(am::BTREE, "text_pattern_ops", type_oid::TEXT, false),
    opclass(am::BTREE, "varchar_pattern_ops", type_oid::TEXT, false),
    opclass(am::BTREE, "bpchar_pattern_ops", type_oid::BPCHAR, false),
    opclass(am::BTREE, "vector_ops", type_oid::VECTOR, true),
    opclass(am::HASH, "int4_ops", type_oid::INT4, true),
    opclass(am::HASH, "int8_ops", type_oid::INT8, true),
    opclass(am::HASH, "text_ops", type_oid::TEXT, true),
    opclass(am::HASH, "uuid_ops", type_oid::UUID, true),
    opclass(am::GIN, "jsonb_ops", type_oid::JSONB, true),
    opclass(am::GIN, "jsonb_path_ops", type_oid::JSONB, false),
    opclass(am::GIN, "array_ops", type_oid::ANYARRAY, true),
    opclass(am::HNSW, "vector_l2_ops", type_oid::VECTOR, true),
    opclass(am::HNSW, "vector_ip_ops", type_oid::VECTOR, false),
    opclass(am::HNSW, "vector_cosine_ops", type_oid::VECTOR, false),
    opclass(am::HNSW, "vector_l1_ops", type_oid::VECTOR, false),
    opclass(am::IVFFLAT, "vector_l2_ops", type_oid::VECTOR, true),
    opclass(am::IVFFLAT, "vector_ip_ops", type_oid::VECTOR, false),
    opclass(am::IVFFLAT, "vector_cosine_ops", type_oid::VECTOR, false),
];

fn opclass_oid(position: usize) -> u32 {
    FIRST_OPCLASS + position as u32
}

fn opclass_namespace(catalog: &storage::catalog::Catalog, class: &OpClass) -> u32 {
    if class.name.starts_with("vector_") {
        public_namespace_oid(catalog)
    } else {
        PG_CATALOG_NAMESPACE
    }
}

/// The type an operator class is looked up under: `varchar` uses `text`'s classes, arrays
/// the `anyarray` ones.
fn opclass_input(column_type: u32) -> u32 {
    match column_type {
        type_oid::VARCHAR => type_oid::TEXT,
        t if super::types::type_info(t).is_some_and(|i| i.category == 'A' && i.len == -1) => {
            type_oid::ANYARRAY
        }
        t => t,
    }
}

/// The OID of the operator class `name` of access method `method`, or of its default class
/// for `column_type` when `name` is empty; 0 when there is none.
pub fn resolve_opclass(method: u32, name: &str, column_type: u32) -> u32 {
    let input = opclass_input(column_type);
    OPCLASSES
        .iter()
        .position(|c| {
            c.method == method
                && if name.is_empty() {
                    c.default && c.input_type == input
                } else {
                    c.name == name
                }
        })
        .map_or(0, opclass_oid)
}

/// Whether operator class `opclass_oid` is the default of its method for `column_type`
/// (`pg_get_indexdef` prints only non-default classes).
pub fn is_default_opclass(opclass: u32, column_type: u32) -> bool {
    let position = opclass.wrapping_sub(FIRST_OPCLASS) as usize;
    OPCLASSES
        .get(position)
        .is_some_and(|c| c.default && c.input_type == opclass_input(column_type))
}

/// The name of an operator class.
pub fn opclass_name(opclass: u32) -> Option<&'static str> {
    OPCLASSES
        .get(opclass.wrapping_sub(FIRST_OPCLASS) as usize)
        .map(|c| c.name)
}

/// The name of an access method.
pub fn access_method_name(method: u32) -> Option<&'static str> {
    ACCESS_METHODS
        .iter()
        .find(|(oid, ..)| *oid == method)
        .map(|(_, name, ..)| *name)
}

pub(super) fn tables() -> Vec<SystemTable> {
    vec![
        table(
            "pg_catalog",
            "pg_am",
            rel::PG_AM,
            vec![
                ("oid", OID),
                ("amname", NAME),
                ("amhandler", REGPROC),
                ("amtype", CHAR),
            ],
            pg_am_rows,
        ),
        table(
            "pg_catalog",
            "pg_opclass",
            rel::PG_OPCLASS,
            vec![
                ("oid", OID),
                ("opcmethod", OID),
                ("opcname", NAME),
                ("opcnamespace", OID),
                ("opcowner", OID),
                ("opcfamily", OID),
                ("opcintype", OID),
                ("opcdefault", BOOL),
                ("opckeytype", OID),
            ],
            pg_opclass_rows,
        ),
        table(
            "pg_catalog",
            "pg_opfamily",
            rel::PG_OPFAMILY,
            vec![
                ("oid", OID),
                ("opfmethod", OID),
                ("opfname", NAME),
                ("opfnamespace", OID),
                ("opfowner", OID),
            ],
            pg_opfamily_rows,
        ),
    ]
}

fn pg_am_rows(_: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(ACCESS_METHODS
        .iter()
        .map(|(am_oid, am_name, handler, kind)| {
            vec![
                oid(*am_oid),
                name(*am_name),
                oid(support_proc_oid(handler)),
                ch(*kind),
            ]
        })
        .collect())
}

fn pg_opclass_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let owner = bootstrap_owner(ctx.catalog, ctx.user);
    Ok(OPCLASSES
        .iter()
        .enumerate()
        .map(|(i, c)| {
            vec![
                oid(opclass_oid(i)),
                oid(c.method),
                name(c.name),
                oid(opclass_namespace(ctx.catalog, c)),
                oid(owner),
                oid(FIRST_OPFAMILY + i as u32),
                oid(c.input_type),
                boolean(c.default),
                oid(0),
            ]
        })
        .collect())
}

fn pg_opfamily_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let owner = bootstrap_owner(ctx.catalog, ctx.user);
    Ok(OPCLASSES
        .iter()
        .enumerate()
        .map(|(i, c)| {
            vec![
                oid(FIRST_OPFAMILY + i as u32),
                oid(c.method),
                name(c.name),
                oid(opclass_namespace(ctx.catalog, c)),
                oid(owner),
            ]
        })
        .collect())
}
