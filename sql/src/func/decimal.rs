//! `numeric` arithmetic with PostgreSQL's result scales: division's `select_div_scale`, the
//! scales of `sqrt`, `exp`, `ln`, `log` and `power` (at least 16 significant digits, never
//! fewer fraction digits than an input), rounding half away from zero, and the conversions
//! between `numeric` and the binary types.
//!
//! Finite values only; NaN and the infinities are handled by the operators that call these.
//! The transcendental functions work in fixed point on big integers with guard digits and
//! round once at the end, so every printed digit is correct (PostgreSQL's are too).

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::num_traits::{Signed, ToPrimitive, Zero};
use bigdecimal::{BigDecimal, RoundingMode};
use storage::types::Numeric;

use crate::error::{code, SqlError, SqlResult};

/// Significant digits PostgreSQL aims for in inexact results (`NUMERIC_MIN_SIG_DIGITS`).
pub const MIN_SIG_DIGITS: i64 = 16;
/// Largest result scale PostgreSQL chooses (`NUMERIC_MAX_DISPLAY_SCALE`).
pub const MAX_DISPLAY_SCALE: i64 = 1000;
/// Most digits `power` multiplies out exactly before switching to logarithms.
const MAX_EXACT_POWER_DIGITS: u64 = 20_000;
/// Largest decimal exponent a result may reach before `value overflows numeric format`.
const MAX_RESULT_WEIGHT: i64 = 131_072;

pub fn overflow() -> SqlError {
    SqlError::new(
        code::NUMERIC_VALUE_OUT_OF_RANGE,
        "value overflows numeric format",
    )
}

/// The display scale (digits after the point) of a value; never negative.
pub fn dscale(d: &BigDecimal) -> i64 {
    d.fractional_digit_count().max(0)
}

/// A value with a non-negative scale (`1e3` becomes `1000`), as PostgreSQL stores it.
pub fn with_display_scale(d: BigDecimal) -> BigDecimal {
    if d.fractional_digit_count() < 0 {
        d.with_scale(0)
    } else {
        d
    }
}

/// Rounds half away from zero to `scale` digits (PostgreSQL's `round_var`).
pub fn round(d: &BigDecimal, scale: i64) -> BigDecimal {
    d.with_scale_round(scale, RoundingMode::HalfUp)
}

/// Truncates toward zero to `scale` digits.
pub fn trunc(d: &BigDecimal, scale: i64) -> BigDecimal {
    d.with_scale_round(scale, RoundingMode::Down)
}

/// The base-10000 digits PostgreSQL would store (trailing zero digits dropped) and the weight
/// of the first one, for the scale heuristics that read them. Zero gives `(vec![], 0)`.
pub fn nbase_digits(d: &BigDecimal) -> (Vec<i64>, i64) {
    let (mantissa, scale) = d.as_bigint_and_exponent();
    if mantissa.is_zero() {
        return (Vec::new(), 0);
    }
    let digits = mantissa.magnitude().to_string();
    // Decimal exponent of the leading digit.
    let exponent = digits.len() as i64 - 1 - scale;
    let weight = exponent.div_euclid(4);
    let pad = (4 * weight + 3 - exponent) as usize;
    let mut padded = "0".repeat(pad);
    padded.push_str(&digits);
    while !padded.len().is_multiple_of(4) {
        padded.push('0');
    }
    let mut groups: Vec<i64> = padded
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or("0").parse().unwrap_or(0))
        .collect();
    while groups.last() == Some(&0) {
        groups.pop();
    }
    (groups, weight)
}

/// Decimal exponent of the leading digit of a non-zero value (`floor(log10(|d|))`).
pub fn decimal_weight(d: &BigDecimal) -> i64 {
    let (mantissa, scale) = d.as_bigint_and_exponent();
    mantissa.magnitude().to_string().len() as i64 - 1 - scale
}

