//! Mathematical functions: `ceil`/`ceiling`, `floor`, `round`, `trunc`, `sign`, `mod`,
//! `div`, `power`/`pow`, `sqrt`, `cbrt`, `exp`, `ln`, `log`, `log10`, `pi`, `degrees`,
//! `radians`, the trigonometric functions, `random`, `random_normal`, `setseed`,
//! `width_bucket`, `gcd`, `lcm`, `factorial`, `scale`, `min_scale`, `trim_scale`.
//!
//! `numeric` versions are exact with PostgreSQL's result scales (`round(1.2, 3)` is
//! `1.200`); `double precision` versions check overflow and underflow as `float.c` does.
//! `random` draws from a per-thread generator that `setseed` reseeds (PostgreSQL's is per
//! session; a session runs its statements on one thread at a time).

use std::cell::RefCell;

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::num_traits::{Signed, Zero};
use bigdecimal::BigDecimal;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use storage::types::{Numeric, Value};

use super::arith::{
    float_overflow, float_power_value, float_sqrt_value, float_underflow, int_out_of_range,
    numeric_mod, numeric_power,
};
use super::registry::Registry;
use super::{args, decimal, FnCtx, Volatility};
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::{SqlType, NUMERIC};

pub fn register(reg: &mut Registry) {
    use SqlType::{Float8 as F, Int2, Int4, Int8, Void};
    let n = NUMERIC;
    for name in ["ceil", "ceiling"] {
        reg.typed(name, &[F], F, float_unary::<{ CEIL }>);
        reg.typed(name, [n.clone()], n.clone(), numeric_ceil);
    }
    reg.typed("floor", &[F], F, float_unary::<{ FLOOR }>);
    reg.typed("floor", [n.clone()], n.clone(), numeric_floor);
    reg.typed("round", &[F], F, float_unary::<{ ROUND }>);
    reg.typed("round", [n.clone()], n.clone(), numeric_round);
    reg.typed("round", &[n.clone(), Int4], n.clone(), numeric_round);
    reg.typed("trunc", &[F], F, float_unary::<{ TRUNC }>);
    reg.typed("trunc", [n.clone()], n.clone(), numeric_trunc);
    reg.typed("trunc", &[n.clone(), Int4], n.clone(), numeric_trunc);
    reg.typed("sign", &[F], F, float_unary::<{ SIGN }>);
    reg.typed("sign", [n.clone()], n.clone(), numeric_sign);
    for t in [Int2, Int4, Int8] {
        reg.typed("mod", &[t.clone(), t.clone()], t.clone(), int_mod);
    }
    reg.typed("mod", &[n.clone(), n.clone()], n.clone(), numeric_mod_fn);
    reg.typed("div", &[n.clone(), n.clone()], n.clone(), numeric_div_trunc);
    for name in ["power", "pow"] {
        reg.typed(name, &[F, F], F, float_power);
        reg.typed(name, &[n.clone(), n.clone()], n.clone(), numeric_power_fn);
    }
    reg.typed("sqrt", &[F], F, float_sqrt);
    reg.typed("sqrt", [n.clone()], n.clone(), numeric_sqrt);
    reg.typed("cbrt", &[F], F, float_unary::<{ CBRT }>);
    reg.typed("exp", &[F], F, float_exp);
    reg.typed("exp", [n.clone()], n.clone(), numeric_exp);
    reg.typed("ln", &[F], F, float_log::<false>);
    reg.typed("ln", [n.clone()], n.clone(), numeric_ln);
    for name in ["log", "log10"] {
        reg.typed(name, &[F], F, float_log::<true>);
        reg.typed(name, [n.clone()], n.clone(), numeric_log10);
    }
    reg.typed("log", &[n.clone(), n.clone()], n.clone(), numeric_log);
    reg.typed("pi", &[], F, pi);
    reg.typed("degrees", &[F], F, float_unary::<{ DEGREES }>);
    reg.typed("radians", &[F], F, float_unary::<{ RADIANS }>);
    for (name, op) in [
        ("sin", SIN),
        ("cos", COS),
        ("tan", TAN),
        ("cot", COT),
        ("asin", ASIN),
        ("acos", ACOS),
        ("atan", ATAN),
        ("sinh", SINH),
        ("cosh", COSH),
        ("tanh", TANH),
    ] {
        reg.typed(name, &[F], F, trig_fn(op));
    }
    reg.typed("atan2", &[F, F], F, atan2);
    reg.typed("random", &[], F, random)
        .volatility(Volatility::Volatile);
    reg.typed("random_normal", &[], F, random_normal)
        .volatility(Volatility::Volatile);
    reg.typed("random_normal", &[F], F, random_normal)
        .volatility(Volatility::Volatile);
    reg.typed("random_normal", &[F, F], F, random_normal)
        .volatility(Volatility::Volatile);
    reg.typed("setseed", &[F], Void, setseed)
        .volatility(Volatility::Volatile);
    reg.typed("width_bucket", &[F, F, F, Int4], Int4, width_bucket);
    reg.typed(
        "width_bucket",
        &[n.clone(), n.clone(), n.clone(), Int4],
        Int4,
        width_bucket,
    );
    for t in [Int4, Int8] {
        reg.typed("gcd", &[t.clone(), t.clone()], t.clone(), gcd_int);
        reg.typed("lcm", &[t.clone(), t.clone()], t.clone(), lcm_int);
    }
    reg.typed("gcd", &[n.clone(), n.clone()], n.clone(), gcd_numeric);
    reg.typed("lcm", &[n.clone(), n.clone()], n.clone(), lcm_numeric);
    reg.typed("factorial", &[Int8], n.clone(), factorial);
    reg.typed("scale", [n.clone()], Int4, scale);
    reg.typed("min_scale", [n.clone()], Int4, min_scale);
    reg.typed("trim_scale", [n.clone()], n, trim_scale);
}

