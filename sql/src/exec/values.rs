//! Values at the edges: text input and output for every SQL type (catalog types included),
//! index keys in the column's storage type, session functions.

use storage::catalog::{Catalog, SequenceDef};
use storage::types::{DataType, Value};

use super::ExecCtx;
use crate::engine::Session;
use crate::error::{code, SqlError, SqlResult};
use crate::func::cast_value;
use crate::pgtype::SqlType;
use crate::plan::SessionFn;
use crate::types::{format_text, parse_text, SessionFormat};

/// Text input for a session.
pub fn input_text(session: &Session, text: &str, sql_type: &SqlType) -> SqlResult<Value> {
    let catalog = session.database.storage.catalog();
    input_value(&catalog, session.format(), text, sql_type)
}

/// PostgreSQL's input function of `sql_type` applied to `text`.
pub fn input_value(
    catalog: &Catalog,
    format: &SessionFormat,
    text: &str,
    sql_type: &SqlType,
) -> SqlResult<Value> {
    match sql_type {
        SqlType::RegClass => {
            let trimmed = text.trim();
            if let Ok(n) = trimmed.parse::<i64>() {
                return Ok(Value::Int8(n));
            }
            let (schema, name) = split_qualified(trimmed);
            crate::pg_catalog::relation_oid(catalog, schema.as_deref(), &name, &default_path())
                .map(|oid| Value::Int8(i64::from(oid)))
                .ok_or_else(|| SqlError::undefined_table(trimmed))
        }
        SqlType::RegType => {
            let trimmed = text.trim();
            if let Ok(n) = trimmed.parse::<i64>() {
                return Ok(Value::Int8(n));
            }
            crate::pg_catalog::type_oid_by_name(trimmed)
                .map(|oid| Value::Int8(i64::from(oid)))
                .ok_or_else(|| {
                    SqlError::new(
                        code::UNDEFINED_OBJECT,
                        format!("type \"{trimmed}\" does not exist"),
                    )
                })
        }
        SqlType::RegNamespace => {
            let trimmed = text.trim();
            if let Ok(n) = trimmed.parse::<i64>() {
                return Ok(Value::Int8(n));
            }
            match trimmed {
                "pg_catalog" => Ok(Value::Int8(i64::from(
                    crate::pg_catalog::PG_CATALOG_NAMESPACE,
                ))),
                "information_schema" => Ok(Value::Int8(i64::from(
                    crate::pg_catalog::INFORMATION_SCHEMA_NAMESPACE,
                ))),
                _ => catalog
                    .schema_by_name(trimmed)
                    .map(|s| Value::Int8(i64::from(s.oid)))
                    .ok_or_else(|| {
                        SqlError::new(
                            code::INVALID_SCHEMA_NAME,
                            format!("schema \"{trimmed}\" does not exist"),
                        )
                    }),
            }
        }
        SqlType::RegRole => {
            let trimmed = text.trim();
            if let Ok(n) = trimmed.parse::<i64>() {
                return Ok(Value::Int8(n));
            }
            catalog
                .roles
                .values()
                .find(|r| r.name == trimmed)
                .map(|r| Value::Int8(i64::from(r.oid)))
                .ok_or_else(|| {
                    SqlError::new(
                        code::UNDEFINED_OBJECT,
                        format!("role \"{trimmed}\" does not exist"),
                    )
                })
        }
        SqlType::RegProc | SqlType::RegProcedure => {
            let trimmed = text.trim();
            if let Some(oid) = crate::pg_catalog::proc_oid_by_name(catalog, trimmed) {
                return Ok(Value::Int8(i64::from(oid)));
            }
            trimmed.parse::<i64>().map(Value::Int8).map_err(|_| {
                SqlError::new(
                    code::UNDEFINED_FUNCTION,
                    format!("function \"{trimmed}\" does not exist"),
                )
            })
        }
        SqlType::Oid => {
            let trimmed = text.trim();
            let n: i64 = trimmed.parse().map_err(|_| {
                SqlError::new(
                    code::INVALID_TEXT_REPRESENTATION,
                    format!("invalid input syntax for type oid: \"{text}\""),
                )
            })?;
            if !(-2_147_483_648..=4_294_967_295).contains(&n) {
                return Err(SqlError::new(
                    code::NUMERIC_VALUE_OUT_OF_RANGE,
                    format!("value \"{text}\" is out of range for type oid"),
                ));
            }
            Ok(Value::Int8(if n < 0 { n + 4_294_967_296 } else { n }))
        }
        SqlType::Int2Vector | SqlType::OidVector => {
            let mut items = Vec::new();
            for word in text.split_whitespace() {
                let n: i64 = word.parse().map_err(|_| {
                    SqlError::new(
                        code::INVALID_TEXT_REPRESENTATION,
                        format!(
                            "invalid input syntax for type {}: \"{text}\"",
                            sql_type.display_name()
                        ),
                    )
                })?;
                items.push(if *sql_type == SqlType::Int2Vector {
                    Value::Int2(n as i16)
                } else {
                    Value::Int8(n)
                });
            }
            Ok(Value::Array(Box::new(storage::types::Array::from_list(
                items,
            ))))
        }
        SqlType::InternalChar => Ok(Value::Text(text.chars().take(1).collect())),
        SqlType::Void => Ok(Value::Null),
        other => Ok(parse_text(&other.representation(), text, format)?),
    }
}