/// PostgreSQL's `select_div_scale`.
pub fn div_scale(a: &BigDecimal, b: &BigDecimal) -> i64 {
    let (da, wa) = nbase_digits(a);
    let (db, wb) = nbase_digits(b);
    let (w1, f1) = da.first().map_or((0, 0), |f| (wa, *f));
    let (w2, f2) = db.first().map_or((0, 0), |f| (wb, *f));
    let mut qweight = w1 - w2;
    if f1 <= f2 {
        qweight -= 1;
    }
    (MIN_SIG_DIGITS - qweight * 4)
        .max(dscale(a))
        .max(dscale(b))
        .clamp(0, MAX_DISPLAY_SCALE)
}

/// `a / b` rounded half away from zero to `scale` digits; `b` must not be zero.
pub fn div(a: &BigDecimal, b: &BigDecimal, scale: i64) -> BigDecimal {
    let (ma, sa) = a.as_bigint_and_exponent();
    let (mb, sb) = b.as_bigint_and_exponent();
    // a/b = ma/mb * 10^(sb - sa); we want q = a/b * 10^scale, one extra digit for rounding.
    let shift = scale + 1 + sb - sa;
    let (num, den) = if shift >= 0 {
        (ma * pow10(shift as u64), mb)
    } else {
        (ma, mb * pow10((-shift) as u64))
    };
    let q = &num / &den; // truncates toward zero
    let rounded = round_last_digit(q);
    BigDecimal::new(rounded, scale)
}

/// Drops the last decimal digit of `q`, rounding half away from zero.
fn round_last_digit(q: BigInt) -> BigInt {
    let ten = BigInt::from(10);
    let last = (&q % &ten).abs();
    let mut out = &q / &ten;
    if last >= BigInt::from(5) {
        if q.sign() == Sign::Minus {
            out -= 1;
        } else {
            out += 1;
        }
    }
    out
}

pub fn pow10(n: u64) -> BigInt {
    BigInt::from(10).pow(n as u32)
}

/// The integer part of `a / b`, truncated toward zero (`b` not zero).
pub fn div_trunc(a: &BigDecimal, b: &BigDecimal) -> BigDecimal {
    let q = div(a, b, 1);
    trunc(&q, 0)
}

/// `a % b` with the sign of `a` and the larger of the two scales (`b` not zero).
pub fn modulo(a: &BigDecimal, b: &BigDecimal) -> BigDecimal {
    let q = div_trunc(a, b);
    let r = a - &(b * &q);
    let scale = dscale(a).max(dscale(b));
    r.with_scale(scale)
}

/// The value as the nearest `f64` (PostgreSQL's `numeric_float8` reads the decimal text).
pub fn to_f64(n: &Numeric) -> f64 {
    match n {
        Numeric::NaN => f64::NAN,
        Numeric::Infinity => f64::INFINITY,
        Numeric::NegInfinity => f64::NEG_INFINITY,
        Numeric::Finite(_) => n.to_string().parse().unwrap_or(f64::NAN),
    }
}

/// PostgreSQL's `float8_numeric` / `float4_numeric`: the float printed with `%.{digits}g`
/// (15 for float8, 6 for float4) and read back.
pub fn from_float(x: f64, digits: usize) -> Numeric {
    if x.is_nan() {
        return Numeric::NaN;
    }
    if x.is_infinite() {
        return if x > 0.0 {
            Numeric::Infinity
        } else {
            Numeric::NegInfinity
        };
    }
    let text = format!("{:.*e}", digits.saturating_sub(1), x);
    match text.parse::<BigDecimal>() {
        Ok(d) => Numeric::Finite(with_display_scale(d.normalized())),
        Err(_) => Numeric::NaN,
    }
}

/// Converts to an integer, rounding half away from zero; `None` when it does not fit.
pub fn to_i64_rounded(d: &BigDecimal) -> Option<i64> {
    round(d, 0).to_i64()
}

