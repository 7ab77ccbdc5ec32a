//! Casts: which conversions PostgreSQL allows in which context (`pg_cast`), how a value is
//! converted, and the common type of a UNION / CASE / COALESCE / ARRAY / VALUES column.
//!
//! Conversions between the string types and any other type are PostgreSQL's I/O casts: the
//! source's output function then the target's input function (so `'1.50'::numeric` reads
//! like a literal). Casting *to* a string type is allowed on assignment, *from* one only
//! explicitly, unless `pg_cast` has a direct entry (`text → regclass` is implicit). After
//! the conversion the target's modifier applies: `varchar(n)` / `char(n)` lengths (explicit
//! casts truncate, other contexts fail with 22001 unless only spaces are cut), `numeric(p,s)`
//! rounding and overflow, `vector(n)` dimensions. The conversions themselves are in
//! `cast_convert`.

use storage::types::Value;

use super::cast_convert::convert;
use super::{oid_types, CastContext, FnCtx};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;
use crate::types::{format_text, parse_text};

/// Converts `value` of type `from` to type `to` as an explicit cast (`CAST(x AS t)`, `x::t`).
pub fn cast_value(ctx: &FnCtx, value: Value, from: &SqlType, to: &SqlType) -> SqlResult<Value> {
    cast_value_in(ctx, value, from, to, CastContext::Explicit)
}

/// Converts `value` of type `from` to type `to` in the given context (assignment to a column,
/// an implicit cast chosen by resolution, or an explicit cast).
pub fn cast_value_in(
    ctx: &FnCtx,
    value: Value,
    from: &SqlType,
    to: &SqlType,
    context: CastContext,
) -> SqlResult<Value> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let converted = if from.same_type(to) {
        value
    } else {
        convert(ctx, value, from, to)?
    };
    apply_modifier(converted, to, context)
}

/// 42846 `cannot cast type integer to date`.
pub fn cannot_cast(from: &SqlType, to: &SqlType) -> SqlError {
    SqlError::new(
        code::CANNOT_COERCE,
        format!(
            "cannot cast type {} to {}",
            from.base_name(),
            to.base_name()
        ),
    )
}

/// Whether PostgreSQL allows a cast from `from` to `to` in `context` (an implicit cast is
/// allowed in every context, an assignment cast in assignment and explicit ones).
pub fn cast_allowed(from: &SqlType, to: &SqlType, context: CastContext) -> bool {
    cast_level(from, to).is_some_and(|level| level <= context)
}

fn is_string(t: &SqlType) -> bool {
    matches!(
        t,
        SqlType::Text | SqlType::Varchar(_) | SqlType::Char(_) | SqlType::Name
    )
}

fn is_oid_like(t: &SqlType) -> bool {
    matches!(
        t,
        SqlType::Oid
            | SqlType::RegClass
            | SqlType::RegType
            | SqlType::RegProc
            | SqlType::RegProcedure
            | SqlType::RegNamespace
            | SqlType::RegRole
    )
}

fn is_pseudo(t: &SqlType) -> bool {
    matches!(
        t,
        SqlType::Void | SqlType::AnyElement | SqlType::AnyArray | SqlType::Any
    )
}

/// Position in the numeric promotion chain (`int2 < int4 < int8 < numeric < float4 < float8`).
fn numeric_rank(t: &SqlType) -> Option<u8> {
    Some(match t {
        SqlType::Int2 => 0,
        SqlType::Int4 => 1,
        SqlType::Int8 => 2,
        SqlType::Numeric { .. } => 3,
        SqlType::Float4 => 4,
        SqlType::Float8 => 5,
        _ => return None,
    })
}

