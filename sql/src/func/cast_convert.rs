//! The value conversions behind casts: between the numeric types (with PostgreSQL's rounding
//! and range errors), the date/time types (in the session time zone), `json`/`jsonb`,
//! `vector` and arrays, the OID types, and the I/O conversions through text.
//!
//! Callers ([`super::cast`]) handle NULL and the target's modifier; `convert` is given a
//! non-NULL value of type `from`.

use bigdecimal::BigDecimal;
use storage::types::{Array, Interval, Numeric, Value};

use super::calendar::{
    self, date_to_timestamp, local_to_utc, timestamp_to_date, utc_to_local, USECS_PER_DAY,
};
use super::cast::{cannot_cast, input_value, text_of, truncate_name};
use super::decimal;
use super::FnCtx;
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;
use crate::types::parse_text;

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

/// Converts a non-NULL `value` of type `from` to type `to` (modifier not yet applied).
pub(crate) fn convert(ctx: &FnCtx, value: Value, from: &SqlType, to: &SqlType) -> SqlResult<Value> {
    use SqlType as T;
    if *from == T::Unknown || (is_string(from) && !is_string(to)) {
        let text = match &value {
            Value::Text(s) => s.clone(),
            other => text_of(ctx, other, from),
        };
        return input_value(ctx, &text, to);
    }
    if is_string(to) {
        let text = text_of(ctx, &value, from);
        return Ok(Value::Text(if *to == T::Name {
            truncate_name(&text)
        } else {
            text
        }));
    }
    match (from, to) {
        (T::Int2Vector, T::Array(_)) | (T::OidVector, T::Array(_)) => Ok(value),
        (T::Array(f), T::Array(t)) => {
            let Value::Array(mut array) = value else {
                return Err(cannot_cast(from, to));
            };
            for e in array.elements.iter_mut() {
                if !e.is_null() {
                    let v = std::mem::replace(e, Value::Null);
                    *e = convert(ctx, v, f, t)?;
                }
            }
            Ok(Value::Array(array))
        }
        (T::Vector(_), T::Array(_)) => match value {
            Value::Vector(v) => Ok(Value::Array(Box::new(Array::from_list(
                v.into_iter().map(Value::Float4).collect(),
            )))),
            _ => Err(cannot_cast(from, to)),
        },
        (T::Array(_), T::Vector(_)) => array_to_vector(&value).map(Value::Vector),
        (T::Json, T::Jsonb) => match value {
            Value::Json(s) | Value::Text(s) => Ok(parse_text(
                &storage::types::DataType::Jsonb,
                &s,
                ctx.format,
            )?),
            _ => Err(cannot_cast(from, to)),
        },
        (T::Jsonb, T::Json) => match value {
            Value::Jsonb(s) | Value::Text(s) => Ok(Value::Json(s)),
            _ => Err(cannot_cast(from, to)),
        },
        (T::Jsonb, _) => jsonb_to_scalar(&value, to),
        (T::InternalChar, T::Int4) => match value {
            Value::Text(s) => Ok(Value::Int4(s.bytes().next().map_or(0, |b| b as i8 as i32))),
            _ => Err(cannot_cast(from, to)),
        },
        (T::Int4, T::InternalChar) => match value {
            Value::Int4(i) if (-128..=127).contains(&i) => Ok(Value::Text(if i == 0 {
                String::new()
            } else {
                char::from(i as i8 as u8).to_string()
            })),
            Value::Int4(_) => Err(SqlError::new(
                code::NUMERIC_VALUE_OUT_OF_RANGE,
                "\"char\" out of range",
            )),
            _ => Err(cannot_cast(from, to)),
        },
        (T::Bool, T::Int4) => match value {
            Value::Bool(b) => Ok(Value::Int4(b as i32)),
            _ => Err(cannot_cast(from, to)),
        },
        (T::Int4, T::Bool) => match value {
            Value::Int4(i) => Ok(Value::Bool(i != 0)),
            _ => Err(cannot_cast(from, to)),
        },
        (f, t) if is_oid_like(t) && (is_oid_like(f) || matches!(f, T::Int2 | T::Int4)) => {
            let v = integer_of(&value).ok_or_else(|| cannot_cast(from, to))?;
            Ok(Value::Int8(v as u32 as i64))
        }
        (T::Int8, t) if is_oid_like(t) => match value {
            Value::Int8(v) if (0..=u32::MAX as i64).contains(&v) => Ok(Value::Int8(v)),
            Value::Int8(_) => Err(SqlError::new(
                code::NUMERIC_VALUE_OUT_OF_RANGE,
                "OID out of range",
            )),
            _ => Err(cannot_cast(from, to)),
        },
        (f, T::Int4) if is_oid_like(f) => {
            let v = integer_of(&value).ok_or_else(|| cannot_cast(from, to))?;
            Ok(Value::Int4(v as u32 as i32))
        }
        (f, T::Int8) if is_oid_like(f) => {
            let v = integer_of(&value).ok_or_else(|| cannot_cast(from, to))?;
            Ok(Value::Int8(v))
        }
        _ if number_of(&value).is_some() && is_number_type(to) => {
            let n = number_of(&value).ok_or_else(|| cannot_cast(from, to))?;
            convert_number(n, to)
        }
        _ => convert_datetime(ctx, value, from, to),
    }
}