const CEIL: u8 = 0;
const FLOOR: u8 = 1;
const ROUND: u8 = 2;
const TRUNC: u8 = 3;
const SIGN: u8 = 4;
const CBRT: u8 = 5;
const DEGREES: u8 = 6;
const RADIANS: u8 = 7;

/// PostgreSQL's `RADIANS_PER_DEGREE`.
const RADIANS_PER_DEGREE: f64 = 0.017_453_292_519_943_295;

fn float_unary<const OP: u8>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let x = args::float(a, 0)?;
    Ok(Value::Float8(match OP {
        CEIL => x.ceil(),
        FLOOR => x.floor(),
        ROUND => x.round_ties_even(),
        TRUNC => x.trunc(),
        SIGN => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x * 0.0
            }
        }
        CBRT => glibc_cbrt(x),
        DEGREES => {
            let r = x / RADIANS_PER_DEGREE;
            if r.is_infinite() && x.is_finite() {
                return Err(float_overflow());
            }
            r
        }
        _ => x * RADIANS_PER_DEGREE,
    }))
}

/// glibc's `cbrt` (`sysdeps/ieee754/dbl-64/s_cbrt.c`), which PostgreSQL's `cbrt` calls. It
/// is not correctly rounded (`cbrt(27)` is 3.0000000000000004) and Rust's own `cbrt` is, so
/// it is reproduced here operation for operation.
fn glibc_cbrt(x: f64) -> f64 {
    const CBRT2: f64 = 1.259_921_049_894_873_2;
    const SQR_CBRT2: f64 = 1.587_401_051_968_199_6;
    const FACTOR: [f64; 5] = [1.0 / SQR_CBRT2, 1.0 / CBRT2, 1.0, CBRT2, SQR_CBRT2];
    if x == 0.0 || !x.is_finite() {
        return x + x;
    }
    let (xm, xe) = frexp(x.abs());
    let u = 0.354_895_765_043_919_84
        + ((1.508_191_937_815_849
            + ((-2.114_994_941_673_713
                + ((2.446_931_225_635_344_4
                    + ((-1.834_692_774_836_130_8
                        + (0.784_932_344_976_639_2 - 0.145_263_899_385_486_37 * xm) * xm)
                        * xm))
                    * xm))
                * xm))
            * xm);
    let t2 = u * u * u;
    let ym = u * (t2 + 2.0 * xm) / (2.0 * t2 + xm) * FACTOR[(2 + xe % 3) as usize];
    ldexp(if x > 0.0 { ym } else { -ym }, xe / 3)
}

/// C's `frexp` for finite non-zero `x`: a mantissa in [0.5, 1) and a power of two.
fn frexp(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale by 2^54 first.
        let (m, e) = frexp(x * f64::from_bits(0x4350_0000_0000_0000));
        return (m, e - 54);
    }
    let m = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (m, exp - 1022)
}