/// The weakest context in which PostgreSQL casts `from` to `to`, `None` if it never does.
pub fn cast_level(from: &SqlType, to: &SqlType) -> Option<CastContext> {
    use CastContext::{Assignment, Explicit, Implicit};
    use SqlType as T;
    if from.same_type(to) || *from == T::Unknown {
        return Some(Implicit);
    }
    if is_pseudo(from) || is_pseudo(to) || *to == T::Unknown {
        return None;
    }
    if let (Some(a), Some(b)) = (numeric_rank(from), numeric_rank(to)) {
        return Some(if a < b { Implicit } else { Assignment });
    }
    if let (T::Array(a), T::Array(b)) = (from, to) {
        return cast_level(a, b);
    }
    let direct = match (from, to) {
        (T::Int2 | T::Int4 | T::Int8, t) if is_oid_like(t) => Some(Implicit),
        (f, T::Int4 | T::Int8) if is_oid_like(f) => Some(Assignment),
        (T::Oid, t) if is_oid_like(t) => Some(Implicit),
        (f, T::Oid) if is_oid_like(f) => Some(Implicit),
        (T::Text | T::Varchar(_), T::RegClass) => Some(Implicit),
        (T::Name, T::Varchar(_) | T::Char(_)) => Some(Assignment),
        (f, t) if is_string(f) && is_string(t) => Some(Implicit),
        (T::InternalChar, T::Text) => Some(Implicit),
        (T::InternalChar, T::Varchar(_) | T::Char(_)) => Some(Assignment),
        (T::Text | T::Varchar(_) | T::Char(_), T::InternalChar) => Some(Assignment),
        (T::InternalChar, T::Int4) | (T::Int4, T::InternalChar) => Some(Explicit),
        (T::Bool, T::Int4) | (T::Int4, T::Bool) => Some(Explicit),
        (T::Date, T::Timestamp | T::Timestamptz) => Some(Implicit),
        (T::Timestamp, T::Timestamptz) => Some(Implicit),
        (T::Timestamp, T::Date | T::Time) => Some(Assignment),
        (T::Timestamptz, T::Timestamp | T::Date | T::Time) => Some(Assignment),
        (T::Time, T::Interval) => Some(Implicit),
        (T::Interval, T::Time) => Some(Assignment),
        (T::Json, T::Jsonb) | (T::Jsonb, T::Json) => Some(Assignment),
        // Binary-coercible in PostgreSQL: the vectors are arrays underneath.
        (T::Int2Vector, T::Array(e)) if **e == T::Int2 => Some(Implicit),
        (T::OidVector, T::Array(e)) if **e == T::Oid => Some(Implicit),
        (T::Jsonb, t) if numeric_rank(t).is_some() || *t == T::Bool => Some(Explicit),
        (T::Vector(_), T::Array(e)) if **e == T::Float4 => Some(Implicit),
        (T::Array(e), T::Vector(_))
            if matches!(**e, T::Int4 | T::Float4 | T::Float8 | T::Numeric { .. }) =>
        {
            Some(Assignment)
        }
        _ => None,
    };
    if direct.is_some() {
        return direct;
    }
    // I/O conversion casts.
    if is_string(to) {
        return Some(Assignment);
    }
    if is_string(from) && *to != T::Record {
        return Some(Explicit);
    }
    None
}

/// PostgreSQL's `select_common_type` followed by the check that every input converts to it
/// implicitly. `construct` names the construct in errors (`UNION`, `CASE`, `COALESCE`...).
pub fn common_type(types: &[SqlType], construct: &str) -> SqlResult<SqlType> {
    let Some(first) = types.first() else {
        return Ok(SqlType::Text);
    };
    if types.iter().all(|t| t == first) {
        return Ok(if *first == SqlType::Unknown {
            SqlType::Text
        } else {
            first.clone()
        });
    }
    let mut chosen = SqlType::Unknown;
    for t in types {
        if *t == SqlType::Unknown || t.same_type(&chosen) {
            continue;
        }
        if chosen == SqlType::Unknown {
            chosen = t.clone();
        } else if t.category() != chosen.category() {
            return Err(SqlError::new(
                code::DATATYPE_MISMATCH,
                format!(
                    "{construct} types {} and {} cannot be matched",
                    chosen.base_name(),
                    t.base_name()
                ),
            ));
        } else if !chosen.is_preferred()
            && cast_allowed(&chosen, t, CastContext::Implicit)
            && !cast_allowed(t, &chosen, CastContext::Implicit)
        {
            chosen = t.clone();
        }
    }
    if chosen == SqlType::Unknown {
        return Ok(SqlType::Text);
    }
    for t in types {
        if *t != SqlType::Unknown && !cast_allowed(t, &chosen, CastContext::Implicit) {
            return Err(SqlError::new(
                code::CANNOT_COERCE,
                format!(
                    "{construct} could not convert type {} to {}",
                    t.base_name(),
                    chosen.base_name()
                ),
            ));
        }
    }
    // Keep a modifier only when every typed input has the same one.
    let typed: Vec<&SqlType> = types.iter().filter(|t| **t != SqlType::Unknown).collect();
    if typed.iter().all(|t| *t == typed[0]) && typed[0].same_type(&chosen) {
        return Ok(typed[0].clone());
    }
    Ok(chosen.without_modifier())
}

/// The output function of type `t` (`reg*` types print names; `bool` casts to text print
/// `true` / `false` through [`text_of`], not here).
pub fn output_text(ctx: &FnCtx, value: &Value, t: &SqlType) -> String {
    if let Some(text) = oid_types::output(ctx, value, t) {
        return text;
    }
    format_text(value, &t.representation(), ctx.format)
}

