//! Building JSON from SQL values: `to_json`, `to_jsonb`, `array_to_json`,
//! `json_build_object`, `jsonb_build_object`, `json_build_array`, `jsonb_build_array`,
//! `json_object`, `jsonb_object`, and the conversion the JSON aggregates use.
//!
//! A value becomes JSON as PostgreSQL's `datum_to_json` makes it: numbers stay numbers (a
//! non-finite float becomes a string), booleans and NULL map to their JSON forms, arrays to
//! nested JSON arrays, `json` is embedded verbatim and `jsonb` as its text, dates and
//! timestamps in ISO 8601 (`2024-01-01T10:00:00+00:00`), everything else as the JSON string
//! of its text output. `json` output keeps PostgreSQL's spacing per function
//! (`{"a" : 1}` for `json_build_object`, `[1,2]` for `to_json` of an array).

use storage::types::{Array, Value};

use super::calendar::{is_infinite, utc_to_local, DateTime, USECS_PER_DAY};
use super::cast::output_text;
use super::json::invalid_param;
use super::json_tree::{self, Json};
use super::registry::Registry;
use super::{args, FnCtx, Param, Returns, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

pub fn register(reg: &mut Registry) {
    use SqlType::{Json as J, Jsonb as B, Text};
    let text_array = SqlType::Array(Box::new(Text));
    reg.scalar(
        "to_json",
        vec![Param::AnyElement],
        Returns::Type(J),
        to_json,
    )
    .volatility(Volatility::Stable);
    reg.scalar(
        "to_jsonb",
        vec![Param::AnyElement],
        Returns::Type(B),
        to_jsonb,
    )
    .volatility(Volatility::Stable);
    reg.scalar(
        "array_to_json",
        vec![Param::AnyArray],
        Returns::Type(J),
        to_json,
    )
    .volatility(Volatility::Stable);
    for (name, f, t) in [
        ("json_build_object", build_object as super::ScalarFn, J),
        ("jsonb_build_object", build_object_b, B),
        ("json_build_array", build_array, J),
        ("jsonb_build_array", build_array_b, B),
    ] {
        reg.scalar(name, vec![Param::Any], Returns::Type(t.clone()), f)
            .variadic()
            .strict(false)
            .volatility(Volatility::Stable);
        reg.scalar(name, vec![], Returns::Type(t), f)
            .strict(false)
            .volatility(Volatility::Stable);
    }
    reg.typed("json_object", [text_array.clone()], J, object_from_array);
    reg.typed("jsonb_object", [text_array.clone()], B, object_from_array_b);
    reg.typed(
        "json_object",
        &[text_array.clone(), text_array.clone()],
        J,
        object_from_pairs,
    );
    reg.typed(
        "jsonb_object",
        &[text_array.clone(), text_array],
        B,
        object_from_pairs_b,
    );
}

/// `YYYY-MM-DD` of a date (ISO whatever the DateStyle), years BC as PostgreSQL writes them.
fn iso_date(dt: &DateTime) -> String {
    if dt.year > 0 {
        format!("{:04}-{:02}-{:02}", dt.year, dt.month, dt.day)
    } else {
        format!("{:04}-{:02}-{:02} BC", 1 - dt.year, dt.month, dt.day)
    }
}

fn iso_time(dt: &DateTime) -> String {
    let mut s = format!("{:02}:{:02}:{:02}", dt.hour, dt.minute, dt.second);
    if dt.micros != 0 {
        let frac = format!("{:06}", dt.micros);
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s
}

/// The XSD form PostgreSQL's JSON functions give dates and timestamps.
fn iso_datetime(ctx: &FnCtx, value: &Value) -> Option<String> {
    Some(match value {
        Value::Date(d) => match *d {
            i32::MIN => "-infinity".into(),
            i32::MAX => "infinity".into(),
            d => iso_date(&DateTime::from_timestamp(d as i64 * USECS_PER_DAY)),
        },
        Value::Timestamp(t) => {
            if is_infinite(*t) {
                return Some(if *t > 0 { "infinity" } else { "-infinity" }.into());
            }
            let dt = DateTime::from_timestamp(*t);
            format!("{}T{}", iso_date(&dt), iso_time(&dt))
        }
        Value::Timestamptz(t) => {
            if is_infinite(*t) {
                return Some(if *t > 0 { "infinity" } else { "-infinity" }.into());
            }
            let zone = &ctx.format.time_zone;
            let local = utc_to_local(zone, *t);
            let offset = (local - *t) / 1_000_000;
            let dt = DateTime::from_timestamp(local);
            let sign = if offset < 0 { '-' } else { '+' };
            let abs = offset.abs();
            let mut tz = format!("{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60);
            if abs % 60 != 0 {
                tz.push_str(&format!(":{:02}", abs % 60));
            }
            format!("{}T{}{tz}", iso_date(&dt), iso_time(&dt))
        }
        _ => return None,
    })
}

fn json_string(s: &str) -> String {
    let mut out = String::new();
    json_tree::escape(&mut out, s);
    out
}

/// The text of a float in JSON: a number when finite, else a string.
fn float_json(ctx: &FnCtx, value: &Value) -> String {
    let text = output_text(ctx, value, &SqlType::Float8);
    let finite = match value {
        Value::Float4(x) => x.is_finite(),
        Value::Float8(x) => x.is_finite(),
        _ => true,
    };
    if finite {
        text
    } else {
        json_string(&text)
    }
}

/// `datum_to_json` for `json` output (`json` values embedded verbatim).
pub fn value_to_json_text(ctx: &FnCtx, value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => output_text(ctx, value, &SqlType::Int8),
        Value::Float4(_) | Value::Float8(_) => float_json(ctx, value),
        Value::Numeric(n) => match **n {
            storage::types::Numeric::Finite(_) => n.to_string(),
            _ => json_string(&n.to_string()),
        },
        Value::Json(s) | Value::Jsonb(s) => s.clone(),
        Value::Array(a) => array_to_json_text(ctx, a),
        Value::Text(s) => json_string(s),
        other => match iso_datetime(ctx, other) {
            Some(s) => json_string(&s),
            None => json_string(&output_text(ctx, other, &representative_type(other))),
        },
    }
}

/// A type whose output function prints `value` (for values of non-array variants).
fn representative_type(value: &Value) -> SqlType {
    match value {
        Value::Bytea(_) => SqlType::Bytea,
        Value::Time(_) => SqlType::Time,
        Value::Interval(_) => SqlType::Interval,
        Value::Uuid(_) => SqlType::Uuid,
        Value::Vector(_) => SqlType::Vector(None),
        _ => SqlType::Text,
    }
}

fn array_to_json_text(ctx: &FnCtx, a: &Array) -> String {
    fn level(ctx: &FnCtx, lens: &[u32], elements: &[Value], next: &mut usize, out: &mut String) {
        out.push('[');
        for i in 0..lens[0] {
            if i > 0 {
                out.push(',');
            }
            if lens.len() > 1 {
                level(ctx, &lens[1..], elements, next, out);
            } else {
                let v = elements.get(*next).unwrap_or(&Value::Null);
                out.push_str(&value_to_json_text(ctx, v));
                *next += 1;
            }
        }
        out.push(']');
    }
    if a.dims.is_empty() || a.elements.is_empty() {
        return "[]".into();
    }
    let lens: Vec<u32> = a.dims.iter().map(|d| d.len).collect();
    let mut out = String::new();
    level(ctx, &lens, &a.elements, &mut 0, &mut out);
    out
}

/// `datum_to_jsonb`: the value as a jsonb tree.
pub fn value_to_jsonb(ctx: &FnCtx, value: &Value) -> SqlResult<Json> {
    Ok(match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => {
            Json::Number(output_text(ctx, value, &SqlType::Int8))
        }
        Value::Float4(_) | Value::Float8(_) => {
            let text = output_text(ctx, value, &SqlType::Float8);
            let finite = match value {
                Value::Float4(x) => x.is_finite(),
                Value::Float8(x) => x.is_finite(),
                _ => true,
            };
            if finite {
                Json::Number(json_tree::canonical_number(&text))
            } else {
                Json::String(text)
            }
        }
        Value::Numeric(n) => match **n {
            storage::types::Numeric::Finite(_) => Json::Number(n.to_string()),
            _ => Json::String(n.to_string()),
        },
        Value::Json(s) | Value::Jsonb(s) => json_tree::parse(s)?.normalize(),
        Value::Array(a) => array_to_jsonb(ctx, a)?,
        Value::Text(s) => Json::String(s.clone()),
        other => Json::String(match iso_datetime(ctx, other) {
            Some(s) => s,
            None => output_text(ctx, other, &representative_type(other)),
        }),
    })
}

fn array_to_jsonb(ctx: &FnCtx, a: &Array) -> SqlResult<Json> {
    if a.dims.is_empty() || a.elements.is_empty() {
        return Ok(Json::Array(Vec::new()));
    }
    let mut items: Vec<Json> = a
        .elements
        .iter()
        .map(|e| value_to_jsonb(ctx, e))
        .collect::<SqlResult<_>>()?;
    for d in a.dims.iter().skip(1).rev() {
        let n = d.len as usize;
        items = items
            .chunks(n.max(1))
            .map(|c| Json::Array(c.to_vec()))
            .collect();
    }
    Ok(Json::Array(items))
}

fn to_json(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Json(value_to_json_text(ctx, args::arg(a, 0)?)))
}