fn is_number_type(t: &SqlType) -> bool {
    matches!(
        t,
        SqlType::Int2
            | SqlType::Int4
            | SqlType::Int8
            | SqlType::Float4
            | SqlType::Float8
            | SqlType::Numeric { .. }
    )
}

fn integer_of(value: &Value) -> Option<i64> {
    match value {
        Value::Int2(v) => Some(*v as i64),
        Value::Int4(v) => Some(*v as i64),
        Value::Int8(v) => Some(*v),
        _ => None,
    }
}

/// A numeric value of any of the numeric storage variants.
pub(crate) enum Number {
    Int(i64),
    Float(f64, bool),
    Decimal(Numeric),
}

pub(crate) fn number_of(value: &Value) -> Option<Number> {
    Some(match value {
        Value::Int2(v) => Number::Int(*v as i64),
        Value::Int4(v) => Number::Int(*v as i64),
        Value::Int8(v) => Number::Int(*v),
        Value::Float4(v) => Number::Float(*v as f64, true),
        Value::Float8(v) => Number::Float(*v, false),
        Value::Numeric(n) => Number::Decimal((**n).clone()),
        _ => return None,
    })
}

fn out_of_range(type_name: &str) -> SqlError {
    SqlError::new(
        code::NUMERIC_VALUE_OUT_OF_RANGE,
        format!("{type_name} out of range"),
    )
}

/// The PostgreSQL name of an integer type in range errors.
fn int_name(bits: u32) -> &'static str {
    match bits {
        16 => "smallint",
        32 => "integer",
        _ => "bigint",
    }
}

fn int_in_range(v: i64, bits: u32) -> SqlResult<Value> {
    match bits {
        16 => i16::try_from(v)
            .map(Value::Int2)
            .map_err(|_| out_of_range("smallint")),
        32 => i32::try_from(v)
            .map(Value::Int4)
            .map_err(|_| out_of_range("integer")),
        _ => Ok(Value::Int8(v)),
    }
}

/// Converts a number to one of the numeric types.
pub(crate) fn convert_number(n: Number, to: &SqlType) -> SqlResult<Value> {
    let bits = match to {
        SqlType::Int2 => Some(16),
        SqlType::Int4 => Some(32),
        SqlType::Int8 => Some(64),
        _ => None,
    };
    if let Some(bits) = bits {
        return match n {
            Number::Int(v) => int_in_range(v, bits),
            Number::Float(x, _) => {
                let r = x.round_ties_even();
                let limit = 2f64.powi(bits as i32 - 1);
                if r.is_nan() || r < -limit || r >= limit {
                    Err(out_of_range(int_name(bits)))
                } else {
                    int_in_range(r as i64, bits)
                }
            }
            Number::Decimal(d) => match d {
                Numeric::NaN => Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    format!("cannot convert NaN to {}", int_name(bits)),
                )),
                Numeric::Infinity | Numeric::NegInfinity => Err(SqlError::new(
                    code::FEATURE_NOT_SUPPORTED,
                    format!("cannot convert infinity to {}", int_name(bits)),
                )),
                Numeric::Finite(d) => match decimal::to_i64_rounded(&d) {
                    Some(v) => int_in_range(v, bits),
                    None => Err(out_of_range(int_name(bits))),
                },
            },
        };
    }
    match to {
        SqlType::Float8 => Ok(Value::Float8(match n {
            Number::Int(v) => v as f64,
            Number::Float(x, _) => x,
            Number::Decimal(d) => numeric_to_float(&d, "double precision")?,
        })),
        SqlType::Float4 => Ok(Value::Float4(match n {
            Number::Int(v) => v as f32,
            Number::Float(x, true) => x as f32,
            Number::Float(x, false) => {
                let r = x as f32;
                if r.is_infinite() && x.is_finite() {
                    return Err(SqlError::new(
                        code::NUMERIC_VALUE_OUT_OF_RANGE,
                        "value out of range: overflow",
                    ));
                }
                if r == 0.0 && x != 0.0 {
                    return Err(SqlError::new(
                        code::NUMERIC_VALUE_OUT_OF_RANGE,
                        "value out of range: underflow",
                    ));
                }
                r
            }
            Number::Decimal(d) => numeric_to_float(&d, "real")? as f32,
        })),
        SqlType::Numeric { .. } => Ok(Value::Numeric(Box::new(match n {
            Number::Int(v) => Numeric::from_i64(v),
            Number::Float(x, single) => decimal::from_float(x, if single { 6 } else { 15 }),
            Number::Decimal(d) => d,
        }))),
        other => Err(cannot_cast(&SqlType::Float8, other)),
    }
}