/// PostgreSQL's `estimate_ln_dweight`: the decimal weight of `ln(d)` for a positive `d`.
pub fn estimate_ln_dweight(d: &BigDecimal) -> i64 {
    if d.sign() != Sign::Plus {
        return 0;
    }
    let lo: BigDecimal = "0.9".parse().unwrap_or_default();
    let hi: BigDecimal = "1.1".parse().unwrap_or_default();
    if *d >= lo && *d <= hi {
        let x = d - BigDecimal::from(1);
        if x.is_zero() {
            0
        } else {
            decimal_weight(&x)
        }
    } else {
        let (digits, weight) = nbase_digits(d);
        let mut lead = digits.first().copied().unwrap_or(0) as f64;
        let mut dweight = weight * 4;
        if let Some(second) = digits.get(1) {
            lead = lead * 10000.0 + *second as f64;
            dweight -= 4;
        }
        let ln = lead.ln() + dweight as f64 * std::f64::consts::LN_10;
        ln.abs().log10() as i64
    }
}

/// A fixed-point number: `value / 10^scale`.
#[derive(Clone)]
struct Fixed {
    value: BigInt,
    scale: u64,
}

impl Fixed {
    fn from_decimal(d: &BigDecimal, scale: u64) -> Fixed {
        let (m, s) = d
            .with_scale_round(scale as i64, RoundingMode::HalfEven)
            .into_bigint_and_exponent();
        debug_assert_eq!(s, scale as i64);
        Fixed { value: m, scale }
    }
    fn one(scale: u64) -> Fixed {
        Fixed {
            value: pow10(scale),
            scale,
        }
    }
    fn mul(&self, other: &Fixed) -> Fixed {
        Fixed {
            value: (&self.value * &other.value) / pow10(self.scale),
            scale: self.scale,
        }
    }
    fn div(&self, other: &Fixed) -> Fixed {
        Fixed {
            value: (&self.value * pow10(self.scale)) / &other.value,
            scale: self.scale,
        }
    }
    fn to_decimal(&self) -> BigDecimal {
        BigDecimal::new(self.value.clone(), self.scale as i64)
    }
}

/// `ln(x)` for `x > 0` with `scale` correct fraction digits (plus guard digits inside).
fn ln_fixed(x: &BigDecimal, scale: u64) -> BigDecimal {
    let exponent = decimal_weight(x);
    let work = scale + 12 + (exponent.unsigned_abs().max(1) as f64).log10() as u64;
    // x = m * 10^exponent with 1 <= m < 10.
    let m = x * BigDecimal::new(BigInt::from(1), exponent);
    let ln_m = ln_reduced(&m, work);
    let mut total = ln_m.to_decimal();
    if exponent != 0 {
        let ln10 = ln_reduced(&BigDecimal::from(10), work).to_decimal();
        total += ln10 * BigDecimal::from(exponent);
    }
    total
}

/// `ln(m)` for `m` around 1..10 by square roots then the atanh series.
fn ln_reduced(m: &BigDecimal, work: u64) -> Fixed {
    let scale = work + 10;
    let mut y = Fixed::from_decimal(m, scale);
    let one = Fixed::one(scale);
    let threshold = &one.value + &one.value / BigInt::from(100);
    let low = &one.value - &one.value / BigInt::from(100);
    let mut doublings = 0u32;
    while y.value > threshold || y.value < low {
        // sqrt in fixed point: sqrt(v * 10^scale).
        y.value = (&y.value * pow10(scale)).sqrt();
        doublings += 1;
    }
    let num = Fixed {
        value: &y.value - &one.value,
        scale,
    };
    let den = Fixed {
        value: &y.value + &one.value,
        scale,
    };
    let z = num.div(&den);
    let z2 = z.mul(&z);
    let mut term = z.clone();
    let mut sum = z.value.clone();
    let mut k = 1u64;
    loop {
        term = term.mul(&z2);
        k += 2;
        let add = &term.value / BigInt::from(k);
        if add.is_zero() {
            break;
        }
        sum += add;
    }
    Fixed {
        value: sum * BigInt::from(2) * BigInt::from(1u64 << doublings),
        scale,
    }
}

