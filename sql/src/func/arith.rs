//! Arithmetic operators on `smallint`, `integer`, `bigint`, `real`, `double precision` and
//! `numeric`: `+ - * / %`, unary `-` `+` `@`, `^`, `|/`, `||/` and the integer bit operators,
//! with PostgreSQL's result types and errors.
//!
//! Integer operators exist for every pair of integer widths and return the wider type
//! (`int2 + int4` is `int4`); overflow is 22003 `<type> out of range`, division truncates,
//! `x % -1` is 0. Float operators check overflow (`value out of range: overflow`) and, for
//! `*` and `/`, underflow, as `float.h`'s `check_float8_val` does. `numeric` follows
//! PostgreSQL 14+: NaN and ±Infinity propagate, the division scale is `select_div_scale`'s.
//! There are no mixed integer/float/numeric operators: resolution casts (`int4 + numeric`
//! runs `numeric + numeric`).

use bigdecimal::num_bigint::Sign;
use storage::types::{Numeric, Value};

use super::args;
use super::decimal;
use super::registry::Registry;
use super::FnCtx;
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::{SqlType, NUMERIC};

const INTS: [SqlType; 3] = [SqlType::Int2, SqlType::Int4, SqlType::Int8];

fn bits_of(t: &SqlType) -> u32 {
    match t {
        SqlType::Int2 => 16,
        SqlType::Int4 => 32,
        _ => 64,
    }
}

pub fn register(reg: &mut Registry) {
    for a in &INTS {
        for b in &INTS {
            let result = if bits_of(a) >= bits_of(b) { a } else { b };
            let params = [a.clone(), b.clone()];
            let (add, sub, mul, div): (
                super::ScalarFn,
                super::ScalarFn,
                super::ScalarFn,
                super::ScalarFn,
            ) = match bits_of(result) {
                16 => (int_add::<16>, int_sub::<16>, int_mul::<16>, int_div::<16>),
                32 => (int_add::<32>, int_sub::<32>, int_mul::<32>, int_div::<32>),
                _ => (int_add::<64>, int_sub::<64>, int_mul::<64>, int_div::<64>),
            };
            reg.typed("+", &params, result.clone(), add).leakproof();
            reg.typed("-", &params, result.clone(), sub).leakproof();
            reg.typed("*", &params, result.clone(), mul).leakproof();
            reg.typed("/", &params, result.clone(), div).leakproof();
        }
    }
    reg.typed(
        "%",
        &[SqlType::Int2, SqlType::Int2],
        SqlType::Int2,
        int_mod::<16>,
    );
    reg.typed(
        "%",
        &[SqlType::Int4, SqlType::Int4],
        SqlType::Int4,
        int_mod::<32>,
    );
    reg.typed(
        "%",
        &[SqlType::Int8, SqlType::Int8],
        SqlType::Int8,
        int_mod::<64>,
    );
    for (t, neg, abs, bits) in [
        (
            SqlType::Int2,
            int_neg::<16> as super::ScalarFn,
            int_abs::<16> as super::ScalarFn,
            16,
        ),
        (SqlType::Int4, int_neg::<32>, int_abs::<32>, 32),
        (SqlType::Int8, int_neg::<64>, int_abs::<64>, 64),
    ] {
        reg.typed("-", [t.clone()], t.clone(), neg);
        reg.typed("+", [t.clone()], t.clone(), identity);
        reg.typed("@", [t.clone()], t.clone(), abs);
        reg.typed("abs", [t.clone()], t.clone(), abs);
        let (and, or, xor, not, shl, shr): (
            super::ScalarFn,
            super::ScalarFn,
            super::ScalarFn,
            super::ScalarFn,
            super::ScalarFn,
            super::ScalarFn,
        ) = match bits {
            16 => (
                bit_and::<16>,
                bit_or::<16>,
                bit_xor::<16>,
                bit_not::<16>,
                shl::<16>,
                shr::<16>,
            ),
            32 => (
                bit_and::<32>,
                bit_or::<32>,
                bit_xor::<32>,
                bit_not::<32>,
                shl::<32>,
                shr::<32>,
            ),
            _ => (
                bit_and::<64>,
                bit_or::<64>,
                bit_xor::<64>,
                bit_not::<64>,
                shl::<64>,
                shr::<64>,
            ),
        };
        reg.typed("&", &[t.clone(), t.clone()], t.clone(), and);
        reg.typed("|", &[t.clone(), t.clone()], t.clone(), or);
        reg.typed("#", &[t.clone(), t.clone()], t.clone(), xor);
        reg.typed("~", [t.clone()], t.clone(), not);
        reg.typed("<<", &[t.clone(), SqlType::Int4], t.clone(), shl);
        reg.typed(">>", &[t.clone(), SqlType::Int4], t.clone(), shr);
    }
    let floats = [SqlType::Float4, SqlType::Float8];
    for a in &floats {
        for b in &floats {
            let single = *a == SqlType::Float4 && *b == SqlType::Float4;
            let result = if single {
                SqlType::Float4
            } else {
                SqlType::Float8
            };
            let params = [a.clone(), b.clone()];
            reg.typed("+", &params, result.clone(), float_add)
                .leakproof();
            reg.typed("-", &params, result.clone(), float_sub)
                .leakproof();
            reg.typed("*", &params, result.clone(), float_mul)
                .leakproof();
            reg.typed("/", &params, result.clone(), float_div)
                .leakproof();
        }
    }
    for t in &floats {
        reg.typed("-", [t.clone()], t.clone(), float_neg);
        reg.typed("+", [t.clone()], t.clone(), identity);
        reg.typed("@", [t.clone()], t.clone(), float_abs);
        reg.typed("abs", [t.clone()], t.clone(), float_abs);
    }
    let f8 = SqlType::Float8;
    reg.typed("^", &[f8.clone(), f8.clone()], f8.clone(), float_power);
    reg.typed("|/", [f8.clone()], f8.clone(), float_sqrt);
    reg.typed("||/", [f8.clone()], f8.clone(), float_cbrt);
    let n2 = [NUMERIC, NUMERIC];
    reg.typed("+", &n2, NUMERIC, numeric_add_fn).leakproof();
    reg.typed("-", &n2, NUMERIC, numeric_sub_fn).leakproof();
    reg.typed("*", &n2, NUMERIC, numeric_mul_fn).leakproof();
    reg.typed("/", &n2, NUMERIC, numeric_div_fn);
    reg.typed("%", &n2, NUMERIC, numeric_mod_fn);
    reg.typed("^", &n2, NUMERIC, numeric_power_fn);
    reg.typed("-", &[NUMERIC], NUMERIC, numeric_neg_fn);
    reg.typed("+", &[NUMERIC], NUMERIC, identity);
    reg.typed("@", &[NUMERIC], NUMERIC, numeric_abs_fn);
    reg.typed("abs", &[NUMERIC], NUMERIC, numeric_abs_fn);
}