fn default_path() -> Vec<String> {
    vec!["public".to_string()]
}

fn split_qualified(text: &str) -> (Option<String>, String) {
    let unquote = |s: &str| -> String {
        if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
            s[1..s.len() - 1].replace("\"\"", "\"")
        } else {
            s.to_lowercase()
        }
    };
    match text.split_once('.') {
        Some((s, n)) if !text.starts_with('"') || text.matches('"').count() != 2 => {
            (Some(unquote(s)), unquote(n))
        }
        _ => (None, unquote(text)),
    }
}

/// Text output for a session.
pub fn output_text(session: &Session, value: &Value, sql_type: &SqlType) -> String {
    let catalog = session.database.storage.catalog();
    output_value(&catalog, session.format(), value, sql_type)
}

/// PostgreSQL's output function of `sql_type` applied to `value`.
pub fn output_value(
    catalog: &Catalog,
    format: &SessionFormat,
    value: &Value,
    sql_type: &SqlType,
) -> String {
    let oid = |v: &Value| match v {
        Value::Int8(n) => u32::try_from(*n).ok(),
        Value::Int4(n) => u32::try_from(*n).ok(),
        _ => None,
    };
    match (sql_type, value) {
        (_, Value::Null) => String::new(),
        (SqlType::RegClass, v) => oid(v)
            .and_then(|o| crate::pg_catalog::relation_name(catalog, o))
            .unwrap_or_else(|| format_text(v, &DataType::Int8, format)),
        (SqlType::RegType, v) => oid(v)
            .and_then(crate::pg_catalog::type_name)
            .unwrap_or_else(|| format_text(v, &DataType::Int8, format)),
        (SqlType::RegNamespace, v) => oid(v)
            .and_then(|o| crate::pg_catalog::namespace_name(catalog, o))
            .unwrap_or_else(|| format_text(v, &DataType::Int8, format)),
        (SqlType::RegRole, v) => oid(v)
            .and_then(|o| crate::pg_catalog::role_name(catalog, o))
            .unwrap_or_else(|| format_text(v, &DataType::Int8, format)),
        (SqlType::RegProc | SqlType::RegProcedure, v) => match oid(v) {
            Some(0) => "-".to_string(),
            Some(o) => crate::pg_catalog::proc_name_in(catalog, o)
                .unwrap_or_else(|| format_text(v, &DataType::Int8, format)),
            None => format_text(v, &DataType::Int8, format),
        },
        (SqlType::Int2Vector | SqlType::OidVector, Value::Array(a)) => a
            .elements
            .iter()
            .map(|e| format_text(e, &DataType::Int8, format))
            .collect::<Vec<_>>()
            .join(" "),
        (SqlType::Array(element), Value::Array(a))
            if matches!(
                **element,
                SqlType::RegClass | SqlType::RegType | SqlType::Name
            ) =>
        {
            let items: Vec<String> = a
                .elements
                .iter()
                .map(|e| {
                    if e.is_null() {
                        return "NULL".to_string();
                    }
                    let s = output_value(catalog, format, e, element);
                    if s.is_empty()
                        || s.chars()
                            .any(|c| matches!(c, '"' | '\\' | '{' | '}' | ',' | ' '))
                        || s.eq_ignore_ascii_case("null")
                    {
                        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
                    } else {
                        s
                    }
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
        (SqlType::Composite(fields), Value::Array(a)) => {
            let types: Vec<SqlType> = fields.iter().map(|(_, t)| t.clone()).collect();
            record_text_of(catalog, format, &a.elements, Some(&types))
        }
        (SqlType::Record, Value::Array(a)) => record_text_of(catalog, format, &a.elements, None),
        (t, v) => format_text(v, &t.representation(), format),
    }
}

/// A record's text form `(a,b)`, PostgreSQL's `record_out`.
pub fn record_text_of(
    catalog: &Catalog,
    format: &SessionFormat,
    values: &[Value],
    types: Option<&[SqlType]>,
) -> String {
    let parts: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if v.is_null() {
                return String::new();
            }
            let t = types
                .and_then(|t| t.get(i).cloned())
                .unwrap_or_else(|| value_type(v));
            let s = output_value(catalog, format, v, &t);
            if s.is_empty()
                || s.chars()
                    .any(|c| matches!(c, '"' | '\\' | '(' | ')' | ',') || c.is_whitespace())
            {
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\"\""))
            } else {
                s
            }
        })
        .collect();
    format!("({})", parts.join(","))
}

