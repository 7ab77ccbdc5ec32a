//! Miscellaneous functions: `gen_random_uuid` (and uuid-ossp's `uuid_generate_v4`),
//! `pg_sleep`, `pg_sleep_for`, `num_nulls`, `num_nonnulls`.
//!
//! `pg_sleep` blocks the calling thread (the executor runs statements on worker threads, not
//! the I/O runtime) and is capped at [`MAX_SLEEP_SECONDS`]; there is no cancellation flag in
//! [`FnCtx`], so a sleep runs to its end.

use std::time::Duration;

use rand::RngCore;
use storage::types::Value;

use super::registry::Registry;
use super::{args, FnCtx, Param, Returns, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

/// Longest sleep `pg_sleep` performs.
pub const MAX_SLEEP_SECONDS: f64 = 3600.0;

pub fn register(reg: &mut Registry) {
    use SqlType::{Float8, Int4, Interval, Uuid, Void};
    for name in ["gen_random_uuid", "uuid_generate_v4"] {
        reg.typed(name, &[], Uuid.clone(), random_uuid)
            .volatility(Volatility::Volatile);
    }
    reg.typed("pg_sleep", &[Float8], Void.clone(), sleep)
        .volatility(Volatility::Volatile);
    reg.typed("pg_sleep_for", &[Interval], Void, sleep_for)
        .volatility(Volatility::Volatile);
    for name in ["num_nulls", "num_nonnulls"] {
        let f: super::ScalarFn = if name == "num_nulls" {
            num_nulls
        } else {
            num_nonnulls
        };
        reg.scalar(name, vec![Param::Any], Returns::Type(Int4.clone()), f)
            .variadic()
            .strict(false);
    }
}

/// A version-4 (random) UUID.
pub fn new_uuid_v4() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

fn random_uuid(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Uuid(new_uuid_v4()))
}

fn sleep_seconds(seconds: f64) -> SqlResult<Value> {
    if seconds.is_nan() {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            "sleep duration cannot be NaN",
        ));
    }
    if seconds > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(seconds.min(MAX_SLEEP_SECONDS)));
    }
    Ok(Value::Null)
}

fn sleep(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    sleep_seconds(args::float(a, 0)?)
}

fn sleep_for(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let i = args::interval(a, 0)?;
    sleep_seconds(i.span_micros() as f64 / 1e6)
}

fn num_nulls(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int4(a.iter().filter(|v| v.is_null()).count() as i32))
}

fn num_nonnulls(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Int4(a.iter().filter(|v| !v.is_null()).count() as i32))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::ok;
    use crate::pgtype::SqlType::{Float8, Int4, Unknown};

    #[test]
    fn misc_functions_work() {
        let u = ok("gen_random_uuid", &[]);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, ok("gen_random_uuid", &[]));
        assert_eq!(
            ok("num_nulls", &[("1", Int4), ("NULL", Unknown), ("2", Int4)]),
            "1"
        );
        assert_eq!(
            ok(
                "num_nonnulls",
                &[("1", Int4), ("NULL", Unknown), ("2", Int4)]
            ),
            "2"
        );
        assert_eq!(ok("pg_sleep", &[("0.01", Float8)]), "NULL");
    }
}