fn identity(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(args::arg(a, 0)?.clone())
}

fn int_name(bits: u32) -> &'static str {
    match bits {
        16 => "smallint",
        32 => "integer",
        _ => "bigint",
    }
}

pub fn int_out_of_range(bits: u32) -> SqlError {
    SqlError::new(
        code::NUMERIC_VALUE_OUT_OF_RANGE,
        format!("{} out of range", int_name(bits)),
    )
}

/// An integer result of width `BITS`, or the range error.
pub fn int_value<const BITS: u32>(v: Option<i64>) -> SqlResult<Value> {
    let v = v.ok_or_else(|| int_out_of_range(BITS))?;
    match BITS {
        16 => i16::try_from(v)
            .map(Value::Int2)
            .map_err(|_| int_out_of_range(16)),
        32 => i32::try_from(v)
            .map(Value::Int4)
            .map_err(|_| int_out_of_range(32)),
        _ => Ok(Value::Int8(v)),
    }
}

fn int_pair(a: &[Value]) -> SqlResult<(i64, i64)> {
    Ok((args::int(a, 0)?, args::int(a, 1)?))
}

fn int_add<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = int_pair(a)?;
    int_value::<B>(x.checked_add(y))
}

fn int_sub<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = int_pair(a)?;
    int_value::<B>(x.checked_sub(y))
}

fn int_mul<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = int_pair(a)?;
    int_value::<B>(x.checked_mul(y))
}

fn int_div<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = int_pair(a)?;
    if y == 0 {
        return Err(SqlError::division_by_zero());
    }
    int_value::<B>(x.checked_div(y))
}