/// C's `ldexp`: `x * 2^n` without overflowing the intermediate power.
fn ldexp(mut x: f64, mut n: i32) -> f64 {
    while n > 1000 {
        x *= 2f64.powi(1000);
        n -= 1000;
    }
    while n < -1000 {
        x *= 2f64.powi(-1000);
        n += 1000;
    }
    x * 2f64.powi(n)
}

fn numeric(v: Numeric) -> Value {
    Value::Numeric(Box::new(v))
}

/// Applies `f` to a finite numeric; NaN and the infinities pass through.
fn finite_map(a: &[Value], f: impl Fn(&BigDecimal) -> BigDecimal) -> SqlResult<Value> {
    Ok(numeric(match args::numeric(a, 0)? {
        Numeric::Finite(d) => Numeric::Finite(f(&d)),
        special => special,
    }))
}

fn numeric_ceil(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    finite_map(a, |d| {
        d.with_scale_round(0, bigdecimal::RoundingMode::Ceiling)
    })
}

fn numeric_floor(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    finite_map(a, |d| {
        d.with_scale_round(0, bigdecimal::RoundingMode::Floor)
    })
}

fn scale_arg(a: &[Value]) -> SqlResult<i64> {
    Ok(if a.len() > 1 {
        args::int(a, 1)?.clamp(-2000, 2000)
    } else {
        0
    })
}

fn numeric_round(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let s = scale_arg(a)?;
    finite_map(a, |d| decimal::with_display_scale(decimal::round(d, s)))
}

fn numeric_trunc(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let s = scale_arg(a)?;
    finite_map(a, |d| decimal::with_display_scale(decimal::trunc(d, s)))
}

fn numeric_sign(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(numeric(match args::numeric(a, 0)? {
        Numeric::NaN => Numeric::NaN,
        Numeric::Infinity => Numeric::from_i64(1),
        Numeric::NegInfinity => Numeric::from_i64(-1),
        Numeric::Finite(d) => Numeric::from_i64(match d.sign() {
            Sign::Minus => -1,
            Sign::NoSign => 0,
            Sign::Plus => 1,
        }),
    }))
}

fn int_mod(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = (args::int(a, 0)?, args::int(a, 1)?);
    if y == 0 {
        return Err(SqlError::division_by_zero());
    }
    let r = if y == -1 { 0 } else { x % y };
    Ok(match args::arg(a, 0)? {
        Value::Int2(_) => Value::Int2(r as i16),
        Value::Int4(_) => Value::Int4(r as i32),
        _ => Value::Int8(r),
    })
}

fn numeric_mod_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(numeric(numeric_mod(
        &args::numeric(a, 0)?,
        &args::numeric(a, 1)?,
    )?))
}

fn numeric_div_trunc(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    use Numeric as N;
    let (x, y) = (args::numeric(a, 0)?, args::numeric(a, 1)?);
    Ok(numeric(match (&x, &y) {
        (N::NaN, _) | (_, N::NaN) => N::NaN,
        (N::Finite(p), N::Finite(q)) => {
            if q.is_zero() {
                return Err(SqlError::division_by_zero());
            }
            N::Finite(decimal::div_trunc(p, q))
        }
        (N::Finite(_), _) => Numeric::from_i64(0),
        (_, N::Infinity | N::NegInfinity) => N::NaN,
        (_, N::Finite(q)) if q.is_zero() => return Err(SqlError::division_by_zero()),
        _ => super::arith::numeric_div(&x, &y)?,
    }))
}

fn float_power(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Float8(float_power_value(
        args::float(a, 0)?,
        args::float(a, 1)?,
    )?))
}

fn numeric_power_fn(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(numeric(numeric_power(
        &args::numeric(a, 0)?,
        &args::numeric(a, 1)?,
    )?))
}

fn float_sqrt(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Float8(float_sqrt_value(args::float(a, 0)?)?))
}

fn sqrt_negative() -> SqlError {
    SqlError::new(
        code::INVALID_ARGUMENT_FOR_POWER_FUNCTION,
        "cannot take square root of a negative number",
    )
}