/// `exp(x)` with `scale` correct fraction digits.
fn exp_fixed(x: &BigDecimal, scale: u64) -> SqlResult<BigDecimal> {
    let approx = x.to_f64().unwrap_or(0.0);
    if approx * std::f64::consts::LOG10_E > MAX_RESULT_WEIGHT as f64 {
        return Err(overflow());
    }
    let result_digits = (approx * std::f64::consts::LOG10_E).max(0.0) as u64;
    let mut halvings = 0u32;
    let mut r = x.clone();
    let small: BigDecimal = "0.01".parse().unwrap_or_default();
    while r.abs() > small {
        r = r.half();
        halvings += 1;
    }
    let work = scale + result_digits + 12 + halvings as u64;
    let rf = Fixed::from_decimal(&r, work);
    let mut term = Fixed::one(work);
    let mut sum = term.value.clone();
    let mut k = 0u64;
    loop {
        k += 1;
        term = term.mul(&rf);
        term.value /= BigInt::from(k);
        if term.value.is_zero() {
            break;
        }
        sum += &term.value;
    }
    let mut y = Fixed {
        value: sum,
        scale: work,
    };
    for _ in 0..halvings {
        y = y.mul(&y);
    }
    Ok(y.to_decimal())
}

/// `sqrt(d)` for `d >= 0` with PostgreSQL's result scale.
pub fn sqrt(d: &BigDecimal) -> BigDecimal {
    let (digits, weight) = nbase_digits(d);
    let weight = if digits.is_empty() { 0 } else { weight };
    let sweight = (weight + 1) * 4 / 2 - 1;
    let rscale = (MIN_SIG_DIGITS - sweight)
        .max(dscale(d))
        .clamp(0, MAX_DISPLAY_SCALE);
    let work = rscale + 2;
    let scaled = Fixed::from_decimal(d, (2 * work) as u64);
    let root = scaled.value.sqrt();
    round(&BigDecimal::new(root, work), rscale)
}

/// `exp(d)` with PostgreSQL's result scale.
pub fn exp(d: &BigDecimal) -> SqlResult<BigDecimal> {
    let natural = d.to_f64().unwrap_or(0.0);
    if natural.abs() >= 6000.0 {
        if natural > 0.0 {
            return Err(overflow());
        }
        return Ok(BigDecimal::new(BigInt::zero(), MAX_DISPLAY_SCALE));
    }
    let val = (d.to_f64().unwrap_or(0.0) * std::f64::consts::LOG10_E).clamp(-2000.0, 2000.0);
    let rscale = (MIN_SIG_DIGITS - val as i64)
        .max(dscale(d))
        .clamp(0, MAX_DISPLAY_SCALE);
    let e = exp_fixed(d, rscale as u64 + 2)?;
    Ok(round(&e, rscale))
}

fn check_log_argument(d: &BigDecimal) -> SqlResult<()> {
    match d.sign() {
        Sign::NoSign => Err(SqlError::new(
            code::INVALID_ARGUMENT_FOR_LOGARITHM,
            "cannot take logarithm of zero",
        )),
        Sign::Minus => Err(SqlError::new(
            code::INVALID_ARGUMENT_FOR_LOGARITHM,
            "cannot take logarithm of a negative number",
        )),
        Sign::Plus => Ok(()),
    }
}

/// `ln(d)` with PostgreSQL's result scale.
pub fn ln(d: &BigDecimal) -> SqlResult<BigDecimal> {
    check_log_argument(d)?;
    let rscale = (MIN_SIG_DIGITS - estimate_ln_dweight(d))
        .max(dscale(d))
        .clamp(0, MAX_DISPLAY_SCALE);
    Ok(round(&ln_fixed(d, rscale as u64 + 4), rscale))
}

/// `log(base, d)` with PostgreSQL's result scale.
pub fn log(base: &BigDecimal, d: &BigDecimal) -> SqlResult<BigDecimal> {
    check_log_argument(base)?;
    check_log_argument(d)?;
    let result_dweight = estimate_ln_dweight(d) - estimate_ln_dweight(base);
    let rscale = (MIN_SIG_DIGITS - result_dweight)
        .max(dscale(base))
        .max(dscale(d))
        .clamp(0, MAX_DISPLAY_SCALE);
    let work = (rscale + 8 + result_dweight.abs()) as u64;
    let ln_base = ln_fixed(base, work);
    if ln_base.is_zero() {
        return Err(SqlError::division_by_zero());
    }
    let ln_num = ln_fixed(d, work);
    Ok(div(&ln_num, &ln_base, rscale))
}