fn int_mod<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = int_pair(a)?;
    if y == 0 {
        return Err(SqlError::division_by_zero());
    }
    int_value::<B>(Some(if y == -1 { 0 } else { x % y }))
}

fn int_neg<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    int_value::<B>(args::int(a, 0)?.checked_neg())
}

fn int_abs<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    int_value::<B>(args::int(a, 0)?.checked_abs())
}

fn bit_and<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = int_pair(a)?;
    int_value::<B>(Some(x & y))
}

fn bit_or<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = int_pair(a)?;
    int_value::<B>(Some(x | y))
}

fn bit_xor<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = int_pair(a)?;
    int_value::<B>(Some(x ^ y))
}

fn bit_not<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    int_value::<B>(Some(!args::int(a, 0)?))
}

/// Shifts as C does on x86: the count is taken modulo the (promoted) width, and `int2`
/// results are truncated to 16 bits.
fn shl<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, n) = int_pair(a)?;
    let width = if B == 64 { 64 } else { 32 };
    let shifted = if B == 64 {
        x.wrapping_shl(n as u32 % width)
    } else {
        (x as i32).wrapping_shl(n as u32 % width) as i64
    };
    Ok(match B {
        16 => Value::Int2(shifted as i16),
        32 => Value::Int4(shifted as i32),
        _ => Value::Int8(shifted),
    })
}

fn shr<const B: u32>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, n) = int_pair(a)?;
    let width = if B == 64 { 64 } else { 32 };
    let shifted = if B == 64 {
        x.wrapping_shr(n as u32 % width)
    } else {
        (x as i32).wrapping_shr(n as u32 % width) as i64
    };
    Ok(match B {
        16 => Value::Int2(shifted as i16),
        32 => Value::Int4(shifted as i32),
        _ => Value::Int8(shifted),
    })
}

pub fn float_overflow() -> SqlError {
    SqlError::new(
        code::NUMERIC_VALUE_OUT_OF_RANGE,
        "value out of range: overflow",
    )
}

pub fn float_underflow() -> SqlError {
    SqlError::new(
        code::NUMERIC_VALUE_OUT_OF_RANGE,
        "value out of range: underflow",
    )
}

/// A float result in the width of the operands (`real` only when both are `real`).
fn float_result(a: &[Value], x: f64) -> Value {
    match (a.first(), a.get(1)) {
        (Some(Value::Float4(_)), Some(Value::Float4(_)) | None) => Value::Float4(x as f32),
        _ => Value::Float8(x),
    }
}

fn single(a: &[Value]) -> bool {
    matches!(
        (a.first(), a.get(1)),
        (Some(Value::Float4(_)), Some(Value::Float4(_)) | None)
    )
}

/// The operation in the operands' width, checked as `check_float8_val` does.
fn float_op(
    a: &[Value],
    op: fn(f64, f64) -> f64,
    op32: fn(f32, f32) -> f32,
    underflow_check: bool,
) -> SqlResult<Value> {
    let (x, y) = (args::float(a, 0)?, args::float(a, 1)?);
    let r = if single(a) {
        op32(x as f32, y as f32) as f64
    } else {
        op(x, y)
    };
    if r.is_infinite() && !x.is_infinite() && !y.is_infinite() {
        return Err(float_overflow());
    }
    if underflow_check && r == 0.0 && x != 0.0 && y != 0.0 {
        return Err(float_underflow());
    }
    Ok(float_result(a, r))
}

fn float_add(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    float_op(a, |x, y| x + y, |x, y| x + y, false)
}

fn float_sub(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    float_op(a, |x, y| x - y, |x, y| x - y, false)
}

fn float_mul(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    float_op(a, |x, y| x * y, |x, y| x * y, true)
}

fn float_div(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = (args::float(a, 0)?, args::float(a, 1)?);
    if y == 0.0 && !x.is_nan() {
        return Err(SqlError::division_by_zero());
    }
    let r = if single(a) {
        (x as f32 / y as f32) as f64
    } else {
        x / y
    };
    if r.is_infinite() && !x.is_infinite() {
        return Err(float_overflow());
    }
    if r == 0.0 && x != 0.0 && !y.is_infinite() {
        return Err(float_underflow());
    }
    Ok(float_result(a, r))
}

fn float_neg(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(float_result(a, -args::float(a, 0)?))
}

fn float_abs(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(float_result(a, args::float(a, 0)?.abs()))
}