fn numeric_sqrt(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(numeric(match args::numeric(a, 0)? {
        Numeric::NaN => Numeric::NaN,
        Numeric::Infinity => Numeric::Infinity,
        Numeric::NegInfinity => return Err(sqrt_negative()),
        Numeric::Finite(d) if d.sign() == Sign::Minus => return Err(sqrt_negative()),
        Numeric::Finite(d) => Numeric::Finite(decimal::sqrt(&d)),
    }))
}

fn float_exp(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let x = args::float(a, 0)?;
    if x.is_nan() {
        return Ok(Value::Float8(x));
    }
    if x.is_infinite() {
        return Ok(Value::Float8(if x > 0.0 { x } else { 0.0 }));
    }
    let r = x.exp();
    if r.is_infinite() {
        return Err(float_overflow());
    }
    if r == 0.0 {
        return Err(float_underflow());
    }
    Ok(Value::Float8(r))
}

fn numeric_exp(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(numeric(match args::numeric(a, 0)? {
        Numeric::NaN => Numeric::NaN,
        Numeric::Infinity => Numeric::Infinity,
        Numeric::NegInfinity => Numeric::from_i64(0),
        Numeric::Finite(d) => Numeric::Finite(decimal::exp(&d)?),
    }))
}

fn log_error(x: f64) -> Option<SqlError> {
    if x == 0.0 {
        Some(SqlError::new(
            code::INVALID_ARGUMENT_FOR_LOGARITHM,
            "cannot take logarithm of zero",
        ))
    } else if x < 0.0 {
        Some(SqlError::new(
            code::INVALID_ARGUMENT_FOR_LOGARITHM,
            "cannot take logarithm of a negative number",
        ))
    } else {
        None
    }
}

fn float_log<const TEN: bool>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let x = args::float(a, 0)?;
    if let Some(e) = log_error(x) {
        return Err(e);
    }
    Ok(Value::Float8(if TEN { x.log10() } else { x.ln() }))
}

/// NaN and +Infinity pass through a logarithm; 0 and negatives are errors.
fn numeric_log_special(n: &Numeric) -> SqlResult<Option<Numeric>> {
    match n {
        Numeric::NaN => Ok(Some(Numeric::NaN)),
        Numeric::Infinity => Ok(Some(Numeric::Infinity)),
        Numeric::NegInfinity => Err(log_error(-1.0).unwrap_or_else(|| SqlError::internal("log"))),
        Numeric::Finite(_) => Ok(None),
    }
}

fn numeric_ln(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let n = args::numeric(a, 0)?;
    if let Some(s) = numeric_log_special(&n)? {
        return Ok(numeric(s));
    }
    let Numeric::Finite(d) = n else {
        unreachable!()
    };
    Ok(numeric(Numeric::Finite(decimal::ln(&d)?)))
}

fn numeric_log_of(base: Numeric, x: Numeric) -> SqlResult<Value> {
    for n in [&base, &x] {
        if let Some(s) = numeric_log_special(n)? {
            return Ok(numeric(if matches!(s, Numeric::NaN) {
                s
            } else {
                Numeric::NaN
            }));
        }
    }
    match (base, x) {
        (Numeric::Finite(b), Numeric::Finite(v)) => {
            Ok(numeric(Numeric::Finite(decimal::log(&b, &v)?)))
        }
        _ => Ok(numeric(Numeric::NaN)),
    }
}

fn numeric_log10(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    numeric_log_of(Numeric::from_i64(10), args::numeric(a, 0)?)
}

fn numeric_log(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    numeric_log_of(args::numeric(a, 0)?, args::numeric(a, 1)?)
}

fn pi(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Float8(std::f64::consts::PI))
}

const SIN: u8 = 0;
const COS: u8 = 1;
const TAN: u8 = 2;
const COT: u8 = 3;
const ASIN: u8 = 4;
const ACOS: u8 = 5;
const ATAN: u8 = 6;
const SINH: u8 = 7;
const COSH: u8 = 8;
const TANH: u8 = 9;

fn trig<const OP: u8>(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let x = args::float(a, 0)?;
    let out_of_range = || SqlError::new(code::NUMERIC_VALUE_OUT_OF_RANGE, "input is out of range");
    if x.is_infinite() && matches!(OP, SIN | COS | TAN | COT) {
        return Err(out_of_range());
    }
    Ok(Value::Float8(match OP {
        SIN => x.sin(),
        COS => x.cos(),
        TAN => x.tan(),
        COT => 1.0 / x.tan(),
        ASIN | ACOS if !(-1.0..=1.0).contains(&x) && !x.is_nan() => return Err(out_of_range()),
        ASIN => x.asin(),
        ACOS => x.acos(),
        ATAN => x.atan(),
        SINH => x.sinh(),
        COSH => x.cosh(),
        _ => x.tanh(),
    }))
}