/// The text a value casts to (`bool` gives `true`/`false`, `char(n)` loses its padding).
pub fn text_of(ctx: &FnCtx, value: &Value, t: &SqlType) -> String {
    match (value, t) {
        (Value::Bool(b), _) => if *b { "true" } else { "false" }.to_string(),
        (Value::Text(s), SqlType::Char(_)) => s.trim_end_matches(' ').to_string(),
        (Value::Text(s), _) => s.clone(),
        _ => output_text(ctx, value, t),
    }
}

/// The input function of type `t` without its modifier (applied afterwards).
pub fn input_value(ctx: &FnCtx, text: &str, t: &SqlType) -> SqlResult<Value> {
    if let Some(result) = oid_types::input(ctx, text, t) {
        return result;
    }
    match t {
        SqlType::Varchar(_) | SqlType::Char(_) | SqlType::Text | SqlType::Unknown => Ok(
            parse_text(&storage::types::DataType::Text, text, ctx.format)?,
        ),
        SqlType::Name => Ok(Value::Text(truncate_name(text))),
        SqlType::InternalChar => Ok(Value::Text(first_byte_char(text))),
        SqlType::Record
        | SqlType::Void
        | SqlType::AnyElement
        | SqlType::AnyArray
        | SqlType::Any => Err(cannot_cast(&SqlType::Text, t)),
        SqlType::Array(element) if oid_like_element(element) => {
            // Arrays of names (`'{pg_class}'::regclass[]`): split with the text array reader.
            let texts = parse_text(
                &storage::types::DataType::Array(Box::new(storage::types::DataType::Text)),
                text,
                ctx.format,
            )?;
            let Value::Array(mut array) = texts else {
                return Err(cannot_cast(&SqlType::Text, t));
            };
            for e in array.elements.iter_mut() {
                if let Value::Text(s) = e {
                    *e = input_value(ctx, s, element)?;
                }
            }
            Ok(Value::Array(array))
        }
        other => Ok(parse_text(
            &other.without_modifier().representation(),
            text,
            ctx.format,
        )?),
    }
}

fn oid_like_element(t: &SqlType) -> bool {
    is_oid_like(t) && *t != SqlType::Oid
}

/// `name` keeps at most 63 bytes (cut at a character boundary).
pub fn truncate_name(text: &str) -> String {
    let mut end = text.len().min(63);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// `"char"` holds the first byte of its input.
fn first_byte_char(text: &str) -> String {
    text.chars().next().map(String::from).unwrap_or_default()
}

/// Applies the target's modifier: string lengths, numeric precision, vector dimensions.
pub fn apply_modifier(value: Value, to: &SqlType, context: CastContext) -> SqlResult<Value> {
    match (value, to) {
        (Value::Null, _) => Ok(Value::Null),
        (Value::Text(s), SqlType::Varchar(Some(n))) => Ok(Value::Text(fit_length(
            s,
            *n,
            "character varying",
            context,
        )?)),
        (Value::Text(s), SqlType::Char(Some(n))) => {
            let mut s = fit_length(s, *n, "character", context)?;
            let len = s.chars().count();
            s.extend(std::iter::repeat_n(' ', (*n as usize).saturating_sub(len)));
            Ok(Value::Text(s))
        }
        (
            Value::Numeric(n),
            SqlType::Numeric {
                precision: Some(p),
                scale,
            },
        ) => Ok(Value::Numeric(Box::new(
            super::cast_convert::numeric_typmod(*n, *p, scale.unwrap_or(0))?,
        ))),
        (Value::Vector(v), SqlType::Vector(Some(n))) => {
            if v.len() != *n as usize {
                return Err(SqlError::new(
                    code::DATA_EXCEPTION,
                    format!("expected {n} dimensions, not {}", v.len()),
                ));
            }
            Ok(Value::Vector(v))
        }
        (Value::Array(mut array), SqlType::Array(element)) => {
            for e in array.elements.iter_mut() {
                let v = std::mem::replace(e, Value::Null);
                *e = apply_modifier(v, element, context)?;
            }
            Ok(Value::Array(array))
        }
        (value, _) => Ok(value),
    }
}

/// Cuts `s` to `max` characters: silently for explicit casts, otherwise only when the cut
/// part is spaces (22001 `value too long for type character varying(n)` if not).
fn fit_length(s: String, max: u32, type_name: &str, context: CastContext) -> SqlResult<String> {
    match s.char_indices().nth(max as usize) {
        None => Ok(s),
        Some((cut, _)) => {
            if context == CastContext::Explicit || s[cut..].bytes().all(|b| b == b' ') {
                Ok(s[..cut].to_string())
            } else {
                Err(SqlError::new(
                    code::STRING_DATA_RIGHT_TRUNCATION,
                    format!("value too long for type {type_name}({max})"),
                ))
            }
        }
    }
}