/// `float8 ^ float8` (`dpow`) with POSIX's NaN rules and PostgreSQL's errors.
pub fn float_power_value(x: f64, y: f64) -> SqlResult<f64> {
    if x.is_nan() {
        return Ok(if y == 0.0 { 1.0 } else { f64::NAN });
    }
    if y.is_nan() {
        return Ok(if x == 1.0 { 1.0 } else { f64::NAN });
    }
    if x == 0.0 && y < 0.0 {
        return Err(SqlError::new(
            code::INVALID_ARGUMENT_FOR_POWER_FUNCTION,
            "zero raised to a negative power is undefined",
        ));
    }
    if x < 0.0 && y.is_finite() && y.floor() != y {
        return Err(SqlError::new(
            code::INVALID_ARGUMENT_FOR_POWER_FUNCTION,
            "a negative number raised to a non-integer power yields a complex result",
        ));
    }
    let r = x.powf(y);
    if r.is_infinite() && x.is_finite() && y.is_finite() {
        return Err(float_overflow());
    }
    if r == 0.0 && x != 0.0 && x.is_finite() && y.is_finite() {
        return Err(float_underflow());
    }
    Ok(r)
}

fn float_power(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Float8(float_power_value(
        args::float(a, 0)?,
        args::float(a, 1)?,
    )?))
}

pub fn float_sqrt_value(x: f64) -> SqlResult<f64> {
    if x < 0.0 {
        return Err(SqlError::new(
            code::INVALID_ARGUMENT_FOR_POWER_FUNCTION,
            "cannot take square root of a negative number",
        ));
    }
    Ok(x.sqrt())
}

fn float_sqrt(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Float8(float_sqrt_value(args::float(a, 0)?)?))
}

fn float_cbrt(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Float8(args::float(a, 0)?.cbrt()))
}

fn sign_of(n: &Numeric) -> i32 {
    match n {
        Numeric::NaN => 0,
        Numeric::Infinity => 1,
        Numeric::NegInfinity => -1,
        Numeric::Finite(d) => match d.sign() {
            Sign::Minus => -1,
            Sign::NoSign => 0,
            Sign::Plus => 1,
        },
    }
}

fn infinity_with_sign(sign: i32) -> Numeric {
    if sign < 0 {
        Numeric::NegInfinity
    } else {
        Numeric::Infinity
    }
}

pub fn numeric_add(a: &Numeric, b: &Numeric) -> Numeric {
    use Numeric as N;
    match (a, b) {
        (N::NaN, _) | (_, N::NaN) => N::NaN,
        (N::Infinity, N::NegInfinity) | (N::NegInfinity, N::Infinity) => N::NaN,
        (N::Infinity, _) | (_, N::Infinity) => N::Infinity,
        (N::NegInfinity, _) | (_, N::NegInfinity) => N::NegInfinity,
        (N::Finite(x), N::Finite(y)) => N::Finite(decimal::with_display_scale(x + y)),
    }
}

pub fn numeric_neg(a: &Numeric) -> Numeric {
    match a {
        Numeric::NaN => Numeric::NaN,
        Numeric::Infinity => Numeric::NegInfinity,
        Numeric::NegInfinity => Numeric::Infinity,
        Numeric::Finite(x) => Numeric::Finite(-x),
    }
}

pub fn numeric_sub(a: &Numeric, b: &Numeric) -> Numeric {
    numeric_add(a, &numeric_neg(b))
}

pub fn numeric_mul(a: &Numeric, b: &Numeric) -> Numeric {
    use Numeric as N;
    match (a, b) {
        (N::NaN, _) | (_, N::NaN) => N::NaN,
        (N::Finite(x), N::Finite(y)) => N::Finite(decimal::with_display_scale(x * y)),
        _ => {
            let sign = sign_of(a) * sign_of(b);
            if sign == 0 {
                N::NaN
            } else {
                infinity_with_sign(sign)
            }
        }
    }
}

