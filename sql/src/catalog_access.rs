//! Name resolution against the catalog: relations through the search path (`pg_catalog`
//! first, as PostgreSQL does unless the path names it), schemas, and the lookups DDL needs.

use storage::catalog::{Catalog, Oid};

use crate::error::{code, SqlError, SqlResult};
use crate::pg_catalog::SystemTable;

/// What a relation name refers to.
pub enum Relation {
    Table(Oid),
    View(Oid),
    Sequence(Oid),
    System(&'static SystemTable),
}

/// The schemas of the search path, `$user` expanded, unknown ones skipped.
pub fn effective_path(catalog: &Catalog, search_path: &[String], user: &str) -> Vec<String> {
    search_path
        .iter()
        .map(|s| {
            if s == "$user" {
                user.to_string()
            } else {
                s.clone()
            }
        })
        .filter(|s| catalog.schema_by_name(s).is_some())
        .collect()
}

/// Parses a `search_path` setting (`"$user", public`) into schema names.
pub fn parse_search_path(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(|s| {
            let s = s.trim();
            if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
                s[1..s.len() - 1].replace("\"\"", "\"")
            } else {
                s.to_lowercase()
            }
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn in_schema(catalog: &Catalog, schema: Oid, name: &str) -> Option<Relation> {
    if let Some(t) = catalog.table_by_name(schema, name) {
        return Some(Relation::Table(t.oid));
    }
    if let Some(v) = catalog
        .views
        .values()
        .find(|v| v.schema == schema && v.name == name)
    {
        return Some(Relation::View(v.oid));
    }
    if let Some(s) = catalog
        .sequences
        .values()
        .find(|s| s.schema == schema && s.name == name)
    {
        return Some(Relation::Sequence(s.oid));
    }
    None
}

/// Finds a relation by optional schema and name.
pub fn resolve_relation(
    catalog: &Catalog,
    schema: Option<&str>,
    name: &str,
    search_path: &[String],
) -> SqlResult<Relation> {
    let shown = match schema {
        Some(s) => format!("{s}.{name}"),
        None => name.to_string(),
    };
    match schema {
        Some(s @ ("pg_catalog" | "information_schema")) => crate::pg_catalog::find(s, name)
            .map(Relation::System)
            .ok_or_else(|| SqlError::undefined_table(&shown)),
        Some(s) => {
            let schema = catalog.schema_by_name(s).ok_or_else(|| {
                SqlError::new(
                    code::INVALID_SCHEMA_NAME,
                    format!("schema \"{s}\" does not exist"),
                )
            })?;
            in_schema(catalog, schema.oid, name).ok_or_else(|| SqlError::undefined_table(&shown))
        }
        None => {
            let explicit_catalog = search_path.iter().any(|s| s == "pg_catalog");
            if !explicit_catalog {
                if let Some(t) = crate::pg_catalog::find("pg_catalog", name) {
                    return Ok(Relation::System(t));
                }
            }
            for s in search_path {
                if s == "pg_catalog" || s == "information_schema" {
                    if let Some(t) = crate::pg_catalog::find(s, name) {
                        return Ok(Relation::System(t));
                    }
                    continue;
                }
                if let Some(schema) = catalog.schema_by_name(s) {
                    if let Some(r) = in_schema(catalog, schema.oid, name) {
                        return Ok(r);
                    }
                }
            }
            Err(SqlError::undefined_table(&shown))
        }
    }
}

/// The schema new objects go to: the first existing schema of the path.
pub fn creation_schema(catalog: &Catalog, search_path: &[String]) -> SqlResult<Oid> {
    for s in search_path {
        if s == "pg_catalog" || s == "information_schema" {
            continue;
        }
        if let Some(schema) = catalog.schema_by_name(s) {
            return Ok(schema.oid);
        }
    }
    Err(SqlError::new(
        code::INVALID_SCHEMA_NAME,
        "no schema has been selected to create in",
    ))
}

/// The schema named, or the creation schema when none is.
pub fn target_schema(
    catalog: &Catalog,
    schema: Option<&str>,
    search_path: &[String],
) -> SqlResult<Oid> {
    match schema {
        Some(s) => catalog.schema_by_name(s).map(|s| s.oid).ok_or_else(|| {
            SqlError::new(
                code::INVALID_SCHEMA_NAME,
                format!("schema \"{s}\" does not exist"),
            )
        }),
        None => creation_schema(catalog, search_path),
    }
}