/// `base ^ exponent` for finite values, with PostgreSQL 16's scale rules and errors.
pub fn power(base: &BigDecimal, exponent: &BigDecimal) -> SqlResult<BigDecimal> {
    if base.is_zero() && exponent.sign() == Sign::Minus {
        return Err(SqlError::new(
            code::INVALID_ARGUMENT_FOR_POWER_FUNCTION,
            "zero raised to a negative power is undefined",
        ));
    }
    let integral = exponent.is_integer();
    if base.sign() == Sign::Minus && !integral {
        return Err(SqlError::new(
            code::INVALID_ARGUMENT_FOR_POWER_FUNCTION,
            "a negative number raised to a non-integer power yields a complex result",
        ));
    }
    if integral {
        if let Some(e) = exponent.to_i64().filter(|e| i32::try_from(*e).is_ok()) {
            return power_int(base, e, dscale(exponent));
        }
    }
    if base.is_zero() {
        return Ok(BigDecimal::new(BigInt::zero(), MIN_SIG_DIGITS));
    }
    let negative = base.sign() == Sign::Minus;
    let abs_base = base.abs();
    let ln_dweight = estimate_ln_dweight(&abs_base);
    let local = (8 - ln_dweight).max(0) as u64;
    let approx = ln_fixed(&abs_base, local) * exponent;
    let val = approx.to_f64().unwrap_or(0.0);
    if val.abs() > 2000.0 * 3.01 {
        if val > 0.0 {
            return Err(overflow());
        }
        return Ok(BigDecimal::new(BigInt::zero(), MAX_DISPLAY_SCALE));
    }
    let weight = val * std::f64::consts::LOG10_E;
    let rscale = (MIN_SIG_DIGITS - weight as i64)
        .max(dscale(base))
        .max(dscale(exponent))
        .clamp(0, MAX_DISPLAY_SCALE);
    let work = rscale as u64 + 8 + weight.abs() as u64;
    let ln_num = ln_fixed(&abs_base, work) * exponent;
    let mut result = round(&exp_fixed(&ln_num, rscale as u64 + 4)?, rscale);
    if negative && !(exponent / BigDecimal::from(2)).is_integer() {
        result = -result;
    }
    Ok(result)
}