fn trig_fn(op: u8) -> super::ScalarFn {
    match op {
        SIN => trig::<SIN>,
        COS => trig::<COS>,
        TAN => trig::<TAN>,
        COT => trig::<COT>,
        ASIN => trig::<ASIN>,
        ACOS => trig::<ACOS>,
        ATAN => trig::<ATAN>,
        SINH => trig::<SINH>,
        COSH => trig::<COSH>,
        _ => trig::<TANH>,
    }
}

fn atan2(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(Value::Float8(args::float(a, 0)?.atan2(args::float(a, 1)?)))
}

thread_local! {
    static SEEDED: RefCell<Option<StdRng>> = const { RefCell::new(None) };
}

/// A uniform draw in [0, 1) from the session's generator.
pub fn random_f64() -> f64 {
    SEEDED.with(|s| match s.borrow_mut().as_mut() {
        Some(rng) => rng.gen::<f64>(),
        None => rand::thread_rng().gen::<f64>(),
    })
}

fn random(_: &FnCtx, _: &[Value]) -> SqlResult<Value> {
    Ok(Value::Float8(random_f64()))
}

fn random_normal(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let mean = if !a.is_empty() {
        args::float(a, 0)?
    } else {
        0.0
    };
    let stddev = if a.len() > 1 { args::float(a, 1)? } else { 1.0 };
    // Box-Muller on two uniform draws; 1 - u keeps the logarithm's argument in (0, 1].
    let u1 = 1.0 - random_f64();
    let u2 = random_f64();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    Ok(Value::Float8(mean + stddev * z))
}

fn setseed(ctx: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let seed = args::float(a, 0)?;
    if !(-1.0..=1.0).contains(&seed) || seed.is_nan() {
        return Err(SqlError::new(
            code::INVALID_PARAMETER_VALUE,
            format!(
                "setseed parameter {} is out of allowed range [-1,1]",
                super::cast::output_text(ctx, &Value::Float8(seed), &SqlType::Float8)
            ),
        ));
    }
    SEEDED.with(|s| *s.borrow_mut() = Some(StdRng::seed_from_u64(seed.to_bits())));
    Ok(Value::Null)
}

fn width_bucket(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let bucket_error = |m: &str| SqlError::new("2201G", m.to_string());
    let (x, low, high) = (args::float(a, 0)?, args::float(a, 1)?, args::float(a, 2)?);
    let count = args::int(a, 3)?;
    if count <= 0 {
        return Err(bucket_error("count must be greater than zero"));
    }
    if x.is_nan() || low.is_nan() || high.is_nan() {
        return Err(bucket_error(
            "operand, lower bound, and upper bound cannot be NaN",
        ));
    }
    if low.is_infinite() || high.is_infinite() {
        return Err(bucket_error("lower and upper bounds must be finite"));
    }
    if low == high {
        return Err(bucket_error("lower bound cannot equal upper bound"));
    }
    let count_f = count as f64;
    let result = if low < high {
        if x < low {
            0
        } else if x >= high {
            count + 1
        } else {
            (count_f * ((x - low) / (high - low))).floor() as i64 + 1
        }
    } else if x > low {
        0
    } else if x <= high {
        count + 1
    } else {
        (count_f * ((low - x) / (low - high))).floor() as i64 + 1
    };
    i32::try_from(result)
        .map(Value::Int4)
        .map_err(|_| int_out_of_range(32))
}

fn gcd_i128(mut x: i128, mut y: i128) -> i128 {
    while y != 0 {
        (x, y) = (y, x % y);
    }
    x.abs()
}

fn int_result(a: &[Value], v: i128) -> SqlResult<Value> {
    match args::arg(a, 0)? {
        Value::Int4(_) => i32::try_from(v)
            .map(Value::Int4)
            .map_err(|_| int_out_of_range(32)),
        _ => i64::try_from(v)
            .map(Value::Int8)
            .map_err(|_| int_out_of_range(64)),
    }
}