/// The natural SQL type of a value (for values whose static type is lost, e.g. records).
pub fn value_type(v: &Value) -> SqlType {
    match v {
        Value::Bool(_) => SqlType::Bool,
        Value::Int2(_) => SqlType::Int2,
        Value::Int4(_) => SqlType::Int4,
        Value::Int8(_) => SqlType::Int8,
        Value::Float4(_) => SqlType::Float4,
        Value::Float8(_) => SqlType::Float8,
        Value::Numeric(_) => crate::pgtype::NUMERIC,
        Value::Bytea(_) => SqlType::Bytea,
        Value::Date(_) => SqlType::Date,
        Value::Time(_) => SqlType::Time,
        Value::Timestamp(_) => SqlType::Timestamp,
        Value::Timestamptz(_) => SqlType::Timestamptz,
        Value::Interval(_) => SqlType::Interval,
        Value::Uuid(_) => SqlType::Uuid,
        Value::Json(_) => SqlType::Json,
        Value::Jsonb(_) => SqlType::Jsonb,
        Value::Vector(_) => SqlType::Vector(None),
        Value::Array(a) => SqlType::Array(Box::new(
            a.elements
                .iter()
                .find(|e| !e.is_null())
                .map(value_type)
                .unwrap_or(SqlType::Text),
        )),
        Value::Text(_) | Value::Null => SqlType::Text,
    }
}

/// The value as the index column's storage type, or `None` when it cannot equal any
/// stored key (out of range for the column type).
pub fn key_for_column(ctx: &ExecCtx, v: Value, column: &DataType) -> Option<Value> {
    if v.is_null() {
        return None;
    }
    if column.accepts(&v) {
        return Some(v);
    }
    let from = super::values::value_type(&v);
    let to = SqlType::from_data_type(column);
    ctx.with_fn(|f| cast_value(f, v, &from, &to)).ok()
}

/// The last value a sequence handed out, as of now (for `SELECT * FROM seq`).
pub fn sequence_last_value(seq: &SequenceDef) -> Option<i64> {
    seq.last_value
}

