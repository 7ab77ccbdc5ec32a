//! Sizes: `pg_relation_size` and its family (0 for an existing relation: storage keeps no
//! per-relation sizes in the catalog), `pg_database_size`, and `pg_size_pretty`, whose units
//! and rounding are PostgreSQL 16's exactly.

use bigdecimal::num_bigint::{BigInt, Sign};
use storage::types::{Numeric, Value};

use super::datum::{as_i64, as_oid};
use super::functions::catalog_of;
use super::names::relation_by_oid;
use crate::error::{code, SqlError, SqlResult};
use crate::func::FnCtx;

/// Relation sizes: 0 for an existing relation (storage does not report per-relation sizes
/// through the catalog), NULL for an OID nothing has.
pub(super) fn relation_size(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(
        match args
            .first()
            .and_then(as_oid)
            .and_then(|o| relation_by_oid(catalog_of(ctx), o))
        {
            Some(_) => Value::Int8(0),
            None => Value::Null,
        },
    )
}

pub(super) fn database_size(ctx: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    match args.first() {
        Some(Value::Text(name)) if name != ctx.database => Err(SqlError::new(
            code::INVALID_CATALOG_NAME,
            format!("database \"{name}\" does not exist"),
        )),
        Some(Value::Text(_)) => Ok(Value::Int8(0)),
        Some(other) if as_oid(other) == Some(super::DATABASE_OID) => Ok(Value::Int8(0)),
        _ => Ok(Value::Null),
    }
}

/// The units of `pg_size_pretty`: name, limit below which the unit is used, whether the
/// value is half-rounded, and the unit's power of two.
const SIZE_UNITS: &[(&str, i64, bool, u32)] = &[
    ("bytes", 10 * 1024, false, 0),
    ("kB", 20 * 1024 - 1, true, 10),
    ("MB", 20 * 1024 - 1, true, 20),
    ("GB", 20 * 1024 - 1, true, 30),
    ("TB", 20 * 1024 - 1, true, 40),
    ("PB", 20 * 1024 - 1, true, 50),
];

/// The shift between unit `i` and the next, as PostgreSQL computes it.
fn unit_shift(i: usize) -> u32 {
    let (_, _, round, bits) = SIZE_UNITS[i];
    let (_, _, next_round, next_bits) = SIZE_UNITS[i + 1];
    next_bits - bits - u32::from(next_round) + u32::from(round)
}

/// `pg_size_pretty(bigint)` exactly as PostgreSQL 16.
pub fn size_pretty(mut size: i64) -> String {
    for (i, (unit, limit, round, _)) in SIZE_UNITS.iter().enumerate() {
        if i + 1 == SIZE_UNITS.len() || size.unsigned_abs() < *limit as u64 {
            if *round {
                size = (size + if size < 0 { -1 } else { 1 }) / 2;
            }
            return format!("{size} {unit}");
        }
        size /= 1i64 << unit_shift(i);
    }
    unreachable!("the last unit always matches")
}

/// `pg_size_pretty(numeric)`: the same units on an exact value (fractions only in bytes).
pub fn size_pretty_numeric(value: &Numeric) -> String {
    let Some((mantissa, scale)) = value.mantissa_and_scale() else {
        let unit = if matches!(value, Numeric::NaN) {
            "bytes"
        } else {
            "PB"
        };
        return format!("{value} {unit}");
    };
    let ten = BigInt::from(10);
    let abs = |x: &BigInt| {
        if x.sign() == Sign::Minus {
            -x
        } else {
            x.clone()
        }
    };
    // The value as (integer part, exact) for comparisons; the first division truncates.
    let integer_part = if scale >= 0 {
        &mantissa / ten.pow(scale as u32)
    } else {
        &mantissa * ten.pow(scale.unsigned_abs() as u32)
    };
    if SIZE_UNITS.len() > 1 {
        let (_, limit, _, _) = SIZE_UNITS[0];
        let below = if scale > 0 {
            abs(&mantissa) < BigInt::from(limit) * ten.pow(scale as u32)
        } else {
            abs(&integer_part) < BigInt::from(limit)
        };
        if below {
            return format!("{value} bytes");
        }
    }
    let divisor = BigInt::from(1i64 << unit_shift(0));
    let mut size = if scale >= 0 {
        &mantissa / (divisor * ten.pow(scale as u32))
    } else {
        integer_part / divisor
    };
    for (i, (unit, limit, round, _)) in SIZE_UNITS.iter().enumerate().skip(1) {
        if i + 1 == SIZE_UNITS.len() || abs(&size) < BigInt::from(*limit) {
            if *round {
                let one = BigInt::from(if size.sign() == Sign::Minus { -1 } else { 1 });
                size = (size + one) / BigInt::from(2);
            }
            return format!("{size} {unit}");
        }
        size /= BigInt::from(1i64 << unit_shift(i));
    }
    unreachable!("the last unit always matches")
}

pub(super) fn pg_size_pretty(_: &FnCtx, args: &[Value]) -> SqlResult<Value> {
    Ok(match args.first() {
        Some(Value::Numeric(n)) => Value::Text(size_pretty_numeric(n)),
        Some(other) => match as_i64(other) {
            Some(size) => Value::Text(size_pretty(size)),
            None => Value::Null,
        },
        None => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_pretty_matches_postgres() {
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(10_239), "10239 bytes");
        assert_eq!(size_pretty(10_240), "10 kB");
        assert_eq!(size_pretty(1_048_576), "1024 kB");
        assert_eq!(size_pretty(10_485_760), "10 MB");
        assert_eq!(size_pretty(-10_485_760), "-10 MB");
        assert_eq!(size_pretty(1_073_741_824), "1024 MB");
        assert_eq!(size_pretty(i64::MAX), "8192 PB");
        let numeric = |s: &str| s.parse::<Numeric>().expect("numeric");
        assert_eq!(size_pretty_numeric(&numeric("10485760")), "10 MB");
        assert_eq!(size_pretty_numeric(&numeric("1.5")), "1.5 bytes");
        assert_eq!(size_pretty_numeric(&numeric("10240.7")), "10 kB");
        assert_eq!(
            size_pretty_numeric(&numeric("100000000000000000000000")),
            "88817842 PB"
        );
    }
}