fn to_jsonb(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Jsonb(
        value_to_jsonb(ctx, args::arg(a, 0)?)?.to_jsonb_text(),
    ))
}

/// The text of an object key: any scalar's text output.
fn key_text(ctx: &FnCtx, a: &[Value], i: usize) -> SqlResult<String> {
    match &a[i] {
        Value::Null => Err(invalid_param("null value not allowed for object key")),
        Value::Array(_) | Value::Json(_) | Value::Jsonb(_) => Err(invalid_param(
            "key value must be scalar, not array, composite, or json",
        )),
        Value::Text(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(if *b { "true" } else { "false" }.into()),
        other => Ok(match iso_datetime(ctx, other) {
            Some(s) => s,
            None => super::cast::text_of(ctx, other, &value_type(other)),
        }),
    }
}

fn value_type(v: &Value) -> SqlType {
    match v {
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => SqlType::Int8,
        Value::Float4(_) => SqlType::Float4,
        Value::Float8(_) => SqlType::Float8,
        Value::Numeric(_) => crate::pgtype::NUMERIC,
        other => representative_type(other),
    }
}

fn check_pairs(a: &[Value], function: &str) -> SqlResult<()> {
    if !a.len().is_multiple_of(2) {
        return Err(
            invalid_param("argument list must have even number of elements").with_hint(format!(
                "The arguments of {function}() must consist of alternating keys and values."
            )),
        );
    }
    Ok(())
}

fn build_object(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    check_pairs(a, "json_build_object")?;
    let mut out = String::from("{");
    for i in (0..a.len()).step_by(2) {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&json_string(&key_text(ctx, a, i)?));
        out.push_str(" : ");
        out.push_str(&value_to_json_text(ctx, &a[i + 1]));
    }
    out.push('}');
    Ok(Value::Json(out))
}

