//! COMMENT ON { TABLE | VIEW | SEQUENCE | INDEX | COLUMN | SCHEMA | FUNCTION | ROLE |
//! DATABASE } name IS 'text' | NULL.
//!
//! Comments are `CommentDef`s in the catalog (one per object and column; NULL or an empty
//! string removes it), which `pg_description` and `obj_description` / `col_description`
//! read. The object must exist and be of the kind named, as in PostgreSQL.

use sqlparser::ast::{self, CommentObject};
use storage::catalog::{AttNum, CommentDef, Oid};

use crate::bind::{object_name_parts, split_name};
use crate::catalog_access::{resolve_relation, Relation};
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};

pub fn comment(
    session: &mut Session,
    object_type: &CommentObject,
    name: &ast::ObjectName,
    text: Option<&str>,
    sql: &str,
) -> SqlResult<()> {
    let (kind, object, column) = match object_type {
        CommentObject::Table => ("table", relation(session, name, "table")?, 0),
        CommentObject::View => ("view", relation(session, name, "view")?, 0),
        CommentObject::Sequence => ("sequence", relation(session, name, "sequence")?, 0),
        CommentObject::Index => ("index", index(session, name)?, 0),
        CommentObject::Column => {
            let (oid, attnum) = column(session, name)?;
            ("column", oid, attnum)
        }
        CommentObject::Schema => {
            let n = object_name_parts(name).join(".");
            let schema = session.catalog().schema_by_name(&n).map(|s| s.oid);
            let oid = schema.ok_or_else(|| {
                SqlError::new(
                    code::INVALID_SCHEMA_NAME,
                    format!("schema \"{n}\" does not exist"),
                )
            })?;
            ("schema", oid, 0)
        }
        CommentObject::Function => {
            let types = super::fallback::function_argument_types(sql)?;
            let oid = super::functions::find_function(session, name, types.as_deref(), false)?
                .ok_or_else(|| SqlError::internal("function lookup gave nothing"))?;
            ("function", oid, 0)
        }
        CommentObject::Role | CommentObject::User => {
            let n = object_name_parts(name).join(".");
            let role = session
                .catalog()
                .roles
                .values()
                .find(|r| r.name == n)
                .map(|r| r.oid);
            let oid = role.ok_or_else(|| {
                SqlError::new(
                    code::UNDEFINED_OBJECT,
                    format!("role \"{n}\" does not exist"),
                )
            })?;
            ("role", oid, 0)
        }
        CommentObject::Database => {
            let n = object_name_parts(name).join(".");
            if n != crate::engine::DATABASE_NAME {
                return Err(SqlError::new(
                    code::INVALID_CATALOG_NAME,
                    format!("database \"{n}\" does not exist"),
                ));
            }
            ("database", crate::pg_catalog::DATABASE_OID, 0)
        }
        other => return Err(SqlError::unsupported(format!("COMMENT ON {other}"))),
    };
    let catalog = session.transaction().catalog_mut();
    catalog.comments.retain(|c| {
        !(c.object == object && c.column == column && same_class(&c.object_kind, kind))
    });
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        catalog.comments.push(CommentDef {
            object_kind: kind.into(),
            object,
            column,
            text: text.to_string(),
        });
    }
    Ok(())
}

/// Relations share one OID space: a comment on a table and one "on the view" of the same
/// OID are the same comment.
fn same_class(a: &str, b: &str) -> bool {
    let relation = |k: &str| matches!(k, "table" | "view" | "sequence" | "index");
    a == b || (relation(a) && relation(b))
}

fn relation(session: &Session, name: &ast::ObjectName, kind: &str) -> SqlResult<Oid> {
    let (schema, rel) = split_name(name)?;
    let catalog = session.catalog();
    let path = session.search_path();
    let found = resolve_relation(&catalog, schema.as_deref(), &rel, &path)?;
    match (kind, found) {
        ("table", Relation::Table(oid))
        | ("view", Relation::View(oid))
        | ("sequence", Relation::Sequence(oid)) => Ok(oid),
        _ => Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("\"{rel}\" is not a {kind}"),
        )),
    }
}

fn index(session: &Session, name: &ast::ObjectName) -> SqlResult<Oid> {
    let (schema, rel) = split_name(name)?;
    let catalog = session.catalog();
    let schemas: Vec<Oid> = match &schema {
        Some(s) => catalog
            .schema_by_name(s)
            .map(|s| vec![s.oid])
            .unwrap_or_default(),
        None => session
            .search_path()
            .iter()
            .filter_map(|s| catalog.schema_by_name(s).map(|s| s.oid))
            .collect(),
    };
    for s in schemas {
        if let Some(i) = catalog
            .indexes
            .values()
            .find(|i| i.schema == s && i.name == rel)
        {
            return Ok(i.oid);
        }
    }
    match resolve_relation(&catalog, schema.as_deref(), &rel, &session.search_path()) {
        Ok(_) => Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("\"{rel}\" is not an index"),
        )),
        Err(e) => Err(e),
    }
}

/// `table.column` (or `schema.table.column`) of a table or view.
fn column(session: &Session, name: &ast::ObjectName) -> SqlResult<(Oid, AttNum)> {
    let mut parts = object_name_parts(name);
    if parts.len() < 2 {
        return Err(SqlError::syntax("column name must be qualified"));
    }
    let column = parts.pop().unwrap_or_default();
    let table = parts.pop().unwrap_or_default();
    let schema = parts.pop();
    let catalog = session.catalog();
    let path = session.search_path();
    let missing = || {
        SqlError::new(
            code::UNDEFINED_COLUMN,
            format!("column \"{column}\" of relation \"{table}\" does not exist"),
        )
    };
    match resolve_relation(&catalog, schema.as_deref(), &table, &path)? {
        Relation::Table(oid) => {
            let def = &catalog.tables[&oid];
            let attnum = def.column_by_name(&column).map(|c| c.attnum).ok_or_else(missing)?;
            Ok((oid, attnum))
        }
        Relation::View(oid) => {
            let view = &catalog.views[&oid];
            let position = view
                .column_names
                .iter()
                .position(|c| *c == column)
                .ok_or_else(missing)?;
            Ok((oid, position as AttNum + 1))
        }
        _ => Err(SqlError::new(
            code::WRONG_OBJECT_TYPE,
            format!("\"{table}\" is not a table, view, materialized view, composite type, or foreign table"),
        )),
    }
}