/// `numeric_float8` / `numeric_float4`: the decimal text read as a float, with the float
/// input's range error.
fn numeric_to_float(d: &Numeric, type_name: &str) -> SqlResult<f64> {
    match d {
        Numeric::Finite(_) => {
            let text = d.to_string();
            let single = type_name == "real";
            let x: f64 = if single {
                text.parse::<f32>().map(f64::from).unwrap_or(f64::NAN)
            } else {
                text.parse().unwrap_or(f64::NAN)
            };
            if x.is_infinite()
                || (x == 0.0
                    && d.mantissa_and_scale()
                        .is_some_and(|(m, _)| m.sign() != bigdecimal::num_bigint::Sign::NoSign))
            {
                return Err(SqlError::new(
                    code::NUMERIC_VALUE_OUT_OF_RANGE,
                    format!("\"{text}\" is out of range for type {type_name}"),
                ));
            }
            Ok(x)
        }
        other => Ok(decimal::to_f64(other)),
    }
}

/// `numeric(p, s)`: rounds to `s` digits and checks that at most `p - s` integer digits
/// remain (22003 `numeric field overflow` with PostgreSQL's detail).
pub fn numeric_typmod(n: Numeric, precision: u32, scale: i32) -> SqlResult<Numeric> {
    let overflow = |detail: String| {
        SqlError::new(code::NUMERIC_VALUE_OUT_OF_RANGE, "numeric field overflow")
            .with_detail(detail)
    };
    match n {
        Numeric::NaN => Ok(Numeric::NaN),
        Numeric::Infinity | Numeric::NegInfinity => Err(overflow(format!(
            "A field with precision {precision}, scale {scale} cannot hold an infinite value."
        ))),
        Numeric::Finite(d) => {
            let rounded = decimal::round(&d, scale as i64);
            let max_digits = precision as i64 - scale as i64;
            let zero = rounded.sign() == bigdecimal::num_bigint::Sign::NoSign;
            if !zero && decimal::decimal_weight(&rounded) + 1 > max_digits {
                let bound = if max_digits != 0 {
                    format!("10^{max_digits}")
                } else {
                    "1".to_string()
                };
                return Err(overflow(format!(
                    "A field with precision {precision}, scale {scale} must round to an absolute value less than {bound}."
                )));
            }
            Ok(Numeric::Finite(decimal::with_display_scale(rounded)))
        }
    }
}

