//! `pg_namespace`, `pg_database`, `pg_tablespace`, `pg_settings`, `pg_description`,
//! `pg_shdescription`, `pg_seclabel`, `pg_extension`, `pg_policy`, and the catalogs of
//! features custos does not have (event triggers, foreign tables, publications), empty.
//!
//! Comments and security labels name their object by kind (`table`, `column`, `schema`,
//! `function`, `constraint`, `role`...); the kind picks the catalog (`classoid`) PostgreSQL
//! files them under, and roles, databases and tablespaces go to `pg_shdescription`.

use storage::catalog::Catalog;
use storage::types::{Row, Value};

use super::datum::*;
use super::names::{bootstrap_owner, shown_schema_owner};
use super::oids::{exposed_namespace_oid, public_namespace_oid, rel, tablespace, FIRST_EXTENSION};
use super::privileges::{database_acl, namespace_acl};
use super::type_tables::no_rows;
use super::{
    table, SystemCtx, SystemTable, DATABASE_OID, INFORMATION_SCHEMA_NAMESPACE,
    PG_CATALOG_NAMESPACE, PG_TOAST_NAMESPACE,
};
use crate::error::SqlResult;
use crate::pgtype::SqlType;

/// Encoding number of UTF8.
pub const UTF8_ENCODING: i32 = 6;

pub(super) fn tables() -> Vec<SystemTable> {
    let acl = || array_of(SqlType::AclItem);
    vec![
        table(
            "pg_catalog",
            "pg_namespace",
            rel::PG_NAMESPACE,
            vec![
                ("oid", OID),
                ("nspname", NAME),
                ("nspowner", OID),
                ("nspacl", acl()),
            ],
            pg_namespace_rows,
        ),
        table(
            "pg_catalog",
            "pg_database",
            rel::PG_DATABASE,
            vec![
                ("oid", OID),
                ("datname", NAME),
                ("datdba", OID),
                ("encoding", INT4),
                ("datlocprovider", CHAR),
                ("datistemplate", BOOL),
                ("datallowconn", BOOL),
                ("datconnlimit", INT4),
                ("datfrozenxid", XID),
                ("datminmxid", XID),
                ("dattablespace", OID),
                ("datcollate", TEXT),
                ("datctype", TEXT),
                ("daticulocale", TEXT),
                ("daticurules", TEXT),
                ("datcollversion", TEXT),
                ("datacl", acl()),
            ],
            pg_database_rows,
        ),
        table(
            "pg_catalog",
            "pg_tablespace",
            rel::PG_TABLESPACE,
            vec![
                ("oid", OID),
                ("spcname", NAME),
                ("spcowner", OID),
                ("spcacl", acl()),
                ("spcoptions", array_of(TEXT)),
            ],
            pg_tablespace_rows,
        ),
        table(
            "pg_catalog",
            "pg_description",
            rel::PG_DESCRIPTION,
            vec![
                ("objoid", OID),
                ("classoid", OID),
                ("objsubid", INT4),
                ("description", TEXT),
            ],
            pg_description_rows,
        ),
        table(
            "pg_catalog",
            "pg_shdescription",
            rel::PG_SHDESCRIPTION,
            vec![("objoid", OID), ("classoid", OID), ("description", TEXT)],
            pg_shdescription_rows,
        ),
        table(
            "pg_catalog",
            "pg_seclabel",
            rel::PG_SECLABEL,
            vec![
                ("objoid", OID),
                ("classoid", OID),
                ("objsubid", INT4),
                ("provider", TEXT),
                ("label", TEXT),
            ],
            pg_seclabel_rows,
        ),
        table(
            "pg_catalog",
            "pg_seclabels",
            rel::FIRST_VIEW + 61,
            vec![
                ("objoid", OID),
                ("classoid", OID),
                ("objsubid", INT4),
                ("objtype", TEXT),
                ("objnamespace", OID),
                ("objname", TEXT),
                ("provider", TEXT),
                ("label", TEXT),
            ],
            pg_seclabels_rows,
        ),
        table(
            "pg_catalog",
            "pg_extension",
            rel::PG_EXTENSION,
            vec![
                ("oid", OID),
                ("extname", NAME),
                ("extowner", OID),
                ("extnamespace", OID),
                ("extrelocatable", BOOL),
                ("extversion", TEXT),
                ("extconfig", array_of(OID)),
                ("extcondition", array_of(TEXT)),
            ],
            pg_extension_rows,
        ),
        table(
            "pg_catalog",
            "pg_policy",
            rel::PG_POLICY,
            vec![
                ("oid", OID),
                ("polname", NAME),
                ("polrelid", OID),
                ("polcmd", CHAR),
                ("polpermissive", BOOL),
                ("polroles", array_of(OID)),
                ("polqual", NODE_TREE),
                ("polwithcheck", NODE_TREE),
            ],
            pg_policy_rows,
        ),
        table(
            "pg_catalog",
            "pg_event_trigger",
            rel::PG_EVENT_TRIGGER,
            vec![
                ("oid", OID),
                ("evtname", NAME),
                ("evtevent", NAME),
                ("evtowner", OID),
                ("evtfoid", OID),
                ("evtenabled", CHAR),
                ("evttags", array_of(TEXT)),
            ],
            no_rows,
        ),
        table(
            "pg_catalog",
            "pg_foreign_table",
            rel::PG_FOREIGN_TABLE,
            vec![
                ("ftrelid", OID),
                ("ftserver", OID),
                ("ftoptions", array_of(TEXT)),
            ],
            no_rows,
        ),
        table(
            "pg_catalog",
            "pg_foreign_server",
            rel::PG_FOREIGN_SERVER,
            vec![
                ("oid", OID),
                ("srvname", NAME),
                ("srvowner", OID),
                ("srvfdw", OID),
                ("srvtype", TEXT),
                ("srvversion", TEXT),
                ("srvacl", acl()),
                ("srvoptions", array_of(TEXT)),
            ],
            no_rows,
        ),
        table(
            "pg_catalog",
            "pg_publication",
            rel::PG_PUBLICATION,
            vec![
                ("oid", OID),
                ("pubname", NAME),
                ("pubowner", OID),
                ("puballtables", BOOL),
                ("pubinsert", BOOL),
                ("pubupdate", BOOL),
                ("pubdelete", BOOL),
                ("pubtruncate", BOOL),
                ("pubviaroot", BOOL),
            ],
            no_rows,
        ),
        table(
            "pg_catalog",
            "pg_publication_namespace",
            rel::PG_PUBLICATION_NAMESPACE,
            vec![("oid", OID), ("pnpubid", OID), ("pnnspid", OID)],
            no_rows,
        ),
        table(
            "pg_catalog",
            "pg_publication_rel",
            rel::PG_PUBLICATION_REL,
            vec![
                ("oid", OID),
                ("prpubid", OID),
                ("prrelid", OID),
                ("prqual", NODE_TREE),
                ("prattrs", SqlType::Int2Vector),
            ],
            no_rows,
        ),
    ]
}