/// PostgreSQL 16's `power_var_int`.
fn power_int(base: &BigDecimal, exponent: i64, exponent_dscale: i64) -> SqlResult<BigDecimal> {
    let f = if base.is_zero() {
        0.0
    } else {
        let (digits, weight) = nbase_digits(base);
        let mut lead = digits[0] as f64;
        let mut p = weight * 4;
        for d in digits.iter().skip(1).take(3) {
            lead = lead * 10000.0 + *d as f64;
            p -= 4;
        }
        exponent as f64 * (lead.log10() + p as f64)
    };
    if f > MAX_RESULT_WEIGHT as f64 {
        return Err(overflow());
    }
    if f + 1.0 < -(MAX_DISPLAY_SCALE as f64) {
        return Ok(BigDecimal::new(BigInt::zero(), MAX_DISPLAY_SCALE));
    }
    let rscale = (MIN_SIG_DIGITS - f as i64)
        .max(dscale(base))
        .max(exponent_dscale)
        .clamp(0, MAX_DISPLAY_SCALE);
    if exponent == 0 {
        return Ok(BigDecimal::new(BigInt::from(1), 0).with_scale(rscale));
    }
    let magnitude = exponent.unsigned_abs();
    let base_digits = base.digits().max(1);
    if magnitude.saturating_mul(base_digits) > MAX_EXACT_POWER_DIGITS {
        // Too many digits to multiply out: e^(exponent * ln|base|) at the result scale.
        let weight = f.abs() as u64;
        let ln_base = ln_fixed(&base.abs(), rscale as u64 + 8 + weight + 20);
        let product = ln_base * BigDecimal::from(exponent);
        let mut result = round(&exp_fixed(&product, rscale as u64 + 4)?, rscale);
        if base.sign() == Sign::Minus && magnitude % 2 == 1 {
            result = -result;
        }
        return Ok(result);
    }
    let exact = base.powi(magnitude as i64);
    if exponent > 0 {
        Ok(round(&exact, rscale))
    } else {
        Ok(div(&BigDecimal::from(1), &exact, rscale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> BigDecimal {
        s.parse().unwrap()
    }

    #[test]
    fn division_scale_matches_postgres() {
        let cases = [
            ("1", "3", "0.33333333333333333333"),
            ("10", "4", "2.5000000000000000"),
            ("1.0", "3", "0.33333333333333333333"),
            ("7.0", "0.0001", "70000.000000000000"),
            ("123456789", "7", "17636684.142857142857"),
            (
                "0.00000000000000000001",
                "3",
                "0.0000000000000000000033333333333333333333",
            ),
            ("100000", "3", "33333.333333333333"),
            ("0.001", "7", "0.00014285714285714286"),
        ];
        for (a, b, want) in cases {
            let (a, b) = (d(a), d(b));
            let got = div(&a, &b, div_scale(&a, &b));
            assert_eq!(Numeric::Finite(got).to_string(), want, "{a} / {b}");
        }
    }

    #[test]
    fn transcendental_functions_match_postgres_digits() {
        let show = |x: BigDecimal| Numeric::Finite(x).to_string();
        assert_eq!(show(sqrt(&d("2"))), "1.414213562373095");
        assert_eq!(show(sqrt(&d("16"))), "4.000000000000000");
        assert_eq!(show(sqrt(&d("0.0001"))), "0.01000000000000000");
        assert_eq!(show(sqrt(&d("12345678.9"))), "3513.6418286444622");
        assert_eq!(show(exp(&d("1")).unwrap()), "2.7182818284590452");
        assert_eq!(show(exp(&d("10")).unwrap()), "22026.465794806717");
        assert_eq!(show(exp(&d("0.5")).unwrap()), "1.6487212707001281");
        assert_eq!(show(exp(&d("-10")).unwrap()), "0.00004539992976248485");
        assert_eq!(show(ln(&d("2")).unwrap()), "0.6931471805599453");
        assert_eq!(show(ln(&d("0.5")).unwrap()), "-0.6931471805599453");
        assert_eq!(show(ln(&d("1.05")).unwrap()), "0.048790164169432003");
        assert_eq!(show(ln(&d("1000")).unwrap()), "6.9077552789821371");
        assert_eq!(
            show(log(&d("10"), &d("100")).unwrap()),
            "2.0000000000000000"
        );
        assert_eq!(show(log(&d("2"), &d("8")).unwrap()), "3.0000000000000000");
        assert_eq!(
            show(power(&d("2"), &d("0.5")).unwrap()),
            "1.4142135623730950"
        );
        assert_eq!(
            show(power(&d("1.5"), &d("2.5")).unwrap()),
            "2.7556759606310754"
        );
    }

    #[test]
    fn log_errors_carry_postgres_sqlstates() {
        assert_eq!(
            ln(&d("0")).unwrap_err().message,
            "cannot take logarithm of zero"
        );
        assert_eq!(ln(&d("-1")).unwrap_err().code, "2201E");
        assert_eq!(power(&d("0"), &d("-1")).unwrap_err().code, "2201F");
    }

    #[test]
    fn floats_convert_through_their_printed_digits() {
        assert_eq!(from_float(0.1, 15).to_string(), "0.1");
        assert_eq!(from_float(1e20, 15).to_string(), "100000000000000000000");
        assert_eq!(
            from_float(1.234_567_890_123_456_7, 15).to_string(),
            "1.23456789012346"
        );
        assert_eq!(from_float(0.1f32 as f64, 6).to_string(), "0.1");
    }
}