fn gcd_int(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let g = gcd_i128(args::int(a, 0)? as i128, args::int(a, 1)? as i128);
    int_result(a, g)
}

fn lcm_int(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let (x, y) = (args::int(a, 0)? as i128, args::int(a, 1)? as i128);
    if x == 0 || y == 0 {
        return int_result(a, 0);
    }
    int_result(a, (x / gcd_i128(x, y) * y).abs())
}

fn gcd_big(x: BigInt, y: BigInt) -> BigInt {
    let (mut x, mut y) = (x.abs(), y.abs());
    while !y.is_zero() {
        let r = &x % &y;
        x = y;
        y = r;
    }
    x
}

fn numeric_gcd_args(a: &[Value]) -> SqlResult<Option<(BigDecimal, BigDecimal)>> {
    let (x, y) = (args::numeric(a, 0)?, args::numeric(a, 1)?);
    match (x, y) {
        (Numeric::Finite(p), Numeric::Finite(q)) => Ok(Some((p, q))),
        _ => Ok(None),
    }
}

/// gcd of two decimals: both scaled to integers at the larger scale.
fn decimal_gcd(p: &BigDecimal, q: &BigDecimal) -> BigDecimal {
    let scale = decimal::dscale(p).max(decimal::dscale(q));
    let (mp, _) = p.with_scale(scale).into_bigint_and_exponent();
    let (mq, _) = q.with_scale(scale).into_bigint_and_exponent();
    BigDecimal::new(gcd_big(mp, mq), scale)
}

fn gcd_numeric(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(numeric(match numeric_gcd_args(a)? {
        Some((p, q)) => Numeric::Finite(decimal_gcd(&p, &q)),
        None => Numeric::NaN,
    }))
}

fn lcm_numeric(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(numeric(match numeric_gcd_args(a)? {
        Some((p, q)) if p.is_zero() || q.is_zero() => {
            let scale = decimal::dscale(&p).max(decimal::dscale(&q));
            Numeric::Finite(BigDecimal::zero().with_scale(scale))
        }
        Some((p, q)) => {
            let g = decimal_gcd(&p, &q);
            let scale = decimal::dscale(&p).max(decimal::dscale(&q));
            Numeric::Finite((&p / &g * &q).abs().with_scale(scale))
        }
        None => Numeric::NaN,
    }))
}

/// Largest `n` for `factorial(n)` before the result exceeds numeric's range.
const MAX_FACTORIAL: i64 = 32_177;

fn factorial(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    let n = args::int(a, 0)?;
    if n < 0 {
        return Err(SqlError::new(
            code::NUMERIC_VALUE_OUT_OF_RANGE,
            "factorial of a negative number is undefined",
        ));
    }
    if n > MAX_FACTORIAL {
        return Err(decimal::overflow());
    }
    let mut acc = BigInt::from(1);
    for i in 2..=n {
        acc *= i;
    }
    Ok(numeric(Numeric::Finite(BigDecimal::new(acc, 0))))
}

fn scale(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(match args::numeric(a, 0)? {
        Numeric::Finite(d) => Value::Int4(decimal::dscale(&d) as i32),
        _ => Value::Null,
    })
}

fn min_scale_of(d: &BigDecimal) -> i64 {
    decimal::dscale(&d.normalized()).max(0)
}

fn min_scale(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    Ok(match args::numeric(a, 0)? {
        Numeric::Finite(d) => Value::Int4(min_scale_of(&d) as i32),
        _ => Value::Null,
    })
}

