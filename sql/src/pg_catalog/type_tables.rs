//! `pg_type`, `pg_collation`, and the type catalogs custos has nothing in (`pg_enum`,
//! `pg_range`): built-in types only, see [`super::types`].

use storage::types::{Row, Value};

use super::datum::*;
use super::names::bootstrap_owner;
use super::oids::{builtin_namespace, collation, rel};
use super::procs::support_proc_oid;
use super::types::builtin_types;
use super::{table, SystemCtx, SystemTable, PG_CATALOG_NAMESPACE};
use crate::error::SqlResult;

pub(super) fn tables() -> Vec<SystemTable> {
    vec![
        table(
            "pg_catalog",
            "pg_type",
            rel::PG_TYPE,
            vec![
                ("oid", OID),
                ("typname", NAME),
                ("typnamespace", OID),
                ("typowner", OID),
                ("typlen", INT2),
                ("typbyval", BOOL),
                ("typtype", CHAR),
                ("typcategory", CHAR),
                ("typispreferred", BOOL),
                ("typisdefined", BOOL),
                ("typdelim", CHAR),
                ("typrelid", OID),
                ("typsubscript", REGPROC),
                ("typelem", OID),
                ("typarray", OID),
                ("typinput", REGPROC),
                ("typoutput", REGPROC),
                ("typreceive", REGPROC),
                ("typsend", REGPROC),
                ("typmodin", REGPROC),
                ("typmodout", REGPROC),
                ("typanalyze", REGPROC),
                ("typalign", CHAR),
                ("typstorage", CHAR),
                ("typnotnull", BOOL),
                ("typbasetype", OID),
                ("typtypmod", INT4),
                ("typndims", INT4),
                ("typcollation", OID),
                ("typdefaultbin", NODE_TREE),
                ("typdefault", TEXT),
                ("typacl", array_of(SqlType::AclItem)),
            ],
            pg_type_rows,
        ),
        table(
            "pg_catalog",
            "pg_enum",
            rel::PG_ENUM,
            vec![
                ("oid", OID),
                ("enumtypid", OID),
                ("enumsortorder", FLOAT4),
                ("enumlabel", NAME),
            ],
            no_rows,
        ),
        table(
            "pg_catalog",
            "pg_range",
            rel::PG_RANGE,
            vec![
                ("rngtypid", OID),
                ("rngsubtype", OID),
                ("rngmultitypid", OID),
                ("rngcollation", OID),
                ("rngsubopc", OID),
                ("rngcanonical", REGPROC),
                ("rngsubdiff", REGPROC),
            ],
            no_rows,
        ),
        table(
            "pg_catalog",
            "pg_collation",
            rel::PG_COLLATION,
            vec![
                ("oid", OID),
                ("collname", NAME),
                ("collnamespace", OID),
                ("collowner", OID),
                ("collprovider", CHAR),
                ("collisdeterministic", BOOL),
                ("collencoding", INT4),
                ("collcollate", TEXT),
                ("collctype", TEXT),
                ("colliculocale", TEXT),
                ("collicurules", TEXT),
                ("collversion", TEXT),
            ],
            pg_collation_rows,
        ),
    ]
}

use crate::pgtype::SqlType;

pub(super) fn no_rows(_: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(Vec::new())
}

fn regproc(name: &str) -> Value {
    oid(support_proc_oid(name))
}

fn pg_type_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let owner = bootstrap_owner(ctx.catalog, ctx.user);
    Ok(builtin_types()
        .iter()
        .map(|t| {
            vec![
                oid(t.oid),
                name(t.name.clone()),
                oid(builtin_namespace(ctx.catalog, t.namespace)),
                oid(owner),
                int2(t.len),
                boolean(t.byval),
                ch(t.kind),
                ch(t.category),
                boolean(t.preferred),
                boolean(true),
                ch(','),
                oid(0),
                regproc(t.subscript),
                oid(t.elem),
                oid(t.array),
                regproc(&t.input),
                regproc(&t.output),
                regproc(&t.receive),
                regproc(&t.send),
                regproc(t.modin),
                regproc(t.modout),
                regproc(t.analyze),
                ch(t.align),
                ch(t.storage),
                boolean(false),
                oid(0),
                int4(-1),
                int4(0),
                oid(t.collation),
                Value::Null,
                Value::Null,
                Value::Null,
            ]
        })
        .collect())
}

fn pg_collation_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let owner = bootstrap_owner(ctx.catalog, ctx.user);
    // The default collation is the database's, libc "C.UTF-8"; C and POSIX are byte order.
    let row = |collation_oid: u32,
               collname: &str,
               provider: char,
               encoding: i32,
               locale: Option<&str>| {
        vec![
            oid(collation_oid),
            name(collname),
            oid(PG_CATALOG_NAMESPACE),
            oid(owner),
            ch(provider),
            boolean(true),
            int4(encoding),
            text_or_null(locale),
            text_or_null(locale),
            Value::Null,
            Value::Null,
            Value::Null,
        ]
    };
    Ok(vec![
        row(collation::DEFAULT, "default", 'd', -1, None),
        row(collation::C, "C", 'c', -1, Some("C")),
        row(collation::POSIX, "POSIX", 'c', -1, Some("POSIX")),
    ])
}