fn build_object_b(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    check_pairs(a, "jsonb_build_object")?;
    let mut members = Vec::with_capacity(a.len() / 2);
    for i in (0..a.len()).step_by(2) {
        members.push((key_text(ctx, a, i)?, value_to_jsonb(ctx, &a[i + 1])?));
    }
    Ok(Value::Jsonb(
        Json::Object(members).normalize().to_jsonb_text(),
    ))
}

fn build_array(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let items: Vec<String> = a.iter().map(|v| value_to_json_text(ctx, v)).collect();
    Ok(Value::Json(format!("[{}]", items.join(", "))))
}

fn build_array_b(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let items = a
        .iter()
        .map(|v| value_to_jsonb(ctx, v))
        .collect::<SqlResult<Vec<_>>>()?;
    Ok(Value::Jsonb(Json::Array(items).to_jsonb_text()))
}

/// Key/value pairs of `json_object(text[])`: a flat array of alternating keys and values or
/// a two-column two-dimensional array.
fn pairs_from_array(array: &Array) -> SqlResult<Vec<(String, Option<String>)>> {
    let wrong_dims = || {
        SqlError::new(
            code::ARRAY_SUBSCRIPT_ERROR,
            "wrong number of array subscripts",
        )
    };
    match array.dims.len() {
        0 => return Ok(Vec::new()),
        1 if !array.elements.len().is_multiple_of(2) => {
            return Err(SqlError::new(
                code::ARRAY_SUBSCRIPT_ERROR,
                "array must have even number of elements",
            ))
        }
        1 => {}
        2 if array.dims[1].len == 2 => {}
        2 => {
            return Err(SqlError::new(
                code::ARRAY_SUBSCRIPT_ERROR,
                "array must have two columns",
            ))
        }
        _ => return Err(wrong_dims()),
    }
    array
        .elements
        .chunks(2)
        .map(|c| {
            let key = match &c[0] {
                Value::Text(s) => s.clone(),
                _ => {
                    return Err(SqlError::new(
                        code::NULL_VALUE_NOT_ALLOWED,
                        "null value not allowed for object key",
                    ))
                }
            };
            let value = match &c[1] {
                Value::Text(s) => Some(s.clone()),
                _ => None,
            };
            Ok((key, value))
        })
        .collect()
}

