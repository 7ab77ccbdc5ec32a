//! PostgreSQL's text forms of every storage type: [`parse_text`] is the type input function
//! (`int4in`, `timestamptz_in`, `array_in`, pgvector's `vector_in`, ...) and [`format_text`]
//! the output function, both matching PostgreSQL 16 (and pgvector) byte for byte.
//!
//! These are what SQL literals, casts from text, COPY text format and the wire's text format
//! are built on. Input applies the column's modifier as PostgreSQL's input functions do
//! (`varchar(n)` length, `char(n)` padding, `numeric(p,s)` rounding, `vector(n)` dimensions);
//! errors carry PostgreSQL's SQLSTATE and message ([`TypeError`]). Output depends only on the
//! value and the session ([`SessionFormat`]): time zone, `DateStyle`, `IntervalStyle` and
//! `extra_float_digits`.
//!
//! Contract with callers: `parse_text` never panics and does work linear in the input, apart
//! from `numeric` digit conversion on the (bounded) digits PostgreSQL can store; NUL characters
//! are refused for every type, as PostgreSQL's client encoding check does. `format_text`
//! expects a value of the column's type (NULL is the caller's business: it prints as an empty
//! string) and never fails.
//!
//! One file per family: `boolean`, `integer`, `float`, `numeric_text`, `character`, `bytea`,
//! `uuid`, `interval`, `array`, `json`, `vector`, and the date/time stages: `datetime_parse`
//! tokenises, `datetime_decode` interprets (with the field readers of `datetime_fields`),
//! `datetime` converts and prints, on top of `calendar`, `timezone` and `timezone_posix`.
//! Tests sit beside each family; the `*_tests.rs` files hold tables captured from PostgreSQL
//! (see `test_support`), and `properties` the round-trip and no-panic proptests.

mod array;
mod boolean;
mod bytea;
mod calendar;
mod character;
mod datetime;
mod datetime_decode;
mod datetime_fields;
mod datetime_parse;
mod error;
mod float;
mod integer;
mod interval;
mod json;
mod numeric_text;
mod session;
mod timezone;
mod timezone_posix;
mod uuid;
mod vector;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod scalar_tests;
#[cfg(test)]
mod test_support;

pub use error::{sqlstate, TypeError};
pub use session::{DateOrder, DateOutputStyle, DateStyle, IntervalStyle, SessionFormat};
pub use timezone::SessionTimeZone;
pub use timezone_posix::{DaylightSaving, PosixZone};

use storage::types::{DataType, Value};

/// Reads `text` as a value of `data_type`, as PostgreSQL's input function for the type does
/// (with the type modifier applied).
pub fn parse_text(
    data_type: &DataType,
    text: &str,
    session: &SessionFormat,
) -> Result<Value, TypeError> {
    error::reject_nul(text)?;
    Ok(match data_type {
        DataType::Bool => Value::Bool(boolean::parse_bool(text)?),
        DataType::Int2 => Value::Int2(integer::parse_integer(text, 16, "smallint")? as i16),
        DataType::Int4 => Value::Int4(integer::parse_integer(text, 32, "integer")? as i32),
        DataType::Int8 => Value::Int8(integer::parse_integer(text, 64, "bigint")?),
        DataType::Float4 => Value::Float4(float::parse_float4(text)?),
        DataType::Float8 => Value::Float8(float::parse_float8(text)?),
        DataType::Numeric { precision, scale } => Value::Numeric(Box::new(
            numeric_text::parse_numeric(text, *precision, *scale)?,
        )),
        DataType::Text => Value::Text(character::parse_text_value(text)?),
        DataType::Varchar(n) => Value::Text(character::parse_varchar(text, *n)?),
        DataType::Char(n) => Value::Text(character::parse_char(text, *n)?),
        DataType::Bytea => Value::Bytea(bytea::parse_bytea(text)?),
        DataType::Date => Value::Date(datetime::parse_date(text, session)?),
        DataType::Time => Value::Time(datetime::parse_time(text, session)?),
        DataType::Timestamp => Value::Timestamp(datetime::parse_timestamp(text, session)?),
        DataType::Timestamptz => Value::Timestamptz(datetime::parse_timestamptz(text, session)?),
        DataType::Interval => Value::Interval(interval::parse_interval(text, session)?),
        DataType::Uuid => Value::Uuid(uuid::parse_uuid(text)?),
        DataType::Json => Value::Json(json::parse_json(text)?),
        DataType::Jsonb => Value::Jsonb(json::parse_jsonb(text)?),
        DataType::Array(element) => Value::Array(Box::new(array::parse_array(
            text,
            innermost_element(element),
            session,
        )?)),
        DataType::Vector(dimensions) => Value::Vector(vector::parse_vector(text, *dimensions)?),
    })
}

/// Writes `value` as PostgreSQL's output function for its type does, in the session's styles.
pub fn format_text(value: &Value, data_type: &DataType, session: &SessionFormat) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => boolean::format_bool(*b).to_string(),
        Value::Int2(v) => v.to_string(),
        Value::Int4(v) => v.to_string(),
        Value::Int8(v) => v.to_string(),
        Value::Float4(v) => float::format_float4(*v, session.extra_float_digits),
        Value::Float8(v) => float::format_float8(*v, session.extra_float_digits),
        Value::Numeric(n) => n.to_string(),
        Value::Text(s) | Value::Json(s) | Value::Jsonb(s) => s.clone(),
        Value::Bytea(b) => bytea::format_bytea(b),
        Value::Date(d) => datetime::format_date(*d, session),
        Value::Time(t) => datetime::format_time(*t),
        Value::Timestamp(t) => datetime::format_timestamp(*t, session),
        Value::Timestamptz(t) => datetime::format_timestamptz(*t, session),
        Value::Interval(i) => interval::format_interval(i, session),
        Value::Uuid(u) => uuid::format_uuid(u),
        Value::Array(a) => {
            let element = match data_type {
                DataType::Array(element) => innermost_element(element),
                other => other,
            };
            array::format_array(a, element, session)
        }
        Value::Vector(v) => vector::format_vector(v),
    }
}

/// PostgreSQL has no arrays of arrays: `int[][]` is `int[]` with more dimensions.
fn innermost_element(element: &DataType) -> &DataType {
    match element {
        DataType::Array(inner) => innermost_element(inner),
        other => other,
    }
}