/// pgvector's array-to-vector casts.
fn array_to_vector(value: &Value) -> SqlResult<Vec<f32>> {
    let Value::Array(array) = value else {
        return Err(SqlError::new(code::DATA_EXCEPTION, "array must be 1-D"));
    };
    if array.dims.len() > 1 {
        return Err(SqlError::new(code::DATA_EXCEPTION, "array must be 1-D"));
    }
    if array.elements.iter().any(Value::is_null) {
        return Err(SqlError::new(
            code::NULL_VALUE_NOT_ALLOWED,
            "array must not contain nulls",
        ));
    }
    if array.elements.is_empty() {
        return Err(SqlError::new(
            code::DATA_EXCEPTION,
            "vector must have at least 1 dimension",
        ));
    }
    if array.elements.len() > storage::types::MAX_VECTOR_DIMENSIONS as usize {
        return Err(SqlError::new(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!(
                "vector cannot have more than {} dimensions",
                storage::types::MAX_VECTOR_DIMENSIONS
            ),
        ));
    }
    let mut out = Vec::with_capacity(array.elements.len());
    for e in &array.elements {
        let x = match e {
            Value::Int4(v) => *v as f32,
            Value::Int2(v) => *v as f32,
            Value::Int8(v) => *v as f32,
            Value::Float4(v) => *v,
            Value::Float8(v) => *v as f32,
            Value::Numeric(n) => decimal::to_f64(n) as f32,
            _ => return Err(SqlError::new(code::DATA_EXCEPTION, "array must be 1-D")),
        };
        if x.is_nan() {
            return Err(SqlError::new(
                code::DATA_EXCEPTION,
                "NaN not allowed in vector",
            ));
        }
        if x.is_infinite() {
            return Err(SqlError::new(
                code::DATA_EXCEPTION,
                "infinite value not allowed in vector",
            ));
        }
        out.push(x);
    }
    Ok(out)
}

/// `jsonb` scalars to `numeric`, the integer and float types, and `boolean`.
fn jsonb_to_scalar(value: &Value, to: &SqlType) -> SqlResult<Value> {
    let text = match value {
        Value::Jsonb(s) | Value::Text(s) | Value::Json(s) => s.trim(),
        _ => return Err(cannot_cast(&SqlType::Jsonb, to)),
    };
    let kind = match text.as_bytes().first() {
        Some(b'n') => "null",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'[') => "array",
        Some(b'{') => "object",
        _ => "numeric",
    };
    let wrong = || {
        SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!("cannot cast jsonb {kind} to type {}", to.base_name()),
        )
    };
    match (kind, to) {
        ("boolean", SqlType::Bool) => Ok(Value::Bool(text == "true")),
        ("numeric", t) if is_number_type(t) => {
            let d: BigDecimal = text.parse().map_err(|_| wrong())?;
            convert_number(Number::Decimal(Numeric::Finite(d)), t)
        }
        _ => Err(wrong()),
    }
}

/// Conversions among `date`, `time`, `timestamp`, `timestamptz` and `interval`.
fn convert_datetime(ctx: &FnCtx, value: Value, from: &SqlType, to: &SqlType) -> SqlResult<Value> {
    let zone = &ctx.format.time_zone;
    let checked = |t: i64| {
        if calendar::is_infinite(t) || calendar::is_valid_timestamp(t) {
            Ok(t)
        } else {
            Err(calendar::timestamp_out_of_range())
        }
    };
    match (value, to) {
        (Value::Date(d), SqlType::Timestamp) => Ok(Value::Timestamp(date_to_timestamp(d)?)),
        (Value::Date(d), SqlType::Timestamptz) => {
            let local = date_to_timestamp(d)?;
            Ok(Value::Timestamptz(checked(local_to_utc(zone, local))?))
        }
        (Value::Timestamp(t), SqlType::Timestamptz) => {
            Ok(Value::Timestamptz(checked(local_to_utc(zone, t))?))
        }
        (Value::Timestamptz(t), SqlType::Timestamp) => {
            Ok(Value::Timestamp(checked(utc_to_local(zone, t))?))
        }
        (Value::Timestamp(t), SqlType::Date) => Ok(Value::Date(timestamp_to_date(t)?)),
        (Value::Timestamptz(t), SqlType::Date) => {
            Ok(Value::Date(timestamp_to_date(utc_to_local(zone, t))?))
        }
        (Value::Timestamp(t), SqlType::Time) => Ok(if calendar::is_infinite(t) {
            Value::Null
        } else {
            Value::Time(t.rem_euclid(USECS_PER_DAY))
        }),
        (Value::Timestamptz(t), SqlType::Time) => Ok(if calendar::is_infinite(t) {
            Value::Null
        } else {
            Value::Time(utc_to_local(zone, t).rem_euclid(USECS_PER_DAY))
        }),
        (Value::Time(t), SqlType::Interval) => Ok(Value::Interval(Interval {
            months: 0,
            days: 0,
            micros: t,
        })),
        (Value::Interval(i), SqlType::Time) => Ok(Value::Time(i.micros.rem_euclid(USECS_PER_DAY))),
        _ => Err(cannot_cast(from, to)),
    }
}