fn pairs_from_two(keys: &Array, values: &Array) -> SqlResult<Vec<(String, Option<String>)>> {
    if keys.dims.len() > 1 || values.dims.len() > 1 {
        return Err(SqlError::new(
            code::ARRAY_SUBSCRIPT_ERROR,
            "wrong number of array subscripts",
        ));
    }
    if keys.elements.len() != values.elements.len() {
        return Err(SqlError::new(
            code::ARRAY_SUBSCRIPT_ERROR,
            "mismatched array dimensions",
        ));
    }
    let mut flat = Vec::with_capacity(keys.elements.len() * 2);
    for (k, v) in keys.elements.iter().zip(&values.elements) {
        flat.push(k.clone());
        flat.push(v.clone());
    }
    pairs_from_array(&Array::from_list(flat))
}

fn json_object_text(pairs: Vec<(String, Option<String>)>) -> Value {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{} : {}",
                json_string(k),
                v.as_deref().map_or("null".to_string(), json_string)
            )
        })
        .collect();
    Value::Json(format!("{{{}}}", body.join(", ")))
}

fn jsonb_object_value(pairs: Vec<(String, Option<String>)>) -> Value {
    let members = pairs
        .into_iter()
        .map(|(k, v)| (k, v.map_or(Json::Null, Json::String)))
        .collect();
    Value::Jsonb(Json::Object(members).normalize().to_jsonb_text())
}

fn object_from_array(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(json_object_text(pairs_from_array(args::array(a, 0)?)?))
}

fn object_from_array_b(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(jsonb_object_value(pairs_from_array(args::array(a, 0)?)?))
}

fn object_from_pairs(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(json_object_text(pairs_from_two(
        args::array(a, 0)?,
        args::array(a, 1)?,
    )?))
}

fn object_from_pairs_b(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(jsonb_object_value(pairs_from_two(
        args::array(a, 0)?,
        args::array(a, 1)?,
    )?))
}
