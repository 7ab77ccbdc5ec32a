//! Reading the arguments of the functions of this module (already cast to the overload's
//! parameter types by the binder: a wrong variant is an internal error, never a panic).

use storage::types::Value;

use crate::error::{SqlError, SqlResult};

fn wrong(i: usize, want: &str) -> SqlError {
    SqlError::internal(format!("argument {} should be {want}", i + 1))
}

pub fn text(args: &[Value], i: usize) -> SqlResult<&str> {
    match args.get(i) {
        Some(Value::Text(s)) => Ok(s),
        _ => Err(wrong(i, "text")),
    }
}

pub fn int(args: &[Value], i: usize) -> SqlResult<i64> {
    match args.get(i) {
        Some(Value::Int2(v)) => Ok(i64::from(*v)),
        Some(Value::Int4(v)) => Ok(i64::from(*v)),
        Some(Value::Int8(v)) => Ok(*v),
        _ => Err(wrong(i, "an integer")),
    }
}