/// Functions that read or change the session.
pub fn session_function(f: SessionFn, args: &[Value], ctx: &ExecCtx) -> SqlResult<Value> {
    let text = |i: usize| -> Option<String> {
        match args.get(i) {
            Some(Value::Text(s)) => Some(s.clone()),
            _ => None,
        }
    };
    match f {
        SessionFn::CurrentSetting | SessionFn::CurrentSettingMissingOk => {
            let Some(name) = text(0) else {
                return Ok(Value::Null);
            };
            let missing_ok = matches!(args.get(1), Some(Value::Bool(true)));
            let effects = ctx.effects.borrow();
            match effects.settings.get(&name) {
                Some(v) => Ok(Value::Text(v.to_string())),
                None if missing_ok => Ok(Value::Null),
                None => Err(SqlError::new(
                    code::UNDEFINED_OBJECT,
                    format!("unrecognized configuration parameter \"{name}\""),
                )),
            }
        }
        SessionFn::SetConfig => {
            let Some(name) = text(0) else {
                return Err(SqlError::new(
                    code::NULL_VALUE_NOT_ALLOWED,
                    "SET requires parameter name",
                ));
            };
            let value = text(1);
            let local = matches!(args.get(2), Some(Value::Bool(true)));
            let mut effects = ctx.effects.borrow_mut();
            let in_transaction = effects.in_transaction;
            if name.eq_ignore_ascii_case("role") && !ctx.catalog.roles.is_empty() {
                // SET ROLE by another name: the same check of who may become whom.
                let role = value.as_deref().filter(|v| !v.eq_ignore_ascii_case("none"));
                crate::acl::identity::set_role_setting(
                    &ctx.catalog,
                    effects.settings,
                    role,
                    local,
                    in_transaction,
                )?;
                return Ok(Value::Text(
                    effects.settings.get("role").unwrap_or("none").to_string(),
                ));
            }
            effects
                .settings
                .set(&name, value.as_deref(), local, in_transaction)?;
            Ok(Value::Text(
                effects.settings.get(&name).unwrap_or("").to_string(),
            ))
        }
        SessionFn::CurrentUser => Ok(Value::Text(ctx.user.to_string())),
        SessionFn::SessionUser => {
            let effects = ctx.effects.borrow();
            match effects.settings.get("session_authorization") {
                Some(user) if !user.is_empty() => Ok(Value::Text(user.to_string())),
                _ => Ok(Value::Text(ctx.user.to_string())),
            }
        }
        SessionFn::CurrentDatabase => Ok(Value::Text(crate::engine::DATABASE_NAME.into())),
        SessionFn::CurrentSchema | SessionFn::CurrentSchemas => {
            let effects = ctx.effects.borrow();
            let path = crate::catalog_access::parse_search_path(
                effects.settings.get("search_path").unwrap_or("public"),
            );
            let schemas = crate::catalog_access::effective_path(&ctx.catalog, &path, ctx.user);
            if f == SessionFn::CurrentSchema {
                return Ok(schemas
                    .first()
                    .map(|s| Value::Text(s.clone()))
                    .unwrap_or(Value::Null));
            }
            let mut list = Vec::new();
            if matches!(args.first(), Some(Value::Bool(true)))
                && !path.iter().any(|p| p == "pg_catalog")
            {
                list.push(Value::Text("pg_catalog".into()));
            }
            list.extend(schemas.into_iter().map(Value::Text));
            Ok(Value::Array(Box::new(storage::types::Array::from_list(
                list,
            ))))
        }
        SessionFn::Version => Ok(Value::Text(format!(
            "PostgreSQL {} (custos {}) on x86_64-pc-linux-gnu, compiled by rustc, 64-bit",
            crate::engine::settings::SERVER_VERSION,
            env!("CARGO_PKG_VERSION")
        ))),
        SessionFn::BackendPid => Ok(Value::Int4(ctx.effects.borrow().process_id)),
        SessionFn::TxidCurrent => Ok(Value::Int8(ctx.txn.snapshot_lsn() as i64 + 1)),
        SessionFn::Nextval | SessionFn::Currval | SessionFn::Setval | SessionFn::Lastval => {
            if let Some(Value::Int8(oid)) = args.first() {
                let any_of: &[&'static str] = match f {
                    SessionFn::Nextval => &["USAGE", "UPDATE"],
                    SessionFn::Currval => &["USAGE", "SELECT"],
                    _ => &["UPDATE"],
                };
                if f != SessionFn::Lastval {
                    crate::acl::check::check_sequence(&ctx.catalog, ctx.user, *oid as u32, any_of)?;
                }
            }
            let effects = ctx.effects.borrow();
            crate::engine::sequences::call(
                f,
                args,
                &ctx.catalog,
                effects.database,
                effects.process_id,
            )
        }
        SessionFn::TypeOf => Err(SqlError::internal("pg_typeof is resolved at bind time")),
        SessionFn::UserFunction => crate::plpgsql::call_in_query(args, ctx),
        SessionFn::Sleep => {
            let seconds = match args.first() {
                Some(Value::Float8(s)) if s.is_finite() => s.clamp(0.0, 3600.0),
                _ => 0.0,
            };
            let end = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
            loop {
                ctx.check_cancel()?;
                let now = std::time::Instant::now();
                if now >= end {
                    return Ok(Value::Null);
                }
                std::thread::sleep((end - now).min(std::time::Duration::from_millis(10)));
            }
        }
    }
}
