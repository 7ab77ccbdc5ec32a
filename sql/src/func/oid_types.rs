//! The object identifier types' text forms: `oid`, `regclass`, `regtype`, `regnamespace`,
//! `regrole`, `regproc`. Values are OIDs held in `Value::Int8`.
//!
//! Input looks names up in the catalog the calling transaction sees (user relations, schemas
//! and roles) and, for relations in `pg_catalog` / `information_schema`, in the system
//! relations hook that the catalog layer installs ([`set_system_relations`]). A numeric string
//! is taken as the OID itself, as PostgreSQL does. Output prints the name, schema-qualified
//! when the schema is not on the search path, or the number when nothing has that OID.

use std::sync::OnceLock;

use storage::types::Value;

use super::typename::parse_type_name;
use super::FnCtx;
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// How the catalog layer describes system relations (`pg_class`, `pg_type`, ...), which are
/// not in the storage catalog.
pub struct SystemRelations {
    /// The OID of a system relation by schema (when qualified) and name.
    pub oid_of: fn(schema: Option<&str>, name: &str) -> Option<u32>,
    /// Schema and name of a system relation.
    pub name_of: fn(oid: u32) -> Option<(String, String)>,
}

static SYSTEM_RELATIONS: OnceLock<SystemRelations> = OnceLock::new();

/// Installs the system relations lookup (once per process; later calls are ignored).
pub fn set_system_relations(hook: SystemRelations) {
    let _ = SYSTEM_RELATIONS.set(hook);
}

/// OID of `pg_catalog` (PostgreSQL's fixed value).
const PG_CATALOG_OID: u32 = 11;

/// Splits a possibly qualified, possibly quoted name (`public."My Table"`) into its parts,
/// folding unquoted parts to lower case.
pub fn split_qualified_name(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return None,
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
            part = part.trim().to_string();
        }
        if part.is_empty() {
            return None;
        }
        parts.push(part);
        match chars.next() {
            None => return Some(parts),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

/// The schemas of the search path, in order (`$user` expanded, missing schemas skipped
/// later), always preceded by `pg_catalog` as in PostgreSQL.
fn search_path(ctx: &FnCtx) -> Vec<String> {
    let setting = (ctx.setting)("search_path").unwrap_or_else(|| "\"$user\", public".into());
    let mut schemas = vec!["pg_catalog".to_string()];
    for item in setting.split(',') {
        let item = item.trim().trim_matches('"');
        if item.is_empty() {
            continue;
        }
        schemas.push(if item == "$user" {
            ctx.user.to_string()
        } else {
            item.to_string()
        });
    }
    schemas
}

fn schema_oid(ctx: &FnCtx, name: &str) -> Option<u32> {
    match name {
        "pg_catalog" => Some(PG_CATALOG_OID),
        _ => ctx.catalog.schema_by_name(name).map(|s| s.oid),
    }
}

/// The relation (table, view, sequence or index) `name` in `schema`.
fn relation_in(ctx: &FnCtx, schema: &str, name: &str) -> Option<u32> {
    if let Some(hook) = SYSTEM_RELATIONS.get() {
        if let Some(oid) = (hook.oid_of)(Some(schema), name) {
            return Some(oid);
        }
    }
    let schema = ctx.catalog.schema_by_name(schema)?.oid;
    let catalog = &ctx.catalog;
    catalog
        .tables
        .values()
        .find(|t| t.schema == schema && t.name == name)
        .map(|t| t.oid)
        .or_else(|| {
            catalog
                .views
                .values()
                .find(|v| v.schema == schema && v.name == name)
                .map(|v| v.oid)
        })
        .or_else(|| {
            catalog
                .sequences
                .values()
                .find(|s| s.schema == schema && s.name == name)
                .map(|s| s.oid)
        })
        .or_else(|| {
            catalog
                .indexes
                .values()
                .find(|i| i.schema == schema && i.name == name)
                .map(|i| i.oid)
        })
}

/// `regclassin`.
pub fn regclass_in(ctx: &FnCtx, text: &str) -> SqlResult<i64> {
    if let Some(oid) = numeric_oid(text) {
        return Ok(oid);
    }
    let missing = || SqlError::undefined_table(text.trim());
    let parts = split_qualified_name(text).ok_or_else(|| invalid_name(text))?;
    let found = match parts.as_slice() {
        [name] => search_path(ctx)
            .iter()
            .find_map(|schema| relation_in(ctx, schema, name)),
        [schema, name] => {
            if schema_oid(ctx, schema).is_none() {
                return Err(SqlError::new(
                    code::INVALID_SCHEMA_NAME,
                    format!("schema \"{schema}\" does not exist"),
                ));
            }
            relation_in(ctx, schema, name)
        }
        [_, schema, name] => relation_in(ctx, schema, name),
        _ => return Err(invalid_name(text)),
    };
    found.map(|oid| oid as i64).ok_or_else(missing)
}

fn invalid_name(text: &str) -> SqlError {
    SqlError::new(code::INVALID_NAME, "invalid name syntax").with_detail(format!("\"{text}\""))
}

/// `regclassout`.
pub fn regclass_out(ctx: &FnCtx, oid: i64) -> String {
    let oid32 = oid as u32;
    let (schema, name) = if let Some(t) = ctx.catalog.tables.get(&oid32) {
        (t.schema, t.name.clone())
    } else if let Some(v) = ctx.catalog.views.get(&oid32) {
        (v.schema, v.name.clone())
    } else if let Some(s) = ctx.catalog.sequences.get(&oid32) {
        (s.schema, s.name.clone())
    } else if let Some(i) = ctx.catalog.indexes.get(&oid32) {
        (i.schema, i.name.clone())
    } else if let Some((schema, name)) = SYSTEM_RELATIONS.get().and_then(|h| (h.name_of)(oid32)) {
        return qualify(ctx, &schema, &name);
    } else {
        return oid.to_string();
    };
    let schema_name = ctx
        .catalog
        .schemas
        .get(&schema)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    qualify(ctx, &schema_name, &name)
}

/// `name`, qualified with its schema unless an unqualified lookup would find it.
fn qualify(ctx: &FnCtx, schema: &str, name: &str) -> String {
    let path = search_path(ctx);
    let first_hit = path
        .iter()
        .find(|s| relation_in(ctx, s, name).is_some())
        .cloned();
    let quoted = super::string_format::quote_identifier(name);
    if first_hit.as_deref() == Some(schema) {
        quoted
    } else {
        format!(
            "{}.{quoted}",
            super::string_format::quote_identifier(schema)
        )
    }
}

/// `regtypein`.
pub fn regtype_in(text: &str) -> SqlResult<i64> {
    if let Some(oid) = numeric_oid(text) {
        return Ok(oid);
    }
    parse_type_name(text)
        .map(|t| t.oid() as i64)
        .ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_OBJECT,
                format!("type \"{}\" does not exist", text.trim()),
            )
        })
}