fn pg_namespace_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let owner = bootstrap_owner(catalog, ctx.user);
    let mut rows = vec![
        vec![
            oid(PG_CATALOG_NAMESPACE),
            name("pg_catalog"),
            oid(owner),
            Value::Null,
        ],
        vec![
            oid(PG_TOAST_NAMESPACE),
            name("pg_toast"),
            oid(owner),
            Value::Null,
        ],
        vec![
            oid(INFORMATION_SCHEMA_NAMESPACE),
            name("information_schema"),
            oid(owner),
            Value::Null,
        ],
    ];
    for schema in catalog.schemas.values() {
        if matches!(
            schema.name.as_str(),
            "pg_catalog" | "pg_toast" | "information_schema"
        ) {
            continue;
        }
        let owner = shown_schema_owner(catalog, ctx.user, schema);
        rows.push(vec![
            oid(exposed_namespace_oid(catalog, schema.oid)),
            name(schema.name.clone()),
            oid(owner),
            text_array_or_null(namespace_acl(ctx, schema.oid, owner)),
        ]);
    }
    Ok(rows)
}

fn pg_database_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let owner = bootstrap_owner(ctx.catalog, ctx.user);
    Ok(vec![vec![
        oid(DATABASE_OID),
        name(ctx.database),
        oid(owner),
        int4(UTF8_ENCODING),
        ch('c'),
        boolean(false),
        boolean(true),
        int4(-1),
        oid(0),
        oid(1),
        oid(tablespace::DEFAULT),
        text("C.UTF-8"),
        text("C.UTF-8"),
        Value::Null,
        Value::Null,
        Value::Null,
        text_array_or_null(database_acl(ctx, owner)),
    ]])
}

fn pg_tablespace_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let owner = bootstrap_owner(ctx.catalog, ctx.user);
    Ok(vec![
        vec![
            oid(tablespace::DEFAULT),
            name("pg_default"),
            oid(owner),
            Value::Null,
            Value::Null,
        ],
        vec![
            oid(tablespace::GLOBAL),
            name("pg_global"),
            oid(owner),
            Value::Null,
            Value::Null,
        ],
    ])
}

/// Where an object of `kind` is filed: its catalog, and whether that catalog is shared.
pub(super) fn object_class(kind: &str) -> Option<(u32, bool)> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "table" | "view" | "sequence" | "index" | "relation" | "column" | "materialized view"
        | "foreign table" => (rel::PG_CLASS, false),
        "schema" => (rel::PG_NAMESPACE, false),
        "function" | "procedure" | "routine" | "aggregate" => (rel::PG_PROC, false),
        "constraint" => (rel::PG_CONSTRAINT, false),
        "type" | "domain" => (rel::PG_TYPE, false),
        "extension" => (rel::PG_EXTENSION, false),
        "policy" => (rel::PG_POLICY, false),
        "role" => (rel::PG_AUTHID, true),
        "database" => (rel::PG_DATABASE, true),
        "tablespace" => (rel::PG_TABLESPACE, true),
        _ => return None,
    })
}