pub fn numeric_div(a: &Numeric, b: &Numeric) -> SqlResult<Numeric> {
    use Numeric as N;
    Ok(match (a, b) {
        (N::NaN, _) | (_, N::NaN) => N::NaN,
        (N::Infinity | N::NegInfinity, N::Infinity | N::NegInfinity) => N::NaN,
        (N::Infinity | N::NegInfinity, _) => {
            if sign_of(b) == 0 {
                return Err(SqlError::division_by_zero());
            }
            infinity_with_sign(sign_of(a) * sign_of(b))
        }
        (N::Finite(_), N::Infinity | N::NegInfinity) => Numeric::from_i64(0),
        (N::Finite(x), N::Finite(y)) => {
            if sign_of(b) == 0 {
                return Err(SqlError::division_by_zero());
            }
            N::Finite(decimal::div(x, y, decimal::div_scale(x, y)))
        }
    })
}

pub fn numeric_mod(a: &Numeric, b: &Numeric) -> SqlResult<Numeric> {
    use Numeric as N;
    Ok(match (a, b) {
        (N::NaN, _) | (_, N::NaN) => N::NaN,
        (N::Infinity | N::NegInfinity, _) => {
            if sign_of(b) == 0 {
                return Err(SqlError::division_by_zero());
            }
            N::NaN
        }
        (N::Finite(_), N::Infinity | N::NegInfinity) => a.clone(),
        (N::Finite(x), N::Finite(y)) => {
            if sign_of(b) == 0 {
                return Err(SqlError::division_by_zero());
            }
            N::Finite(decimal::modulo(x, y))
        }
    })
}

/// `numeric ^ numeric` (`numeric_power`), POSIX rules for the special values.
pub fn numeric_power(a: &Numeric, b: &Numeric) -> SqlResult<Numeric> {
    use Numeric as N;
    let one = Numeric::from_i64(1);
    match (a, b) {
        (N::Finite(x), N::Finite(y)) => Ok(N::Finite(decimal::power(x, y)?)),
        (N::NaN, _) if sign_of(b) == 0 && matches!(b, N::Finite(_)) => Ok(one),
        (_, N::NaN) if *a == one => Ok(one),
        (N::NaN, _) | (_, N::NaN) => Ok(N::NaN),
        (N::Finite(x), _) => {
            // x ^ ±Infinity.
            if x.sign() == Sign::NoSign && sign_of(b) < 0 {
                return Err(SqlError::new(
                    code::INVALID_ARGUMENT_FOR_POWER_FUNCTION,
                    "zero raised to a negative power is undefined",
                ));
            }
            let abs = x.abs();
            let unit = bigdecimal::BigDecimal::from(1);
            Ok(if abs == unit {
                one
            } else if (abs > unit) == (sign_of(b) > 0) {
                N::Infinity
            } else {
                Numeric::from_i64(0)
            })
        }
        (_, _) => {
            // ±Infinity ^ y.
            let y_sign = sign_of(b);
            if y_sign == 0 {
                return Ok(one);
            }
            if y_sign < 0 {
                return Ok(Numeric::from_i64(0));
            }
            if matches!(a, N::NegInfinity) {
                if let N::Finite(y) = b {
                    if y.is_integer() && !(y / bigdecimal::BigDecimal::from(2)).is_integer() {
                        return Ok(N::NegInfinity);
                    }
                }
            }
            Ok(N::Infinity)
        }
    }
}

fn numeric_pair(a: &[Value]) -> SqlResult<(Numeric, Numeric)> {
    Ok((args::numeric(a, 0)?, args::numeric(a, 1)?))
}

fn numeric_add_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = numeric_pair(a)?;
    Ok(args::numeric_value(numeric_add(&x, &y)))
}

fn numeric_sub_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = numeric_pair(a)?;
    Ok(args::numeric_value(numeric_sub(&x, &y)))
}

fn numeric_mul_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = numeric_pair(a)?;
    Ok(args::numeric_value(numeric_mul(&x, &y)))
}

fn numeric_div_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = numeric_pair(a)?;
    Ok(args::numeric_value(numeric_div(&x, &y)?))
}

fn numeric_mod_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = numeric_pair(a)?;
    Ok(args::numeric_value(numeric_mod(&x, &y)?))
}

fn numeric_power_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = numeric_pair(a)?;
    Ok(args::numeric_value(numeric_power(&x, &y)?))
}

fn numeric_neg_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(args::numeric_value(numeric_neg(&args::numeric(a, 0)?)))
}

fn numeric_abs_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let n = args::numeric(a, 0)?;
    Ok(args::numeric_value(if sign_of(&n) < 0 {
        numeric_neg(&n)
    } else {
        n
    }))
}