/// `regtypeout`: the type's `format_type` name.
pub fn regtype_out(oid: i64) -> String {
    match u32::try_from(oid).ok().and_then(SqlType::from_oid) {
        Some(t) => t.base_name(),
        None => oid.to_string(),
    }
}

/// `regnamespacein`.
pub fn regnamespace_in(ctx: &FnCtx, text: &str) -> SqlResult<i64> {
    if let Some(oid) = numeric_oid(text) {
        return Ok(oid);
    }
    let parts = split_qualified_name(text).ok_or_else(|| invalid_name(text))?;
    let [name] = parts.as_slice() else {
        return Err(invalid_name(text));
    };
    schema_oid(ctx, name).map(|o| o as i64).ok_or_else(|| {
        SqlError::new(
            code::INVALID_SCHEMA_NAME,
            format!("schema \"{name}\" does not exist"),
        )
    })
}

pub fn regnamespace_out(ctx: &FnCtx, oid: i64) -> String {
    if oid == PG_CATALOG_OID as i64 {
        return "pg_catalog".into();
    }
    match ctx.catalog.schemas.get(&(oid as u32)) {
        Some(s) => super::string_format::quote_identifier(&s.name),
        None => oid.to_string(),
    }
}

/// `regrolein`.
pub fn regrole_in(ctx: &FnCtx, text: &str) -> SqlResult<i64> {
    if let Some(oid) = numeric_oid(text) {
        return Ok(oid);
    }
    let parts = split_qualified_name(text).ok_or_else(|| invalid_name(text))?;
    let [name] = parts.as_slice() else {
        return Err(invalid_name(text));
    };
    ctx.catalog
        .roles
        .values()
        .find(|r| r.name == *name)
        .map(|r| r.oid as i64)
        .ok_or_else(|| {
            SqlError::new(
                code::UNDEFINED_OBJECT,
                format!("role \"{name}\" does not exist"),
            )
        })
}

pub fn regrole_out(ctx: &FnCtx, oid: i64) -> String {
    match ctx.catalog.roles.get(&(oid as u32)) {
        Some(r) => super::string_format::quote_identifier(&r.name),
        None => oid.to_string(),
    }
}

/// `oidin`: an unsigned 32-bit number (negative input wraps, as in PostgreSQL).
pub fn oid_in(text: &str) -> SqlResult<i64> {
    let trimmed = text.trim();
    let parsed: Option<i64> = trimmed.parse().ok();
    match parsed {
        Some(v) if (i32::MIN as i64..=u32::MAX as i64).contains(&v) => Ok(v as u32 as i64),
        Some(_) => Err(SqlError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            format!("value \"{text}\" is out of range for type oid"),
        )),
        None => Err(SqlError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format!("invalid input syntax for type oid: \"{text}\""),
        )),
    }
}

/// A string of digits read as an OID (how every `reg*` input accepts a raw OID).
fn numeric_oid(text: &str) -> Option<i64> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u32>().ok().map(|v| v as i64)
    } else {
        None
    }
}

/// The text form of an OID-typed value of type `t`.
pub fn output(ctx: &FnCtx, value: &Value, t: &SqlType) -> Option<String> {
    let Value::Int8(oid) = value else {
        return None;
    };
    Some(match t {
        SqlType::RegClass => regclass_out(ctx, *oid),
        SqlType::RegType => regtype_out(*oid),
        SqlType::RegNamespace => regnamespace_out(ctx, *oid),
        SqlType::RegRole => regrole_out(ctx, *oid),
        SqlType::Oid | SqlType::RegProc | SqlType::RegProcedure => oid.to_string(),
        _ => return None,
    })
}

/// Reads text as a value of an OID type, `None` when `t` is not one.
pub fn input(ctx: &FnCtx, text: &str, t: &SqlType) -> Option<SqlResult<Value>> {
    let result = match t {
        SqlType::Oid => oid_in(text),
        SqlType::RegClass => regclass_in(ctx, text),
        SqlType::RegType => regtype_in(text),
        SqlType::RegNamespace => regnamespace_in(ctx, text),
        SqlType::RegRole => regrole_in(ctx, text),
        SqlType::RegProc | SqlType::RegProcedure => match numeric_oid(text) {
            Some(oid) => Ok(oid),
            None => Err(SqlError::new(
                code::UNDEFINED_FUNCTION,
                format!("function \"{}\" does not exist", text.trim()),
            )),
        },
        _ => return None,
    };
    Some(result.map(Value::Int8))
}
