//! Test helpers: a session context and calls that go through resolution, casts and the
//! implementation the way the binder and executor do, returning PostgreSQL's text output.

use std::sync::Arc;

use storage::catalog::Catalog;
use storage::types::Value;

use super::{cast_value_in, output_text, registry, CastContext, FnCtx, Implementation};
use crate::error::SqlResult;
use crate::pgtype::SqlType;
use crate::types::{SessionFormat, SessionTimeZone};

/// Runs `f` with a default session (UTC, ISO dates) and an empty catalog.
pub fn with_ctx<R>(f: impl FnOnce(&FnCtx) -> R) -> R {
    with_zone("UTC", f)
}

/// Runs `f` with the session time zone set to `zone`.
pub fn with_zone<R>(zone: &str, f: impl FnOnce(&FnCtx) -> R) -> R {
    let format = SessionFormat {
        time_zone: SessionTimeZone::parse(zone).expect("zone"),
        transaction_start: Some(0),
        ..SessionFormat::default()
    };
    let catalog = Arc::new(Catalog::default());
    let setting = |_: &str| None;
    let ctx = FnCtx {
        format: &format,
        catalog: &catalog,
        user: "postgres",
        database: "custos",
        statement_start: 0,
        setting: &setting,
        queries: None,
    };
    f(&ctx)
}

fn is_operator(name: &str) -> bool {
    name.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c))
}

/// A literal: `NULL`, or text read as `t` (`Unknown` keeps it an untyped literal).
pub fn literal(ctx: &FnCtx, text: &str, t: &SqlType) -> SqlResult<Value> {
    if text == "NULL" {
        return Ok(Value::Null);
    }
    if *t == SqlType::Unknown {
        return Ok(Value::Text(text.to_string()));
    }
    cast_value_in(
        ctx,
        Value::Text(text.to_string()),
        &SqlType::Unknown,
        t,
        CastContext::Explicit,
    )
}

/// Evaluates `name(args...)` (or an operator) on typed literals in `ctx`; the result as text
/// (`NULL` for NULL), set-returning results as rows joined by `;` with columns by `|`.
pub fn call_in(ctx: &FnCtx, name: &str, args: &[(&str, SqlType)]) -> SqlResult<String> {
    let types: Vec<SqlType> = args.iter().map(|(_, t)| t.clone()).collect();
    let resolved = if is_operator(name) {
        match types.as_slice() {
            [r] => registry().resolve_operator(name, None, r)?,
            [l, r] => registry().resolve_operator(name, Some(l), r)?,
            _ => panic!("operator with {} arguments", types.len()),
        }
    } else {
        registry().resolve(name, &types)?
    };
    let mut values = Vec::new();
    for ((text, t), target) in args.iter().zip(&resolved.arg_types) {
        let v = literal(ctx, text, t)?;
        values.push(cast_value_in(ctx, v, t, target, CastContext::Implicit)?);
    }
    let show = |v: &Value, t: &SqlType| {
        if v.is_null() {
            "NULL".to_string()
        } else {
            output_text(ctx, v, t)
        }
    };
    if resolved.overload.strict && values.iter().any(Value::is_null) {
        return Ok("NULL".into());
    }
    match &resolved.overload.implementation {
        Implementation::Scalar(f) => {
            let v = f(ctx, &values)?;
            Ok(show(&v, &resolved.return_type))
        }
        Implementation::Set { columns, rows } => {
            let cols = columns(&resolved.arg_types);
            let rows = rows(ctx, &values)?;
            Ok(rows
                .iter()
                .map(|r| {
                    r.iter()
                        .zip(&cols)
                        .map(|(v, (_, t))| show(v, t))
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect::<Vec<_>>()
                .join(";"))
        }
    }
}

/// [`call_in`] in the default session.
pub fn call(name: &str, args: &[(&str, SqlType)]) -> SqlResult<String> {
    with_ctx(|ctx| call_in(ctx, name, args))
}

/// [`call`], panicking with the error on failure.
pub fn ok(name: &str, args: &[(&str, SqlType)]) -> String {
    match call(name, args) {
        Ok(s) => s,
        Err(e) => panic!("{name}: {} {}", e.code, e.message),
    }
}

/// The SQLSTATE and message of a failing call.
pub fn err(name: &str, args: &[(&str, SqlType)]) -> (String, String) {
    match call(name, args) {
        Ok(s) => panic!("{name} succeeded with {s}"),
        Err(e) => (e.code.to_string(), e.message),
    }
}

/// Casts literal text of type `from` to `to` explicitly; the result's text.
pub fn cast(text: &str, from: SqlType, to: SqlType) -> SqlResult<String> {
    with_ctx(|ctx| {
        let v = literal(ctx, text, &from)?;
        let out = super::cast_value(ctx, v, &from, &to)?;
        Ok(if out.is_null() {
            "NULL".into()
        } else {
            output_text(ctx, &out, &to)
        })
    })
}