fn trim_scale(_: &FnCtx, a: &[Value]) -> SqlResult<Value> {
    finite_map(a, |d| d.with_scale(min_scale_of(d)))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, ok};
    use crate::pgtype::SqlType::{Float8, Int4, Int8};
    use crate::pgtype::NUMERIC as N;

    #[test]
    fn numeric_math_matches_postgres() {
        assert_eq!(ok("round", &[("1.2", N), ("3", Int4)]), "1.200");
        assert_eq!(ok("trunc", &[("1.2399", N), ("2", Int4)]), "1.23");
        assert_eq!(ok("round", &[("1234.5", N), ("-2", Int4)]), "1200");
        assert_eq!(ok("round", &[("-2.5", N)]), "-3");
        assert_eq!(ok("ceil", &[("1.2", N)]), "2");
        assert_eq!(ok("ceil", &[("-1.2", N)]), "-1");
        assert_eq!(ok("floor", &[("-1.5", N)]), "-2");
        assert_eq!(ok("sign", &[("-2.5", N)]), "-1");
        assert_eq!(ok("div", &[("7.5", N), ("2", N)]), "3");
        assert_eq!(ok("mod", &[("7.5", N), ("2", N)]), "1.5");
        assert_eq!(ok("scale", &[("1.230", N)]), "3");
        assert_eq!(ok("trim_scale", &[("1.230", N)]), "1.23");
        assert_eq!(ok("min_scale", &[("1.230", N)]), "2");
        assert_eq!(ok("log", &[("1000", N)]), "3.0000000000000000");
        assert_eq!(ok("log", &[("2", N), ("8", N)]), "3.0000000000000000");
        assert_eq!(
            ok("power", &[("2", Int4), ("0.5", N)]),
            "1.4142135623730950"
        );
        assert_eq!(ok("gcd", &[("12", Int4), ("18", Int4)]), "6");
        assert_eq!(ok("lcm", &[("4", Int4), ("6", Int4)]), "12");
        assert_eq!(ok("gcd", &[("1.5", N), ("0.25", N)]), "0.25");
        assert_eq!(ok("factorial", &[("20", Int8)]), "2432902008176640000");
        assert_eq!(ok("ceil", &[("NaN", N)]), "NaN");
    }

    #[test]
    fn float_math_matches_postgres() {
        assert_eq!(ok("round", &[("2.5", Float8)]), "2");
        assert_eq!(ok("trunc", &[("-2.7", Float8)]), "-2");
        assert_eq!(ok("sign", &[("-2.5", Float8)]), "-1");
        assert_eq!(ok("degrees", &[("1", Float8)]), "57.29577951308232");
        assert_eq!(ok("radians", &[("180", Float8)]), "3.141592653589793");
        assert_eq!(ok("sin", &[("1", Float8)]), "0.8414709848078965");
        assert_eq!(
            ok("atan2", &[("1", Float8), ("1", Float8)]),
            "0.7853981633974483"
        );
        assert_eq!(ok("cot", &[("1", Float8)]), "0.6420926159343306");
        assert_eq!(ok("log", &[("100", Int4)]), "2");
        assert_eq!(ok("ln", &[("10", Float8)]), "2.302585092994046");
        assert_eq!(ok("exp", &[("1", Float8)]), "2.718281828459045");
        assert_eq!(
            ok(
                "width_bucket",
                &[
                    ("5.35", Float8),
                    ("0.024", Float8),
                    ("10.06", Float8),
                    ("5", Int4)
                ]
            ),
            "3"
        );
        assert_eq!(
            ok(
                "width_bucket",
                &[("-1", Float8), ("0", Float8), ("10", Float8), ("5", Int4)]
            ),
            "0"
        );
        assert_eq!(
            ok(
                "width_bucket",
                &[("10", Float8), ("0", Float8), ("10", Float8), ("5", Int4)]
            ),
            "6"
        );
    }

    #[test]
    fn math_errors_match_postgres() {
        assert_eq!(
            err("asin", &[("2", Float8)]),
            ("22003".into(), "input is out of range".into())
        );
        assert_eq!(
            err("ln", &[("0", Float8)]),
            ("2201E".into(), "cannot take logarithm of zero".into())
        );
        assert_eq!(
            err("exp", &[("1000", Float8)]).1,
            "value out of range: overflow"
        );
        assert_eq!(
            err("exp", &[("-1000", Float8)]).1,
            "value out of range: underflow"
        );
        assert_eq!(
            err("factorial", &[("-1", Int8)]).1,
            "factorial of a negative number is undefined"
        );
        assert_eq!(
            err(
                "width_bucket",
                &[("1", Float8), ("1", Float8), ("1", Float8), ("5", Int4)]
            ),
            (
                "2201G".into(),
                "lower bound cannot equal upper bound".into()
            )
        );
        assert_eq!(
            err("setseed", &[("2", Float8)]).1,
            "setseed parameter 2 is out of allowed range [-1,1]"
        );
        assert_eq!(
            err("gcd", &[("-2147483648", Int4), ("0", Int4)]).1,
            "integer out of range"
        );
        assert_eq!(
            err("sqrt", &[("-1", N)]).1,
            "cannot take square root of a negative number"
        );
    }
}
