//! Reading the arguments of an implementation. The binder has cast every argument to the
//! overload's parameter type, so a wrong variant is a bug in resolution or registration, not
//! user input; it is reported as an internal error rather than a panic.

use storage::types::{Array, Interval, Numeric, Value};

use crate::error::{SqlError, SqlResult};

fn wrong(i: usize, want: &str, got: &Value) -> SqlError {
    SqlError::internal(format!("argument {} should be {want}, got {got:?}", i + 1))
}

pub fn arg(args: &[Value], i: usize) -> SqlResult<&Value> {
    args.get(i)
        .ok_or_else(|| SqlError::internal(format!("missing argument {}", i + 1)))
}

pub fn text(args: &[Value], i: usize) -> SqlResult<&str> {
    match arg(args, i)? {
        Value::Text(s) | Value::Json(s) | Value::Jsonb(s) => Ok(s),
        other => Err(wrong(i, "text", other)),
    }
}

pub fn int(args: &[Value], i: usize) -> SqlResult<i64> {
    match arg(args, i)? {
        Value::Int2(v) => Ok(*v as i64),
        Value::Int4(v) => Ok(*v as i64),
        Value::Int8(v) => Ok(*v),
        other => Err(wrong(i, "an integer", other)),
    }
}

pub fn float(args: &[Value], i: usize) -> SqlResult<f64> {
    match arg(args, i)? {
        Value::Float4(v) => Ok(*v as f64),
        Value::Float8(v) => Ok(*v),
        Value::Int2(v) => Ok(*v as f64),
        Value::Int4(v) => Ok(*v as f64),
        Value::Int8(v) => Ok(*v as f64),
        Value::Numeric(n) => Ok(super::decimal::to_f64(n)),
        other => Err(wrong(i, "a float", other)),
    }
}

pub fn numeric(args: &[Value], i: usize) -> SqlResult<Numeric> {
    match arg(args, i)? {
        Value::Numeric(n) => Ok((**n).clone()),
        Value::Int2(v) => Ok(Numeric::from_i64(*v as i64)),
        Value::Int4(v) => Ok(Numeric::from_i64(*v as i64)),
        Value::Int8(v) => Ok(Numeric::from_i64(*v)),
        other => Err(wrong(i, "numeric", other)),
    }
}

pub fn boolean(args: &[Value], i: usize) -> SqlResult<bool> {
    match arg(args, i)? {
        Value::Bool(b) => Ok(*b),
        other => Err(wrong(i, "boolean", other)),
    }
}

pub fn bytes(args: &[Value], i: usize) -> SqlResult<&[u8]> {
    match arg(args, i)? {
        Value::Bytea(b) => Ok(b),
        Value::Text(s) => Ok(s.as_bytes()),
        other => Err(wrong(i, "bytea", other)),
    }
}

pub fn array(args: &[Value], i: usize) -> SqlResult<&Array> {
    match arg(args, i)? {
        Value::Array(a) => Ok(a),
        other => Err(wrong(i, "an array", other)),
    }
}

pub fn interval(args: &[Value], i: usize) -> SqlResult<Interval> {
    match arg(args, i)? {
        Value::Interval(v) => Ok(*v),
        other => Err(wrong(i, "an interval", other)),
    }
}

pub fn timestamp(args: &[Value], i: usize) -> SqlResult<i64> {
    match arg(args, i)? {
        Value::Timestamp(t) | Value::Timestamptz(t) => Ok(*t),
        other => Err(wrong(i, "a timestamp", other)),
    }
}

pub fn date(args: &[Value], i: usize) -> SqlResult<i32> {
    match arg(args, i)? {
        Value::Date(d) => Ok(*d),
        other => Err(wrong(i, "a date", other)),
    }
}

pub fn vector(args: &[Value], i: usize) -> SqlResult<&[f32]> {
    match arg(args, i)? {
        Value::Vector(v) => Ok(v),
        other => Err(wrong(i, "a vector", other)),
    }
}

pub fn numeric_value(n: Numeric) -> Value {
    Value::Numeric(Box::new(n))
}