/// The OID a comment or label shows for its object (2200 for `public`).
fn shown_object_oid(catalog: &Catalog, classoid: u32, object: u32) -> u32 {
    if classoid == rel::PG_NAMESPACE {
        exposed_namespace_oid(catalog, object)
    } else {
        object
    }
}

fn pg_description_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    Ok(catalog
        .comments
        .iter()
        .filter_map(|c| {
            let (classoid, shared) = object_class(&c.object_kind)?;
            (!shared).then(|| {
                vec![
                    oid(shown_object_oid(catalog, classoid, c.object)),
                    oid(classoid),
                    int4(i32::from(c.column)),
                    text(c.text.clone()),
                ]
            })
        })
        .collect())
}

fn pg_shdescription_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(ctx
        .catalog
        .comments
        .iter()
        .filter_map(|c| {
            let (classoid, shared) = object_class(&c.object_kind)?;
            shared.then(|| vec![oid(c.object), oid(classoid), text(c.text.clone())])
        })
        .collect())
}

fn pg_seclabel_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    Ok(catalog
        .security_labels
        .iter()
        .filter_map(|l| {
            // Labels on roles (shared objects) are pg_shseclabel's, as in PostgreSQL.
            let (classoid, shared) = object_class(&l.object_kind)?;
            if shared {
                return None;
            }
            Some(vec![
                oid(shown_object_oid(catalog, classoid, l.object)),
                oid(classoid),
                int4(i32::from(l.column)),
                text(l.provider.clone()),
                text(l.label.clone()),
            ])
        })
        .collect())
}

/// `pg_seclabels`: every label (roles included) with its object's kind and name, as
/// PostgreSQL's view shows them (relations of `public` unqualified).
fn pg_seclabels_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    use super::ident::quote_identifier;
    let catalog = ctx.catalog;
    let mut rows = Vec::new();
    for l in &catalog.security_labels {
        let Some((classoid, _)) = object_class(&l.object_kind) else {
            continue;
        };
        let (objtype, namespace, name) = if l.object_kind == "role" {
            let Some(role) = catalog.roles.get(&l.object) else {
                continue;
            };
            ("role", Value::Null, quote_identifier(&role.name))
        } else {
            let Some(t) = catalog.tables.get(&l.object) else {
                continue;
            };
            let schema = catalog.schemas.get(&t.schema).map(|s| s.name.as_str());
            let mut name = match schema {
                Some("public") | None => quote_identifier(&t.name),
                Some(s) => format!("{}.{}", quote_identifier(s), quote_identifier(&t.name)),
            };
            let objtype = if l.column > 0 {
                let column = t.column(l.column).map(|c| c.name.as_str()).unwrap_or("");
                name = format!("{name}.{}", quote_identifier(column));
                "column"
            } else {
                "table"
            };
            (objtype, oid(exposed_namespace_oid(catalog, t.schema)), name)
        };
        rows.push(vec![
            oid(l.object),
            oid(classoid),
            int4(i32::from(l.column)),
            text(objtype),
            namespace,
            text(name),
            text(l.provider.clone()),
            text(l.label.clone()),
        ]);
    }
    Ok(rows)
}

/// The OID `pg_extension` shows for the extension at `position` in the catalog's map.
pub(super) fn extension_oid(position: usize) -> u32 {
    FIRST_EXTENSION + position as u32
}

fn pg_extension_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    let catalog = ctx.catalog;
    let owner = bootstrap_owner(catalog, ctx.user);
    let namespace = public_namespace_oid(catalog);
    Ok(catalog
        .extensions
        .iter()
        .enumerate()
        .map(|(i, (extname, version))| {
            vec![
                oid(extension_oid(i)),
                name(extname.clone()),
                oid(owner),
                oid(namespace),
                boolean(true),
                text(version.clone()),
                Value::Null,
                Value::Null,
            ]
        })
        .collect())
}

/// `polcmd` letter of a policy command.
pub(super) fn policy_command_letter(command: &str) -> char {
    match command.to_ascii_uppercase().as_str() {
        "SELECT" => 'r',
        "INSERT" => 'a',
        "UPDATE" => 'w',
        "DELETE" => 'd',
        _ => '*',
    }
}

fn pg_policy_rows(ctx: &SystemCtx) -> SqlResult<Vec<Row>> {
    Ok(ctx
        .catalog
        .policies
        .values()
        .map(|p| {
            let roles = if p.roles.is_empty() {
                vec![0]
            } else {
                p.roles.clone()
            };
            vec![
                oid(p.oid),
                name(p.name.clone()),
                oid(p.table),
                ch(policy_command_letter(&p.command)),
                boolean(p.permissive),
                oid_vector(roles),
                text_or_null(p.using.clone()),
                text_or_null(p.with_check.clone()),
            ]
        })
        .collect())
}
